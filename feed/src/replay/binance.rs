//! One Binance market's replay: the same pieces the live core uses (decoder, gate
//! with the exactly-once merge, book sync, publisher with its sequencer), driven
//! by capture lines instead of sockets and REST tasks.

use std::collections::HashMap;

use tickd_bus::instrument::{InstrumentRegistry, InstrumentSpec};
use tickd_bus::record::{StatusKind, StatusMsg};
use tickd_bus::ring::{ring, Consumer, TryRecv};
use tickd_bus::{RecordBuf, RecordType, Venue};
use tickd_normalizer::binance::{
    decode_exchange_info, decode_open_interest, decode_rest_depth, BinanceBookSync, BinanceDecoder,
    BinanceFrame, BinanceMarket, SyncAction, TimeUnit,
};
use tickd_normalizer::error::DecodeError;
use tickd_normalizer::SymbolMap;

use super::VenueReplayStats;
use crate::binance::gate::Gate;
use crate::capture::{request_target, CaptureLine};
use crate::merge::{Merge, Role, Verdict};
use crate::publisher::Publisher;
use crate::stats::VenueStats;
use crate::status;

/// Records one line may produce before they are drained (a 5000-level snapshot
/// makes about 10 000).
const RING: usize = 1 << 17;

struct ReplayBook {
    sync: BinanceBookSync,
    wants_snapshot: bool,
}

pub(super) struct BinanceReplay {
    venue: Venue,
    market: BinanceMarket,
    max_buffered_events: usize,
    decoder: BinanceDecoder,
    merge: Merge,
    books: HashMap<u32, ReplayBook>,
    /// Instruments listed by the captured exchangeInfo, by raw symbol.
    listed: HashMap<String, InstrumentSpec>,
    publisher: Publisher,
    consumer: Consumer,
    time_unit_known: bool,
    touched: Vec<(u32, u8)>,
}

impl BinanceReplay {
    pub fn new(venue: Venue, market: BinanceMarket, max_buffered_events: usize) -> Self {
        let (producer, handle) = ring(RING);
        let consumer = handle.subscribe();
        Self {
            venue,
            market,
            max_buffered_events,
            decoder: BinanceDecoder::new(market, SymbolMap::new()),
            merge: Merge::new(),
            books: HashMap::new(),
            listed: HashMap::new(),
            publisher: Publisher::new(producer, VenueStats::new(venue)),
            consumer,
            time_unit_known: false,
            touched: Vec::new(),
        }
    }

    /// The id of `raw`: known to the decoder, the registry, or registered now from
    /// the captured instrument list.
    fn resolve(&mut self, raw: &str, registry: &mut InstrumentRegistry) -> Option<u32> {
        if let Some(id) = self.decoder.symbols_mut().get(raw) {
            return Some(id);
        }
        let id = match registry.by_raw(self.venue, raw) {
            Some(instrument) => instrument.id,
            None => registry.upsert(self.listed.get(raw)?.clone()).ok()?,
        };
        self.decoder.symbols_mut().insert(raw, id);
        Some(id)
    }

    pub fn on_ws(
        &mut self,
        line: &CaptureLine,
        registry: &mut InstrumentRegistry,
        stats: &mut VenueReplayStats,
    ) {
        stats.ws_frames += 1;
        if !self.time_unit_known {
            // The live feed asks for microseconds in the URL (spot only).
            self.time_unit_known = true;
            if line.url.contains("timeUnit=MICROSECOND") && self.market == BinanceMarket::Spot {
                self.decoder.set_time_unit(TimeUnit::Micros);
            }
        }
        match self.decode(line) {
            Ok(true) => {}
            Ok(false) => {
                // The first frame of a symbol: register it from the captured
                // instrument list, then decode again.
                let learned = peek_symbol(&line.data)
                    .and_then(|symbol| self.resolve(&symbol, registry))
                    .is_some();
                if !learned || !matches!(self.decode(line), Ok(true)) {
                    stats.unknown_symbols += 1;
                }
            }
            Err(_) => stats.decode_errors += 1,
        }
    }

    /// Mirrors the live core's frame handling for the primary connection; false when
    /// the frame's symbol is not known yet.
    fn decode(&mut self, line: &CaptureLine) -> Result<bool, DecodeError> {
        let Self {
            venue,
            market,
            max_buffered_events,
            decoder,
            merge,
            books,
            publisher,
            touched,
            ..
        } = self;
        let ts_recv = line.ts_recv;
        touched.clear();
        let mut gate = Gate {
            venue: *venue,
            out: publisher,
            merge,
            role: Role::Primary,
            touched,
        };
        match decoder.decode(line.data.as_bytes(), ts_recv, &mut gate)? {
            BinanceFrame::Depth(diff) => {
                let key = (diff.instrument_id, RecordType::BookDelta as u8);
                let span = crate::binance::depth_span(&diff, *market);
                if merge.check(key, span, Role::Primary) == Verdict::Duplicate {
                    VenueStats::add(&publisher.stats().counters.duplicates, 1);
                    return Ok(true);
                }
                let book = books
                    .entry(diff.instrument_id)
                    .or_insert_with(|| ReplayBook {
                        sync: BinanceBookSync::new(
                            *venue,
                            diff.instrument_id,
                            *market,
                            *max_buffered_events,
                        ),
                        wants_snapshot: false,
                    });
                if book.sync.on_diff(&diff, ts_recv, publisher) == SyncAction::FetchSnapshot {
                    book.wants_snapshot = true;
                }
            }
            BinanceFrame::ControlError { code, .. } => {
                let conn = u32::try_from(line.conn).unwrap_or(u32::MAX);
                publisher.publish(&status::subscription_rejected(*venue, conn, code, ts_recv));
            }
            BinanceFrame::UnknownSymbol => return Ok(false),
            _ => {}
        }
        Ok(true)
    }

    pub fn on_rest(
        &mut self,
        line: &CaptureLine,
        registry: &mut InstrumentRegistry,
        stats: &mut VenueReplayStats,
    ) {
        stats.rest_bodies += 1;
        let body = line.data.as_bytes();
        let (path, symbol) = request_target(&line.url);
        if path.ends_with("/exchangeInfo") {
            match decode_exchange_info(self.market, body) {
                Ok(specs) => {
                    for spec in specs {
                        self.listed.insert(spec.raw_symbol.clone(), spec);
                    }
                }
                Err(_) => stats.rest_errors += 1,
            }
            return;
        }
        let is_depth = path.ends_with("/depth");
        if !is_depth && !path.ends_with("/openInterest") {
            stats.rest_ignored += 1;
            return;
        }
        let Some(id) = self.resolve(&symbol, registry) else {
            stats.unknown_symbols += 1;
            return;
        };
        if !is_depth {
            match decode_open_interest(body, self.decoder.symbols_mut(), line.ts_recv) {
                Ok(record) => self.publisher.publish(&record),
                Err(_) => stats.rest_errors += 1,
            }
            return;
        }
        let Some(book) = self.books.get_mut(&id).filter(|b| b.wants_snapshot) else {
            stats.snapshots_unrequested += 1;
            return;
        };
        book.wants_snapshot = false;
        let action = match decode_rest_depth(body) {
            Ok(snapshot) => {
                stats.snapshots_applied += 1;
                book.sync
                    .on_snapshot(snapshot, line.ts_recv, &mut self.publisher)
            }
            Err(_) => {
                stats.rest_errors += 1;
                book.sync.on_snapshot_failed()
            }
        };
        book.wants_snapshot = action == SyncAction::FetchSnapshot;
    }

    /// Hand what the line produced to `out`, counting it.
    pub fn drain(
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
                    tracing::error!(venue = %self.venue, lost, "replay ring overrun");
                    stats.decode_errors += lost;
                    continue;
                }
                _ => break,
            };
            count(&record, registry, stats);
            out(&record);
        }
    }

    pub fn final_counts(&self, stats: &mut VenueReplayStats) {
        stats.duplicates = self.publisher.stats().counters.snapshot().duplicates;
    }
}

/// The raw symbol of a frame: the combined stream's name before `@`, or the
/// event's `"s"` (only on a symbol's first frame, so a full parse is fine).
fn peek_symbol(frame: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Event {
        s: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Peek {
        stream: Option<String>,
        s: Option<String>,
        data: Option<Event>,
    }
    let peek: Peek = serde_json::from_str(frame).ok()?;
    let from_stream = peek
        .stream
        .and_then(|s| s.split('@').next().map(str::to_string));
    from_stream
        .or(peek.s)
        .or(peek.data.and_then(|d| d.s))
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_uppercase())
}

fn count(record: &RecordBuf, registry: &InstrumentRegistry, stats: &mut VenueReplayStats) {
    let header = record.header();
    let name = RecordType::from_u8(header.rtype).map_or("unknown", RecordType::as_str);
    *stats.records.entry(name.to_string()).or_default() += 1;
    if header.rtype == RecordType::Trade as u8 {
        let symbol = registry
            .get(header.instrument_id)
            .map_or("?", |i| i.spec.raw_symbol.as_str());
        *stats
            .trades_by_symbol
            .entry(symbol.to_string())
            .or_default() += 1;
    }
    if let Some(status) = record.get::<StatusMsg>() {
        match status.kind() {
            Some(StatusKind::Gap) => stats.gaps += 1,
            Some(StatusKind::BookResync) => stats.resyncs += 1,
            _ => {}
        }
    }
}
