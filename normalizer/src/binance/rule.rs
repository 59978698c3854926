//! Binance's book sequencing rule (`docs/exchanges/binance_spot.md` §7,
//! `binance_usdm_futures.md` §5): REST snapshots spliced onto the buffered stream.
//! Spot ids are contiguous per symbol (`U == last u + 1`); USD-M ids come from a
//! shared sequence and events link by `pu`.

use super::{BinanceMarket, DepthDiff};
use crate::engine::{BookEvent, BookSync, Link, SequenceRule, SnapshotSource, SyncAction};
use crate::sink::RecordSink;

/// One Binance instrument's book: the generic [`BookSync`] with Binance's rule.
pub type BinanceBookSync = BookSync<BinanceMarket>;

impl SequenceRule for BinanceMarket {
    fn snapshot_source(&self) -> SnapshotSource {
        SnapshotSource::Rest
    }

    /// Spot only: a snapshot with `lastUpdateId < U` of the first buffered event is
    /// older than the stream.
    fn snapshot_too_old(&self, snapshot_id: u64, first: &BookEvent<'_>) -> bool {
        *self == BinanceMarket::Spot && snapshot_id < first.first
    }

    /// Spot drops `u <= lastUpdateId`; USD-M drops `u < lastUpdateId` (an event
    /// ending exactly at `L` is a valid first event there).
    fn covered_by_snapshot(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> bool {
        match self {
            BinanceMarket::Spot => ev.last <= snapshot_id,
            BinanceMarket::UsdmFutures => ev.last < snapshot_id,
        }
    }

    /// Spot: `U <= L + 1 <= u`. USD-M: `U <= L <= u`, or `pu == L` (a direct
    /// continuation, accepted as tardis-node does).
    fn bridges(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> Link {
        if self.covered_by_snapshot(snapshot_id, ev) {
            return Link::Stale;
        }
        match self {
            BinanceMarket::Spot if ev.first <= snapshot_id.saturating_add(1) => Link::Continues,
            BinanceMarket::Spot => self.links(snapshot_id, ev),
            BinanceMarket::UsdmFutures
                if ev.first <= snapshot_id || ev.prev == Some(snapshot_id) =>
            {
                Link::Continues
            }
            BinanceMarket::UsdmFutures => Link::gap_unknown(snapshot_id),
        }
    }

    /// Spot: `u <= last_u` stale; `U > last_u + 1` gap (exact count); overlaps
    /// (`U <= last_u < u`) apply. USD-M: `u <= last_u` stale; otherwise `pu` must
    /// equal `last_u`.
    fn links(&self, last: u64, ev: &BookEvent<'_>) -> Link {
        if ev.last <= last {
            return Link::Stale;
        }
        match self {
            BinanceMarket::Spot => {
                let expected = last.saturating_add(1);
                if ev.first > expected {
                    Link::Gap {
                        lost: ev.first - expected,
                        expected,
                    }
                } else {
                    Link::Continues
                }
            }
            BinanceMarket::UsdmFutures if ev.prev == Some(last) => Link::Continues,
            BinanceMarket::UsdmFutures => Link::gap_unknown(last),
        }
    }
}

impl<'a> DepthDiff<'a> {
    /// The diff as the book sync reads it (`U`, `u`, `pu`).
    pub fn as_event(&self) -> BookEvent<'a> {
        BookEvent {
            instrument_id: self.instrument_id,
            snapshot: false,
            first: self.first_update_id,
            last: self.final_update_id,
            prev: self.prev_final_update_id,
            checksum: None,
            record_id: None,
            ts_event: self.ts_event,
            bids: self.bids,
            asks: self.asks,
        }
    }
}

impl BinanceBookSync {
    /// One `depthUpdate` event for this instrument.
    pub fn on_diff(
        &mut self,
        diff: &DepthDiff<'_>,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) -> SyncAction {
        self.on_event(&diff.as_event(), ts_recv, out)
    }

    pub fn market(&self) -> BinanceMarket {
        *self.rule()
    }
}
