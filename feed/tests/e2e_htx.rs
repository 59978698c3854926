//! HTX end to end over loopback: the real HTX feeds (spot, USDT-M, coin-M)
//! against the simulator's HTX protocol (gzip binary frames, the server's ping
//! with its pong deadline, `sub`/`req`), held to the simulator's truth by the
//! checker: every trade once and in order, each book equal to the true book after
//! every message (spot by `seqNum`, swaps by the message's stamp: their `version`
//! counts messages, not market ids). Baseline for spot and swaps, every fault,
//! gap isolation (a spot gap re-requests that symbol only), keep-alive (the feed
//! answers pings on a tight deadline, `{"ping"}` and the notification sockets'
//! `op: ping`; a client that does not is cut; a feed whose ping is lost is cut,
//! reconnects and flags what it lost), and `depth.step0` books (`book_images`).

mod e2e_support;

use std::time::Duration;

use e2e_support::*;
use futures_util::StreamExt;
use tickd_bus::record::StatusKind;
use tickd_bus::{Channel, RecordType, Venue};
use tickd_feed::sim::{FaultConfig, RestError, SimConfig, SimServer, SimSymbol, SkipDepth};
use tickd_feed::venue::VenueSettings;
use tokio_tungstenite::tungstenite::Message;

fn htx_config(venue: Venue, raws: &[&str], faults: FaultConfig) -> SimConfig {
    SimConfig {
        symbols: raws
            .iter()
            .enumerate()
            .map(|(i, raw)| SimSymbol::from_raw(venue, raw, i).expect("htx symbol"))
            .collect(),
        rate_per_sec: 400,
        faults,
        ..SimConfig::default()
    }
}

fn htx_settings(venue: Venue, sim: &SimServer, config: &SimConfig) -> VenueSettings {
    let mut s = settings(venue, sim, config);
    // The simulator serves HTX under /htx (Binance's serves /ws).
    s.ws_url = format!("ws://{}/htx", sim.local_addr());
    // Raw names as the symbol list spells them (spot lower case).
    s.symbols = s
        .symbols
        .iter()
        .map(|r| {
            if venue == Venue::Htx {
                r.to_ascii_lowercase()
            } else {
                r.clone()
            }
        })
        .collect();
    s.book_depth = 150;
    // 1-minute klines ride along: every kline frame must decode (a bar itself
    // needs the next minute: htx_replay checks bars through the engine).
    s.venue_bars_minutes = Some(1);
    if venue != Venue::Htx {
        s.channels = vec![
            Channel::Trades,
            Channel::Bbo,
            Channel::Book,
            Channel::Funding,
            Channel::Liquidations,
            Channel::Oi,
        ];
    }
    s
}

fn checker(venue: Venue) -> Checker {
    let mut c = Checker::monotonic_trades();
    if venue != Venue::Htx {
        c.stamped_depth = Some(usize::MAX);
    }
    c
}

async fn run(
    venue: Venue,
    raws: &[&str],
    faults: FaultConfig,
    secs: u64,
) -> (SimServer, FeedRun, Checker) {
    init_logs();
    let config = htx_config(venue, raws, faults);
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let s = htx_settings(venue, &sim, &config);
    let (feed, checker) = run_until_synced(&sim, s, checker(venue), secs).await;
    (sim, feed, checker)
}

const SPOT: [&str; 2] = ["btcusdt", "ethusdt"];
const USDM: [&str; 2] = ["BTC-USDT", "ETH-USDT"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htx_spot_baseline_every_trade_once_and_books_match() {
    let (sim, feed, checker) = run(Venue::Htx, &SPOT, FaultConfig::default(), 4).await;
    let market = sim.market();
    let (received, lost) = checker.check_trades(&market, &feed.registry, Venue::Htx);
    checker.assert_clean();
    let counters = feed.stop();
    eprintln!(
        "htx spot: {received} trades, {} book checks, {} records, {counters:?}",
        checker.book_checks, checker.records
    );
    assert!(received > 50, "only {received} trades");
    assert_eq!(lost, 0);
    assert!(checker.book_checks > 100, "{} checks", checker.book_checks);
    assert_eq!(checker.status_count(StatusKind::Gap), 0);
    assert_eq!(checker.status_count(StatusKind::BookResync), 0);
    assert_eq!(counters.decode_errors, 0);
    assert_eq!((counters.books_total, counters.books_synced), (2, 2));
    assert!(checker.by_type.get(&RecordType::Bbo).copied().unwrap_or(0) > 50);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htx_swaps_baseline_books_funding_liquidations_and_open_interest() {
    for (venue, raws) in [
        (Venue::HtxUsdm, &USDM[..]),
        (Venue::HtxCoinm, &["BTC-USD"][..]),
    ] {
        let (sim, feed, checker) = run(venue, raws, FaultConfig::default(), 4).await;
        let market = sim.market();
        let (received, lost) = checker.check_trades(&market, &feed.registry, venue);
        checker.assert_clean();
        let counters = feed.stop();
        eprintln!(
            "{venue}: {received} trades, {} book checks, {:?}, {counters:?}",
            checker.book_checks, checker.by_type
        );
        assert!(received > 20, "{venue}: only {received} trades");
        assert_eq!(lost, 0);
        assert!(
            checker.book_checks > 50,
            "{venue}: {} checks",
            checker.book_checks
        );
        assert_eq!(
            checker.book_no_history, 0,
            "{venue}: every message's stamp is known"
        );
        assert_eq!(checker.status_count(StatusKind::Gap), 0);
        assert_eq!(counters.decode_errors, 0);
        assert_eq!(counters.books_synced, counters.books_total);
        for rtype in [
            RecordType::MarkFunding,
            RecordType::OpenInterest,
            RecordType::Bbo,
        ] {
            assert!(
                checker.by_type.get(&rtype).copied().unwrap_or(0) > 0,
                "{venue}: no {rtype:?}"
            );
        }
        sim.shutdown().await;
    }
}

/// Drops, skipped `seqNum`s / `version`s, malformed, truncated and oversized
/// frames (not gzip, cut members, a member past the inflate limit), refused
/// connections and REST 429s, on spot and both swap venues: every loss flagged,
/// every book back in sync. A spot `req` the venue throttles (`429 too many
/// request`, the simulator's answer to a second `req` within 100 ms) is sent again
/// after a backoff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htx_every_fault_keeps_the_properties() {
    let faults = FaultConfig {
        drop_after: Some(Duration::from_millis(1500)),
        skip_depth: Some(SkipDepth {
            every: 60,
            count: 2,
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
        ..FaultConfig::default()
    };
    for (venue, raws) in [
        (Venue::Htx, &SPOT[..]),
        (Venue::HtxUsdm, &USDM[..]),
        (Venue::HtxCoinm, &["BTC-USD"][..]),
    ] {
        let (sim, mut feed, mut checker) = run(venue, raws, faults.clone(), 4).await;
        let market = sim.market();
        // Connections opened under the faults keep their drop timers (1.5 s): let
        // them play out, then wait for the books once more.
        feed.consume(&mut checker, &market, Duration::from_secs(2))
            .await;
        for _ in 0..6 {
            let c = feed.counters();
            if c.books_synced == c.books_total {
                break;
            }
            feed.consume(&mut checker, &market, Duration::from_secs(1))
                .await;
        }
        let (received, _lost) = checker.check_trades(&market, &feed.registry, venue);
        checker.assert_clean();
        let stats = sim.stats();
        let counters = feed.stop();
        eprintln!(
            "{venue} faults: {received} trades, {counters:?}, sim {:?}",
            stats.faults
        );
        assert!(stats.faults.drops >= 1 && stats.faults.malformed >= 1);
        assert!(stats.faults.refused >= 1);
        if venue != Venue::Htx {
            assert!(
                stats.faults.rest_errors >= 1,
                "{venue}: open interest polls"
            );
        }
        assert!(counters.reconnects >= 1);
        assert!(counters.decode_errors >= 1, "bad gzip frames are counted");
        assert!(received > 20);
        assert!(checker.status_count(StatusKind::Gap) >= 1);
        assert_eq!(
            counters.rejected_subscriptions, 0,
            "{venue}: a throttled req is retried, not a rejection"
        );
        assert_eq!(counters.books_synced, counters.books_total, "{counters:?}");
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htx_spot_gap_re_requests_only_that_symbol() {
    let faults = FaultConfig {
        skip_depth: Some(SkipDepth {
            every: 120,
            count: 2,
            symbol: Some("btcusdt".into()),
            max_per_connection: 3,
        }),
        ..FaultConfig::default()
    };
    let (sim, feed, checker) = run(Venue::Htx, &SPOT, faults, 5).await;
    checker.assert_clean();
    let btc = feed.instrument_id("btcusdt");
    let eth = feed.instrument_id("ethusdt");
    let injected = sim.stats().gaps.len();
    let flagged = checker.status_count_for(btc, StatusKind::Gap);
    eprintln!("htx gaps: {injected} injected, {flagged} flagged");
    assert!(injected >= 1);
    assert!((1..=injected).contains(&flagged), "{flagged} of {injected}");
    assert_eq!(checker.status_count_for(eth, StatusKind::Gap), 0);
    assert_eq!(checker.status_count_for(eth, StatusKind::BookResync), 0);
    let counters = feed.stop();
    assert_eq!(
        counters.reconnects, 0,
        "a gap re-requests, it does not reconnect"
    );
    assert_eq!(counters.books_synced, 2);
    sim.shutdown().await;
}

/// The server pings every 200 ms with a 2 s pong deadline: the feed answers
/// every ping and is never cut; a client that does not answer is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htx_keepalive_answers_pings_and_a_silent_client_is_cut() {
    init_logs();
    let mut config = htx_config(Venue::HtxUsdm, &USDM, FaultConfig::default());
    let rules = config.rules_mut(Venue::HtxUsdm);
    rules.ping_interval = Some(Duration::from_millis(200));
    rules.pong_timeout = Duration::from_millis(2000);
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let s = htx_settings(Venue::HtxUsdm, &sim, &config);
    let (feed, checker) = run_until_synced(&sim, s, checker(Venue::HtxUsdm), 3).await;
    checker.assert_clean();
    let counters = feed.stop();
    assert_eq!(counters.reconnects, 0, "pings answered: {counters:?}");
    assert_eq!(sim.stats().pong_timeout_closes, 0);

    // A client that never answers: pings arrive (gzip), then the close.
    let url = format!("ws://{}/htx/linear-swap-ws", sim.local_addr());
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    let mut pings = 0;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Binary(b)) => {
                    let mut inflater = tickd_normalizer::htx::Inflater::new(1 << 20);
                    let text = inflater.inflate(&b).expect("gzip");
                    if text.starts_with(b"{\"ping\":") {
                        pings += 1;
                    }
                }
                Ok(Message::Close(_)) | Err(_) => return true,
                Ok(_) => {}
            }
        }
        true
    })
    .await
    .unwrap_or(false);
    assert!(closed, "a silent client is cut");
    assert!(pings >= 2, "{pings} pings");
    assert!(sim.stats().pong_timeout_closes >= 1);
    sim.shutdown().await;
}

/// `book_images`: books from `depth.step0` pushes on the market socket (spot and
/// USDT-M), each a SNAPSHOT image equal to the true book at its `version`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htx_depth_step0_images_are_snapshots_of_the_true_book() {
    for (venue, raws) in [(Venue::Htx, &SPOT[..]), (Venue::HtxUsdm, &USDM[..])] {
        init_logs();
        let config = htx_config(venue, raws, FaultConfig::default());
        let sim = SimServer::start(config.clone()).await.expect("sim starts");
        let mut s = htx_settings(venue, &sim, &config);
        s.book_images = true;
        s.channels = vec![Channel::Trades, Channel::Book];
        // Images carry the market's update id: checked by it, not by stamps.
        let (feed, checker) = run_until_synced(&sim, s, Checker::monotonic_trades(), 3).await;
        checker.assert_clean();
        let counters = feed.stop();
        eprintln!(
            "{venue} step0: {} book checks, {counters:?}",
            checker.book_checks
        );
        assert!(
            checker.book_checks > 20,
            "{venue}: {} checks",
            checker.book_checks
        );
        assert_eq!(checker.book_no_history, 0);
        assert_eq!(counters.decode_errors, 0);
        assert_eq!(checker.status_count(StatusKind::Gap), 0);
        assert_eq!(counters.books_synced, counters.books_total);
        assert_eq!(counters.books_total, 2);
        sim.shutdown().await;
    }
}

/// The server's pings are lost on the way (the `lose_pings_from` fault) on every
/// socket, the `{"ping"}` market sockets and the `op: ping` notification ones:
/// the simulator cuts the connection at the pong deadline, the feed reconnects,
/// flags the loss (disconnects, book resyncs) and its books come back equal to the
/// true book.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htx_a_feed_missing_a_ping_is_cut_reconnects_and_flags_the_loss() {
    init_logs();
    let faults = FaultConfig {
        lose_pings_from: Some(6),
        ..FaultConfig::default()
    };
    let mut config = htx_config(Venue::HtxUsdm, &USDM, faults);
    let rules = config.rules_mut(Venue::HtxUsdm);
    rules.ping_interval = Some(Duration::from_millis(150));
    rules.pong_timeout = Duration::from_millis(600);
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let s = htx_settings(Venue::HtxUsdm, &sim, &config);
    // Each socket is cut about 1.5 s after it opens: 4 s see both cut at least once.
    let (feed, checker) = run_until_synced(&sim, s, checker(Venue::HtxUsdm), 4).await;
    checker.assert_clean();
    let market = sim.market();
    let (received, _lost) = checker.check_trades(&market, &feed.registry, Venue::HtxUsdm);
    let stats = sim.stats();
    let counters = feed.stop();
    eprintln!(
        "lost pings: {} lost, {} pong-timeout closes, {received} trades, {counters:?}",
        stats.faults.lost_pings, stats.pong_timeout_closes
    );
    assert!(stats.faults.lost_pings >= 2, "{:?}", stats.faults);
    assert!(stats.pong_timeout_closes >= 2, "both sockets cut");
    assert!(counters.reconnects >= 2, "{counters:?}");
    assert!(checker.status_count(StatusKind::Disconnected) >= 2);
    assert!(
        checker.status_count(StatusKind::BookResync) + checker.status_count(StatusKind::Gap) >= 1,
        "the books' loss is flagged"
    );
    assert!(received > 20);
    assert_eq!(counters.books_synced, counters.books_total, "{counters:?}");
    sim.shutdown().await;
}
