//! The sans-I/O venue core: decode → exactly-once merge → book sync → publisher
//! (whose sequencer numbers the streams). No sockets, clocks or tasks: the live
//! driver ([`super::live`]) feeds it frames from connections and REST answers, the
//! replay driver ([`super::replay`]) feeds it capture lines, and both carry out the
//! [`Step`] it returns. The same frames give the same records either way.

use std::collections::HashMap;

use tickd_bus::record::{StatusKind, StatusReason, LOST_UNKNOWN};
use tickd_bus::{RecordType, Venue};
use tickd_normalizer::engine::{
    BookEvent, BookSnapshot, BookSync, ControlReply, Frame, FrameDecoder, Notice, RestEvent,
    RestKind, SyncAction, TradeIds, VenueEvent,
};
use tickd_normalizer::error::DecodeError;
use tickd_normalizer::SymbolMap;

use super::adapter::{Outbound, VenueAdapter};
use super::gate::{FrameCounters, Gate};
use super::recent::RecentIds;
use crate::merge::{Merge, Role, Span, Verdict};
use crate::publisher::Publisher;
use crate::stats::VenueStats;
use crate::status;

/// What the driver does after a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    None,
    /// An instrument's book asks for something (a REST snapshot, a resubscription).
    Book {
        instrument_id: u32,
        action: SyncAction,
    },
    /// Write this on the same connection (the venue's ping, answered).
    Send(Outbound),
    /// The venue announced it will close this connection: open a new one.
    Rotate,
    /// The frame is about a symbol the decoder does not know (replay may learn it).
    UnknownSymbol,
    /// The venue refused this book's image request for its rate: ask again after a
    /// backoff ([`VenueAdapter::throttled_book_request`]).
    RetryBookRequest {
        instrument_id: u32,
    },
}

/// Which books the core keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Books {
    /// Only those created with [`VenueCore::add_book`] (the configured ones, live).
    Configured,
    /// Any instrument that sends book events (replay).
    OnDemand,
}

pub struct VenueCore<A: VenueAdapter> {
    venue: Venue,
    adapter: A,
    decoder: A::Decoder,
    books: HashMap<u32, BookSync<A::Rule>>,
    which_books: Books,
    max_buffered_events: usize,
    publisher: Publisher,
    trade_ids: TradeIds,
    recent: RecentIds,
    /// Stream keys `(instrument, rtype)` that delivered data in the last frame.
    touched: Vec<(u32, u8)>,
    /// The last frame was the venue's heartbeat.
    heartbeat: bool,
    conn_seq: ConnSeqs,
}

/// Per-connection counters ([`tickd_normalizer::engine::ConnCounter`]) and what
/// a jump in one asks for.
#[derive(Debug, Default)]
struct ConnSeqs {
    conns: HashMap<u32, ConnCounters>,
    /// Which connection last delivered each book, for venues whose frames carry a
    /// per-connection sequence (a jump resyncs that connection's books).
    book_conn: HashMap<u32, u32>,
    /// What the books of a connection that lost messages asked for, for the
    /// driver to carry out ([`VenueCore::take_conn_resyncs`]).
    resyncs: Vec<(u32, SyncAction)>,
}

/// The next value expected of each per-connection counter.
#[derive(Debug, Clone, Copy, Default)]
struct ConnCounters {
    sequence: Option<u64>,
    heartbeat: Option<u64>,
}

impl ConnSeqs {
    /// Checks a frame's per-connection counters. A sequence jump flags a gap for
    /// the connection (its trades and best bid/offer may be lost too) and resyncs
    /// every book it carried, before the frame's own event is handled.
    #[allow(clippy::too_many_arguments)]
    fn check<R: tickd_normalizer::engine::SequenceRule>(
        &mut self,
        venue: Venue,
        conn: u32,
        counters: FrameCounters,
        ts_recv: u64,
        books: &mut HashMap<u32, BookSync<R>>,
        publisher: &mut Publisher,
    ) {
        let state = self.conns.entry(conn).or_default();
        if let Some(heartbeat) = counters.heartbeat {
            if let Some(lost) = counter_jump(state.heartbeat, heartbeat) {
                // Backwards (a restarted counter) counts as one.
                let lost = if lost == LOST_UNKNOWN { 1 } else { lost };
                VenueStats::add(&publisher.stats().counters.heartbeats_missed, lost);
                tracing::warn!(venue = %venue, conn, heartbeat, expected = ?state.heartbeat, "heartbeat counter jumped");
            }
            state.heartbeat = heartbeat.checked_add(1);
        }
        let Some(sequence) = counters.sequence else {
            return;
        };
        let expected = state.sequence;
        // Continuing, repeated, jumped or restarted: the next one follows this one.
        state.sequence = sequence.checked_add(1);
        let Some(lost) = counter_jump(expected, sequence) else {
            return;
        };
        let expected = expected.unwrap_or(0);
        tracing::warn!(venue = %venue, conn, sequence, expected, "connection sequence jumped: resyncing its books");
        publisher.publish(&status::status(
            venue,
            status::NO_INSTRUMENT,
            StatusKind::Gap,
            StatusReason::SequenceGap,
            conn,
            lost,
            expected,
            ts_recv,
        ));
        let mut ids: Vec<u32> = self
            .book_conn
            .iter()
            .filter(|(_, c)| **c == conn)
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(book) = books.get_mut(&id) {
                let action = book.on_connection_gap(ts_recv, publisher);
                if action != SyncAction::None {
                    self.resyncs.push((id, action));
                }
            }
        }
    }
}

/// How a counter's new `value` relates to the `expected` one: `None` when it
/// continues (or repeats the last value: a frame decoded again after replay learned
/// its symbol), else the count lost (`LOST_UNKNOWN` when it went backwards).
fn counter_jump(expected: Option<u64>, value: u64) -> Option<u64> {
    let expected = expected?;
    if value == expected || value.checked_add(1) == Some(expected) {
        None
    } else if value > expected {
        Some(value - expected)
    } else {
        Some(LOST_UNKNOWN)
    }
}

/// What the driver does for a book's answer.
fn book_step(action: SyncAction, ev: &BookEvent<'_>) -> Step {
    match action {
        SyncAction::None => Step::None,
        action => Step::Book {
            instrument_id: ev.instrument_id,
            action,
        },
    }
}

impl<A: VenueAdapter> VenueCore<A> {
    pub fn new(
        adapter: A,
        venue: Venue,
        decoder: A::Decoder,
        publisher: Publisher,
        which_books: Books,
        max_buffered_events: usize,
    ) -> Self {
        Self {
            venue,
            adapter,
            decoder,
            books: HashMap::new(),
            which_books,
            max_buffered_events,
            publisher,
            trade_ids: adapter.trade_ids(venue),
            recent: RecentIds::default(),
            touched: Vec::with_capacity(64),
            heartbeat: false,
            conn_seq: ConnSeqs::default(),
        }
    }

    /// Books of a connection whose sequence jumped, with what each asked for
    /// (normally [`SyncAction::Resubscribe`]), and what the books of a frame's
    /// further events asked for ([`Self::on_frame`]); empty after the call.
    pub fn take_conn_resyncs(&mut self) -> Vec<(u32, SyncAction)> {
        std::mem::take(&mut self.conn_seq.resyncs)
    }

    /// The connection closed (or reconnects): its counters start afresh.
    pub fn forget_conn(&mut self, conn: u32) {
        self.conn_seq.conns.remove(&conn);
    }

    pub fn venue(&self) -> Venue {
        self.venue
    }

    pub fn adapter(&self) -> A {
        self.adapter
    }

    pub fn publisher(&mut self) -> &mut Publisher {
        &mut self.publisher
    }

    pub fn stats(&self) -> &crate::stats::SharedStats {
        self.publisher.stats()
    }

    pub fn decoder_mut(&mut self) -> &mut A::Decoder {
        &mut self.decoder
    }

    pub fn symbols_mut(&mut self) -> &mut SymbolMap {
        self.decoder.symbols_mut()
    }

    /// The registry's facts about an instrument, for its decoder and book rule:
    /// given before [`Self::add_book`].
    pub fn learn_instrument(
        &mut self,
        instrument_id: u32,
        spec: &tickd_bus::instrument::InstrumentSpec,
    ) {
        self.decoder.learn_instrument(instrument_id, spec);
    }

    pub fn add_book(&mut self, instrument_id: u32) {
        let book = self.new_book(instrument_id);
        self.books.insert(instrument_id, book);
    }

    pub fn book(&self, instrument_id: u32) -> Option<&BookSync<A::Rule>> {
        self.books.get(&instrument_id)
    }

    pub fn book_mut(&mut self, instrument_id: u32) -> Option<&mut BookSync<A::Rule>> {
        self.books.get_mut(&instrument_id)
    }

    pub fn books(&self) -> impl Iterator<Item = (&u32, &BookSync<A::Rule>)> {
        self.books.iter()
    }

    /// Stream keys that delivered data in the last frame (for the watchdog).
    pub fn touched(&self) -> &[(u32, u8)] {
        &self.touched
    }

    fn new_book(&self, instrument_id: u32) -> BookSync<A::Rule> {
        BookSync::new(
            self.venue,
            instrument_id,
            self.adapter
                .book_rule(self.venue, instrument_id, &self.decoder),
            self.max_buffered_events,
        )
    }

    /// Frames since the last data frame were only the venue's heartbeats: the
    /// connection is alive though no stream delivered (set by the last frame).
    pub fn heartbeat(&self) -> bool {
        self.heartbeat
    }

    /// One data frame from connection `conn` (whose streams `merge` tracks, in the
    /// connection's `role`), serving the adapter's `market` (`market_of_url`).
    ///
    /// A frame carrying several events (Coinbase: several products' books) is
    /// handled event by event; the first one's step is returned, the book actions
    /// of the others are queued with [`Self::take_conn_resyncs`]'s.
    #[inline]
    pub fn on_frame(
        &mut self,
        conn: u32,
        role: Role,
        market: u8,
        merge: &mut Merge,
        ts_recv: u64,
        frame: Frame<'_>,
    ) -> Result<Step, DecodeError> {
        self.touched.clear();
        self.heartbeat = false;
        self.decoder.set_market(market);
        let step = self
            .on_event(conn, role, merge, ts_recv, Some(frame))?
            .unwrap_or(Step::None);
        // An unknown symbol first: the caller may learn it and decode the frame again.
        if step != Step::UnknownSymbol {
            while let Some(more) = self.on_event(conn, role, merge, ts_recv, None)? {
                if let Step::Book {
                    instrument_id,
                    action,
                } = more
                {
                    self.conn_seq.resyncs.push((instrument_id, action));
                }
            }
        }
        Ok(step)
    }

    /// Decode `frame` (`None`: the last frame's next event) and handle its event;
    /// `None` when the frame has no more.
    #[inline]
    fn on_event(
        &mut self,
        conn: u32,
        role: Role,
        merge: &mut Merge,
        ts_recv: u64,
        frame: Option<Frame<'_>>,
    ) -> Result<Option<Step>, DecodeError> {
        let Self {
            venue,
            adapter,
            decoder,
            books,
            which_books,
            max_buffered_events,
            publisher,
            trade_ids,
            recent,
            touched,
            heartbeat,
            conn_seq,
        } = self;
        let mut gate = Gate {
            venue: *venue,
            out: publisher,
            merge,
            role,
            trade_ids: *trade_ids,
            recent,
            touched,
            counters: FrameCounters::default(),
        };
        let event = match frame {
            Some(frame) => decoder.decode(frame, ts_recv, &mut gate)?,
            None => match decoder.next_event() {
                Some(event) => event,
                None => return Ok(None),
            },
        };
        let counters = gate.counters;
        if counters != FrameCounters::default() {
            // Before the frame's own event: a book it updates may be resynced.
            conn_seq.check(*venue, conn, counters, ts_recv, books, publisher);
        }
        // The connection numbers its messages (the frame's number came with its
        // first event).
        let sequenced = conn_seq
            .conns
            .get(&conn)
            .is_some_and(|c| c.sequence.is_some());
        Ok(Some(match event {
            VenueEvent::Records(_) | VenueEvent::Pong => Step::None,
            VenueEvent::Heartbeat => {
                *heartbeat = true;
                Step::None
            }
            VenueEvent::Book(ev) => {
                let key = (ev.instrument_id, RecordType::BookDelta as u8);
                touched.push(key);
                if sequenced {
                    conn_seq.book_conn.insert(ev.instrument_id, conn);
                }
                if ev.snapshot && role == Role::Primary {
                    // A pushed image restarts the stream's ids.
                    merge.forget(key);
                }
                let span = Span {
                    first: ev.first,
                    last: ev.last,
                    prev: ev.prev,
                };
                let verdict = merge.check(key, span, role);
                // The book sync flags the primary's gaps itself; the secondary passes
                // only exact continuations while the primary is still up.
                let pass = !matches!(
                    (role, verdict),
                    (_, Verdict::Duplicate)
                        | (
                            Role::Secondary,
                            Verdict::Ahead | Verdict::AcceptAfterGap { .. }
                        )
                );
                if !pass {
                    VenueStats::add(&publisher.stats().counters.duplicates, 1);
                    return Ok(Some(Step::None));
                }
                let book = match books.entry(ev.instrument_id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e)
                        if *which_books == Books::OnDemand =>
                    {
                        // The rule reads the decoder, which the event borrows: copy
                        // the event's levels out (once per book) to free it.
                        let (bids, asks) = (ev.bids.to_vec(), ev.asks.to_vec());
                        let ev = BookEvent {
                            instrument_id: ev.instrument_id,
                            snapshot: ev.snapshot,
                            first: ev.first,
                            last: ev.last,
                            prev: ev.prev,
                            checksum: ev.checksum,
                            record_id: ev.record_id,
                            ts_event: ev.ts_event,
                            bids: &bids,
                            asks: &asks,
                        };
                        let rule = adapter.book_rule(*venue, ev.instrument_id, decoder);
                        let book = e.insert(BookSync::new(
                            *venue,
                            ev.instrument_id,
                            rule,
                            *max_buffered_events,
                        ));
                        return Ok(Some(book_step(book.on_event(&ev, ts_recv, publisher), &ev)));
                    }
                    std::collections::hash_map::Entry::Vacant(_) => return Ok(Some(Step::None)),
                };
                book_step(book.on_event(&ev, ts_recv, publisher), &ev)
            }
            VenueEvent::Reply(ControlReply::Rejected { id, code, msg }) => {
                if let Some(instrument_id) = adapter.throttled_book_request(*venue, id, code, &msg)
                {
                    tracing::info!(venue = %venue, conn, instrument_id, "book request throttled by the venue: {msg}");
                    return Ok(Some(Step::RetryBookRequest { instrument_id }));
                }
                VenueStats::add(&publisher.stats().counters.rejected_subscriptions, 1);
                tracing::warn!(venue = %venue, conn, ?id, code, "venue rejected a request: {msg}");
                publisher.publish(&status::subscription_rejected(*venue, conn, code, ts_recv));
                Step::None
            }
            VenueEvent::Reply(_) => Step::None,
            VenueEvent::Ping { reply } => {
                Step::Send(Outbound::Text(String::from_utf8_lossy(reply).into_owned()))
            }
            VenueEvent::Notice(Notice::Reconnect { .. }) => {
                tracing::warn!(venue = %venue, conn, "server announced a shutdown; opening a new connection");
                Step::Rotate
            }
            VenueEvent::Notice(Notice::Info { code, msg }) => {
                tracing::info!(venue = %venue, conn, code, "venue notice: {msg}");
                Step::None
            }
            VenueEvent::UnknownSymbol => Step::UnknownSymbol,
        }))
    }

    /// A REST book snapshot body (the answer to [`SyncAction::FetchSnapshot`]).
    pub fn decode_snapshot(
        &mut self,
        instrument_id: u32,
        body: &[u8],
        ts_recv: u64,
    ) -> Result<BookSnapshot, DecodeError> {
        let kind = RestKind::BookSnapshot { instrument_id };
        match self
            .decoder
            .decode_rest(kind, body, ts_recv, &mut self.publisher)?
        {
            RestEvent::Snapshot(snapshot) => Ok(snapshot),
            _ => Err(DecodeError::UnknownMessage),
        }
    }

    /// Hand a fetched snapshot to its book; `None` when the core has no such book.
    pub fn apply_snapshot(
        &mut self,
        instrument_id: u32,
        snapshot: BookSnapshot,
        ts_recv: u64,
    ) -> Option<SyncAction> {
        let book = self.books.get_mut(&instrument_id)?;
        Some(book.on_snapshot(snapshot, ts_recv, &mut self.publisher))
    }

    /// The snapshot fetch failed (or did not decode).
    pub fn snapshot_failed(&mut self, instrument_id: u32) -> Option<SyncAction> {
        Some(self.books.get_mut(&instrument_id)?.on_snapshot_failed())
    }

    /// A polled REST body whose records go straight to the bus (open interest).
    pub fn on_rest_records(
        &mut self,
        kind: RestKind,
        body: &[u8],
        ts_recv: u64,
    ) -> Result<RestEvent, DecodeError> {
        self.decoder
            .decode_rest(kind, body, ts_recv, &mut self.publisher)
    }

    /// A data frame could not be decoded. Where trade ids cannot reveal a lost trade
    /// (not contiguous: OKX, UUIDs), the loss is flagged venue-wide instead, so it
    /// is never silent; contiguous ids flag it at the next trade.
    pub fn on_undecodable(&mut self, ts: u64) {
        if self.trade_ids != TradeIds::Contiguous {
            self.publisher.publish(&crate::status::gap(
                self.venue,
                crate::status::NO_INSTRUMENT,
                tickd_bus::record::StatusReason::MalformedFrame,
                None,
                0,
                ts,
            ));
        }
    }

    /// The connection carrying these instruments' books closed.
    pub fn on_disconnect(&mut self, instruments: impl Iterator<Item = u32>, ts: u64) {
        for id in instruments {
            if let Some(book) = self.books.get_mut(&id) {
                book.on_disconnect(ts, &mut self.publisher);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_continue_repeat_jump_or_restart() {
        assert_eq!(
            counter_jump(None, 7),
            None,
            "the first value starts the count"
        );
        assert_eq!(counter_jump(Some(8), 8), None);
        assert_eq!(
            counter_jump(Some(8), 7),
            None,
            "the same frame decoded again"
        );
        assert_eq!(counter_jump(Some(8), 11), Some(3));
        assert_eq!(counter_jump(Some(8), 2), Some(LOST_UNKNOWN));
    }
}
