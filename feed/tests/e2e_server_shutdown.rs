//! `serverShutdown` (the venue's maintenance notice): the feed opens a new connection at
//! once and swaps over with overlap, losing and duplicating nothing.

mod e2e_support;

use std::time::Duration;

use e2e_support::*;
use tickd_bus::record::StatusKind;
use tickd_bus::Venue;
use tickd_feed::sim::SimServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_notice_swaps_connections_without_loss() {
    init_logs();
    let config = sim_config(2, 0, 400);
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let market = sim.market();
    let mut run = start_feed(settings(Venue::Binance, &sim, &config));
    let mut checker = Checker::default();
    run.consume(&mut checker, &market, Duration::from_secs(3))
        .await;
    sim.announce_shutdown();
    run.consume(&mut checker, &market, Duration::from_secs(3))
        .await;
    sim.announce_shutdown();
    run.consume(&mut checker, &market, Duration::from_secs(3))
        .await;

    checker.assert_clean();
    let (trades, lost) = checker.check_trades(&market, &run.registry, Venue::Binance);
    let counters = run.stop();
    assert!(counters.rotations >= 2, "{counters:?}");
    assert_eq!(lost, 0);
    assert_eq!(checker.status_count(StatusKind::Gap), 0);
    assert_eq!(checker.status_count(StatusKind::BookResync), 0);
    assert!(checker.status_count(StatusKind::Connected) >= 3);
    assert!(trades > 100 && checker.book_checks > 100);
    sim.shutdown().await;
}
