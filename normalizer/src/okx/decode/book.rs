//! The `data` of a book frame: `[{"asks":[[px,sz,"0",n],..],"bids":[..],"ts":"..",
//! "checksum":N,"seqId":N,"prevSeqId":N}]` (`okx.md` §6.2). Levels are read straight
//! into the decoder's reused buffers; the deprecated third element and the order
//! count are skipped. Also used for `bbo-tbt` and REST `/api/v5/market/books`.

use serde::de::MapAccess;

use super::fields::ms_ns;
use crate::binance::decode::depth::LevelsSeed;
use crate::book::Level;
use crate::engine::book_object;
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
    book_object::parse_one(data, bids, asks)
}

impl<'de> book_object::BookHead<'de> for BookHead<'de> {
    const WHAT: &'static str = "an OKX book object";

    fn read_field<A: MapAccess<'de>>(
        &mut self,
        key: &'de str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match key {
            "ts" => self.ts = Some(map.next_value()?),
            "checksum" => self.checksum = Some(map.next_value()?),
            "seqId" => self.seq_id = Some(map.next_value()?),
            "prevSeqId" => self.prev_seq_id = Some(map.next_value()?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `[[px, sz, "0", n], ..]`: Binance's level arrays with extra elements skipped.
    fn read_levels<A: MapAccess<'de>>(
        map: &mut A,
        field: &'static str,
        out: &mut Vec<Level>,
        error: &mut Option<DecodeError>,
    ) -> Result<(), A::Error> {
        map.next_value_seed(LevelsSeed { field, out, error })
    }
}
