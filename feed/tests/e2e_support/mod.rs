//! Shared by the end-to-end tests: the simulator and real feeds in one process over
//! 127.0.0.1, and a checker that holds the feed's output to the simulator's truth.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tickd_bus::instrument::{InstrumentRegistry, SharedRegistry};
use tickd_bus::record::{BookAction, BookDeltaMsg, BookSide, StatusKind, StatusMsg, TradeMsg};
use tickd_bus::ring::{ring, Consumer, TryRecv};
use tickd_bus::{Channel, Flags, RecordBuf, RecordType, Venue};
use tickd_feed::runtime::{shutdown_channel, ShutdownTrigger};
use tickd_feed::sim::{SimConfig, SimMarketHandle, SimServer, SimSymbol};
use tickd_feed::stats::CounterSnapshot;
use tickd_feed::venue::{spawn_venue, VenueHandle, VenueSettings};

pub mod runs;

pub const RING: usize = 1 << 18;

/// Logs to the test output with `RUST_LOG` (e.g. `RUST_LOG=tickd_feed=info`).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A simulator config with `spot` + `usdm` synthetic symbols at `rate` events/s.
pub fn sim_config(spot: usize, usdm: usize, rate: u32) -> SimConfig {
    SimConfig {
        symbols: SimSymbol::generate(Venue::Binance, spot)
            .into_iter()
            .chain(SimSymbol::generate(Venue::BinanceUsdm, usdm))
            .collect(),
        rate_per_sec: rate,
        ..SimConfig::default()
    }
}

/// Feed settings against the simulator: every symbol of `venue`, tight timings.
pub fn settings(venue: Venue, sim: &SimServer, config: &SimConfig) -> VenueSettings {
    let addr = sim.local_addr();
    let mut s = VenueSettings::new(venue, &format!("ws://{addr}"), &format!("http://{addr}"));
    s.symbols = config
        .symbols
        .iter()
        .filter(|sym| sym.venue == venue)
        .map(|sym| sym.raw.clone())
        .collect();
    s.channels = match venue {
        Venue::BinanceUsdm => vec![
            Channel::Trades,
            Channel::Bbo,
            Channel::Book,
            Channel::Funding,
            Channel::Liquidations,
            Channel::Oi,
        ],
        _ => vec![Channel::Trades, Channel::Bbo, Channel::Book],
    };
    s.book_depth = 100;
    s.snapshot_requests_per_minute = 600;
    s.stale_after = Duration::from_secs(2);
    s.backoff_base = Duration::from_millis(50);
    s.backoff_cap = Duration::from_millis(400);
    s.max_buffered_events = 2_000;
    s.max_overlap = Duration::from_secs(5);
    s.oi_poll = Duration::from_secs(1);
    s
}

/// Every fault the simulator injects on any venue, at rates a few-second run hits:
/// drops, skipped depth events, corrupt frames, refused connections, REST 429s.
pub fn every_fault() -> tickd_feed::sim::FaultConfig {
    tickd_feed::sim::FaultConfig {
        drop_after: Some(Duration::from_millis(2000)),
        skip_depth: Some(tickd_feed::sim::SkipDepth {
            every: 60,
            count: 2,
            symbol: None,
            max_per_connection: 2,
        }),
        malformed_every: Some(200),
        truncated_every: Some(270),
        oversized_every: Some(700),
        oversized_bytes: 64 << 10,
        refuse_every: Some(4),
        rest_error: Some(tickd_feed::sim::RestError {
            status: 429,
            first: 2,
            retry_after_secs: 1,
        }),
        ..tickd_feed::sim::FaultConfig::default()
    }
}

/// One running feed and what reads its ring.
pub struct FeedRun {
    pub venue: Venue,
    pub handle: VenueHandle,
    pub consumer: Consumer,
    pub registry: SharedRegistry,
    pub trigger: ShutdownTrigger,
}

pub fn start_feed(settings: VenueSettings) -> FeedRun {
    let venue = settings.venue;
    let (producer, ring_handle) = ring(RING);
    let consumer = ring_handle.subscribe_oldest();
    let registry = InstrumentRegistry::new().into_shared();
    let (trigger, shutdown) = shutdown_channel();
    let feed = tickd_feed::engine::registry::feed(venue).expect("a registered venue");
    let handle = spawn_venue(feed, settings, producer, registry.clone(), shutdown)
        .expect("venue thread starts");
    FeedRun {
        venue,
        handle,
        consumer,
        registry,
        trigger,
    }
}

impl FeedRun {
    /// Stop the feed; its thread must end cleanly (no panic, no error).
    pub fn stop(self) -> CounterSnapshot {
        self.trigger.trigger();
        let stats = self.handle.stats.clone();
        let venue = self.venue;
        self.handle
            .join()
            .unwrap_or_else(|e| panic!("{venue} feed ended badly: {e}"));
        stats.counters.snapshot()
    }

    /// The registry id of this feed's `raw` symbol.
    pub fn instrument_id(&self, raw: &str) -> u32 {
        self.registry
            .read()
            .expect("registry")
            .by_raw(self.venue, raw)
            .expect("instrument")
            .id
    }

    pub fn counters(&self) -> CounterSnapshot {
        self.handle.stats.counters.snapshot()
    }

    /// Read records into `checker` for `duration` (bounded).
    pub async fn consume(
        &mut self,
        checker: &mut Checker,
        sim: &SimMarketHandle,
        duration: Duration,
    ) {
        let end = tokio::time::Instant::now() + duration;
        loop {
            let now = tokio::time::Instant::now();
            if now >= end {
                break;
            }
            match tokio::time::timeout(end - now, self.consumer.recv()).await {
                Err(_) => break,
                Ok(TryRecv::Record(record)) => checker.on_record(&record, sim, &self.registry),
                Ok(TryRecv::Lagged(n)) => panic!("test consumer lagged by {n} records"),
                Ok(TryRecv::Closed) => panic!("{} feed closed its ring early", self.venue),
                Ok(TryRecv::Empty) => {}
            }
        }
    }
}

/// Start a feed with `venue_settings` and read it into `checker` for `secs` (the
/// simulator's faults on), then with the faults off until every book is in sync (at
/// most 8 s) and half a second more.
pub async fn run_until_synced(
    sim: &SimServer,
    venue_settings: VenueSettings,
    mut checker: Checker,
    secs: u64,
) -> (FeedRun, Checker) {
    let market = sim.market();
    let mut feed = start_feed(venue_settings);
    feed.consume(&mut checker, &market, Duration::from_secs(secs))
        .await;
    market.set_faults(tickd_feed::sim::FaultConfig::default());
    for _ in 0..8 {
        let c = feed.counters();
        if c.books_synced == c.books_total {
            break;
        }
        feed.consume(&mut checker, &market, Duration::from_secs(1))
            .await;
    }
    feed.consume(&mut checker, &market, Duration::from_millis(500))
        .await;
    (feed, checker)
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TradeEvent {
    Trade(u64),
    Gap {
        expected: u64,
        lost: u64,
    },
    /// A venue-wide disconnect or undecodable frame: where trade ids are not
    /// contiguous (OKX), the only flag a loss can have.
    VenueWide,
}

#[derive(Default)]
pub struct TestBook {
    bids: BTreeMap<i128, i128>,
    asks: BTreeMap<i128, i128>,
    /// Between a gap/resync status and the next snapshot image.
    flagged: bool,
    /// Received its first image.
    started: bool,
}

/// Holds the feed's output to the simulator's truth, record by record.
#[derive(Default)]
pub struct Checker {
    pub venue: Option<Venue>,
    pub trades: HashMap<u32, Vec<TradeEvent>>,
    books: HashMap<u32, TestBook>,
    pub book_checks: u64,
    pub book_mismatches: Vec<String>,
    pub book_no_history: u64,
    pub statuses: Vec<StatusMsg>,
    pub sequence_errors: Vec<String>,
    last_sequence: HashMap<(u32, u8), u64>,
    pub records: u64,
    /// Records per record type.
    pub by_type: HashMap<RecordType, u64>,
    /// Trade ids only increase (OKX): a hole after a disconnect is flagged by it.
    pub monotonic: bool,
    /// Books without update ids (Kraken), kept this many levels a side: the truth is
    /// found by the record's `ts_event` (the stamp the simulator recorded).
    pub stamped_depth: Option<usize>,
    /// The market update id of a book record's `update_id`, for venues whose
    /// records carry another id than the one the simulator's market numbers (Bybit
    /// `seq`); `None`: the same.
    pub update_ids: Option<fn(u64) -> Option<u64>>,
    /// Records of these types are kept whole in `kept`, for a test's own checks.
    pub keep: Vec<RecordType>,
    pub kept: Vec<RecordBuf>,
}

impl Checker {
    /// For venues whose trade ids increase but skip (OKX).
    pub fn monotonic_trades() -> Self {
        Self {
            monotonic: true,
            ..Self::default()
        }
    }

    /// For books without update ids, kept `depth` levels a side (Kraken).
    pub fn stamped_books(depth: usize) -> Self {
        Self {
            stamped_depth: Some(depth),
            ..Self::default()
        }
    }

    pub fn on_record(
        &mut self,
        record: &RecordBuf,
        sim: &SimMarketHandle,
        registry: &SharedRegistry,
    ) {
        self.records += 1;
        let header = *record.header();
        let venue = header.venue().expect("valid venue");
        self.venue = Some(venue);
        if let Some(rtype) = header.record_type() {
            *self.by_type.entry(rtype).or_default() += 1;
            if self.keep.contains(&rtype) {
                self.kept.push(*record);
            }
        }
        // The feed's streams: the derived best bid/offer is numbered apart (`top`).
        let key = (
            header.instrument_id,
            tickd_feed::sequencer::stream_slot(&header),
        );
        let last = self.last_sequence.insert(key, header.sequence).unwrap_or(0);
        if header.sequence != last + 1 {
            self.sequence_errors.push(format!(
                "stream {key:?}: sequence {} after {last}",
                header.sequence
            ));
        }
        match header.record_type() {
            Some(RecordType::Trade) => {
                let trade = record.get::<TradeMsg>().expect("trade");
                self.trades
                    .entry(header.instrument_id)
                    .or_default()
                    .push(TradeEvent::Trade(trade.trade_id));
            }
            Some(RecordType::Status) => {
                let status = *record.get::<StatusMsg>().expect("status");
                match status.kind() {
                    Some(StatusKind::Gap) => {
                        self.trades.entry(header.instrument_id).or_default().push(
                            TradeEvent::Gap {
                                expected: status.detail,
                                lost: status.lost,
                            },
                        );
                        self.books.entry(header.instrument_id).or_default().flagged = true;
                    }
                    Some(StatusKind::BookResync) => {
                        self.books.entry(header.instrument_id).or_default().flagged = true;
                    }
                    _ => {}
                }
                let venue_wide = header.instrument_id == tickd_feed::status::NO_INSTRUMENT;
                if self.monotonic
                    && venue_wide
                    && matches!(
                        status.kind(),
                        Some(StatusKind::Disconnected | StatusKind::Gap)
                    )
                {
                    for events in self.trades.values_mut() {
                        events.push(TradeEvent::VenueWide);
                    }
                }
                self.statuses.push(status);
            }
            Some(RecordType::BookDelta) => {
                let delta = *record.get::<BookDeltaMsg>().expect("book delta");
                self.on_delta(&delta, venue, sim, registry);
            }
            _ => {}
        }
    }

    fn on_delta(
        &mut self,
        d: &BookDeltaMsg,
        venue: Venue,
        sim: &SimMarketHandle,
        registry: &SharedRegistry,
    ) {
        let book = self.books.entry(d.hd.instrument_id).or_default();
        if d.hd.flags.is_snapshot() && d.action() == Some(BookAction::Clear) {
            book.bids.clear();
            book.asks.clear();
            book.flagged = false;
            book.started = true;
        }
        if d.action() == Some(BookAction::Set) {
            let side = match d.side() {
                Some(BookSide::Bid) => &mut book.bids,
                Some(BookSide::Ask) => &mut book.asks,
                None => panic!("delta without a side: {d:?}"),
            };
            if d.size.is_zero() {
                side.remove(&d.price.raw());
            } else {
                side.insert(d.price.raw(), d.size.raw());
            }
        }
        if !d.hd.flags.contains(Flags::LAST) || book.flagged || !book.started {
            return;
        }
        let raw = registry
            .read()
            .expect("registry")
            .get(d.hd.instrument_id)
            .map(|i| i.spec.raw_symbol.clone())
            .expect("instrument in the registry");
        let update_id = match self.stamped_depth {
            None => self
                .update_ids
                .map_or(Some(d.update_id), |f| f(d.update_id)),
            Some(_) => sim.book_update_at_stamp(&raw, d.hd.ts_event),
        };
        let Some(mut truth) = update_id.and_then(|u| sim.book_at(venue, &raw, u)) else {
            self.book_no_history += 1;
            return;
        };
        if let Some(depth) = self.stamped_depth {
            truth.bids.truncate(depth);
            truth.asks.truncate(depth);
        }
        self.book_checks += 1;
        let ours_bids: Vec<(i128, i128)> = book.bids.iter().rev().map(|(p, s)| (*p, *s)).collect();
        let ours_asks: Vec<(i128, i128)> = book.asks.iter().map(|(p, s)| (*p, *s)).collect();
        let true_bids: Vec<(i128, i128)> = truth
            .bids
            .iter()
            .map(|l| (l.price.raw(), l.size.raw()))
            .collect();
        let true_asks: Vec<(i128, i128)> = truth
            .asks
            .iter()
            .map(|l| (l.price.raw(), l.size.raw()))
            .collect();
        if ours_bids != true_bids || ours_asks != true_asks {
            if self.book_mismatches.len() < 5 {
                self.book_mismatches.push(format!(
                    "{venue} {raw} at u={}: ours {} bids/{} asks, true {}/{}; first bid ours {:?} true {:?}",
                    d.update_id,
                    ours_bids.len(),
                    ours_asks.len(),
                    true_bids.len(),
                    true_asks.len(),
                    ours_bids.first(),
                    true_bids.first()
                ));
            } else {
                self.book_mismatches.push(String::new());
            }
        }
    }

    pub fn status_count(&self, kind: StatusKind) -> usize {
        self.statuses
            .iter()
            .filter(|s| s.kind() == Some(kind))
            .count()
    }

    pub fn status_count_for(&self, instrument: u32, kind: StatusKind) -> usize {
        self.statuses
            .iter()
            .filter(|s| s.kind() == Some(kind) && s.hd.instrument_id == instrument)
            .count()
    }

    /// Property 1 and 3 for trades: per instrument, ids strictly increasing (each at
    /// most once, in order), every hole preceded by a gap record that covers it, and
    /// every trade the simulator sent (up to the last one received) received or in a
    /// flagged hole. Returns (trades received, trades lost in flagged holes).
    pub fn check_trades(
        &self,
        sim: &SimMarketHandle,
        registry: &SharedRegistry,
        venue: Venue,
    ) -> (u64, u64) {
        let reg = registry.read().expect("registry");
        let mut sent: HashMap<u32, Vec<u64>> = HashMap::new();
        for conn in sim.trades_sent() {
            if conn.venue != Some(venue) {
                continue;
            }
            for (raw, ids) in conn.trades {
                if let Some(i) = reg.by_raw(venue, &raw) {
                    sent.entry(i.id).or_default().extend(ids);
                }
            }
        }
        let (mut received_total, mut lost_total) = (0u64, 0u64);
        for (instrument, events) in &self.trades {
            let mut received: Vec<u64> = Vec::new();
            let mut holes: Vec<(u64, u64)> = Vec::new();
            let mut last: Option<u64> = None;
            let mut flagged_since_last = false;
            for ev in events {
                match *ev {
                    TradeEvent::Gap { expected, lost } => {
                        // Gap records carry no channel: a trade gap names the next trade
                        // id expected; book gaps name book update ids (never `last + 1`).
                        if last.is_some_and(|l| expected == l + 1) {
                            let _ = lost;
                            flagged_since_last = true;
                        }
                    }
                    TradeEvent::VenueWide => flagged_since_last = true,
                    TradeEvent::Trade(id) => {
                        if let Some(l) = last {
                            assert!(id > l, "{venue} #{instrument}: trade {id} after {l}: duplicate or out of order");
                            if id > l + 1 {
                                assert!(
                                    flagged_since_last,
                                    "{venue} #{instrument}: trades {}..{} lost without a gap record",
                                    l + 1,
                                    id - 1
                                );
                                holes.push((l + 1, id - 1));
                                lost_total += id - l - 1;
                            }
                        }
                        last = Some(id);
                        flagged_since_last = false;
                        received.push(id);
                    }
                }
            }
            received_total += received.len() as u64;
            let (Some(&first), Some(&last)) = (received.first(), received.last()) else {
                continue;
            };
            for id in sent.get(instrument).map(Vec::as_slice).unwrap_or(&[]) {
                if *id < first || *id > last {
                    continue;
                }
                let got = received.binary_search(id).is_ok();
                let in_hole = holes.iter().any(|(a, b)| a <= id && id <= b);
                assert!(got || in_hole, "{venue} #{instrument}: trade {id} was sent but neither received nor flagged lost");
            }
        }
        (received_total, lost_total)
    }

    pub fn assert_clean(&self) {
        assert!(
            self.sequence_errors.is_empty(),
            "sequence errors: {:?}",
            &self.sequence_errors[..self.sequence_errors.len().min(5)]
        );
        assert!(
            self.book_mismatches.is_empty(),
            "{} book mismatches out of {} checks, first: {:?}",
            self.book_mismatches.len(),
            self.book_checks,
            &self.book_mismatches[..self.book_mismatches.len().min(5)]
        );
    }
}
