//! OKX end to end over loopback: the real OKX feed against the simulator's OKX
//! protocol (spot and a linear swap), held to the simulator's truth by the checker:
//! every trade once and in order, the book equal to the true book after every event.
//! Baseline, every fault, gap isolation, checksum failures, the mode without the
//! initial snapshot (REST splice), the keep-alive cut-off, and a reconnect storm
//! kept to 3 connects a second.

mod e2e_support;

use std::time::Duration;

use e2e_support::runs::{
    all_synced_one_per_connection, assert_cut_without_pings, assert_fault_run, consume_until,
    reconnect_storms,
};
use e2e_support::*;
use tickd_bus::record::StatusKind;
use tickd_bus::{RecordType, Venue};
use tickd_feed::sim::{FaultConfig, SimConfig, SimServer, SimSymbol, SkipDepth};

const SYMBOLS: [&str; 3] = ["BTC-USDT", "ETH-USDT", "BTC-USDT-SWAP"];

fn okx_config(rate: u32, faults: FaultConfig) -> SimConfig {
    SimConfig {
        symbols: SYMBOLS
            .iter()
            .enumerate()
            .map(|(i, raw)| SimSymbol::from_raw(Venue::Okx, raw, i).expect("okx symbol"))
            .collect(),
        rate_per_sec: rate,
        faults,
        ..SimConfig::default()
    }
}

/// Run one OKX feed against a simulator with `faults` for `secs`, then wait (at most
/// 8 s) for every book to be in sync with the faults off.
async fn run(faults: FaultConfig, secs: u64) -> (SimServer, FeedRun, Checker) {
    run_with(faults, secs, |_| {}).await
}

async fn run_with(
    faults: FaultConfig,
    secs: u64,
    tune: impl FnOnce(&mut tickd_feed::venue::VenueSettings),
) -> (SimServer, FeedRun, Checker) {
    init_logs();
    let config = okx_config(400, faults);
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let mut venue_settings = settings(Venue::Okx, &sim, &config);
    tune(&mut venue_settings);
    let (feed, checker) =
        run_until_synced(&sim, venue_settings, Checker::monotonic_trades(), secs).await;
    (sim, feed, checker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_baseline_every_trade_once_and_books_match() {
    let (sim, feed, checker) = run(FaultConfig::default(), 5).await;
    let market = sim.market();
    let (received, lost) = checker.check_trades(&market, &feed.registry, Venue::Okx);
    checker.assert_clean();
    let counters = feed.stop();
    eprintln!(
        "okx: {received} trades, {} book checks, {} records, {counters:?}",
        checker.book_checks, checker.records
    );
    assert!(received > 50, "only {received} trades");
    assert_eq!(lost, 0);
    assert!(checker.book_checks > 100, "{} checks", checker.book_checks);
    assert_eq!(checker.status_count(StatusKind::Gap), 0);
    assert_eq!(checker.status_count(StatusKind::BookResync), 0);
    assert_eq!(counters.decode_errors, 0);
    assert_eq!((counters.books_total, counters.books_synced), (3, 3));
    assert!(checker.by_type.get(&RecordType::Bbo).copied().unwrap_or(0) > 50);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_every_fault_keeps_the_properties() {
    let faults = FaultConfig {
        bad_checksum_every: Some(150),
        ..every_fault()
    };
    let (sim, feed, checker) = run(faults, 6).await;
    assert_fault_run(Venue::Okx, sim, feed, &checker, 50, StatusKind::Gap).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_gap_resyncs_only_the_gapped_book() {
    let faults = FaultConfig {
        // Far enough apart that each lands on a synced book: a gap injected while the
        // feed already rebuilds that book is invisible by design.
        skip_depth: Some(SkipDepth {
            every: 120,
            count: 2,
            symbol: Some("BTC-USDT".into()),
            max_per_connection: 3,
        }),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run(faults, 6).await;
    checker.assert_clean();
    let btc = feed.instrument_id("BTC-USDT");
    let injected = sim.stats().gaps.len();
    eprintln!(
        "okx gaps: {injected} injected, {} gap and {} resync records for BTC-USDT",
        checker.status_count_for(btc, StatusKind::Gap),
        checker.status_count_for(btc, StatusKind::BookResync)
    );
    // A gap injected while the feed already rebuilds that book is invisible by
    // design, so count at least one, at most one per injected gap.
    let flagged = checker.status_count_for(btc, StatusKind::Gap);
    assert!(injected >= 1, "{injected} gaps injected");
    assert!((1..=injected).contains(&flagged), "{flagged} of {injected}");
    assert!(checker.status_count_for(btc, StatusKind::BookResync) >= flagged);
    for raw in ["ETH-USDT", "BTC-USDT-SWAP"] {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_checksum_failure_resyncs_the_book() {
    let faults = FaultConfig {
        bad_checksum_every: Some(80),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run(faults, 5).await;
    checker.assert_clean();
    let bad = sim.stats().faults.bad_checksums;
    assert!(bad >= 2, "{bad} bad checksums sent");
    assert!(checker.status_count(StatusKind::BookResync) >= 2);
    let counters = feed.stop();
    assert_eq!(counters.reconnects, 0);
    assert_eq!(counters.books_synced, 3);
    assert!(checker.book_checks > 100);
    sim.shutdown().await;
}

/// OKX allows 480 subscribe ops a connection an hour: past the budget (3 here) the
/// feed replaces the connection instead of sending more resubscriptions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_subscribe_op_budget_replaces_the_connection() {
    let faults = FaultConfig {
        bad_checksum_every: Some(60),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run_with(faults, 5, |s| s.subscribe_ops_per_hour = Some(3)).await;
    checker.assert_clean();
    let counters = feed.stop();
    assert!(sim.stats().faults.bad_checksums >= 2);
    assert!(counters.reconnects >= 1, "{counters:?}");
    assert_eq!(counters.books_synced, 3, "{counters:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_without_the_initial_snapshot_splices_rest() {
    let faults = FaultConfig {
        no_initial_snapshot: true,
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run(faults, 4).await;
    checker.assert_clean();
    let stats = sim.stats();
    assert!(stats.faults.snapshots_withheld >= 3);
    // Three instrument lists and at least one book per instrument.
    assert!(
        stats.rest_requests >= 6,
        "{} REST requests",
        stats.rest_requests
    );
    let counters = feed.stop();
    assert_eq!(counters.books_synced, 3, "{counters:?}");
    assert!(checker.book_checks > 100, "{}", checker.book_checks);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_feed_that_stops_pinging_is_cut_and_reconnects_flagged() {
    // The feed pings after 20 s idle, far beyond the 800 ms cut-off.
    assert_cut_without_pings(Venue::Okx, okx_config(0, FaultConfig::default())).await;
}

/// Eight spot books on eight connections, dropped all at once, twice: OKX takes 3
/// new connections a second per IP (the simulator refuses a connect over it with
/// HTTP 429), so the reconnects are paced over about 3 s without one refusal, and
/// every book comes back true. Unpaced, 5 of each storm's 8 connects would be
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_reconnect_storm_keeps_to_three_connects_a_second() {
    init_logs();
    const BASES: [&str; 8] = ["BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "LTC", "DOT"];
    let config = SimConfig {
        symbols: BASES
            .iter()
            .enumerate()
            .map(|(i, base)| {
                SimSymbol::from_raw(Venue::Okx, &format!("{base}-USDT"), i).expect("okx symbol")
            })
            .collect(),
        rate_per_sec: 200,
        ..SimConfig::default()
    };
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let mut venue_settings = settings(Venue::Okx, &sim, &config);
    venue_settings.channels = vec![tickd_bus::Channel::Book];
    venue_settings.streams_per_connection = 1;
    let mut feed = start_feed(venue_settings);
    let mut checker = Checker::monotonic_trades();
    let all_synced = |feed: &FeedRun| all_synced_one_per_connection(feed, 8);
    consume_until(
        &sim,
        &mut feed,
        &mut checker,
        Duration::from_secs(10),
        all_synced,
    )
    .await;
    let storms = reconnect_storms(&sim, &mut feed, &mut checker, 2, all_synced).await;
    checker.assert_clean();
    let stats = sim.stats();
    let counters = feed.stop();
    eprintln!(
        "okx storm: recovered in {storms:?}; sim accepted {} drops {} ip_refused {}; {counters:?}",
        stats.connections_accepted, stats.faults.drops, stats.ip_connects_refused
    );
    assert!(stats.faults.drops >= 16, "{} drops", stats.faults.drops);
    assert!(counters.reconnects >= 16, "{counters:?}");
    assert_eq!(stats.ip_connects_refused, 0, "a connect over 3 a second");
    assert_eq!(counters.connect_failures, 0, "{counters:?}");
    // Eight connects at 3 a second cannot all land within the first second.
    assert!(
        storms.iter().all(|s| *s >= Duration::from_millis(1_500)),
        "{storms:?}"
    );
    assert!(checker.book_checks > 50, "{} checks", checker.book_checks);
    sim.shutdown().await;
}
