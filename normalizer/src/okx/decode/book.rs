//! The `data` of a book frame: `[{"asks":[[px,sz,"0",n],..],"bids":[..],"ts":"..",
//! "checksum":N,"seqId":N,"prevSeqId":N}]` (`okx.md` §6.2). Levels are read straight
//! into the decoder's reused buffers; the deprecated third element and the order
//! count are skipped. Also used for `bbo-tbt` and REST `/api/v5/market/books`.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::fields::ms_ns;
use crate::binance::decode::depth::LevelsSeed;
use crate::binance::decode::json;
use crate::book::Level;
use crate::error::DecodeError;
use crate::okx::frame::{BookChannel, OkxBook};

/// The scalar fields of a book object.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BookHead<'a> {
    pub ts: Option<&'a str>,
    pub checksum: Option<i64>,
    pub seq_id: Option<i64>,
    pub prev_seq_id: Option<i64>,
}

impl BookHead<'_> {
    /// Checked against OKX's rules: ids ≥ 0 (`prevSeqId` -1 only on snapshots), the
    /// checksum an `i32`. Captures from before 2022 have no ids at all.
    pub fn into_book<'l>(
        self,
        instrument_id: u32,
        channel: BookChannel,
        snapshot: bool,
        bids: &'l [Level],
        asks: &'l [Level],
    ) -> Result<OkxBook<'l>, DecodeError> {
        let id =
            |value: i64, field| u64::try_from(value).map_err(|_| DecodeError::OutOfRange { field });
        let seq_id = self.seq_id.map(|v| id(v, "seqId")).transpose()?;
        let prev_seq_id = match self.prev_seq_id {
            Some(-1) if snapshot => None,
            prev => prev.map(|v| id(v, "prevSeqId")).transpose()?,
        };
        let checksum = match self.checksum {
            None | Some(0) => None,
            Some(sum) => Some(
                i32::try_from(sum).map_err(|_| DecodeError::OutOfRange { field: "checksum" })?,
            ),
        };
        Ok(OkxBook {
            instrument_id,
            channel,
            snapshot,
            seq_id,
            prev_seq_id,
            checksum,
            ts_event: ms_ns(self.ts, "ts")?,
            bids,
            asks,
        })
    }
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

/// `[ {book} ]`: exactly one object (OKX never sends more in one frame).
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
        f.write_str("an OKX book object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut head = BookHead::default();
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "ts" => head.ts = Some(map.next_value()?),
                "checksum" => head.checksum = Some(map.next_value()?),
                "seqId" => head.seq_id = Some(map.next_value()?),
                "prevSeqId" => head.prev_seq_id = Some(map.next_value()?),
                "bids" => map.next_value_seed(LevelsSeed {
                    field: "bids",
                    out: &mut *self.bids,
                    error: &mut *self.error,
                })?,
                "asks" => map.next_value_seed(LevelsSeed {
                    field: "asks",
                    out: &mut *self.asks,
                    error: &mut *self.error,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(head)
    }
}
