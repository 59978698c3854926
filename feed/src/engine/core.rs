//! The sans-I/O venue core: decode → exactly-once merge → book sync → publisher
//! (whose sequencer numbers the streams). No sockets, clocks or tasks: the live
//! driver ([`super::live`]) feeds it frames from connections and REST answers, the
//! replay driver ([`super::replay`]) feeds it capture lines, and both carry out the
//! [`Step`] it returns. The same frames give the same records either way.

use std::collections::HashMap;

use tickd_bus::{RecordType, Venue};
use tickd_normalizer::engine::{
    BookSnapshot, BookSync, ControlReply, Frame, FrameDecoder, Notice, RestEvent, RestKind,
    SyncAction, TradeIds, VenueEvent,
};
use tickd_normalizer::error::DecodeError;
use tickd_normalizer::SymbolMap;

use super::adapter::{Outbound, VenueAdapter};
use super::gate::Gate;
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
        }
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
            self.adapter.rule(self.venue, instrument_id),
            self.max_buffered_events,
        )
    }

    /// One data frame from connection `conn` (whose streams `merge` tracks, in the
    /// connection's `role`).
    #[inline]
    pub fn on_frame(
        &mut self,
        conn: u32,
        role: Role,
        merge: &mut Merge,
        ts_recv: u64,
        frame: Frame<'_>,
    ) -> Result<Step, DecodeError> {
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
        } = self;
        touched.clear();
        let mut gate = Gate {
            venue: *venue,
            out: publisher,
            merge,
            role,
            trade_ids: *trade_ids,
            recent,
            touched,
        };
        let event = decoder.decode(frame, ts_recv, &mut gate)?;
        Ok(match event {
            VenueEvent::Records(_) | VenueEvent::Pong | VenueEvent::ConnSeq(_) => Step::None,
            VenueEvent::Book(ev) => {
                let key = (ev.instrument_id, RecordType::BookDelta as u8);
                touched.push(key);
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
                    return Ok(Step::None);
                }
                let book = match books.entry(ev.instrument_id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e)
                        if *which_books == Books::OnDemand =>
                    {
                        e.insert(BookSync::new(
                            *venue,
                            ev.instrument_id,
                            adapter.rule(*venue, ev.instrument_id),
                            *max_buffered_events,
                        ))
                    }
                    std::collections::hash_map::Entry::Vacant(_) => return Ok(Step::None),
                };
                match book.on_event(&ev, ts_recv, publisher) {
                    SyncAction::None => Step::None,
                    action => Step::Book {
                        instrument_id: ev.instrument_id,
                        action,
                    },
                }
            }
            VenueEvent::Reply(ControlReply::Rejected { id, code, msg }) => {
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
        })
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
