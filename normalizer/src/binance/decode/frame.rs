//! What a frame decodes to: [`BinanceFrame`] for callers, and [`Decoded`], the same
//! before the depth levels are attached (it holds no borrow of the level buffers,
//! so a failed fast path can be retried on the slow path).

use super::depth::LevelScratch;
use crate::binance::{DepthDiff, DepthSnapshot};
use crate::stats::DecodeStats;

/// What one frame held.
#[derive(Debug, Clone, PartialEq)]
pub enum BinanceFrame<'a> {
    /// `n` records were pushed to the sink.
    Records(usize),
    /// A diff for the book sync (not pushed as records here).
    Depth(DepthDiff<'a>),
    /// A top-N image from a `@depth5/10/20` stream (rare; allocates).
    PartialDepth {
        instrument_id: u32,
        snapshot: DepthSnapshot,
    },
    /// `{"result":null,"id":N}` (or a property value reply).
    Subscribed {
        id: u64,
    },
    SubscriptionList {
        id: u64,
        streams: Vec<String>,
    },
    ControlError {
        id: Option<u64>,
        code: i64,
        msg: String,
    },
    /// `serverShutdown`: open a new connection now. `ts_event` in ns.
    ServerShutdown {
        ts_event: u64,
    },
    /// A valid event for a symbol the map does not hold (counted, dropped).
    UnknownSymbol,
}

/// Decoded, before the depth levels are attached: no borrow of the level buffers,
/// so a failed fast path can be retried on the slow path.
#[derive(Debug)]
pub(crate) enum Decoded {
    Records {
        pushed: usize,
        unknown_symbols: usize,
    },
    Depth(DepthHead),
    PartialDepth {
        instrument_id: u32,
        snapshot: DepthSnapshot,
    },
    Subscribed {
        id: u64,
    },
    SubscriptionList {
        id: u64,
        streams: Vec<String>,
    },
    ControlError {
        id: Option<u64>,
        code: i64,
        msg: String,
    },
    ServerShutdown {
        ts_event: u64,
    },
}

impl Decoded {
    pub(crate) fn records(pushed: usize) -> Self {
        Decoded::Records {
            pushed,
            unknown_symbols: 0,
        }
    }

    pub(crate) fn unknown_symbol() -> Self {
        Decoded::Records {
            pushed: 0,
            unknown_symbols: 1,
        }
    }
}

/// A depth diff's scalar fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DepthHead {
    pub instrument_id: u32,
    pub ts_event: u64,
    pub ts_transaction: u64,
    pub first_update_id: u64,
    pub final_update_id: u64,
    pub prev_final_update_id: Option<u64>,
}

pub(crate) fn attach_levels<'a>(
    decoded: Decoded,
    levels: &'a LevelScratch,
    stats: &mut DecodeStats,
) -> BinanceFrame<'a> {
    match decoded {
        Decoded::Records {
            pushed,
            unknown_symbols,
        } => {
            for _ in 0..unknown_symbols {
                stats.count_unknown_symbol();
            }
            if pushed == 0 && unknown_symbols > 0 {
                BinanceFrame::UnknownSymbol
            } else {
                BinanceFrame::Records(pushed)
            }
        }
        Decoded::Depth(head) => BinanceFrame::Depth(DepthDiff {
            instrument_id: head.instrument_id,
            ts_event: head.ts_event,
            ts_transaction: head.ts_transaction,
            first_update_id: head.first_update_id,
            final_update_id: head.final_update_id,
            prev_final_update_id: head.prev_final_update_id,
            bids: &levels.bids,
            asks: &levels.asks,
        }),
        Decoded::PartialDepth {
            instrument_id,
            snapshot,
        } => BinanceFrame::PartialDepth {
            instrument_id,
            snapshot,
        },
        Decoded::Subscribed { id } => BinanceFrame::Subscribed { id },
        Decoded::SubscriptionList { id, streams } => BinanceFrame::SubscriptionList { id, streams },
        Decoded::ControlError { id, code, msg } => BinanceFrame::ControlError { id, code, msg },
        Decoded::ServerShutdown { ts_event } => BinanceFrame::ServerShutdown { ts_event },
    }
}
