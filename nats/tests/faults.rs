//! Faults with a real nats-server: the server stopped and restarted while the feed
//! publishes (nothing lost, nothing twice); an edge restarted mid-stream resumes after
//! its saved position; records that left the stream's retention while the edge was
//! away become one gap record with the exact count.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use tickd_bus::record::{StatusKind, StatusMsg, StatusReason, TradeMsg};
use tickd_bus::ring::{ring, Producer, RingHandle};
use tickd_bus::{InstrumentKind, InstrumentRegistry, RecordBuf, Venue};
use tickd_nats::testkit::NatsServer;
use tickd_nats::{spawn_edge, spawn_publisher, EdgeHandle, NatsSettings};

struct Edge {
    handle: EdgeHandle,
    ring: RingHandle,
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

fn trades_until(n: u64) -> impl Fn(&[RecordBuf]) -> bool {
    move |v: &[RecordBuf]| trade_seqs(v).last() == Some(&n)
}

#[test]
fn server_restart_and_edge_restart_lose_nothing_and_retention_loss_is_an_exact_gap() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("info")
        .try_init();
    let mut server = NatsServer::start().expect("nats-server (apt-get install nats-server)");
    let (registry, id) = feed_registry(Venue::Binance, InstrumentKind::Spot);
    let (mut feed, feed_ring) = ring(1 << 14);
    let mut feed_settings = settings(&server, "feed-a");
    feed_settings.max_records_per_message = 10;
    let publisher =
        spawn_publisher(feed_settings, vec![(Venue::Binance, feed_ring)], registry).unwrap();
    wait_for("publisher ready", || {
        publisher.stats().ready.load(Ordering::Acquire) == 1
    });
    std::thread::sleep(Duration::from_millis(600)); // the registry reaches the bucket

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
