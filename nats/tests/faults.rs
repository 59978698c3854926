//! Faults with a real nats-server: the server stopped and restarted while the feed
//! publishes (nothing lost, nothing twice); an edge restarted mid-stream resumes after
//! its saved position; records that left the stream's retention while the edge was
//! away become one gap record with the exact count; NATS away longer than every buffer
//! leaves the feed node's own subscribers untouched and every lost record counted.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use tickd_bus::record::{StatusKind, StatusMsg, StatusReason, TradeMsg};
use tickd_bus::ring::{ring, Producer, RingHandle};
use tickd_bus::{InstrumentKind, InstrumentRegistry, RecordBuf, Venue};
use tickd_nats::testkit::NatsServer;
use tickd_nats::{spawn_edge, spawn_publisher, EdgeHandle, NatsSettings, PublisherHandle};

struct Edge {
    handle: EdgeHandle,
    ring: RingHandle,
}

fn start_server() -> NatsServer {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("info")
        .try_init();
    NatsServer::start().expect("nats-server (apt-get install nats-server)")
}

/// A feed node's ring (`slots`) and publisher (`batch` records per message), ready, its
/// instrument in the bucket; returns the instrument's id too.
fn start_feed(
    server: &NatsServer,
    slots: usize,
    batch: usize,
) -> (Producer, RingHandle, PublisherHandle, u32) {
    let (registry, id) = feed_registry(Venue::Binance, InstrumentKind::Spot);
    let (feed, feed_ring) = ring(slots);
    let mut feed_settings = settings(server, "feed-a");
    feed_settings.max_records_per_message = batch;
    let publisher = spawn_publisher(
        feed_settings,
        vec![(Venue::Binance, feed_ring.clone())],
        registry,
    )
    .unwrap();
    wait_for("publisher ready", || {
        publisher.stats().ready.load(Ordering::Acquire) == 1
    });
    std::thread::sleep(Duration::from_millis(600)); // the registry reaches the bucket
    (feed, feed_ring, publisher, id)
}

fn start_edge(settings: &NatsSettings) -> (Edge, tickd_bus::ring::Consumer) {
    let (producer, handle): (Producer, RingHandle) = ring(1 << 14);
    let consumer = handle.subscribe();
    let edge = spawn_edge(
        settings.clone(),
        vec![(Venue::Binance, producer)],
        InstrumentRegistry::new().into_shared(),
    )
    .unwrap();
    wait_for("edge ready", || {
        edge.stats().venues_ready.load(Ordering::Acquire) == 1
    });
    (
        Edge {
            handle: edge,
            ring: handle,
        },
        consumer,
    )
}

fn trade_seqs(records: &[RecordBuf]) -> Vec<u64> {
    records
        .iter()
        .filter(|r| r.get::<TradeMsg>().is_some())
        .map(|r| r.header().sequence)
        .collect()
}

/// Until the last trade received is `n` (looked for from the end: checked after every
/// record, so it must not rescan them all).
fn trades_until(n: u64) -> impl Fn(&[RecordBuf]) -> bool {
    move |v: &[RecordBuf]| {
        v.iter()
            .rev()
            .find(|r| r.get::<TradeMsg>().is_some())
            .map(|r| r.header().sequence)
            == Some(n)
    }
}

#[test]
fn server_restart_and_edge_restart_lose_nothing_and_retention_loss_is_an_exact_gap() {
    let mut server = start_server();
    let (mut feed, _, publisher, id) = start_feed(&server, 1 << 14, 10);

    let dir = tempfile::tempdir().unwrap();
    let mut edge_settings = settings(&server, "edge-c");
    edge_settings.position_file = Some(dir.path().join("nats-position.json"));
    edge_settings.silence = Duration::from_secs(30);
    let (edge, mut got) = start_edge(&edge_settings);

    let trades: Vec<RecordBuf> = (1..=1000).map(|s| trade(Venue::Binance, id, s)).collect();
    let mut seen = Vec::new();
    publish_all(&mut feed, &trades[..200]);
    collect(&mut got, &mut seen, trades_until(200));
    assert_eq!(trade_seqs(&seen), (1..=200).collect::<Vec<_>>());

    // nats-server stops while the feed publishes, then comes back on the same store.
    server.stop();
    publish_all(&mut feed, &trades[200..400]);
    std::thread::sleep(Duration::from_millis(300));
    server.restart().unwrap();
    collect(&mut got, &mut seen, trades_until(400));
    assert_eq!(
        trade_seqs(&seen),
        (1..=400).collect::<Vec<_>>(),
        "server restart: all, once, in order"
    );

    // The edge restarts mid-stream and resumes after its saved position.
    edge.handle.stop().unwrap();
    drop(edge.ring);
    publish_all(&mut feed, &trades[400..600]);
    wait_for("published 600", || {
        publisher.stats().records.load(Ordering::Relaxed) >= 600
    });
    let (edge, mut got) = start_edge(&edge_settings);
    let mut resumed = Vec::new();
    collect(&mut got, &mut resumed, trades_until(600));
    assert_eq!(
        trade_seqs(&resumed),
        (401..=600).collect::<Vec<_>>(),
        "edge restart: the rest, once"
    );
    assert!(
        !resumed.iter().any(|r| r.get::<StatusMsg>().is_some()),
        "no gap on a resume"
    );

    // Away again; meanwhile the oldest messages leave the stream (a purge stands in for
    // max_age / max_bytes): one gap with the exact count, then what is left.
    edge.handle.stop().unwrap();
    drop(edge.ring);
    publish_all(&mut feed, &trades[600..1000]);
    wait_for("published 1000", || {
        publisher.stats().records.load(Ordering::Relaxed) >= 1000
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(server.url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let stream = js.get_stream("TICKD").await.unwrap();
        // 400 records in messages of 10: keep the last 15 messages (150 records).
        stream.purge().keep(15).await.unwrap();
    });
    let (edge, mut got) = start_edge(&edge_settings);
    let mut after = Vec::new();
    collect(&mut got, &mut after, trades_until(1000));
    let gap = after[0].get::<StatusMsg>().expect("a gap record first");
    assert_eq!(gap.kind(), Some(StatusKind::Gap));
    assert_eq!(gap.reason(), Some(StatusReason::RelayLost));
    let delivered = trade_seqs(&after);
    // Batches can hold fewer than 10 records, so the 15 kept messages hold about 150:
    // whatever they hold, the gap counts exactly the records before them.
    let first_kept = 1001 - delivered.len() as u64;
    assert!(
        (100..=150).contains(&delivered.len()),
        "{} kept",
        delivered.len()
    );
    assert_eq!(delivered, (first_kept..=1000).collect::<Vec<_>>());
    assert_eq!(gap.lost, first_kept - 601, "exactly the purged records");
    assert_eq!(
        edge.handle.stats().records_lost.load(Ordering::Relaxed),
        gap.lost
    );

    edge.handle.stop().unwrap();
    publisher.stop().unwrap();
}

/// NATS away longer than the client's buffer: the feed node's own subscribers go on
/// untouched, the publisher is lapped by its ring, and once the server is back every
/// record an edge did not get is counted in a gap record (`bus_lagged` for what the
/// publisher never took, `relay_lost` for what died on the way): delivered + counted =
/// sent, exactly.
#[test]
fn nats_away_longer_than_the_buffers_is_counted_exactly_and_local_subscribers_go_on() {
    let mut server = start_server();
    // One record per message: the client's 8192-message buffer holds 8192 records.
    let (mut feed, feed_ring, publisher, id) = start_feed(&server, 1 << 10, 1);
    let mut local = feed_ring.subscribe();
    let mut edge_settings = settings(&server, "edge-c");
    edge_settings.silence = Duration::from_secs(30);
    let (edge, mut got) = start_edge(&edge_settings);

    const TOTAL: u64 = 12_100;
    let trades: Vec<RecordBuf> = (1..=TOTAL).map(|s| trade(Venue::Binance, id, s)).collect();
    let mut local_seen = 0u64;
    let mut drain_local = |local_seen: &mut u64| loop {
        match local.try_recv() {
            tickd_bus::ring::TryRecv::Record(_) => *local_seen += 1,
            tickd_bus::ring::TryRecv::Lagged(n) => {
                panic!("the feed node's own subscriber lagged {n}")
            }
            _ => break,
        }
    };
    let mut seen = Vec::new();
    publish_all(&mut feed, &trades[..100]);
    drain_local(&mut local_seen);
    collect(&mut got, &mut seen, trades_until(100));

    // The server goes away; the feed goes on at its own pace, its subscriber with it.
    server.stop();
    for chunk in trades[100..].chunks(500) {
        publish_all(&mut feed, chunk);
        drain_local(&mut local_seen);
        std::thread::sleep(Duration::from_millis(5));
    }
    drain_local(&mut local_seen);
    assert_eq!(local_seen, TOTAL, "the local subscriber got every record");
    server.restart().unwrap();
    collect(&mut got, &mut seen, trades_until(TOTAL));

    let delivered = trade_seqs(&seen);
    assert!(
        delivered.windows(2).all(|w| w[0] < w[1]),
        "in order, nothing twice"
    );
    assert_eq!(delivered.last(), Some(&TOTAL));
    let gaps: Vec<&StatusMsg> = seen
        .iter()
        .filter_map(|r| r.get::<StatusMsg>())
        .filter(|s| s.kind() == Some(StatusKind::Gap))
        .collect();
    let counted: u64 = gaps.iter().map(|g| g.lost).sum();
    assert!(counted > 0, "records were lost while the server was away");
    assert_eq!(
        delivered.len() as u64 + counted,
        TOTAL,
        "delivered + counted in gaps = sent ({} gaps: {:?})",
        gaps.len(),
        gaps.iter()
            .map(|g| (g.reason(), g.lost))
            .collect::<Vec<_>>()
    );
    let lagged: u64 = gaps
        .iter()
        .filter(|g| g.reason() == Some(StatusReason::BusLagged))
        .map(|g| g.lost)
        .sum();
    assert_eq!(
        lagged,
        publisher.stats().records_lost.load(Ordering::Relaxed),
        "the publisher's lag, counted on the edge"
    );
    edge.handle.stop().unwrap();
    publisher.stop().unwrap();
}
