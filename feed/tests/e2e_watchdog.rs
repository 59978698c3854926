//! A connection that stops delivering data (while the server keeps answering
//! pings) is reconnected by the stale-stream watchdog; data flows again after.

mod e2e_support;

use std::time::Duration;

use e2e_support::*;
use tickd_bus::record::{StatusKind, StatusReason};
use tickd_bus::Venue;
use tickd_feed::sim::{FaultConfig, SimServer, Stall};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_stream_is_reconnected() {
    init_logs();
    let mut config = sim_config(2, 0, 400);
    config.rules_mut(Venue::Binance).ping_interval = Some(Duration::from_millis(700));
    config.faults = FaultConfig {
        stall: Some(Stall {
            after: Duration::from_millis(1500),
            duration: Duration::from_secs(60),
        }),
        ..FaultConfig::default()
    };
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let market = sim.market();
    let mut s = settings(Venue::Binance, &sim, &config);
    s.stale_after = Duration::from_secs(1);
    let mut run = start_feed(s);
    let mut checker = Checker::default();
    run.consume(&mut checker, &market, Duration::from_secs(8))
        .await;
    checker.assert_clean();
    let (trades, _lost) = checker.check_trades(&market, &run.registry, Venue::Binance);
    let counters = run.stop();
    let stale = checker
        .statuses
        .iter()
        .filter(|s| {
            s.kind() == Some(StatusKind::Disconnected)
                && s.reason() == Some(StatusReason::StaleStream)
        })
        .count();
    assert!(counters.stale_reconnects >= 2, "{counters:?}");
    assert!(stale >= 2, "stale disconnects must be reported");
    assert!(checker.status_count(StatusKind::Resubscribed) >= 2);
    // Each new connection delivered data again before stalling.
    let connects = checker.status_count(StatusKind::Connected);
    assert!(
        connects >= 3 && trades > 100,
        "{connects} connects, {trades} trades"
    );
    sim.shutdown().await;
}
