//! No faults: both Binance markets against the simulator; every trade sent arrives
//! exactly once and in order, and the book equals the true book after every event.

mod e2e_support;

use std::time::Duration;

use e2e_support::*;
use tickd_bus::record::StatusKind;
use tickd_bus::{RecordType, Venue};
use tickd_feed::sim::SimServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_market_arrives_exactly_once_and_books_match() {
    init_logs();
    let config = sim_config(2, 2, 400);
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let market = sim.market();
    let mut runs = Vec::new();
    for venue in [Venue::Binance, Venue::BinanceUsdm] {
        runs.push(start_feed(settings(venue, &sim, &config)));
    }
    let mut checkers: Vec<Checker> = runs.iter().map(|_| Checker::default()).collect();
    // Read both rings concurrently for a bounded time.
    let (a, b) = runs.split_at_mut(1);
    let (ca, cb) = checkers.split_at_mut(1);
    tokio::join!(
        a[0].consume(&mut ca[0], &market, Duration::from_secs(6)),
        b[0].consume(&mut cb[0], &market, Duration::from_secs(6)),
    );
    for (run, checker) in runs.into_iter().zip(&checkers) {
        let venue = run.venue;
        let (received, lost) = checker.check_trades(&market, &run.registry, venue);
        checker.assert_clean();
        let counters = run.stop();
        eprintln!(
            "{venue}: {received} trades, {} book checks ({} beyond history), {} records, {counters:?}",
            checker.book_checks, checker.book_no_history, checker.records
        );
        assert!(received > 50, "{venue}: only {received} trades");
        assert_eq!(lost, 0, "{venue}: trades lost without faults");
        assert!(
            checker.book_checks > 50,
            "{venue}: only {} book checks",
            checker.book_checks
        );
        assert_eq!(
            checker.status_count(StatusKind::Gap),
            0,
            "{venue}: gaps without faults"
        );
        assert_eq!(counters.decode_errors, 0, "{venue}");
        assert!(checker.status_count(StatusKind::Connected) >= 1);
        assert_eq!(counters.books_total, 2);
        let count = |t| checker.by_type.get(&t).copied().unwrap_or(0);
        assert!(
            count(RecordType::Bbo) > 50,
            "{venue}: best bid/offer records"
        );
        if venue == Venue::BinanceUsdm {
            assert!(
                count(RecordType::MarkFunding) >= 4,
                "{venue}: mark price / funding"
            );
            assert!(
                count(RecordType::OpenInterest) >= 4,
                "{venue}: polled open interest"
            );
        }
    }
    sim.shutdown().await;
}
