//! Kraken end to end over loopback: the real Kraken feed against the simulator's
//! Kraken v2 protocol, held to the simulator's truth by the checker: every trade
//! once and in order, each book equal to the true book truncated to the subscribed
//! depth after every message (found by the message's stamp: Kraken books carry no
//! update ids). Baseline, every fault, a checksum failure resyncing one pair on its
//! connection, and heartbeats as the watchdog's liveness.

mod e2e_support;

use std::time::Duration;

use e2e_support::runs::assert_fault_run;
use e2e_support::*;
use tickd_bus::record::StatusKind;
use tickd_bus::{RecordType, Venue};
use tickd_feed::sim::{FaultConfig, RestError, SimConfig, SimServer, SimSymbol, SkipDepth, Stall};
use tickd_feed::venue::VenueSettings;

const PAIRS: [&str; 2] = ["BTC/USD", "ETH/EUR"];
/// Of a 25-50 level book: levels leave and re-enter the window all the time.
const DEPTH: u32 = 10;

fn kraken_config(rate: u32, faults: FaultConfig) -> SimConfig {
    SimConfig {
        symbols: PAIRS
            .iter()
            .enumerate()
            .map(|(i, raw)| SimSymbol::from_raw(Venue::Kraken, raw, i).expect("kraken pair"))
            .collect(),
        rate_per_sec: rate,
        faults,
        ..SimConfig::default()
    }
}

fn kraken_settings(sim: &SimServer, config: &SimConfig) -> VenueSettings {
    let mut s = settings(Venue::Kraken, sim, config);
    s.book_depth = DEPTH;
    // 1-minute candles as venue bars: every ohlc frame must decode (a bar itself
    // needs the next minute: kraken_replay checks bars through the engine).
    s.venue_bars_minutes = Some(1);
    s
}

/// Run one Kraken feed against a simulator with `faults` for `secs`, then wait (at
/// most 8 s) for every book to be in sync with the faults off.
async fn run(faults: FaultConfig, secs: u64) -> (SimServer, FeedRun, Checker) {
    init_logs();
    let config = kraken_config(400, faults);
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let checker = Checker::stamped_books(DEPTH as usize);
    let (feed, checker) =
        run_until_synced(&sim, kraken_settings(&sim, &config), checker, secs).await;
    (sim, feed, checker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kraken_baseline_every_trade_once_and_books_match_the_truncated_truth() {
    let (sim, feed, checker) = run(FaultConfig::default(), 4).await;
    let market = sim.market();
    let (received, lost) = checker.check_trades(&market, &feed.registry, Venue::Kraken);
    checker.assert_clean();
    let counters = feed.stop();
    eprintln!(
        "kraken: {received} trades, {} book checks ({} without truth), {} records, {counters:?}",
        checker.book_checks, checker.book_no_history, checker.records
    );
    assert!(received > 50, "only {received} trades");
    assert_eq!(lost, 0);
    assert!(checker.book_checks > 100, "{} checks", checker.book_checks);
    assert_eq!(
        checker.book_no_history, 0,
        "every book message's stamp is known"
    );
    assert_eq!(checker.status_count(StatusKind::Gap), 0);
    assert_eq!(checker.status_count(StatusKind::BookResync), 0);
    assert_eq!(counters.decode_errors, 0);
    assert_eq!(
        counters.rejected_subscriptions, 0,
        "ohlc at 1 minute is accepted"
    );
    assert_eq!((counters.books_total, counters.books_synced), (2, 2));
    assert!(checker.by_type.get(&RecordType::Bbo).copied().unwrap_or(0) > 50);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kraken_every_fault_keeps_the_properties() {
    let faults = FaultConfig {
        drop_after: Some(Duration::from_millis(2000)),
        skip_depth: Some(SkipDepth {
            every: 60,
            count: 1,
            symbol: None,
            max_per_connection: 2,
        }),
        malformed_every: Some(200),
        truncated_every: Some(270),
        oversized_every: Some(700),
        oversized_bytes: 2 << 20,
        refuse_every: Some(4),
        rest_error: Some(RestError {
            status: 429,
            first: 2,
            retry_after_secs: 1,
        }),
        bad_checksum_every: Some(150),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run(faults, 6).await;
    let run = assert_fault_run(
        Venue::Kraken,
        sim,
        feed,
        &checker,
        50,
        StatusKind::BookResync,
    )
    .await;
    let stats = run.stats;
    assert!(stats.faults.truncated >= 1 && stats.faults.oversized >= 1);
    assert!(stats.faults.bad_checksums >= 1 && !stats.gaps.is_empty());
    assert!(checker.book_checks > 100, "{}", checker.book_checks);
}

/// A skipped update makes the next checksum fail: that one pair resubscribes on the
/// same connection (gap and resync records), the other pair is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kraken_checksum_failure_resyncs_only_that_pair_on_its_connection() {
    let faults = FaultConfig {
        skip_depth: Some(SkipDepth {
            every: 100,
            count: 1,
            symbol: Some("BTC/USD".into()),
            max_per_connection: 3,
        }),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run(faults, 5).await;
    checker.assert_clean();
    let btc = feed.instrument_id("BTC/USD");
    let eth = feed.instrument_id("ETH/EUR");
    let injected = sim.stats().gaps.len();
    let (gaps, resyncs) = (
        checker.status_count_for(btc, StatusKind::Gap),
        checker.status_count_for(btc, StatusKind::BookResync),
    );
    eprintln!(
        "kraken: {injected} updates skipped, BTC/USD {gaps} gap and {resyncs} resync records"
    );
    assert!(injected >= 1, "{injected} skipped");
    // A skip while the pair already rebuilds is invisible by design.
    assert!((1..=injected).contains(&gaps), "{gaps} gaps of {injected}");
    assert!(resyncs >= gaps);
    assert_eq!(checker.status_count_for(eth, StatusKind::Gap), 0);
    assert_eq!(checker.status_count_for(eth, StatusKind::BookResync), 0);
    let counters = feed.stop();
    assert_eq!(
        counters.reconnects, 0,
        "a resync resubscribes, it does not reconnect"
    );
    assert_eq!(counters.books_synced, 2);
    assert!(checker.book_checks > 100);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kraken_wrong_checksums_resync_without_reconnecting() {
    let faults = FaultConfig {
        bad_checksum_every: Some(80),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run(faults, 4).await;
    checker.assert_clean();
    let bad = sim.stats().faults.bad_checksums;
    assert!(bad >= 2, "{bad} bad checksums sent");
    assert!(checker.status_count(StatusKind::BookResync) >= 2);
    let counters = feed.stop();
    assert_eq!(counters.reconnects, 0);
    assert_eq!(counters.books_synced, 2);
    sim.shutdown().await;
}

/// Nothing trades: only `heartbeat` frames keep the connection alive past the
/// watchdog's 2 s (the feed's own ping waits 15 s). A stall silences them too, and
/// the watchdog replaces the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kraken_heartbeats_feed_the_watchdog_and_a_stall_trips_it() {
    init_logs();
    let config = kraken_config(0, FaultConfig::default());
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let market = sim.market();
    let mut feed = start_feed(kraken_settings(&sim, &config));
    let mut checker = Checker::stamped_books(DEPTH as usize);
    feed.consume(&mut checker, &market, Duration::from_secs(5))
        .await;
    let quiet = feed.counters();
    assert_eq!(
        quiet.reconnects, 0,
        "heartbeats keep a quiet connection: {quiet:?}"
    );
    assert_eq!(checker.status_count(StatusKind::Disconnected), 0);
    feed.stop();
    sim.shutdown().await;

    let stall = FaultConfig {
        stall: Some(Stall {
            after: Duration::from_millis(500),
            duration: Duration::from_secs(4),
        }),
        ..FaultConfig::default()
    };
    let config = kraken_config(0, stall);
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let market = sim.market();
    let mut feed = start_feed(kraken_settings(&sim, &config));
    let mut checker = Checker::stamped_books(DEPTH as usize);
    feed.consume(&mut checker, &market, Duration::from_secs(4))
        .await;
    let counters = feed.stop();
    assert!(sim.stats().faults.stalls >= 1);
    assert!(
        counters.reconnects >= 1,
        "the watchdog cut the stalled connection: {counters:?}"
    );
    checker.assert_clean();
    sim.shutdown().await;
}
