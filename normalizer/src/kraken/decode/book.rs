//! The `data` of a `book` frame (`kraken.md` §6.3): exactly one object,
//! `{"symbol":..,"bids":[{"price":N,"qty":N},..],"asks":[..],"checksum":N,
//! "timestamp":".."}`. Levels are read into the decoder's reused buffers, numbers
//! from their token text.

use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use sonic_rs::LazyValue;
use tickd_bus::{Price, Size};

use super::number::decimal;
use crate::book::Level;
use crate::engine::book_object;
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
    book_object::parse_one(data, bids, asks)
}

impl<'de> book_object::BookHead<'de> for BookHead<'de> {
    const WHAT: &'static str = "a Kraken book object";

    fn read_field<A: MapAccess<'de>>(
        &mut self,
        key: &'de str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match key {
            "symbol" => self.symbol = Some(map.next_value()?),
            "checksum" => self.checksum = Some(map.next_value()?),
            "timestamp" => self.timestamp = Some(map.next_value()?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn read_levels<A: MapAccess<'de>>(
        map: &mut A,
        field: &'static str,
        out: &mut Vec<Level>,
        error: &mut Option<DecodeError>,
    ) -> Result<(), A::Error> {
        map.next_value_seed(LevelsSeed { field, out, error })
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
