//! Proactive rotation before the connection lifetime (set to 2 s here): a new
//! connection overlaps the old one, and across every swap no trade or book event is
//! lost or duplicated — no gap, no resync, every trade sent received once.

mod e2e_support;

use std::time::Duration;

use e2e_support::*;
use tickd_bus::record::{StatusKind, StatusReason};
use tickd_bus::Venue;
use tickd_feed::sim::SimServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_loses_and_duplicates_nothing() {
    init_logs();
    let config = sim_config(2, 2, 400);
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let market = sim.market();
    let mut runs: Vec<FeedRun> = [Venue::Binance, Venue::BinanceUsdm]
        .into_iter()
        .map(|venue| {
            let mut s = settings(venue, &sim, &config);
            s.max_connection_age = Duration::from_secs(2);
            start_feed(s)
        })
        .collect();
    let mut checkers = vec![Checker::default(), Checker::default()];
    let (a, b) = runs.split_at_mut(1);
    let (ca, cb) = checkers.split_at_mut(1);
    tokio::join!(
        a[0].consume(&mut ca[0], &market, Duration::from_secs(9)),
        b[0].consume(&mut cb[0], &market, Duration::from_secs(9)),
    );
    for (run, checker) in runs.into_iter().zip(&checkers) {
        let venue = run.venue;
        checker.assert_clean();
        let (trades, lost) = checker.check_trades(&market, &run.registry, venue);
        let counters = run.stop();
        eprintln!(
            "{venue}: {trades} trades, {} book checks, {counters:?}",
            checker.book_checks
        );
        assert!(counters.rotations >= 2, "{venue}: {counters:?}");
        assert_eq!(lost, 0, "{venue}: trades lost across rotations");
        assert_eq!(
            checker.status_count(StatusKind::Gap),
            0,
            "{venue}: gaps across rotations"
        );
        assert_eq!(
            checker.status_count(StatusKind::BookResync),
            0,
            "{venue}: resyncs across rotations"
        );
        assert!(
            counters.duplicates > 0,
            "{venue}: the overlap must have delivered duplicates to drop"
        );
        let rotated = checker
            .statuses
            .iter()
            .filter(|s| {
                s.kind() == Some(StatusKind::Disconnected)
                    && s.reason() == Some(StatusReason::LifetimeRotation)
            })
            .count();
        assert!(rotated >= 2, "{venue}: rotations must be reported");
        assert!(trades > 100 && checker.book_checks > 100, "{venue}");
    }
    sim.shutdown().await;
}
