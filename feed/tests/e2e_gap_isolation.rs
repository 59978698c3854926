//! A sequence gap in one symbol resyncs that symbol only: the others keep their
//! books (no resync record), and the connection stays up.

mod e2e_support;

use std::time::Duration;

use e2e_support::*;
use tickd_bus::record::StatusKind;
use tickd_bus::Venue;
use tickd_feed::sim::{FaultConfig, SimServer, SkipDepth};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gap_in_one_symbol_resyncs_only_that_symbol() {
    init_logs();
    let mut config = sim_config(3, 0, 450);
    config.faults = FaultConfig {
        skip_depth: Some(SkipDepth {
            every: 80,
            count: 2,
            symbol: Some("BTCUSDT".into()),
            max_per_connection: 3,
        }),
        ..FaultConfig::default()
    };
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let market = sim.market();
    let mut run = start_feed(settings(Venue::Binance, &sim, &config));
    let mut checker = Checker::default();
    run.consume(&mut checker, &market, Duration::from_secs(7))
        .await;

    checker.assert_clean();
    let (trades, lost) = checker.check_trades(&market, &run.registry, Venue::Binance);
    let (btc, others): (u32, Vec<u32>) = {
        let reg = run.registry.read().expect("registry");
        let btc = reg.by_raw(Venue::Binance, "BTCUSDT").expect("btc").id;
        let others = ["ETHUSDT", "SOLUSDT"]
            .iter()
            .map(|raw| reg.by_raw(Venue::Binance, raw).expect("symbol").id)
            .collect();
        (btc, others)
    };
    let injected = sim.stats().gaps.len();
    assert!(
        injected >= 2,
        "the sim must have skipped ranges: {injected}"
    );
    assert!(checker.status_count_for(btc, StatusKind::Gap) >= injected);
    assert!(checker.status_count_for(btc, StatusKind::BookResync) >= injected);
    for id in others {
        assert_eq!(
            checker.status_count_for(id, StatusKind::Gap),
            0,
            "instrument {id}"
        );
        assert_eq!(
            checker.status_count_for(id, StatusKind::BookResync),
            0,
            "instrument {id}"
        );
    }
    let counters = run.stop();
    assert_eq!(counters.reconnects, 0, "a gap must not cost the connection");
    assert_eq!(lost, 0, "no trade lost: only depth ranges were skipped");
    assert!(
        trades > 50 && checker.book_checks > 100,
        "{trades} trades, {} checks",
        checker.book_checks
    );
    assert_eq!(
        counters.books_synced, 3,
        "every book ends in sync: {counters:?}"
    );
    sim.shutdown().await;
}
