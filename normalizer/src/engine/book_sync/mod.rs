//! One instrument's book, kept in sync by its venue's [`SequenceRule`].
//!
//! The procedure (Binance's "how to manage a local order book correctly",
//! generalized; `docs/exchanges/binance_spot.md` §7 is the reference case):
//!
//! 1. Until the book has an image, updates are **buffered**
//!    ([`SyncState::AwaitingSnapshot`]), kept one continuous chain by the rule's
//!    [`SequenceRule::links`] and bounded (`max_buffered_events`; overflow drops the
//!    oldest). Where the image comes from is the rule's [`SnapshotSource`]: a REST
//!    fetch ([`SyncAction::FetchSnapshot`], then [`BookSync::on_snapshot`]), a
//!    snapshot pushed on the stream (a [`BookEvent`] with `snapshot` set), or one
//!    a resubscription or a request on the stream brings.
//! 2. At a REST splice, the rule's [`SequenceRule::splice`] walks the buffer from
//!    the oldest event: a snapshot older than the stream is fetched again
//!    ([`SequenceRule::snapshot_too_old`]); buffered events it covers are dropped
//!    ([`SequenceRule::covered_by_snapshot`]); the first remaining one must bridge it
//!    ([`SequenceRule::bridges`]), otherwise fetch again. (A rule whose images carry
//!    a second id, [`BookSnapshot::record_id`], decides all three itself.)
//! 3. The image is published as a SNAPSHOT (`update_id` = the snapshot's id), then the
//!    buffered events on top of it → [`SyncState::Synced`].
//! 4. Every live event: [`Link::Stale`] is dropped, [`Link::Gap`] publishes `Gap` +
//!    `BookResync` statuses, throws the book away and goes back to 1 (keeping the
//!    socket; a REST rule fetches, the others ask the feed to resubscribe or
//!    request). Sizes are absolute; 0 deletes; deleting an absent level is normal.
//! 5. A rule with a [`SequenceRule::depth`] keeps each side to that many levels
//!    (images and events), publishing a delete for each level it drops.
//! 6. When an event carries the venue's checksum and the rule computes one, they
//!    must agree, or the book resyncs (reason `ChecksumMismatch`).
//!
//! A crossed or locked book after an event triggers the same resync (reason
//! `CrossedBook`); a disconnect invalidates the book (`BookResync`,
//! `ConnectionLost`) until a fresh image after the reconnect. Nothing is published for
//! the instrument between a resync status and the next image. Other instruments have
//! their own `BookSync` and never notice.
//!
//! Each applied event is published as one `Set` delta per level that changed (update
//! id = the event's last id, `ts_event` its time), the last flagged LAST, then a
//! DERIVED best bid/offer if the top of book changed. `header.sequence` is left 0:
//! the feed numbers its streams.

mod buffer;

use tickd_bus::record::{BookSide, StatusKind, StatusMsg, StatusReason};
use tickd_bus::{Flags, RecordHeader, Venue, LOST_UNKNOWN};

use self::buffer::EventBuffer;
use super::{BookEvent, BookSnapshot, ImageIds, Link, SequenceRule, SnapshotSource, Splice};
use crate::book::image::{bbo_from_top, emit_image, set_delta, top_of, Stamp, Top};
use crate::book::{L2Book, Level};
use crate::sink::RecordSink;

/// What the feed should do next for this instrument.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncAction {
    None,
    /// Fetch a REST book snapshot and call `on_snapshot` (or `on_snapshot_failed`).
    /// Asked once per request: not again until one of those is called.
    FetchSnapshot,
    /// Unsubscribe and subscribe this instrument's book again on its connection: the
    /// venue pushes a fresh snapshot. Asked once per resync.
    Resubscribe,
    /// Ask for a snapshot with a message on the stream (HTX `req`). Asked once per
    /// resync.
    RequestSnapshot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    /// Buffering updates until an image that splices onto them; the book is not valid.
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
    /// Events with `first > last`, a negative size or no price: dropped, resync.
    pub malformed_events: u64,
    /// Snapshots with an unpriced or negative level: fetched again.
    pub malformed_snapshots: u64,
    /// Events whose venue checksum did not match the book: resync.
    pub checksum_failures: u64,
}

/// One instrument's book, kept in sync by its venue's rule. See the module docs.
#[derive(Debug)]
pub struct BookSync<R> {
    venue: Venue,
    instrument_id: u32,
    rule: R,
    max_buffered_events: usize,
    state: SyncState,
    book: L2Book,
    last_update_id: Option<u64>,
    /// Synced on a snapshot with no buffered event left: the next event must bridge it.
    bridge_from: Option<u64>,
    buffer: EventBuffer,
    snapshot_requested: bool,
    /// A resync happened and the rule's source needs the feed to act (not REST).
    needs_fresh_image: bool,
    published_top: Option<Top>,
    /// Levels changed by the event being applied (reused: no allocation per event).
    changes: Vec<(BookSide, Level)>,
    stats: BookSyncStats,
}

impl<R: SequenceRule> BookSync<R> {
    pub fn new(venue: Venue, instrument_id: u32, rule: R, max_buffered_events: usize) -> Self {
        Self {
            venue,
            instrument_id,
            rule,
            max_buffered_events: max_buffered_events.max(1),
            state: SyncState::AwaitingSnapshot,
            book: L2Book::new(),
            last_update_id: None,
            bridge_from: None,
            buffer: EventBuffer::default(),
            snapshot_requested: false,
            needs_fresh_image: false,
            published_top: None,
            changes: Vec::with_capacity(64),
            stats: BookSyncStats::default(),
        }
    }

    /// One book message for this instrument: an update, or an image pushed on the
    /// stream.
    pub fn on_event(
        &mut self,
        ev: &BookEvent<'_>,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) -> SyncAction {
        if ev.snapshot {
            return self.on_pushed_snapshot(ev, ts_recv, out);
        }
        if !well_formed(ev) {
            self.stats.malformed_events += 1;
            return match self.state {
                SyncState::Synced => {
                    let expected = self.last_update_id.unwrap_or(0);
                    self.emit_status(
                        StatusKind::Gap,
                        StatusReason::MalformedFrame,
                        LOST_UNKNOWN,
                        expected,
                        ev.ts_event,
                        ts_recv,
                        out,
                    );
                    self.resync(StatusReason::MalformedFrame, ev.ts_event, ts_recv, out);
                    // REST: nothing to splice onto yet, the next event asks.
                    self.request_snapshot()
                }
                SyncState::AwaitingSnapshot => {
                    self.buffer.events.clear();
                    self.request_snapshot()
                }
            };
        }
        match self.state {
            SyncState::AwaitingSnapshot => {
                self.buffer_event(ev, ts_recv);
                self.request_snapshot()
            }
            SyncState::Synced => self.on_live(ev, ts_recv, out),
        }
    }

    /// The REST snapshot the last [`SyncAction::FetchSnapshot`] asked for. May ask for
    /// another one when this one cannot be spliced onto the buffered stream.
    pub fn on_snapshot(
        &mut self,
        snapshot: BookSnapshot,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) -> SyncAction {
        if !self.snapshot_requested || self.state != SyncState::AwaitingSnapshot {
            self.stats.snapshots_unexpected += 1;
            return self.request_snapshot();
        }
        self.snapshot_requested = false;
        let image = ImageIds {
            update_id: snapshot.last_update_id,
            record_id: snapshot.record_id,
        };
        // Drop what the image covers, up to the first event on top of it.
        let mut oldest = true;
        while let Some(event) = self.buffer.events.front() {
            match self
                .rule
                .splice(image, &event.as_event(self.instrument_id), oldest)
            {
                Splice::Covered => {
                    self.buffer.events.pop_front();
                    self.stats.buffered_events_skipped += 1;
                }
                Splice::Bridges => break,
                Splice::Refetch => return self.refetch(),
            }
            oldest = false;
        }
        if !snapshot.bids.iter().chain(&snapshot.asks).all(valid_level) {
            self.stats.malformed_snapshots += 1;
            return self.refetch();
        }
        self.book.replace(snapshot.bids, snapshot.asks);
        if let Some(depth) = self.rule.depth() {
            self.book.truncate(depth);
        }
        if self.book.is_crossed() {
            self.stats.crossed += 1;
            self.book.clear();
            return self.refetch();
        }
        let record_id = snapshot.record_id.unwrap_or(image.update_id);
        self.install(image.update_id, record_id, snapshot.ts_event, ts_recv, out)
    }

    /// The snapshot request failed: ask again (the feed applies its backoff and budget).
    pub fn on_snapshot_failed(&mut self) -> SyncAction {
        self.stats.snapshot_failures += 1;
        self.snapshot_requested = false;
        self.request_snapshot()
    }

    /// The connection carrying this instrument closed: the book is invalid until a fresh
    /// image after the reconnect. A request in flight is forgotten (its answer, if it
    /// still comes, is ignored); the first event after the reconnect asks for a new one.
    pub fn on_disconnect(&mut self, ts_recv: u64, out: &mut impl RecordSink) {
        if self.state == SyncState::Synced {
            self.resync(StatusReason::ConnectionLost, 0, ts_recv, out);
        }
        self.buffer.events.clear();
        self.snapshot_requested = false;
        // The reconnect subscribes afresh: the venue sends a new image by itself.
        self.needs_fresh_image = false;
    }

    /// The connection carrying this book lost messages (its per-connection
    /// sequence jumped, [`super::ConnCounter::Sequence`]): whatever was lost may
    /// have been this book's, so it resyncs (`Gap` + `BookResync` when it was
    /// synced) and asks for a fresh image from the rule's source, even if one was
    /// already asked for (the lost message may have been that image).
    pub fn on_connection_gap(&mut self, ts_recv: u64, out: &mut impl RecordSink) -> SyncAction {
        self.stats.gaps += 1;
        if self.state == SyncState::Synced {
            let expected = self.last_update_id.unwrap_or(0);
            self.emit_status(
                StatusKind::Gap,
                StatusReason::SequenceGap,
                LOST_UNKNOWN,
                expected,
                0,
                ts_recv,
                out,
            );
            self.resync(StatusReason::SequenceGap, 0, ts_recv, out);
        } else {
            self.buffer.events.clear();
            self.needs_fresh_image = true;
        }
        self.snapshot_requested = false;
        self.request_snapshot()
    }

    pub fn book(&self) -> &L2Book {
        &self.book
    }

    pub fn state(&self) -> SyncState {
        self.state
    }

    /// The id of the last event applied (or the snapshot's); `None` unless synced.
    pub fn last_update_id(&self) -> Option<u64> {
        self.last_update_id
    }

    pub fn stats(&self) -> &BookSyncStats {
        &self.stats
    }

    pub fn instrument_id(&self) -> u32 {
        self.instrument_id
    }

    pub fn rule(&self) -> &R {
        &self.rule
    }

    /// A snapshot pushed on the stream: installed whenever it comes (it is the
    /// venue's book now), then what was buffered behind it.
    fn on_pushed_snapshot(
        &mut self,
        ev: &BookEvent<'_>,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) -> SyncAction {
        if !ev.bids.iter().chain(ev.asks).all(valid_level) {
            self.stats.malformed_snapshots += 1;
            return self.fail_pushed(StatusReason::MalformedFrame, ev, ts_recv, out);
        }
        self.book
            .replace(ev.bids.iter().copied(), ev.asks.iter().copied());
        if let Some(depth) = self.rule.depth() {
            self.book.truncate(depth);
        }
        if self.book.is_crossed() {
            self.stats.crossed += 1;
            return self.fail_pushed(StatusReason::CrossedBook, ev, ts_recv, out);
        }
        if self.checksum_fails(ev.checksum) {
            return self.fail_pushed(StatusReason::ChecksumMismatch, ev, ts_recv, out);
        }
        self.snapshot_requested = false;
        self.needs_fresh_image = false;
        let events = &mut self.buffer.events;
        while events.front().is_some_and(|e| {
            self.rule
                .covered_by_snapshot(ev.last, &e.as_event(self.instrument_id))
        }) {
            events.pop_front();
            self.stats.buffered_events_skipped += 1;
        }
        self.install(ev.last, ev.record_id(), ev.ts_event, ts_recv, out)
    }

    /// A pushed image that cannot be used: the book resyncs (and is not published).
    fn fail_pushed(
        &mut self,
        reason: StatusReason,
        ev: &BookEvent<'_>,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) -> SyncAction {
        let was_synced = self.state == SyncState::Synced;
        if was_synced {
            self.resync(reason, ev.ts_event, ts_recv, out);
        } else {
            self.book.clear();
            self.buffer.events.clear();
            self.needs_fresh_image = true;
            self.snapshot_requested = false;
        }
        self.request_snapshot()
    }

    /// The book holds the image at `snapshot_id`: publish it (its records carry
    /// `record_id`), then the buffered events on top of it.
    fn install(
        &mut self,
        snapshot_id: u64,
        record_id: u64,
        ts_event: u64,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) -> SyncAction {
        self.state = SyncState::Synced;
        self.last_update_id = Some(snapshot_id);
        self.bridge_from = Some(snapshot_id);
        self.stats.snapshots_applied += 1;
        let stamp = self.stamp(ts_event, ts_recv);
        emit_image(&self.book, &stamp, record_id, out);
        self.published_top = None;
        self.publish_top_if_changed(&stamp, out);

        let mut pending = std::mem::take(&mut self.buffer.events);
        while let Some(event) = pending.pop_front() {
            let action = self.on_live(&event.as_event(self.instrument_id), event.ts_recv, out);
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

    fn on_live(
        &mut self,
        ev: &BookEvent<'_>,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) -> SyncAction {
        let verdict = match (self.bridge_from, self.last_update_id) {
            (Some(snapshot_id), _) => self.rule.bridges(snapshot_id, ev),
            (None, Some(last)) => self.rule.links(last, ev),
            (None, None) => Link::gap_unknown(0),
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
                    ev.ts_event,
                    ts_recv,
                    out,
                );
                self.resync(StatusReason::SequenceGap, ev.ts_event, ts_recv, out);
                // The event after the hole starts the new buffer.
                self.buffer_event(ev, ts_recv);
                self.request_snapshot()
            }
            Link::Continues => {
                self.bridge_from = None;
                self.apply_event(ev, ts_recv, out)
            }
        }
    }

    fn apply_event(
        &mut self,
        ev: &BookEvent<'_>,
        ts_recv: u64,
        out: &mut impl RecordSink,
    ) -> SyncAction {
        self.changes.clear();
        for (side, levels) in [(BookSide::Bid, ev.bids), (BookSide::Ask, ev.asks)] {
            for level in levels {
                if self.book.apply(side, level.price, level.size) {
                    self.changes.push((side, *level));
                }
            }
        }
        self.truncate_to_depth();
        self.last_update_id = Some(ev.last);
        self.stats.events_applied += 1;
        if self.book.is_crossed() {
            self.stats.crossed += 1;
            self.resync(StatusReason::CrossedBook, ev.ts_event, ts_recv, out);
            // The event is genuine stream data: the next snapshot may still need it.
            self.buffer_event(ev, ts_recv);
            return self.request_snapshot();
        }
        if self.checksum_fails(ev.checksum) {
            self.emit_status(
                StatusKind::Gap,
                StatusReason::ChecksumMismatch,
                LOST_UNKNOWN,
                ev.last,
                ev.ts_event,
                ts_recv,
                out,
            );
            self.resync(StatusReason::ChecksumMismatch, ev.ts_event, ts_recv, out);
            return self.request_snapshot();
        }
        let stamp = self.stamp(ev.ts_event, ts_recv);
        let count = self.changes.len();
        for (i, &(side, level)) in self.changes.iter().enumerate() {
            let flags = if i + 1 == count {
                Flags::LAST
            } else {
                Flags::NONE
            };
            out.push_record(&set_delta(&stamp, side, level, ev.record_id(), flags));
        }
        self.publish_top_if_changed(&stamp, out);
        SyncAction::None
    }

    /// Drops the levels beyond the rule's depth, recording each as a delete.
    fn truncate_to_depth(&mut self) {
        let Some(depth) = self.rule.depth() else {
            return;
        };
        if self.book.bid_len() <= depth && self.book.ask_len() <= depth {
            return;
        }
        let zero = tickd_bus::Size::ZERO;
        for level in self.book.bids().skip(depth) {
            self.changes
                .push((BookSide::Bid, Level::new(level.price, zero)));
        }
        for level in self.book.asks().skip(depth) {
            self.changes
                .push((BookSide::Ask, Level::new(level.price, zero)));
        }
        self.book.truncate(depth);
    }

    /// The venue sent a checksum, the rule computes one, and they differ.
    fn checksum_fails(&mut self, venue_checksum: Option<u32>) -> bool {
        let Some(expected) = venue_checksum else {
            return false;
        };
        let failed = self
            .rule
            .checksum(&self.book)
            .is_some_and(|mine| mine != expected);
        self.stats.checksum_failures += u64::from(failed);
        failed
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
        self.needs_fresh_image = true;
    }

    fn buffer_event(&mut self, ev: &BookEvent<'_>, ts_recv: u64) {
        let outcome = self
            .buffer
            .push(&self.rule, ev, ts_recv, self.max_buffered_events);
        self.stats.stale_events_dropped += u64::from(outcome.stale);
        self.stats.gaps += u64::from(outcome.restarted);
        self.stats.buffer_overflows += u64::from(outcome.overflowed);
    }

    fn refetch(&mut self) -> SyncAction {
        self.stats.snapshots_refetched += 1;
        self.request_snapshot()
    }

    /// What to ask the feed for, once per need. REST: a snapshot when there is a
    /// buffered stream to splice it onto (so nothing is asked while disconnected).
    /// Pushed/requested images: a resubscription or request after a resync (the
    /// first image comes with the subscription), or a REST splice when the rule
    /// falls back to one and updates came without an image.
    fn request_snapshot(&mut self) -> SyncAction {
        if self.state != SyncState::AwaitingSnapshot || self.snapshot_requested {
            return SyncAction::None;
        }
        let has_stream = !self.buffer.events.is_empty();
        let action = match self.rule.snapshot_source() {
            SnapshotSource::Rest if has_stream => SyncAction::FetchSnapshot,
            SnapshotSource::Rest => SyncAction::None,
            _ if self.needs_fresh_image => match self.rule.snapshot_source() {
                SnapshotSource::Requested => SyncAction::RequestSnapshot,
                _ => SyncAction::Resubscribe,
            },
            SnapshotSource::Pushed if has_stream && self.rule.rest_splice_fallback() => {
                SyncAction::FetchSnapshot
            }
            _ => SyncAction::None,
        };
        self.snapshot_requested = action != SyncAction::None;
        action
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
fn well_formed(ev: &BookEvent<'_>) -> bool {
    ev.first <= ev.last && ev.bids.iter().chain(ev.asks).all(valid_level)
}

fn valid_level(level: &Level) -> bool {
    level.price != tickd_bus::Price::UNDEF && !level.size.is_negative()
}
