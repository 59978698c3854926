//! Book channels (`htx.md` §6.3-6.7) → [`BookEvent`]s for the book sync.
//!
//! - spot `mbp.N` increments: `seqNum` with `prevSeqNum` as `prev`; the `req`
//!   reply's `data` is the image at its `seqNum` (§7.1);
//! - spot `mbp.refresh.N` and `depth.stepK` (spot and swaps): whole images, each a
//!   snapshot (`seqNum` / `version` as its id, not a continuity check);
//! - swap `depth.size_N.high_freq` (`data_type=incremental`): `event` `snapshot` or
//!   `update`, `version` +1 per message (§7.2); a side may be `null`.

use serde::Deserialize;
use sonic_rs::LazyValue;

use super::fields::{levels, ms_ns, uint};
use crate::binance::decode::json;
use crate::book::Level;
use crate::engine::BookEvent;
use crate::error::{DecodeError, ShortText};

/// The book channel families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// Spot `mbp.N`.
    Mbp,
    /// Spot `mbp.refresh.N`: a top-N image every push.
    MbpRefresh,
    /// `depth.stepK`: a whole image every push.
    Step,
    /// Swap `depth.size_N.high_freq`.
    HighFreq,
}

impl Channel {
    pub fn of(channel: &str) -> Option<Channel> {
        if let Some(rest) = channel.strip_prefix("mbp.") {
            return Some(if rest.starts_with("refresh.") {
                Channel::MbpRefresh
            } else {
                Channel::Mbp
            });
        }
        if channel.starts_with("depth.step") {
            return Some(Channel::Step);
        }
        if channel.starts_with("depth.size_") && channel.ends_with(".high_freq") {
            return Some(Channel::HighFreq);
        }
        None
    }
}

#[derive(Deserialize)]
struct Tick<'a> {
    #[serde(borrow, rename = "seqNum")]
    seq_num: Option<LazyValue<'a>>,
    #[serde(borrow, rename = "prevSeqNum")]
    prev_seq_num: Option<LazyValue<'a>>,
    #[serde(borrow)]
    version: Option<LazyValue<'a>>,
    #[serde(borrow)]
    event: Option<&'a str>,
    #[serde(borrow)]
    ts: Option<LazyValue<'a>>,
    #[serde(borrow)]
    bids: Option<LazyValue<'a>>,
    #[serde(borrow)]
    asks: Option<LazyValue<'a>>,
}

fn id(value: &Option<LazyValue<'_>>, field: &'static str) -> Result<u64, DecodeError> {
    uint(
        value.as_ref().ok_or(DecodeError::MissingField { field })?,
        field,
    )
}

/// A pushed book message.
pub(crate) fn push<'a>(
    channel: Channel,
    instrument_id: u32,
    tick: &[u8],
    bids: &'a mut Vec<Level>,
    asks: &'a mut Vec<Level>,
) -> Result<BookEvent<'a>, DecodeError> {
    let t: Tick<'_> = json::sonic(tick)?;
    levels(&t.bids, bids, "bids")?;
    levels(&t.asks, asks, "asks")?;
    let (snapshot, last, prev) = match channel {
        Channel::Mbp => (
            false,
            id(&t.seq_num, "seqNum")?,
            Some(id(&t.prev_seq_num, "prevSeqNum")?),
        ),
        Channel::MbpRefresh => (true, id(&t.seq_num, "seqNum")?, None),
        Channel::Step => (
            true,
            t.version.as_ref().map_or(Ok(0), |v| uint(v, "version"))?,
            None,
        ),
        Channel::HighFreq => {
            let snapshot = match t.event {
                Some("snapshot") => true,
                Some("update") => false,
                Some(other) => {
                    return Err(DecodeError::UnknownEvent {
                        event: ShortText::new(other),
                    })
                }
                None => return Err(DecodeError::MissingField { field: "event" }),
            };
            (snapshot, id(&t.version, "version")?, None)
        }
    };
    Ok(BookEvent {
        instrument_id,
        snapshot,
        first: last,
        last,
        prev,
        checksum: None,
        record_id: None,
        ts_event: ms_ns(&t.ts, "ts")?,
        bids,
        asks,
    })
}

/// The `data` of a spot `req` reply for `mbp.N`: the image at `seqNum`.
pub(crate) fn requested<'a>(
    instrument_id: u32,
    data: &[u8],
    bids: &'a mut Vec<Level>,
    asks: &'a mut Vec<Level>,
) -> Result<BookEvent<'a>, DecodeError> {
    let t: Tick<'_> = json::sonic(data)?;
    levels(&t.bids, bids, "bids")?;
    levels(&t.asks, asks, "asks")?;
    let last = id(&t.seq_num, "seqNum")?;
    Ok(BookEvent {
        instrument_id,
        snapshot: true,
        first: last,
        last,
        prev: None,
        checksum: None,
        record_id: None,
        ts_event: ms_ns(&t.ts, "ts")?,
        bids,
        asks,
    })
}
