//! The replay driver: capture lines into the same [`VenueCore`] the live feed runs.
//!
//! Every connection counts as the primary (a capture does not say which one was
//! during a rotation; the merge still drops the duplicates). REST snapshots are
//! handed to a book only when it asked for one, as live.

use std::collections::{HashMap, HashSet};

use tickd_bus::instrument::{InstrumentRegistry, InstrumentSpec};
use tickd_bus::ring::{ring, Consumer, TryRecv};
use tickd_bus::{RecordBuf, RecordType, Venue};
use tickd_normalizer::engine::{Frame, RestEvent, RestKind, SyncAction, SyncState};
use tickd_normalizer::SymbolMap;

use super::adapter::{RestTarget, VenueAdapter};
use super::core::{Books, Step, VenueCore};
use crate::capture::CaptureLine;
use crate::merge::{Merge, Role};
use crate::publisher::Publisher;
use crate::replay::{count, VenueReplay, VenueReplayStats};
use crate::stats::VenueStats;
use crate::venue::VenueSettings;

/// Records one line may produce before they are drained (a 5000-level snapshot
/// makes about 10 000).
const RING: usize = 1 << 17;

pub struct AdapterReplay<A: VenueAdapter> {
    core: VenueCore<A>,
    merge: Merge,
    /// Instruments listed by the captured instrument lists, by raw symbol.
    listed: HashMap<String, InstrumentSpec>,
    /// Books waiting for a REST snapshot.
    wants_snapshot: HashSet<u32>,
    consumer: Consumer,
    url_seen: bool,
    /// The books each connection carried (by the book events it delivered).
    books_by_conn: HashMap<u32, HashSet<u32>>,
    /// Each connection's market (`market_of_url` of its URL).
    market_by_conn: HashMap<u32, u8>,
}

impl<A: VenueAdapter> AdapterReplay<A> {
    pub fn new(adapter: A, venue: Venue, max_buffered_events: usize) -> Self {
        let (producer, handle) = ring(RING);
        let consumer = handle.subscribe();
        let settings = VenueSettings::new(venue, "", "");
        let decoder = adapter.decoder(venue, SymbolMap::new(), &settings);
        let publisher = Publisher::new(producer, VenueStats::new(venue));
        Self {
            core: VenueCore::new(
                adapter,
                venue,
                decoder,
                publisher,
                Books::OnDemand,
                max_buffered_events,
            ),
            merge: Merge::new(),
            listed: HashMap::new(),
            wants_snapshot: HashSet::new(),
            consumer,
            url_seen: false,
            books_by_conn: HashMap::new(),
            market_by_conn: HashMap::new(),
        }
    }

    /// The id of `raw`: known to the decoder, the registry, or registered now from
    /// the captured instrument list.
    fn resolve(&mut self, raw: &str, registry: &mut InstrumentRegistry) -> Option<u32> {
        if let Some(id) = self.core.symbols_mut().get(raw) {
            return Some(id);
        }
        let venue = self.core.venue();
        let (id, spec) = match registry.by_raw(venue, raw) {
            Some(instrument) => (instrument.id, instrument.spec.clone()),
            None => {
                let spec = self.listed.get(raw)?.clone();
                (registry.upsert(spec.clone()).ok()?, spec)
            }
        };
        self.core.symbols_mut().insert(raw, id);
        self.core.learn_instrument(id, &spec);
        Some(id)
    }

    /// False when the frame's symbol is not known yet.
    fn decode(
        &mut self,
        conn: u32,
        market: u8,
        ts_recv: u64,
        frame: Frame<'_>,
    ) -> Result<bool, ()> {
        let step = self
            .core
            .on_frame(conn, Role::Primary, market, &mut self.merge, ts_recv, frame);
        // The resubscriptions a connection gap asked for were the live feed's to
        // send: the capture holds the images they brought.
        let _ = self.core.take_conn_resyncs();
        let book_delta = RecordType::BookDelta as u8;
        for &(instrument, rtype) in self.core.touched() {
            if rtype == book_delta {
                self.books_by_conn
                    .entry(conn)
                    .or_default()
                    .insert(instrument);
            }
        }
        match step {
            Ok(Step::UnknownSymbol) => Ok(false),
            Ok(Step::Book {
                instrument_id,
                action: SyncAction::FetchSnapshot,
            }) => {
                self.wants_snapshot.insert(instrument_id);
                Ok(true)
            }
            // Resubscriptions, pings and rotations were the live feed's to do: the
            // capture holds what came of them.
            Ok(_) => Ok(true),
            Err(_) => Err(()),
        }
    }
}

impl<A: VenueAdapter> VenueReplay for AdapterReplay<A> {
    fn on_ws(
        &mut self,
        line: &CaptureLine,
        frame: &[u8],
        binary: bool,
        registry: &mut InstrumentRegistry,
        stats: &mut VenueReplayStats,
    ) {
        stats.ws_frames += 1;
        if !self.url_seen {
            // The live feed's URL says how it decodes (Binance spot µs).
            self.url_seen = true;
            let adapter = self.core.adapter();
            adapter.configure_from_url(self.core.decoder_mut(), &line.url);
        }
        let frame = if binary {
            Frame::Binary(frame)
        } else {
            Frame::Text(frame)
        };
        let conn = u32::try_from(line.conn).unwrap_or(u32::MAX);
        let (adapter, venue) = (self.core.adapter(), self.core.venue());
        let market = *self
            .market_by_conn
            .entry(conn)
            .or_insert_with(|| adapter.market_of_url(venue, &line.url));
        match self.decode(conn, market, line.ts_recv, frame) {
            Ok(true) => {}
            Ok(false) => {
                // The first frame of a symbol: register it from the captured
                // instrument list, then decode again.
                let learned = self
                    .core
                    .adapter()
                    .peek_symbol(market, frame.bytes())
                    .and_then(|symbol| self.resolve(&symbol, registry))
                    .is_some();
                if !learned || !matches!(self.decode(conn, market, line.ts_recv, frame), Ok(true)) {
                    stats.unknown_symbols += 1;
                }
            }
            Err(()) => {
                stats.decode_errors += 1;
                self.core.on_undecodable(line.ts_recv);
            }
        }
    }

    fn on_rest(
        &mut self,
        line: &CaptureLine,
        body: &[u8],
        registry: &mut InstrumentRegistry,
        stats: &mut VenueReplayStats,
    ) {
        stats.rest_bodies += 1;
        let venue = self.core.venue();
        let target = self.core.adapter().classify_rest(venue, &line.url);
        let (symbol, is_snapshot) = match target {
            Some(RestTarget::Instruments) => {
                match self
                    .core
                    .on_rest_records(RestKind::Instruments, body, line.ts_recv)
                {
                    Ok(RestEvent::Instruments(specs)) => {
                        for spec in specs {
                            self.listed.insert(spec.raw_symbol.clone(), spec);
                        }
                    }
                    _ => stats.rest_errors += 1,
                }
                return;
            }
            Some(RestTarget::BookSnapshot(symbol)) => (symbol, true),
            Some(RestTarget::OpenInterest(symbol)) => (symbol, false),
            None => {
                stats.rest_ignored += 1;
                return;
            }
        };
        let Some(id) = self.resolve(&symbol, registry) else {
            stats.unknown_symbols += 1;
            return;
        };
        if !is_snapshot {
            if self
                .core
                .on_rest_records(RestKind::OpenInterest, body, line.ts_recv)
                .is_err()
            {
                stats.rest_errors += 1;
            }
            return;
        }
        if self.core.book(id).is_none() || !self.wants_snapshot.remove(&id) {
            stats.snapshots_unrequested += 1;
            return;
        }
        let action = match self.core.decode_snapshot(id, body, line.ts_recv) {
            Ok(snapshot) => {
                stats.snapshots_applied += 1;
                self.core.apply_snapshot(id, snapshot, line.ts_recv)
            }
            Err(_) => {
                stats.rest_errors += 1;
                self.core.snapshot_failed(id)
            }
        };
        if action == Some(SyncAction::FetchSnapshot) {
            self.wants_snapshot.insert(id);
        }
    }

    fn publisher(&mut self) -> &mut Publisher {
        self.core.publisher()
    }

    fn on_disconnect(&mut self, conn: u32, ts: u64) {
        self.core.forget_conn(conn);
        if let Some(books) = self.books_by_conn.remove(&conn) {
            let mut books: Vec<u32> = books.into_iter().collect();
            books.sort_unstable();
            self.core.on_disconnect(books.into_iter(), ts);
        }
    }

    fn drain(
        &mut self,
        registry: &InstrumentRegistry,
        stats: &mut VenueReplayStats,
        out: &mut dyn FnMut(&RecordBuf),
    ) {
        loop {
            let record = match self.consumer.try_recv() {
                TryRecv::Record(record) => record,
                TryRecv::Lagged(lost) => {
                    // Cannot happen below RING records per line; never silent if it does.
                    tracing::error!(venue = %self.core.venue(), lost, "replay ring overrun");
                    stats.decode_errors += lost;
                    continue;
                }
                _ => break,
            };
            count(&record, registry, stats);
            out(&record);
        }
    }

    fn final_counts(&self, registry: &InstrumentRegistry, stats: &mut VenueReplayStats) {
        stats.duplicates = self.core.stats().counters.snapshot().duplicates;
        for (id, book) in self.core.books() {
            if book.state() != SyncState::Synced && book.stats().snapshots_applied == 0 {
                let symbol = registry
                    .get(*id)
                    .map_or_else(|| id.to_string(), |i| i.spec.raw_symbol.clone());
                stats.books_never_synced.push(symbol);
            }
        }
        stats.books_never_synced.sort();
    }
}
