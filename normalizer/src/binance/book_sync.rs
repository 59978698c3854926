//! Binance's "how to manage a local order book correctly", per instrument.
//!
//! The venue's procedure (`docs/exchanges/binance_spot.md` §7,
//! `binance_usdm_futures.md` §5), as this state machine runs it:
//!
//! 1. Subscribe to `<symbol>@depth[@100ms]` and **buffer** the diffs
//!    ([`SyncState::AwaitingSnapshot`]); the first diff asks the feed for a REST snapshot
//!    ([`SyncAction::FetchSnapshot`]). The buffer is kept one continuous chain and
//!    bounded (`max_buffered_events`; overflow drops the oldest).
//! 2. The feed fetches `GET /api/v3/depth` (spot) or `/fapi/v1/depth` (USD-M) and calls
//!    [`BinanceBookSync::on_snapshot`] (`lastUpdateId = L`).
//! 3. Spot: if `L < U` of the first buffered event the snapshot is older than the stream:
//!    fetch again.
//! 4. Drop buffered events the snapshot covers (spot `u <= L`, USD-M `u < L`). The first
//!    remaining event must straddle the snapshot (spot `U <= L+1 <= u`; USD-M `U <= L <= u`
//!    or `pu == L`), otherwise fetch again.
//! 5. Install the snapshot, publish it as a SNAPSHOT image (`update_id = L`), then apply
//!    the buffered events → [`SyncState::Synced`].
//! 6. Every live event: entirely `<= last u` → stale duplicate, dropped. Continuity:
//!    spot `U <= last_u + 1` (overlaps are legal: sizes are absolute), USD-M
//!    `pu == last_u`. A break is a gap: publish `Gap` + `BookResync` statuses, throw the
//!    book away and go back to 1 (keeping the socket). Sizes are absolute; 0 deletes;
//!    deleting an absent level is normal.
//!
//! tickd additions: a crossed or locked book after an event triggers the same resync
//! (reason `CrossedBook`); a disconnect invalidates the book (`BookResync`,
//! `ConnectionLost`) until a fresh snapshot after the reconnect. Nothing is published for
//! the instrument between a resync status and the next image. Other instruments have
//! their own `BinanceBookSync` and never notice.
//!
//! Each applied event is published as one `Set` delta per level that changed (update id
//! `u`, `ts_event = E`), the last flagged LAST, then a DERIVED best bid/offer if the top
//! of book changed. `header.sequence` is left 0: the feed numbers its streams.

mod buffer;

use tickd_bus::record::{BookSide, StatusKind, StatusMsg, StatusReason};
use tickd_bus::{Flags, RecordHeader, Venue, LOST_UNKNOWN};

use self::buffer::{bridge, covered_by_snapshot, link, DiffBuffer, Link};
use super::{DepthDiff, DepthSnapshot};
use crate::book::image::{bbo_from_top, emit_image, set_delta, top_of, Stamp, Top};
use crate::book::{L2Book, Level};
use crate::sink::RecordSink;

/// Which Binance market: the decoder, the book sync and the feed all key on it. The
/// continuity rules differ: spot ids are contiguous per symbol (`U == last u + 1`);
/// USD-M ids come from a shared sequence and events are linked by `pu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinanceMarket {
    /// `binance`.
    Spot,
    /// `binance-usdm`.
    UsdmFutures,
}

/// What the feed should do next for this instrument.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncAction {
    None,
    /// Fetch a REST depth snapshot and call `on_snapshot` (or `on_snapshot_failed`).
    /// Asked once per request: not again until one of those is called.
    FetchSnapshot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    /// Buffering diffs until a snapshot that splices onto them; the book is not valid.
    AwaitingSnapshot,
    /// The book is the venue's book as of `last_update_id`.
    Synced,
}

/// Counters, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BookSyncStats {
    pub events_applied: u64,
    pub snapshots_applied: u64,
    /// Snapshots older than the stream, not bridging onto it, or crossed: fetched again.
    pub snapshots_refetched: u64,
    /// Snapshots that arrived when none was requested (e.g. after a disconnect): ignored.
    pub snapshots_unexpected: u64,
    pub snapshot_failures: u64,
    pub gaps: u64,
    pub resyncs: u64,
    /// Crossed or locked books seen (after an event or in a snapshot).
    pub crossed: u64,
    /// Live or buffered events already covered by what was applied: dropped, no gap.
    pub stale_events_dropped: u64,
    /// Buffered events covered by the snapshot at the splice (normal, not an error).
    pub buffered_events_skipped: u64,
    pub buffer_overflows: u64,
    /// Events with `U > u`, a negative size or no price: dropped, resync.
    pub malformed_events: u64,
    /// Snapshots with an unpriced or negative level: fetched again.
    pub malformed_snapshots: u64,
}

/// One instrument's book, kept in sync by Binance's procedure. See the module docs.
#[derive(Debug)]
pub struct BinanceBookSync {
    venue: Venue,
    instrument_id: u32,
    market: BinanceMarket,
    max_buffered_events: usize,
    state: SyncState,
    book: L2Book,
    last_update_id: Option<u64>,
    /// Synced on a snapshot with no buffered event left: the next event must bridge it.
    bridge_from: Option<u64>,
    buffer: DiffBuffer,
    snapshot_requested: bool,
    published_top: Option<Top>,
    /// Levels changed by the event being applied (reused: no allocation per event).
    changes: Vec<(BookSide, Level)>,
    stats: BookSyncStats,
}

impl BinanceBookSync {
    pub fn new(
        venue: Venue,
        instrument_id: u32,
        market: BinanceMarket,
        max_buffered_events: usize,
    ) -> Self {
        Self {
            venue,
            instrument_id,
            market,
            max_buffered_events: max_buffered_events.max(1),
            state: SyncState::AwaitingSnapshot,
            book: L2Book::new(),
            last_update_id: None,
            bridge_from: None,
            buffer: DiffBuffer::default(),
            snapshot_requested: false,
            published_top: None,
            changes: Vec::with_capacity(64),
            stats: BookSyncStats::default(),
        }
    }

    /// One `depthUpdate` event for this instrument.
    pub fn on_diff(
        &mut self,
        diff: &DepthDiff<'_>,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) -> SyncAction {
        if !well_formed(diff) {
            self.stats.malformed_events += 1;
            return match self.state {
                SyncState::Synced => {
                    let expected = self.last_update_id.unwrap_or(0);
                    self.emit_status(
                        StatusKind::Gap,
                        StatusReason::MalformedFrame,
                        LOST_UNKNOWN,
                        expected,
                        diff.ts_event,
                        ts_recv,
                        out,
                    );
                    self.resync(StatusReason::MalformedFrame, diff.ts_event, ts_recv, out);
                    // Nothing to splice onto yet: the next diff asks for the snapshot.
                    SyncAction::None
                }
                SyncState::AwaitingSnapshot => {
                    self.buffer.events.clear();
                    self.request_snapshot()
                }
            };
        }
        match self.state {
            SyncState::AwaitingSnapshot => {
                self.buffer_diff(diff, ts_recv);
                self.request_snapshot()
            }
            SyncState::Synced => self.on_live(diff, ts_recv, out),
        }
    }

    /// The REST snapshot the last [`SyncAction::FetchSnapshot`] asked for. May ask for
    /// another one when this one cannot be spliced onto the buffered stream.
    pub fn on_snapshot(
        &mut self,
        snapshot: DepthSnapshot,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) -> SyncAction {
        if !self.snapshot_requested || self.state != SyncState::AwaitingSnapshot {
            self.stats.snapshots_unexpected += 1;
            return self.request_snapshot();
        }
        self.snapshot_requested = false;
        let snapshot_id = snapshot.last_update_id;
        let events = &mut self.buffer.events;
        // Step 3 (spot): a snapshot older than the stream start cannot be spliced.
        if self.market == BinanceMarket::Spot
            && events.front().is_some_and(|e| snapshot_id < e.first)
        {
            return self.refetch();
        }
        // Step 4: drop what the snapshot covers; the first remaining event must straddle it.
        while events
            .front()
            .is_some_and(|e| covered_by_snapshot(self.market, snapshot_id, e.last))
        {
            events.pop_front();
            self.stats.buffered_events_skipped += 1;
        }
        if let Some(first) = events.front() {
            if bridge(self.market, snapshot_id, &first.as_diff(self.instrument_id))
                != Link::Continues
            {
                return self.refetch();
            }
        }
        if !snapshot.bids.iter().chain(&snapshot.asks).all(valid_level) {
            self.stats.malformed_snapshots += 1;
            return self.refetch();
        }
        self.book.replace(snapshot.bids, snapshot.asks);
        if self.book.is_crossed() {
            self.stats.crossed += 1;
            self.book.clear();
            return self.refetch();
        }
        // Step 5: publish the image, then the buffered events on top of it.
        self.state = SyncState::Synced;
        self.last_update_id = Some(snapshot_id);
        self.bridge_from = Some(snapshot_id);
        self.stats.snapshots_applied += 1;
        let stamp = self.stamp(snapshot.ts_event, ts_recv);
        emit_image(&self.book, &stamp, snapshot_id, out);
        self.published_top = None;
        self.publish_top_if_changed(&stamp, out);

        let mut pending = std::mem::take(&mut self.buffer.events);
        while let Some(event) = pending.pop_front() {
            let action = self.on_live(&event.as_diff(self.instrument_id), event.ts_recv, out);
            if self.state != SyncState::Synced {
                // A resync re-buffered `event`; keep the rest behind it, in order.
                self.buffer.events.extend(pending);
                return action;
            }
        }
        // Keep the allocation for the next resync.
        self.buffer.events = pending;
        SyncAction::None
    }

    /// The snapshot request failed: ask again (the feed applies its backoff and budget).
    pub fn on_snapshot_failed(&mut self) -> SyncAction {
        self.stats.snapshot_failures += 1;
        self.snapshot_requested = false;
        self.request_snapshot()
    }

    /// The connection carrying this instrument closed: the book is invalid until a fresh
    /// snapshot after the reconnect. A request in flight is forgotten (its answer, if it
    /// still comes, is ignored); the first diff after the reconnect asks for a new one.
    pub fn on_disconnect(&mut self, ts_recv: u64, out: &mut impl RecordSink) {
        if self.state == SyncState::Synced {
            self.resync(StatusReason::ConnectionLost, 0, ts_recv, out);
        }
        self.buffer.events.clear();
        self.snapshot_requested = false;
    }

    pub fn book(&self) -> &L2Book {
        &self.book
    }

    pub fn state(&self) -> SyncState {
        self.state
    }

    /// The `u` of the last event applied (or the snapshot's `lastUpdateId`); `None`
    /// unless synced.
    pub fn last_update_id(&self) -> Option<u64> {
        self.last_update_id
    }

    pub fn stats(&self) -> &BookSyncStats {
        &self.stats
    }

    pub fn instrument_id(&self) -> u32 {
        self.instrument_id
    }

    pub fn market(&self) -> BinanceMarket {
        self.market
    }

    fn on_live(
        &mut self,
        diff: &DepthDiff<'_>,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) -> SyncAction {
        let verdict = match (self.bridge_from, self.last_update_id) {
            (Some(snapshot_id), _) => bridge(self.market, snapshot_id, diff),
            (None, Some(last)) => link(self.market, last, diff),
            (None, None) => Link::Gap {
                lost: LOST_UNKNOWN,
                expected: 0,
            },
        };
        match verdict {
            Link::Stale => {
                self.stats.stale_events_dropped += 1;
                SyncAction::None
            }
            Link::Gap { lost, expected } => {
                self.stats.gaps += 1;
                self.emit_status(
                    StatusKind::Gap,
                    StatusReason::SequenceGap,
                    lost,
                    expected,
                    diff.ts_event,
                    ts_recv,
                    out,
                );
                self.resync(StatusReason::SequenceGap, diff.ts_event, ts_recv, out);
                // The event after the hole starts the new buffer.
                self.buffer_diff(diff, ts_recv);
                self.request_snapshot()
            }
            Link::Continues => {
                self.bridge_from = None;
                self.apply_event(diff, ts_recv, out)
            }
        }
    }

    fn apply_event(
        &mut self,
        diff: &DepthDiff<'_>,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) -> SyncAction {
        self.changes.clear();
        for (side, levels) in [(BookSide::Bid, diff.bids), (BookSide::Ask, diff.asks)] {
            for level in levels {
                if self.book.apply(side, level.price, level.size) {
                    self.changes.push((side, *level));
                }
            }
        }
        self.last_update_id = Some(diff.final_update_id);
        self.stats.events_applied += 1;
        if self.book.is_crossed() {
            self.stats.crossed += 1;
            self.resync(StatusReason::CrossedBook, diff.ts_event, ts_recv, out);
            // The event is genuine stream data: the next snapshot may still need it.
            self.buffer_diff(diff, ts_recv);
            return self.request_snapshot();
        }
        let stamp = self.stamp(diff.ts_event, ts_recv);
        let count = self.changes.len();
        for (i, &(side, level)) in self.changes.iter().enumerate() {
            let flags = if i + 1 == count {
                Flags::LAST
            } else {
                Flags::NONE
            };
            out.push_record(&set_delta(&stamp, side, level, diff.final_update_id, flags));
        }
        self.publish_top_if_changed(&stamp, out);
        SyncAction::None
    }

    /// Publishes `BookResync`, throws the book away and starts buffering again.
    fn resync(
        &mut self,
        reason: StatusReason,
        ts_event: u64,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) {
        self.stats.resyncs += 1;
        let last = self.last_update_id.unwrap_or(0);
        self.emit_status(
            StatusKind::BookResync,
            reason,
            0,
            last,
            ts_event,
            ts_recv,
            out,
        );
        self.state = SyncState::AwaitingSnapshot;
        self.book.clear();
        self.last_update_id = None;
        self.bridge_from = None;
        self.published_top = None;
        self.buffer.events.clear();
    }

    fn buffer_diff(&mut self, diff: &DepthDiff<'_>, ts_recv: u64) {
        let outcome = self
            .buffer
            .push(self.market, diff, ts_recv, self.max_buffered_events);
        self.stats.stale_events_dropped += u64::from(outcome.stale);
        self.stats.gaps += u64::from(outcome.restarted);
        self.stats.buffer_overflows += u64::from(outcome.overflowed);
    }

    fn refetch(&mut self) -> SyncAction {
        self.stats.snapshots_refetched += 1;
        self.request_snapshot()
    }

    /// Asks for a snapshot when one is needed, none is outstanding, and there is a
    /// buffered stream to splice it onto (so nothing is asked while disconnected).
    fn request_snapshot(&mut self) -> SyncAction {
        if self.state == SyncState::AwaitingSnapshot
            && !self.snapshot_requested
            && !self.buffer.events.is_empty()
        {
            self.snapshot_requested = true;
            SyncAction::FetchSnapshot
        } else {
            SyncAction::None
        }
    }

    fn publish_top_if_changed(&mut self, stamp: &Stamp, out: &mut impl RecordSink) {
        let top = top_of(&self.book);
        if self.published_top != Some(top) {
            self.published_top = Some(top);
            out.push_record(&bbo_from_top(stamp, top));
        }
    }

    fn stamp(&self, ts_event: u64, ts_recv: u64) -> Stamp {
        Stamp {
            venue: self.venue,
            instrument_id: self.instrument_id,
            ts_event,
            ts_recv,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_status(
        &self,
        kind: StatusKind,
        reason: StatusReason,
        lost: u64,
        detail: u64,
        ts_event: u64,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) {
        out.push_record(&StatusMsg {
            hd: RecordHeader::new::<StatusMsg>(self.venue, self.instrument_id, ts_event, ts_recv),
            kind: kind as u8,
            _reserved: 0,
            reason: reason as u16,
            conn: 0,
            lost,
            detail,
        });
    }
}

/// Hostile-input guard: ids in order, every level priced and not negative.
fn well_formed(diff: &DepthDiff<'_>) -> bool {
    diff.first_update_id <= diff.final_update_id
        && diff.bids.iter().chain(diff.asks).all(valid_level)
}

fn valid_level(level: &Level) -> bool {
    level.price != tickd_bus::Price::UNDEF && !level.size.is_negative()
}
