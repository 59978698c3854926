//! Diffs kept while a snapshot is awaited, and the id arithmetic of Binance's
//! continuity rules (shared by the buffer, the splice and the live stream).

use std::collections::VecDeque;

use tickd_bus::LOST_UNKNOWN;

use super::BinanceMarket;
use crate::binance::DepthDiff;
use crate::book::Level;

/// An owned copy of a [`DepthDiff`]: the decoder's scratch buffers are reused for the
/// next frame, so a buffered event must own its levels. Allocates only while syncing.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OwnedDiff {
    pub ts_event: u64,
    pub ts_recv: u64,
    pub first: u64,
    pub last: u64,
    pub prev: Option<u64>,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

impl OwnedDiff {
    pub fn new(diff: &DepthDiff<'_>, ts_recv: u64) -> Self {
        Self {
            ts_event: diff.ts_event,
            ts_recv,
            first: diff.first_update_id,
            last: diff.final_update_id,
            prev: diff.prev_final_update_id,
            bids: diff.bids.to_vec(),
            asks: diff.asks.to_vec(),
        }
    }

    pub fn as_diff(&self, instrument_id: u32) -> DepthDiff<'_> {
        DepthDiff {
            instrument_id,
            ts_event: self.ts_event,
            ts_transaction: 0,
            first_update_id: self.first,
            final_update_id: self.last,
            prev_final_update_id: self.prev,
            bids: &self.bids,
            asks: &self.asks,
        }
    }
}

/// How an event relates to the last update id applied (or buffered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Link {
    /// Everything in it was already applied: a duplicate, dropped without a gap.
    Stale,
    /// Apply it.
    Continues,
    /// Updates were lost. `lost` is exact on spot (ids are contiguous per symbol),
    /// [`LOST_UNKNOWN`] on futures; `expected` is the id that should have come next
    /// (spot `U`) or the `pu` that should have come (futures).
    Gap { lost: u64, expected: u64 },
}

/// Steady-state continuity after `last_u` was applied.
/// Spot: `u <= last_u` stale; `U > last_u + 1` gap; overlaps (`U <= last_u < u`) apply.
/// USD-M: `u <= last_u` stale; otherwise `pu` must equal `last_u`.
pub(super) fn link(market: BinanceMarket, last_u: u64, diff: &DepthDiff<'_>) -> Link {
    if diff.final_update_id <= last_u {
        return Link::Stale;
    }
    match market {
        BinanceMarket::Spot => {
            let expected = last_u.saturating_add(1);
            if diff.first_update_id > expected {
                Link::Gap {
                    lost: diff.first_update_id - expected,
                    expected,
                }
            } else {
                Link::Continues
            }
        }
        BinanceMarket::UsdmFutures => {
            if diff.prev_final_update_id == Some(last_u) {
                Link::Continues
            } else {
                Link::Gap {
                    lost: LOST_UNKNOWN,
                    expected: last_u,
                }
            }
        }
    }
}

/// Whether a buffered event is entirely covered by a snapshot at `snapshot_id` and is
/// dropped at the splice. Spot drops `u <= lastUpdateId`; USD-M drops `u < lastUpdateId`
/// (an event ending exactly at `L` is a valid first event there).
pub(super) fn covered_by_snapshot(market: BinanceMarket, snapshot_id: u64, last: u64) -> bool {
    match market {
        BinanceMarket::Spot => last <= snapshot_id,
        BinanceMarket::UsdmFutures => last < snapshot_id,
    }
}

/// The first event applied on top of a snapshot at `snapshot_id`, once covered events
/// are dropped. Spot: `U <= L + 1 <= u`. USD-M: `U <= L <= u`, or `pu == L` (a direct
/// continuation, accepted as tardis-node does).
pub(super) fn bridge(market: BinanceMarket, snapshot_id: u64, diff: &DepthDiff<'_>) -> Link {
    if covered_by_snapshot(market, snapshot_id, diff.final_update_id) {
        return Link::Stale;
    }
    let straddles = match market {
        BinanceMarket::Spot => diff.first_update_id <= snapshot_id.saturating_add(1),
        BinanceMarket::UsdmFutures => {
            diff.first_update_id <= snapshot_id || diff.prev_final_update_id == Some(snapshot_id)
        }
    };
    if straddles {
        Link::Continues
    } else {
        match market {
            BinanceMarket::Spot => link(market, snapshot_id, diff),
            BinanceMarket::UsdmFutures => Link::Gap {
                lost: LOST_UNKNOWN,
                expected: snapshot_id,
            },
        }
    }
}

/// Buffered events, always one continuous chain (an event that does not continue the
/// last one restarts the chain), bounded: overflow drops the oldest.
#[derive(Debug, Default)]
pub(super) struct DiffBuffer {
    pub events: VecDeque<OwnedDiff>,
}

/// What buffering one event did, for the caller's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Buffered {
    pub stale: bool,
    pub restarted: bool,
    pub overflowed: bool,
}

impl DiffBuffer {
    pub fn push(
        &mut self,
        market: BinanceMarket,
        diff: &DepthDiff<'_>,
        ts_recv: u64,
        max: usize,
    ) -> Buffered {
        let mut outcome = Buffered::default();
        if let Some(back) = self.events.back() {
            match link(market, back.last, diff) {
                Link::Stale => {
                    outcome.stale = true;
                    return outcome;
                }
                // Events before a hole can never be spliced onto a snapshot taken after it.
                Link::Gap { .. } => {
                    self.events.clear();
                    outcome.restarted = true;
                }
                Link::Continues => {}
            }
        }
        while self.events.len() >= max.max(1) {
            self.events.pop_front();
            outcome.overflowed = true;
        }
        self.events.push_back(OwnedDiff::new(diff, ts_recv));
        outcome
    }
}
