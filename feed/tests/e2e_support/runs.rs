//! The e2e assertions several venues share word for word: the keep-alive cut-off
//! and the properties of a run under every fault.

use std::time::Duration;

use tickd_bus::record::StatusKind;
use tickd_bus::Venue;
use tickd_feed::sim::{SimConfig, SimServer, SimStats};
use tickd_feed::stats::CounterSnapshot;

use super::{init_logs, settings, start_feed, Checker, FeedRun};

/// A feed whose keep-alive comes far later than the simulator's 800 ms idle
/// cut-off, with nothing generated (`config` at rate 0, so only pings could keep
/// the connections up): in 4 s it is cut at least twice, reconnects each time,
/// and each cut is a `Disconnected` status record.
pub async fn assert_cut_without_pings(venue: Venue, mut config: SimConfig) {
    init_logs();
    config.rules_mut(venue).idle_close = Some(Duration::from_millis(800));
    let sim = SimServer::start(config.clone()).await.expect("sim starts");
    let market = sim.market();
    let mut feed = start_feed(settings(venue, &sim, &config));
    let mut checker = Checker::default();
    feed.consume(&mut checker, &market, Duration::from_secs(4))
        .await;
    let closes = sim.stats().idle_closes;
    let counters = feed.stop();
    assert!(closes >= 2, "{closes} idle closes");
    assert!(counters.reconnects >= 2, "{counters:?}");
    assert!(
        checker.status_count(StatusKind::Disconnected) >= 2,
        "each cut is a status record"
    );
    checker.assert_clean();
    sim.shutdown().await;
}

/// How a run under every fault ended, for a venue's own assertions after
/// [`assert_fault_run`]'s.
pub struct FaultRun {
    pub received: u64,
    pub lost: u64,
    pub stats: SimStats,
    pub counters: CounterSnapshot,
}

/// A run under every fault (drops, malformed frames, REST 429, refused connects):
/// the checker is clean (every trade once and in order, books true), each of those
/// faults happened, the feed reconnected and counted the corrupt frames, more than
/// `min_trades` trades came, at least one `flagged` status record (a `Gap`, or a
/// `BookResync` where a checksum finds the loss) was published, and every book is
/// synced again. Stops the feed and the simulator.
pub async fn assert_fault_run(
    venue: Venue,
    sim: SimServer,
    feed: FeedRun,
    checker: &Checker,
    min_trades: u64,
    flagged: StatusKind,
) -> FaultRun {
    let market = sim.market();
    let (received, lost) = checker.check_trades(&market, &feed.registry, venue);
    checker.assert_clean();
    let stats = sim.stats();
    let counters = feed.stop();
    eprintln!(
        "{venue} faults: {received} trades ({lost} lost, flagged), {} book checks, {counters:?}, sim {:?}",
        checker.book_checks, stats.faults
    );
    assert!(stats.faults.drops >= 1 && stats.faults.malformed >= 1);
    assert!(stats.faults.rest_errors >= 1 && stats.faults.refused >= 1);
    assert!(counters.reconnects >= 1);
    assert!(counters.decode_errors >= 1, "corrupt frames are counted");
    assert!(received > min_trades);
    assert!(checker.status_count(flagged) >= 1);
    assert_eq!(counters.books_synced, counters.books_total, "{counters:?}");
    sim.shutdown().await;
    FaultRun {
        received,
        lost,
        stats,
        counters,
    }
}

/// Every book of `books`, on one connection each, synced and connected.
pub fn all_synced_one_per_connection(feed: &FeedRun, books: u64) -> bool {
    let c = feed.counters();
    c.books_total == books && c.books_synced == books && c.connections_up == books
}

/// Consume in 250 ms steps until `ready` holds (asserted, within `within`).
pub async fn consume_until(
    sim: &SimServer,
    feed: &mut FeedRun,
    checker: &mut Checker,
    within: Duration,
    ready: impl Fn(&FeedRun) -> bool,
) {
    let market = sim.market();
    let deadline = std::time::Instant::now() + within;
    while !ready(feed) && std::time::Instant::now() < deadline {
        feed.consume(checker, &market, Duration::from_millis(250))
            .await;
    }
    assert!(ready(feed), "{:?}", feed.counters());
}

/// Drop every simulator connection at once, `storms` times; after each, consume
/// until `ready` holds again (within 10 s). How long each recovery took.
pub async fn reconnect_storms(
    sim: &SimServer,
    feed: &mut FeedRun,
    checker: &mut Checker,
    storms: usize,
    ready: impl Fn(&FeedRun) -> bool,
) -> Vec<Duration> {
    let market = sim.market();
    let mut took = Vec::with_capacity(storms);
    for _ in 0..storms {
        sim.drop_connections();
        let storm = std::time::Instant::now();
        // Let the drops land before waiting for the books to come back.
        feed.consume(checker, &market, Duration::from_millis(300))
            .await;
        consume_until(sim, feed, checker, Duration::from_secs(10), &ready).await;
        took.push(storm.elapsed());
    }
    took
}
