//! The `data` of an `orderbook.N` frame, and the `result` of REST
//! `/v5/market/orderbook`: `{"s":..,"b":[[px,sz],..],"a":[..],"u":N,"seq":N}`
//! (`bybit.md` §6.1). Levels are read straight into the decoder's reused buffers.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use crate::binance::decode::depth::LevelsSeed;
use crate::binance::decode::json;
use crate::book::Level;
use crate::error::DecodeError;

/// The scalar fields of a book object.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BookHead {
    /// The update id: contiguous per topic, 1 after a service restart.
    pub u: u64,
    /// The cross sequence (monotonic, not contiguous).
    pub seq: Option<u64>,
    /// REST only: the snapshot's time (ms).
    pub ts: Option<u64>,
}

/// Parse a book object into `bids`/`asks` (cleared first). `u` is required.
pub(crate) fn parse_book(
    data: &[u8],
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
) -> Result<BookHead, DecodeError> {
    bids.clear();
    asks.clear();
    let mut error = None;
    let seed = ObjectSeed {
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
        (None, Ok((Some(u), seq, ts))) => Ok(BookHead { u, seq, ts }),
        (None, Ok((None, _, _))) => Err(DecodeError::MissingField { field: "u" }),
        (None, Err(err)) => Err(DecodeError::json(err)),
    }
}

struct ObjectSeed<'s> {
    bids: &'s mut Vec<Level>,
    asks: &'s mut Vec<Level>,
    error: &'s mut Option<DecodeError>,
}

type Scalars = (Option<u64>, Option<u64>, Option<u64>);

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = Scalars;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Scalars, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = Scalars;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Bybit book object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalars, A::Error> {
        let (mut u, mut seq, mut ts) = (None, None, None);
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "u" => u = Some(map.next_value()?),
                "seq" => seq = Some(map.next_value()?),
                "ts" => ts = Some(map.next_value()?),
                "b" => map.next_value_seed(LevelsSeed {
                    field: "b",
                    out: &mut *self.bids,
                    error: &mut *self.error,
                })?,
                "a" => map.next_value_seed(LevelsSeed {
                    field: "a",
                    out: &mut *self.asks,
                    error: &mut *self.error,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((u, seq, ts))
    }
}
