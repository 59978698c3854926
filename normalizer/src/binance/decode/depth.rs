//! Book events: `depthUpdate` diffs, partial-depth images (spot `lastUpdateId`
//! objects and futures `@depth<N>` depthUpdates) and REST `/depth` bodies.
//!
//! Levels are parsed while the JSON is read, straight into the decoder's reused
//! bid/ask buffers, so a diff allocates nothing once the buffers have grown.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use tickd_bus::{Price, Size};

use super::json::{self, JsonBackend, SimdScratch};
use crate::book::Level;
use crate::error::DecodeError;

/// The decoder's reused level buffers.
#[derive(Debug, Default)]
pub(crate) struct LevelScratch {
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

/// Every scalar key a book body may carry; levels go to [`LevelScratch`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BookFields<'a> {
    pub event_type: Option<&'a str>,
    pub symbol: Option<&'a str>,
    /// `E`
    pub event_time: Option<u64>,
    /// `T`
    pub transaction_time: Option<u64>,
    /// `U`
    pub first_update_id: Option<u64>,
    /// `u`
    pub final_update_id: Option<u64>,
    /// `pu` (-1 on the first event of a futures stream)
    pub prev_final_update_id: Option<i64>,
    /// `lastUpdateId`
    pub last_update_id: Option<u64>,
}

/// Parse a book body into `fields`, filling `levels`.
pub(crate) fn parse_book<'s>(
    body: &'s [u8],
    backend: JsonBackend,
    simd: &'s mut SimdScratch,
    levels: &mut LevelScratch,
) -> Result<BookFields<'s>, DecodeError> {
    levels.bids.clear();
    levels.asks.clear();
    let mut error = None;
    let seed = BookSeed {
        levels,
        error: &mut error,
    };
    let parsed = json::parse_seed(backend, body, simd, seed);
    match error {
        Some(error) => Err(error),
        None => parsed,
    }
}

/// Best first: bids high to low, asks low to high (Binance already sends them so;
/// sorting makes the snapshot's promise hold for any input).
pub(crate) fn sort_best_first(levels: &mut LevelScratch) {
    levels
        .bids
        .sort_by_key(|level| std::cmp::Reverse(level.price));
    levels.asks.sort_by_key(|level| level.price);
}

struct BookSeed<'s> {
    levels: &'s mut LevelScratch,
    error: &'s mut Option<DecodeError>,
}

impl<'de> DeserializeSeed<'de> for BookSeed<'_> {
    type Value = BookFields<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BookSeed<'_> {
    type Value = BookFields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Binance book object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = BookFields::default();
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "e" => fields.event_type = Some(map.next_value()?),
                "s" => fields.symbol = Some(map.next_value()?),
                "E" => fields.event_time = Some(map.next_value()?),
                "T" => fields.transaction_time = Some(map.next_value()?),
                "U" => fields.first_update_id = Some(map.next_value()?),
                "u" => fields.final_update_id = Some(map.next_value()?),
                "pu" => fields.prev_final_update_id = Some(map.next_value()?),
                "lastUpdateId" => fields.last_update_id = Some(map.next_value()?),
                "b" | "bids" => map.next_value_seed(LevelsSeed {
                    field: if key == "b" { "b" } else { "bids" },
                    out: &mut self.levels.bids,
                    error: &mut *self.error,
                })?,
                "a" | "asks" => map.next_value_seed(LevelsSeed {
                    field: if key == "a" { "a" } else { "asks" },
                    out: &mut self.levels.asks,
                    error: &mut *self.error,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(fields)
    }
}

/// A `[[price, qty], ...]` array appended to `out` (cleared first, so a repeated
/// key keeps the last array, as for every other key).
pub(crate) struct LevelsSeed<'s> {
    pub field: &'static str,
    pub out: &'s mut Vec<Level>,
    pub error: &'s mut Option<DecodeError>,
}

impl<'de> DeserializeSeed<'de> for LevelsSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LevelsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of [price, quantity] string pairs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.out.clear();
        while let Some((price, qty)) = seq.next_element_seed(PairSeed)? {
            let level = Price::parse(price.as_bytes())
                .and_then(|price| Size::parse(qty.as_bytes()).map(|size| Level::new(price, size)));
            match level {
                Ok(level) => self.out.push(level),
                Err(error) => {
                    *self.error = Some(DecodeError::BadDecimal {
                        field: self.field,
                        error,
                    });
                    return Err(serde::de::Error::custom("bad decimal in a level"));
                }
            }
        }
        Ok(())
    }
}

/// One `["price","qty"]` pair; extra elements are ignored.
struct PairSeed;

impl<'de> DeserializeSeed<'de> for PairSeed {
    type Value = (&'de str, &'de str);

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PairSeed {
    type Value = (&'de str, &'de str);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a [price, quantity] pair of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let price: &'de str = seq
            .next_element()?
            .ok_or_else(|| serde::de::Error::invalid_length(0, &self))?;
        let qty: &'de str = seq
            .next_element()?
            .ok_or_else(|| serde::de::Error::invalid_length(1, &self))?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((price, qty))
    }
}
