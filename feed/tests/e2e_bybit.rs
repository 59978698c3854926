//! Bybit end to end over loopback: the real Bybit feed against the simulator's Bybit
//! protocol (a spot pair and a linear perpetual that share the venue symbol
//! `BTCUSDT`, each on its category URL, and an inverse perpetual), held to the
//! simulator's truth by the checker: every trade once and in order, the book equal
//! to the true book after every event. Baseline, every fault, gap isolation, the
//! `u == 1` restart image, the derivative channels, a dated future with `kline`
//! venue bars, the keep-alive cut-off, and spot `orderbook.full` books spliced onto
//! REST `full_orderbook` images (baseline, gap isolation, REST 429, images older
//! than the stream).

mod e2e_support;

use std::collections::HashMap;
use std::time::Duration;

use e2e_support::runs::{assert_cut_without_pings, assert_fault_run};
use e2e_support::*;
use tickd_bus::decimal::{Notional, NOTIONAL_SCALE};
use tickd_bus::instrument::{Date, InstrumentKind};
use tickd_bus::record::{BarMsg, StatusKind, TradeMsg};
use tickd_bus::{Channel, Flags, RecordType, Size, Venue};
use tickd_feed::bybit::BybitSim;
use tickd_feed::sim::{FaultConfig, RestError, SimConfig, SimServer, SimSymbol, SkipDepth};
use tickd_feed::venue::VenueSettings;

const SYMBOLS: [&str; 3] = ["spot/BTCUSDT", "linear/BTCUSDT", "inverse/ETHUSD"];

/// `orderbook.full` is spot only.
const FULL_BOOK_SYMBOLS: [&str; 2] = ["spot/BTCUSDT", "spot/ETHUSDT"];

fn bybit_config(rate: u32, faults: FaultConfig) -> SimConfig {
    config_of(&SYMBOLS, rate, faults)
}

fn config_of(symbols: &[&str], rate: u32, faults: FaultConfig) -> SimConfig {
    SimConfig {
        symbols: symbols
            .iter()
            .enumerate()
            .map(|(i, raw)| SimSymbol::from_raw(Venue::Bybit, raw, i).expect("bybit symbol"))
            .collect(),
        rate_per_sec: rate,
        faults,
        ..SimConfig::default()
    }
}

/// Trade ids are opaque (UUIDs): a loss is flagged only by a disconnect. Book
/// records carry Bybit's `seq`: the simulator's market id is found from it.
fn checker() -> Checker {
    let mut checker = Checker::monotonic_trades();
    checker.update_ids = Some(BybitSim::market_id_of_seq);
    checker
}

/// Run one Bybit feed against a simulator with `faults` (`run_until_synced`).
async fn run(faults: FaultConfig, secs: u64) -> (SimServer, FeedRun, Checker) {
    run_with(faults, secs, |_| {}).await
}

async fn run_with(
    faults: FaultConfig,
    secs: u64,
    tune: impl FnOnce(&mut VenueSettings),
) -> (SimServer, FeedRun, Checker) {
    init_logs();
    let config = bybit_config(400, faults);
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let mut venue_settings = settings(Venue::Bybit, &sim, &config);
    tune(&mut venue_settings);
    let (feed, checker) = run_until_synced(&sim, venue_settings, checker(), secs).await;
    (sim, feed, checker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_baseline_every_trade_once_and_books_match() {
    let (sim, feed, checker) = run(FaultConfig::default(), 5).await;
    let market = sim.market();
    let (received, lost) = checker.check_trades(&market, &feed.registry, Venue::Bybit);
    checker.assert_clean();
    assert_ne!(
        feed.instrument_id("spot/BTCUSDT"),
        feed.instrument_id("linear/BTCUSDT")
    );
    let stats = sim.stats();
    let counters = feed.stop();
    eprintln!(
        "bybit: {received} trades, {} book checks, {} records, {counters:?}",
        checker.book_checks, checker.records
    );
    assert!(received > 50, "only {received} trades");
    assert_eq!(lost, 0);
    assert!(checker.book_checks > 100, "{} checks", checker.book_checks);
    assert_eq!(checker.status_count(StatusKind::Gap), 0);
    assert_eq!(checker.status_count(StatusKind::BookResync), 0);
    assert_eq!(counters.decode_errors, 0);
    assert_eq!(counters.reconnects, 0);
    assert_eq!((counters.books_total, counters.books_synced), (3, 3));
    assert!(checker.by_type.get(&RecordType::Bbo).copied().unwrap_or(0) > 50);
    assert_eq!(
        stats.connections_accepted, 3,
        "one connection per category URL"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_every_fault_keeps_the_properties() {
    let faults = FaultConfig {
        restart_snapshot_every: Some(150),
        ..every_fault()
    };
    let (sim, feed, checker) = run(faults, 6).await;
    let run = assert_fault_run(Venue::Bybit, sim, feed, &checker, 50, StatusKind::Gap).await;
    assert!(run.stats.faults.restart_snapshots >= 1);
}

/// A `u == 1` image replaces the book (a Bybit restart), it is not a gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_restart_image_replaces_the_book_without_a_gap() {
    let faults = FaultConfig {
        restart_snapshot_every: Some(300),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run(faults, 5).await;
    checker.assert_clean();
    let restarts = sim.stats().faults.restart_snapshots;
    let counters = feed.stop();
    eprintln!(
        "bybit restarts: {restarts} images, {} checks, {counters:?}",
        checker.book_checks
    );
    assert!(restarts >= 1, "{restarts} restart images");
    assert_eq!(
        checker.status_count(StatusKind::Gap),
        0,
        "u == 1 is a new image, not a gap"
    );
    assert_eq!(counters.reconnects, 0);
    assert_eq!(counters.books_synced, 3);
    assert!(checker.book_checks > 100);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_gap_resyncs_only_the_gapped_book() {
    let faults = FaultConfig {
        // Far enough apart that each lands on a synced book: a gap injected while the
        // feed already rebuilds that book is invisible by design.
        skip_depth: Some(SkipDepth {
            every: 120,
            count: 2,
            symbol: Some("linear/BTCUSDT".into()),
            max_per_connection: 3,
        }),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run(faults, 6).await;
    checker.assert_clean();
    let gapped = feed.instrument_id("linear/BTCUSDT");
    let injected = sim.stats().gaps.len();
    let flagged = checker.status_count_for(gapped, StatusKind::Gap);
    eprintln!(
        "bybit gaps: {injected} injected, {flagged} gap and {} resync records",
        checker.status_count_for(gapped, StatusKind::BookResync)
    );
    assert!(injected >= 1, "{injected} gaps injected");
    assert!((1..=injected).contains(&flagged), "{flagged} of {injected}");
    assert!(checker.status_count_for(gapped, StatusKind::BookResync) >= flagged);
    for raw in ["spot/BTCUSDT", "inverse/ETHUSD"] {
        let id = feed.instrument_id(raw);
        assert_eq!(checker.status_count_for(id, StatusKind::Gap), 0, "{raw}");
        assert_eq!(
            checker.status_count_for(id, StatusKind::BookResync),
            0,
            "{raw}"
        );
    }
    let counters = feed.stop();
    assert_eq!(
        counters.reconnects, 0,
        "a gap resubscribes, it does not reconnect"
    );
    assert_eq!(counters.books_synced, 3);
    sim.shutdown().await;
}

/// Funding, open interest (merged tickers) and liquidations on the perpetuals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_derivative_channels_from_tickers_and_all_liquidation() {
    let (sim, feed, checker) = run_with(FaultConfig::default(), 4, |s| {
        s.channels = vec![
            Channel::Trades,
            Channel::Book,
            Channel::Funding,
            Channel::Oi,
            Channel::Liquidations,
        ];
    })
    .await;
    checker.assert_clean();
    let count = |t: RecordType| checker.by_type.get(&t).copied().unwrap_or(0);
    eprintln!("bybit derivative records: {:?}", checker.by_type);
    // Two perpetuals, a mark price a second each.
    assert!(count(RecordType::MarkFunding) >= 4, "{:?}", checker.by_type);
    assert!(
        count(RecordType::OpenInterest) >= 2,
        "{:?}",
        checker.by_type
    );
    assert!(count(RecordType::Liquidation) >= 1, "{:?}", checker.by_type);
    let counters = feed.stop();
    assert_eq!(counters.decode_errors, 0);
    assert_eq!(counters.books_synced, 3);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_feed_that_stops_pinging_is_cut_and_reconnects_flagged() {
    // The feed pings every 20 s, far beyond the 800 ms cut-off.
    assert_cut_without_pings(Venue::Bybit, bybit_config(0, FaultConfig::default())).await;
}

/// A dated future listed by instruments-info (`BTCUSDT-25DEC26` → `BTC-USDT-20261225`)
/// beside a linear and an inverse perpetual, with 1-minute `kline` candles that the
/// simulator closes every 400 ms: every trade once, books true after every event,
/// and every confirmed candle one venue bar whose open, high, low, close, volume
/// and notional are those of the trades of its period (inverse: the USD traded).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_dated_future_and_kline_venue_bars() {
    init_logs();
    const PERIOD_MS: u64 = 400;
    let config = SimConfig {
        symbols: ["linear/BTCUSDT-25DEC26", "linear/ETHUSDT", "inverse/BTCUSD"]
            .iter()
            .enumerate()
            .map(|(i, raw)| SimSymbol::from_raw(Venue::Bybit, raw, i).expect("bybit symbol"))
            .collect(),
        rate_per_sec: 400,
        candle_period: Some(Duration::from_millis(PERIOD_MS)),
        ..SimConfig::default()
    };
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let mut s = settings(Venue::Bybit, &sim, &config);
    s.channels = vec![Channel::Trades, Channel::Book];
    s.venue_bars_minutes = Some(1);
    let mut checker = checker();
    checker.keep = vec![RecordType::Trade, RecordType::Bar];
    let (feed, checker) = run_until_synced(&sim, s, checker, 4).await;
    checker.assert_clean();
    let (received, lost) = checker.check_trades(&sim.market(), &feed.registry, Venue::Bybit);
    assert_eq!(lost, 0);
    assert!(received > 50, "only {received} trades");
    let future = {
        let registry = feed.registry.read().expect("registry");
        let future = registry
            .by_raw(Venue::Bybit, "linear/BTCUSDT-25DEC26")
            .expect("the future is listed");
        assert_eq!(future.symbol, "BTC-USDT-20261225");
        assert_eq!(
            future.spec.kind,
            InstrumentKind::Future {
                expiry: Date::new(2026, 12, 25).expect("date")
            }
        );
        future.id
    };
    let inverse = feed.instrument_id("inverse/BTCUSD");

    let mut trades: HashMap<u32, Vec<TradeMsg>> = HashMap::new();
    for t in checker.kept.iter().filter_map(|r| r.get::<TradeMsg>()) {
        trades.entry(t.hd.instrument_id).or_default().push(*t);
    }
    let mut bars: HashMap<u32, usize> = HashMap::new();
    for bar in checker.kept.iter().filter_map(|r| r.get::<BarMsg>()) {
        let id = bar.hd.instrument_id;
        assert!(bar.hd.flags.contains(Flags::VENUE_BAR));
        assert_eq!(bar.interval_s, 60);
        // Stamped at the close: the start is a minute before.
        let start = bar.hd.ts_event - 60_000_000_000;
        let end = start + PERIOD_MS * 1_000_000;
        let period: Vec<&TradeMsg> = trades[&id]
            .iter()
            .filter(|t| (start..end).contains(&t.hd.ts_event))
            .collect();
        assert!(!period.is_empty(), "a candle without trades: {bar:?}");
        let volume = period
            .iter()
            .fold(Size::ZERO, |v, t| v.checked_add(t.size).expect("volume"));
        let notional = if id == inverse {
            Notional::from_i128_scaled(volume.raw(), NOTIONAL_SCALE - Size::SCALE)
        } else {
            period.iter().fold(Notional::ZERO, |n, t| {
                n.saturating_add(Notional::product(t.price, t.size))
            })
        };
        let prices = period.iter().map(|t| t.price);
        assert_eq!(
            (
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                bar.volume,
                bar.notional()
            ),
            (
                period[0].price,
                prices.clone().max().expect("trades"),
                prices.min().expect("trades"),
                period[period.len() - 1].price,
                volume,
                notional,
            ),
            "instrument {id}, candle at {start}"
        );
        *bars.entry(id).or_default() += 1;
    }
    eprintln!("bybit klines: {bars:?} bars, {received} trades");
    assert_eq!(bars.len(), 3, "every instrument has bars: {bars:?}");
    assert!(bars.values().all(|n| *n >= 3), "{bars:?}");
    assert!(bars[&future] >= 3);
    let counters = feed.stop();
    assert_eq!(counters.decode_errors, 0);
    assert_eq!(counters.books_synced, 3);
    sim.shutdown().await;
}

/// A subscribe Bybit refuses (`success: false` with a `ret_msg`: here too many topics
/// on one connection) becomes a `SubscriptionRejected` status record and is counted;
/// the connection stays up and the topics that were taken flow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_refused_subscription_is_a_status_record() {
    init_logs();
    let mut config = bybit_config(200, FaultConfig::default());
    // The simulator takes 2 topics a connection; the feed asks for 3 (trades, bbo,
    // book) on each category's connection.
    config.rules_mut(Venue::Bybit).max_streams = 2;
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let market = sim.market();
    let mut feed = start_feed(settings(Venue::Bybit, &sim, &config));
    let mut checker = checker();
    feed.consume(&mut checker, &market, Duration::from_secs(3))
        .await;
    let counters = feed.stop();
    let rejected = checker.status_count(StatusKind::SubscriptionRejected);
    eprintln!("bybit refused: {rejected} status records, {counters:?}");
    assert_eq!(rejected, 3, "one refused request per category connection");
    assert_eq!(counters.rejected_subscriptions, 3);
    assert_eq!(counters.reconnects, 0);
    assert!(
        checker
            .by_type
            .get(&RecordType::Trade)
            .copied()
            .unwrap_or(0)
            > 0
    );
    checker.assert_clean();
    sim.shutdown().await;
}

/// Spot books from `orderbook.full` (`full_book`) against a simulator with `faults`.
async fn run_full_book(faults: FaultConfig, secs: u64) -> (SimServer, FeedRun, Checker) {
    init_logs();
    let config = config_of(&FULL_BOOK_SYMBOLS, 400, faults);
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let mut s = settings(Venue::Bybit, &sim, &config);
    s.full_book = true;
    let (feed, checker) = run_until_synced(&sim, s, checker(), secs).await;
    (sim, feed, checker)
}

/// `orderbook.full` deltas spliced onto one REST image per book: the book equals
/// the true book after every event (the image's records carry its `seq`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_full_book_spliced_onto_rest_matches_the_true_book() {
    let (sim, feed, checker) = run_full_book(FaultConfig::default(), 3).await;
    checker.assert_clean();
    let counters = feed.stop();
    eprintln!(
        "bybit full book: {} book checks, {counters:?}",
        checker.book_checks
    );
    assert!(checker.book_checks > 100, "{} checks", checker.book_checks);
    assert_eq!((counters.books_total, counters.books_synced), (2, 2));
    // Pushed books fetch nothing: these images came from full_orderbook.
    assert_eq!(counters.rest_requests, 2 + counters.snapshots_refetched);
    assert_eq!(checker.status_count(StatusKind::Gap), 0);
    assert_eq!(checker.status_count(StatusKind::BookResync), 0);
    assert_eq!(counters.decode_errors, 0);
    sim.shutdown().await;
}

/// A skipped `u` on one `orderbook.full` book: a gap and a resync record for that
/// book alone, which fetches its image again; the other book never notices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_full_book_gap_resyncs_only_that_book_over_rest() {
    let faults = FaultConfig {
        skip_depth: Some(SkipDepth {
            every: 120,
            count: 2,
            symbol: Some("spot/BTCUSDT".into()),
            max_per_connection: 3,
        }),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run_full_book(faults, 4).await;
    checker.assert_clean();
    let gapped = feed.instrument_id("spot/BTCUSDT");
    let injected = sim.stats().gaps.len();
    let flagged = checker.status_count_for(gapped, StatusKind::Gap);
    let resyncs = checker.status_count_for(gapped, StatusKind::BookResync);
    eprintln!(
        "bybit full book gaps: {injected} injected, {flagged} gap and {resyncs} resync records"
    );
    assert!(injected >= 1, "{injected} gaps injected");
    assert!((1..=injected).contains(&flagged), "{flagged} of {injected}");
    assert!(resyncs >= flagged);
    let other = feed.instrument_id("spot/ETHUSDT");
    assert_eq!(checker.status_count_for(other, StatusKind::Gap), 0);
    assert_eq!(checker.status_count_for(other, StatusKind::BookResync), 0);
    let counters = feed.stop();
    assert_eq!(
        counters.reconnects, 0,
        "a gap fetches an image, no reconnect"
    );
    assert!(counters.rest_requests >= 2 + flagged as u64, "{counters:?}");
    assert_eq!(counters.books_synced, 2);
    sim.shutdown().await;
}

/// Once synced, a gap sends the book back to `full_orderbook` while that answers
/// 429: the feed waits out `Retry-After` and fetches again until an image comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_full_book_rest_429_is_retried() {
    let (sim, mut feed, mut checker) = run_full_book(FaultConfig::default(), 1).await;
    assert_eq!(feed.counters().books_synced, 2);
    let market = sim.market();
    // Only image fetches use REST now (the instrument lists are done).
    market.set_faults(FaultConfig {
        skip_depth: Some(SkipDepth {
            every: 20,
            count: 1,
            symbol: Some("spot/BTCUSDT".into()),
            max_per_connection: 1,
        }),
        rest_error: Some(RestError {
            status: 429,
            first: 0,
            retry_after_secs: 1,
        }),
        ..FaultConfig::default()
    });
    feed.consume(&mut checker, &market, Duration::from_millis(1500))
        .await;
    let limited = feed.counters().rest_rate_limited;
    assert!(limited >= 1, "{:?}", feed.counters());
    assert!(feed.counters().books_synced < 2, "the gapped book waits");
    market.set_faults(FaultConfig::default());
    for _ in 0..6 {
        if feed.counters().books_synced == 2 {
            break;
        }
        feed.consume(&mut checker, &market, Duration::from_millis(500))
            .await;
    }
    checker.assert_clean();
    let rest_errors = sim.stats().faults.rest_errors;
    let counters = feed.stop();
    eprintln!("bybit full book 429: {rest_errors} refused, {counters:?}");
    assert!(rest_errors >= 1);
    assert_eq!(counters.books_synced, 2, "{counters:?}");
    assert_eq!(checker.status_count(StatusKind::Gap), 1);
    sim.shutdown().await;
}

/// `full_orderbook` images 150 updates behind the stream: the first ones are older than the
/// first buffered delta, so the image is fetched again until one is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_full_book_image_older_than_the_stream_is_fetched_again() {
    let faults = FaultConfig {
        stale_snapshot_events: Some(150),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run_full_book(faults, 3).await;
    checker.assert_clean();
    let counters = feed.stop();
    eprintln!("bybit full book, stale images: {counters:?}");
    assert!(counters.snapshots_refetched >= 1, "{counters:?}");
    assert_eq!(counters.books_synced, 2);
    assert_eq!(checker.status_count(StatusKind::Gap), 0);
    assert!(checker.book_checks > 100, "{} checks", checker.book_checks);
    sim.shutdown().await;
}
