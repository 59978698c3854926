//! Coinbase end to end over loopback: the real Coinbase feed against the
//! simulator's Coinbase protocol, held to the simulator's truth by the checker:
//! every trade once and in order, the book equal to the true book after every
//! message (Coinbase books carry no update ids: the truth is found by the message's
//! timestamp, which the simulator recorded; a connection's level2 images come in one
//! frame with an event per product). Baseline, every fault, a gap scoped to the one
//! connection that lost a message, heartbeats keeping a quiet connection alive and
//! their counter's jumps counted, the 5 s subscribe deadline, reconnects whose trade
//! snapshots are not published twice, and the per-IP limits (8 connects and 8
//! messages a second) enforced by the simulator and kept by the feed through a
//! reconnect storm.

mod e2e_support;

use std::time::Duration;

use e2e_support::runs::{
    all_synced_one_per_connection, assert_fault_run, consume_until, reconnect_storms,
};
use e2e_support::*;
use futures_util::StreamExt;
use tickd_bus::record::{StatusKind, StatusReason};
use tickd_bus::{RecordType, Venue};
use tickd_feed::sim::{FaultConfig, RestError, SimConfig, SimServer, SimSymbol, SkipDepth, Stall};

const SYMBOLS: [&str; 3] = ["BTC-USD", "ETH-USD", "SOL-USD"];

fn coinbase_config(rate: u32, faults: FaultConfig) -> SimConfig {
    products_config(&SYMBOLS, rate, faults)
}

fn products_config(products: &[&str], rate: u32, faults: FaultConfig) -> SimConfig {
    SimConfig {
        symbols: products
            .iter()
            .enumerate()
            .map(|(i, raw)| SimSymbol::from_raw(Venue::Coinbase, raw, i).expect("coinbase symbol"))
            .collect(),
        rate_per_sec: rate,
        faults,
        ..SimConfig::default()
    }
}

/// Run one Coinbase feed against a simulator with `faults` for `secs`, then wait
/// (at most 8 s) for every book to be in sync with the faults off.
async fn run_with(
    rate: u32,
    faults: FaultConfig,
    secs: u64,
    tune: impl FnOnce(&mut tickd_feed::venue::VenueSettings),
) -> (SimServer, FeedRun, Checker) {
    init_logs();
    let config = coinbase_config(rate, faults);
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let market = sim.market();
    let mut venue_settings = settings(Venue::Coinbase, &sim, &config);
    // Coinbase's 5-minute candles as venue bars: every candles frame must decode (a
    // bar itself needs the next 5 minutes: coinbase_replay checks bars).
    venue_settings.venue_bars_minutes = Some(5);
    tune(&mut venue_settings);
    let mut feed = start_feed(venue_settings);
    // Whole books (no depth cut), trade ids that increase.
    let mut checker = Checker::stamped_books(usize::MAX);
    checker.monotonic = true;
    feed.consume(&mut checker, &market, Duration::from_secs(secs))
        .await;
    market.set_faults(FaultConfig::default());
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
    (sim, feed, checker)
}

async fn run(faults: FaultConfig, secs: u64) -> (SimServer, FeedRun, Checker) {
    run_with(300, faults, secs, |_| {}).await
}

fn id_of(feed: &FeedRun, raw: &str) -> u32 {
    feed.registry
        .read()
        .expect("registry")
        .by_raw(Venue::Coinbase, raw)
        .expect("instrument")
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coinbase_baseline_every_trade_once_and_books_true() {
    let (sim, feed, checker) = run(FaultConfig::default(), 4).await;
    let market = sim.market();
    let (received, lost) = checker.check_trades(&market, &feed.registry, Venue::Coinbase);
    checker.assert_clean();
    let counters = feed.stop();
    eprintln!(
        "coinbase: {received} trades, {} records, {counters:?}",
        checker.records
    );
    assert!(received > 30, "only {received} trades");
    assert_eq!(lost, 0);
    assert!(checker.book_checks > 100, "{} checks", checker.book_checks);
    assert_eq!(checker.status_count(StatusKind::Gap), 0);
    assert_eq!(checker.status_count(StatusKind::BookResync), 0);
    assert_eq!(counters.decode_errors, 0);
    assert_eq!((counters.books_total, counters.books_synced), (3, 3));
    assert!(checker.by_type.get(&RecordType::Bbo).copied().unwrap_or(0) > 30);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coinbase_every_fault_keeps_the_properties() {
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
        refuse_every: Some(4),
        stall: Some(Stall {
            after: Duration::from_millis(700),
            duration: Duration::from_millis(300),
        }),
        rest_error: Some(RestError {
            status: 429,
            first: 2,
            retry_after_secs: 1,
        }),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run(faults, 5).await;
    let run = assert_fault_run(Venue::Coinbase, sim, feed, &checker, 30, StatusKind::Gap).await;
    assert!(run.stats.faults.stalls >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coinbase_gap_resyncs_the_books_of_that_connection_only() {
    // One product a connection (three streams each); messages are lost only on
    // BTC-USD's connection.
    let faults = FaultConfig {
        skip_depth: Some(SkipDepth {
            every: 100,
            count: 1,
            symbol: Some("BTC-USD".into()),
            max_per_connection: 3,
        }),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run_with(300, faults, 5, |s| s.streams_per_connection = 3).await;
    checker.assert_clean();
    let btc = id_of(&feed, "BTC-USD");
    let injected = sim.stats().gaps.len();
    let flagged = checker.status_count_for(btc, StatusKind::Gap);
    eprintln!("coinbase gaps: {injected} injected, {flagged} flagged on BTC-USD");
    assert!(injected >= 1, "{injected} gaps injected");
    assert!((1..=injected).contains(&flagged), "{flagged} of {injected}");
    assert!(checker.status_count_for(btc, StatusKind::BookResync) >= flagged);
    // The connection-wide gap record names the connection and a sequence gap.
    let conn_gaps: Vec<_> = checker
        .statuses
        .iter()
        .filter(|s| s.hd.instrument_id == 0 && s.kind() == Some(StatusKind::Gap))
        .collect();
    assert!(!conn_gaps.is_empty());
    assert!(conn_gaps
        .iter()
        .all(|s| s.reason == StatusReason::SequenceGap as u16 && s.conn != 0));
    for raw in ["ETH-USD", "SOL-USD"] {
        let id = id_of(&feed, raw);
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
async fn coinbase_heartbeats_keep_a_quiet_connection() {
    // No market events at all after the images: without the heartbeats (one a
    // second) the connection's watchdog would reconnect after 1.5 s.
    let (sim, feed, checker) = run_with(0, FaultConfig::default(), 4, |s| {
        s.stale_after = Duration::from_millis(1500);
    })
    .await;
    checker.assert_clean();
    let counters = feed.stop();
    eprintln!("coinbase quiet: {counters:?}");
    assert_eq!(counters.reconnects, 0, "{counters:?}");
    assert_eq!(checker.status_count(StatusKind::Disconnected), 0);
    assert!(counters.messages >= 8, "heartbeats came: {counters:?}");
    assert_eq!((counters.books_total, counters.books_synced), (3, 3));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coinbase_reconnects_do_not_publish_trade_snapshots_twice() {
    let faults = FaultConfig {
        drop_after: Some(Duration::from_millis(1200)),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run(faults, 4).await;
    let market = sim.market();
    // Strictly increasing ids per product: a repeat would fail here.
    let (received, _) = checker.check_trades(&market, &feed.registry, Venue::Coinbase);
    checker.assert_clean();
    let counters = feed.stop();
    eprintln!("coinbase reconnects: {received} trades, {counters:?}");
    assert!(counters.reconnects >= 2, "{counters:?}");
    assert!(
        counters.duplicates >= 1,
        "the snapshots repeated trades: {counters:?}"
    );
    assert!(received > 30);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coinbase_closes_a_connection_that_does_not_subscribe_within_5_s() {
    init_logs();
    let sim = SimServer::start(coinbase_config(10, FaultConfig::default()))
        .await
        .expect("sim starts");
    let url = format!("ws://{}", sim.local_addr());
    let (mut ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("connects");
    let opened = std::time::Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(9), async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(tokio_tungstenite::tungstenite::Message::Close(frame)) => return frame,
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("closed within 9 s");
    let after = opened.elapsed();
    assert!(
        after >= Duration::from_millis(4900),
        "closed after {after:?}"
    );
    assert_eq!(closed.map(|f| u16::from(f.code)), Some(1008));
    sim.shutdown().await;
}

/// Products enough for twelve connections of one product each.
const MANY: [&str; 12] = [
    "BTC-USD", "ETH-USD", "SOL-USD", "ADA-USD", "DOT-USD", "LTC-USD", "XRP-USD", "AVAX-USD",
    "LINK-USD", "UNI-USD", "ATOM-USD", "DOGE-USD",
];

/// The simulator holds clients to Coinbase's per-IP limits (§2): of 20 upgrades at
/// once some are refused with 429, and 12 messages spread over 6 connections (2
/// each, well within the per-connection limit) close one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coinbase_sim_enforces_the_per_ip_limits() {
    init_logs();
    let sim = SimServer::start(coinbase_config(10, FaultConfig::default()))
        .await
        .expect("sim starts");
    let url = format!("ws://{}", sim.local_addr());
    let attempts = futures_util::future::join_all(
        (0..20).map(|_| tokio_tungstenite::connect_async(url.clone())),
    )
    .await;
    let mut open: Vec<_> = attempts.into_iter().filter_map(Result::ok).collect();
    let refused = 20 - open.len();
    let stats = sim.stats();
    eprintln!("coinbase per-IP: {} of 20 upgrades accepted", open.len());
    assert!(refused >= 1 && open.len() <= 16, "{refused} refused");
    assert_eq!(stats.ip_connects_refused, refused as u64);
    assert!(open.len() >= 6, "{} accepted", open.len());
    // A fresh second of message budget.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let subscribe = r#"{"type":"subscribe","channel":"heartbeats"}"#;
    for (ws, _) in open.iter_mut().take(6) {
        for _ in 0..2 {
            // A closed socket may refuse the write: that is the limit working.
            let _ = ws.send(Message::Text(subscribe.into())).await;
        }
    }
    let mut closes = 0;
    for _ in 0..50 {
        closes = sim.stats().ip_rate_limit_closes;
        if closes >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(closes >= 1, "12 messages in a second closed nothing");
    assert_eq!(
        sim.stats().rate_limit_closes,
        0,
        "no connection's own limit"
    );
    sim.shutdown().await;
}

/// Twelve connections (one product each, `heartbeats` + `level2`: 24 subscribe
/// messages) dropped all at once, twice: the reconnect storm keeps to 8 connects
/// and 8 messages a second per IP, every connection subscribes within the 5 s
/// deadline, and every book comes back true.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coinbase_reconnect_storm_stays_within_the_per_ip_limits() {
    init_logs();
    let config = products_config(&MANY, 200, FaultConfig::default());
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let mut venue_settings = settings(Venue::Coinbase, &sim, &config);
    venue_settings.channels = vec![tickd_bus::Channel::Book];
    venue_settings.streams_per_connection = 1;
    let mut feed = start_feed(venue_settings);
    let mut checker = Checker::stamped_books(usize::MAX);
    let all_synced = |feed: &FeedRun| all_synced_one_per_connection(feed, 12);
    let started = std::time::Instant::now();
    consume_until(
        &sim,
        &mut feed,
        &mut checker,
        Duration::from_secs(10),
        all_synced,
    )
    .await;
    let first_sync = started.elapsed();
    let storms = reconnect_storms(&sim, &mut feed, &mut checker, 2, all_synced).await;
    checker.assert_clean();
    let stats = sim.stats();
    let counters = feed.stop();
    eprintln!(
        "coinbase storm: 12 connections synced in {first_sync:?}, storms recovered in {storms:?}; \
         sim accepted {} drops {} ip_refused {} ip_closes {} deadline_closes {}; {counters:?}",
        stats.connections_accepted,
        stats.faults.drops,
        stats.ip_connects_refused,
        stats.ip_rate_limit_closes,
        stats.session_closes
    );
    assert!(stats.faults.drops >= 24, "{} drops", stats.faults.drops);
    assert!(counters.reconnects >= 24, "{counters:?}");
    assert_eq!(stats.ip_connects_refused, 0, "a connect over 8 a second");
    assert_eq!(stats.ip_rate_limit_closes, 0, "a message over 8 a second");
    assert_eq!(stats.rate_limit_closes, 0);
    assert_eq!(
        stats.session_closes, 0,
        "a connection missed the 5 s deadline"
    );
    assert_eq!(counters.connect_failures, 0, "{counters:?}");
    assert!(checker.book_checks > 100, "{} checks", checker.book_checks);
    sim.shutdown().await;
}

/// The venue skips heartbeat counter values (every 2nd beat on each connection)
/// while the connection's message numbers stay continuous: the feed counts the
/// missed beats (`heartbeats_missed`, a metric) and leaves the books alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coinbase_heartbeat_counter_jumps_are_counted() {
    let faults = FaultConfig {
        skip_heartbeat_every: Some(2),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run(faults, 4).await;
    checker.assert_clean();
    let skipped = sim.stats().faults.heartbeats_skipped;
    let counters = feed.stop();
    eprintln!("coinbase heartbeats: {skipped} skipped, {counters:?}");
    assert!(skipped >= 1, "{skipped} skipped");
    // Skips after the faults were turned off are none; a skip in flight at the
    // feed's stop may not have been read.
    assert!(
        (skipped.saturating_sub(1)..=skipped).contains(&counters.heartbeats_missed),
        "{} missed of {skipped}",
        counters.heartbeats_missed
    );
    assert_eq!(checker.status_count(StatusKind::Gap), 0);
    assert_eq!(checker.status_count(StatusKind::BookResync), 0);
    assert_eq!(counters.reconnects, 0);
    sim.shutdown().await;
}

/// `candles` in the simulator: each subscribed product's open 5-minute candle,
/// built from the market's trades, every second; it decodes (held as the open
/// candle until the next begins).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coinbase_sim_sends_candles_that_decode() {
    use futures_util::SinkExt;
    use tickd_normalizer::coinbase::{CoinbaseDecoder, TradeSide};
    use tickd_normalizer::engine::{Frame, FrameDecoder, VenueEvent};
    use tokio_tungstenite::tungstenite::Message;
    init_logs();
    let sim = SimServer::start(coinbase_config(300, FaultConfig::default()))
        .await
        .expect("sim starts");
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}", sim.local_addr()))
        .await
        .expect("connects");
    let request = r#"{"type":"subscribe","product_ids":["BTC-USD"],"channel":"candles"}"#;
    ws.send(Message::Text(request.into())).await.expect("sent");
    let mut decoder = CoinbaseDecoder::new(
        [("BTC-USD".to_string(), 1)].into_iter().collect(),
        TradeSide::Taker,
    );
    let candle = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(msg)) = ws.next().await {
            let Message::Text(text) = msg else { continue };
            let mut sink: Vec<tickd_bus::RecordBuf> = Vec::new();
            let event = decoder
                .decode(Frame::Text(text.as_bytes()), 1, &mut sink)
                .expect("every frame decodes");
            if text.contains("\"channel\":\"candles\"") {
                assert!(matches!(event, VenueEvent::Records(0)), "{event:?}");
                return serde_json::from_str::<serde_json::Value>(&text).expect("json");
            }
        }
        panic!("no candles frame")
    })
    .await
    .expect("a candles frame within 5 s");
    let c = &candle["events"][0]["candles"][0];
    let num = |k: &str| c[k].as_str().expect(k).parse::<f64>().expect(k);
    eprintln!("coinbase candle: {c}");
    assert_eq!(c["product_id"], "BTC-USD");
    let start: u64 = c["start"].as_str().expect("start").parse().expect("start");
    assert_eq!(start % 300, 0, "a 5-minute boundary");
    assert!(num("low") <= num("open").min(num("close")));
    assert!(num("high") >= num("open").max(num("close")));
    assert!(num("volume") > 0.0);
    sim.shutdown().await;
}
