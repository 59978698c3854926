//! Every fault the simulator can inject, in phases, against both Binance markets:
//! refused connects, abrupt drops, skipped depth ranges, malformed, truncated and
//! oversized frames, REST 429 with Retry-After, then stalls. Afterwards:
//! 1. trades arrive exactly once, in order, and every trade sent is received or
//!    inside a hole a gap record flagged;
//! 2. after every book event the feed's book equals the simulator's true book,
//!    except between a flagged gap/resync and the next snapshot;
//! 3. every injected depth gap is flagged by a gap record for its instrument;
//! 4. nothing panics (the feed threads end cleanly) and memory stays bounded
//!    (book levels and buffers capped, the test consumer never lapped).

mod e2e_support;

use std::time::Duration;

use e2e_support::*;
use tickd_bus::record::StatusKind;
use tickd_bus::Venue;
use tickd_feed::sim::{FaultConfig, RestError, SimServer, SkipDepth, Stall};

const BOOK_DEPTH: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_every_property() {
    init_logs();
    let mut config = sim_config(2, 2, 500);
    config.book_depth = BOOK_DEPTH;
    config.faults = FaultConfig {
        drop_after: Some(Duration::from_millis(2500)),
        skip_depth: Some(SkipDepth {
            every: 120,
            count: 3,
            symbol: None,
            max_per_connection: 2,
        }),
        malformed_every: Some(250),
        truncated_every: Some(330),
        oversized_every: Some(900),
        oversized_bytes: 64 << 10,
        refuse_every: Some(4),
        rest_error: Some(RestError {
            status: 429,
            first: 6,
            retry_after_secs: 1,
        }),
        ..FaultConfig::default()
    };
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let market = sim.market();
    let mut spot = start_feed(settings(Venue::Binance, &sim, &config));
    let mut usdm = start_feed(settings(Venue::BinanceUsdm, &sim, &config));
    let (mut cs, mut cu) = (Checker::default(), Checker::default());

    // Phase 1: drops, refusals, gaps, corrupt frames, REST 429.
    tokio::join!(
        spot.consume(&mut cs, &market, Duration::from_secs(7)),
        usdm.consume(&mut cu, &market, Duration::from_secs(7)),
    );
    // Phase 2: stalls (the watchdog must notice), corrupt frames continue.
    market.set_faults(FaultConfig {
        stall: Some(Stall {
            after: Duration::from_millis(800),
            duration: Duration::from_secs(10),
        }),
        malformed_every: Some(250),
        ..FaultConfig::default()
    });
    tokio::join!(
        spot.consume(&mut cs, &market, Duration::from_secs(5)),
        usdm.consume(&mut cu, &market, Duration::from_secs(5)),
    );
    // Phase 3: calm, so every book must end in sync (awaited, at most 8 s).
    market.set_faults(FaultConfig::default());
    for _ in 0..8 {
        tokio::join!(
            spot.consume(&mut cs, &market, Duration::from_secs(1)),
            usdm.consume(&mut cu, &market, Duration::from_secs(1)),
        );
        let synced = |c: tickd_feed::stats::CounterSnapshot| c.books_synced == c.books_total;
        if synced(spot.counters()) && synced(usdm.counters()) {
            break;
        }
    }

    let sim_stats = sim.stats();
    let rate_limited = spot.counters().rest_rate_limited + usdm.counters().rest_rate_limited;
    assert!(rate_limited >= 1, "429s must be seen and honoured");
    eprintln!("sim: {sim_stats:?}");
    for (run, checker) in [(spot, cs), (usdm, cu)] {
        let venue = run.venue;
        // 1 and 3 (trades).
        let (received, lost) = checker.check_trades(&market, &run.registry, venue);
        // 2 and sequence numbers.
        checker.assert_clean();
        // 3 (books): every injected depth gap on this venue is flagged for its instrument.
        {
            let reg = run.registry.read().expect("registry");
            for gap in sim_stats.gaps.iter().filter(|g| g.venue == venue) {
                let id = reg.by_raw(venue, &gap.symbol).expect("instrument").id;
                assert!(
                    checker.status_count_for(id, StatusKind::Gap) > 0,
                    "{venue}: injected gap {gap:?} not flagged"
                );
            }
        }
        let counters = run.counters();
        // 4: the thread ends cleanly.
        let end = run.stop();
        eprintln!(
            "{venue}: {received} trades ({lost} lost in flagged holes), {} book checks, {end:?}",
            checker.book_checks
        );
        assert!(received > 100, "{venue}: only {received} trades");
        assert!(
            checker.book_checks > 100,
            "{venue}: only {} book checks",
            checker.book_checks
        );
        assert!(
            counters.reconnects >= 2,
            "{venue}: drops must force reconnects"
        );
        assert!(
            counters.stale_reconnects >= 1,
            "{venue}: stalls must trip the watchdog"
        );
        assert!(
            counters.decode_errors >= 1,
            "{venue}: corrupt frames must be counted"
        );
        assert!(
            counters.gaps >= 1 && counters.resyncs >= 1,
            "{venue}: {counters:?}"
        );
        assert!(
            checker.status_count(StatusKind::Disconnected) >= 2
                && checker.status_count(StatusKind::Resubscribed) >= 1,
            "{venue}: disconnects and resubscriptions must be reported"
        );
        // Memory: books hold at most the true depth per side; buffers stay capped.
        assert!(
            counters.book_levels <= (2 * 2 * BOOK_DEPTH) as u64,
            "{venue}: {} levels",
            counters.book_levels
        );
        assert!(
            counters.books_synced == counters.books_total,
            "{venue}: books must resync after the faults: {counters:?}"
        );
    }
    assert!(sim_stats.faults.drops >= 2 && sim_stats.faults.skipped_depth_events >= 1);
    assert!(sim_stats.faults.rest_errors >= 1 && sim_stats.faults.stalls >= 1);
    sim.shutdown().await;
}
