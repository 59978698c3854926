//! The `data` of a `book` frame (`kraken.md` §6.3): exactly one object,
//! `{"symbol":..,"bids":[{"price":N,"qty":N},..],"asks":[..],"checksum":N,
//! "timestamp":".."}`. Levels are read into the decoder's reused buffers, numbers
//! from their token text.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use sonic_rs::LazyValue;
use tickd_bus::{Price, Size};

use super::number::decimal;
use crate::binance::decode::json;
use crate::book::Level;
use crate::error::DecodeError;

/// The scalar fields of a book object.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BookHead<'a> {
    pub symbol: Option<&'a str>,
    pub checksum: Option<u64>,
    pub timestamp: Option<&'a str>,
}

/// Parse a one-element book `data` array into `bids`/`asks` (cleared first).
pub(crate) fn parse<'a>(
    data: &'a [u8],
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
) -> Result<BookHead<'a>, DecodeError> {
    bids.clear();
    asks.clear();
    let mut error = None;
    let seed = DataSeed {
        bids,
        asks,
        error: &mut error,
    };
    json::check_depth(data)?;
    let mut de = sonic_rs::Deserializer::from_slice(data);
    let parsed = seed
        .deserialize(&mut de)
        .and_then(|head| de.end().map(|()| head));
    match (error, parsed) {
        (Some(error), _) => Err(error),
        (None, Ok(Some(head))) => Ok(head),
        (None, Ok(None)) => Err(DecodeError::MissingField { field: "data[0]" }),
        (None, Err(err)) => Err(DecodeError::json(err)),
    }
}

/// `[ {book} ]`: exactly one object (§3: one symbol per book message).
struct DataSeed<'s> {
    bids: &'s mut Vec<Level>,
    asks: &'s mut Vec<Level>,
    error: &'s mut Option<DecodeError>,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Option<BookHead<'de>>;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Option<BookHead<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a one-element array holding a book object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let head = seq.next_element_seed(ObjectSeed {
            bids: self.bids,
            asks: self.asks,
            error: self.error,
        })?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            *self.error = Some(DecodeError::OutOfRange { field: "data" });
            return Err(serde::de::Error::custom("more than one book in data"));
        }
        Ok(head)
    }
}

struct ObjectSeed<'s> {
    bids: &'s mut Vec<Level>,
    asks: &'s mut Vec<Level>,
    error: &'s mut Option<DecodeError>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = BookHead<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = BookHead<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kraken book object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut head = BookHead::default();
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "symbol" => head.symbol = Some(map.next_value()?),
                "checksum" => head.checksum = Some(map.next_value()?),
                "timestamp" => head.timestamp = Some(map.next_value()?),
                "bids" | "asks" => {
                    let (field, out) = if key == "bids" {
                        ("bids", &mut *self.bids)
                    } else {
                        ("asks", &mut *self.asks)
                    };
                    map.next_value_seed(LevelsSeed {
                        field,
                        out,
                        error: &mut *self.error,
                    })?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(head)
    }
}

/// One `{"price":N,"qty":N}` level, both kept as raw number tokens.
#[derive(Deserialize)]
struct WireLevel<'a> {
    #[serde(borrow)]
    price: LazyValue<'a>,
    #[serde(borrow)]
    qty: LazyValue<'a>,
}

/// An array of level objects appended to `out` (cleared first).
struct LevelsSeed<'s> {
    field: &'static str,
    out: &'s mut Vec<Level>,
    error: &'s mut Option<DecodeError>,
}

impl<'de> DeserializeSeed<'de> for LevelsSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LevelsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of {price, qty} objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.out.clear();
        while let Some(level) = seq.next_element::<WireLevel<'de>>()? {
            let parsed = decimal::<{ Price::SCALE }>(&level.price, self.field).and_then(|price| {
                decimal::<{ Size::SCALE }>(&level.qty, self.field)
                    .map(|size| Level::new(price, size))
            });
            match parsed {
                Ok(level) => self.out.push(level),
                Err(error) => {
                    *self.error = Some(error);
                    return Err(serde::de::Error::custom("bad level"));
                }
            }
        }
        Ok(())
    }
}
