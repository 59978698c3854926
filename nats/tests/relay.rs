//! Feed-node publishers → a real nats-server → an edge consumer, in one process: the
//! edge's rings get every record byte for byte, in order; book images join the
//! deltas with no gap or duplicate; a silent feed node becomes a disconnected status.

mod common;

use std::time::Duration;

use common::*;
use tickd_bus::record::{StatusKind, StatusMsg, StatusReason, TradeMsg};
use tickd_bus::ring::ring;
use tickd_bus::{InstrumentKind, InstrumentRegistry, RecordBuf, Venue};
use tickd_nats::testkit::NatsServer;
use tickd_nats::{spawn_edge, spawn_publisher};
use tickd_normalizer::book::apply::BookReplay;

#[test]
fn two_feed_nodes_reach_an_edge_in_order_with_books_seeded_at_the_seam() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("info")
        .try_init();
    let server = NatsServer::start().expect("nats-server (apt-get install nats-server)");
    let (reg_a, spot) = feed_registry(Venue::Binance, InstrumentKind::Spot);
    let (reg_b, perp) = feed_registry(Venue::BinanceUsdm, InstrumentKind::Perpetual);
    assert_ne!(spot, perp, "venue-scoped ids");
    let (mut prod_a, ring_a) = ring(1 << 12);
    let (mut prod_b, ring_b) = ring(1 << 12);
    let pub_a = spawn_publisher(
        settings(&server, "feed-a"),
        vec![(Venue::Binance, ring_a)],
        reg_a,
    )
    .unwrap();
    let pub_b = spawn_publisher(
        settings(&server, "feed-b"),
        vec![(Venue::BinanceUsdm, ring_b)],
        reg_b,
    )
    .unwrap();
    wait_for("publishers ready", || {
        pub_a
            .stats()
            .ready
            .load(std::sync::atomic::Ordering::Acquire)
            == 1
            && pub_b
                .stats()
                .ready
                .load(std::sync::atomic::Ordering::Acquire)
                == 1
    });

    // Book on A before the edge exists: the edge must get it from a snapshot.
    let before: Vec<RecordBuf> = (1..=20)
        .map(|s| delta(Venue::Binance, spot, s, 90 + (s % 20) as i64, s as i64))
        .collect();
    publish_all(&mut prod_a, &before);
    wait_for("A published the early book", || {
        pub_a
            .stats()
            .records
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 20
    });
    // Let the heartbeat publish the registries.
    std::thread::sleep(Duration::from_millis(600));

    let edge_registry = InstrumentRegistry::new().into_shared();
    let (edge_a, edge_ring_a) = ring(1 << 14);
    let (edge_b, edge_ring_b) = ring(1 << 14);
    let mut got_a = edge_ring_a.subscribe();
    let mut got_b = edge_ring_b.subscribe();
    let dir = tempfile::tempdir().unwrap();
    let mut edge_settings = settings(&server, "edge-c");
    edge_settings.position_file = Some(dir.path().join("pos.json"));
    let edge = spawn_edge(
        edge_settings,
        vec![(Venue::Binance, edge_a), (Venue::BinanceUsdm, edge_b)],
        edge_registry.clone(),
    )
    .unwrap();
    wait_for("edge ready", || {
        edge.stats()
            .venues_ready
            .load(std::sync::atomic::Ordering::Acquire)
            == 2
    });
    {
        let r = edge_registry.read().unwrap();
        assert_eq!(r.get(spot).unwrap().symbol, "BTC-USDT");
        assert_eq!(r.get(perp).unwrap().symbol, "BTC-USDT-PERP");
    }

    let trades_a: Vec<RecordBuf> = (1..=500).map(|s| trade(Venue::Binance, spot, s)).collect();
    let trades_b: Vec<RecordBuf> = (1..=500)
        .map(|s| trade(Venue::BinanceUsdm, perp, s))
        .collect();
    let after: Vec<RecordBuf> = (21..=40)
        .map(|s| delta(Venue::Binance, spot, s, 90 + (s % 20) as i64, 0))
        .collect();
    for i in 0..500 {
        prod_a.publish(&trades_a[i]);
        prod_b.publish(&trades_b[i]);
        if i < after.len() {
            prod_a.publish(&after[i]);
        }
    }

    let mut edge_records_a = Vec::new();
    collect(&mut got_a, &mut edge_records_a, |v| {
        v.iter().filter(|r| r.get::<TradeMsg>().is_some()).count() == 500
            && v.iter()
                .any(|r| r.header().sequence == 40 && r.get::<TradeMsg>().is_none())
    });
    let mut edge_records_b = Vec::new();
    collect(&mut got_b, &mut edge_records_b, |v| v.len() == 500);

    // Trades: exact bytes, in order.
    let edge_trades_a: Vec<&RecordBuf> = edge_records_a
        .iter()
        .filter(|r| r.get::<TradeMsg>().is_some())
        .collect();
    assert_eq!(edge_trades_a.len(), 500);
    for (a, b) in edge_trades_a.iter().zip(&trades_a) {
        assert_eq!(a.as_bytes(), b.as_bytes());
    }
    assert_eq!(edge_records_b.len(), 500);
    for (a, b) in edge_records_b.iter().zip(&trades_b) {
        assert_eq!(a.as_bytes(), b.as_bytes());
    }

    // Books: an image at the seam, then every later delta once: the edge's book equals
    // the feed's book built from every delta.
    let book_records: Vec<&RecordBuf> = edge_records_a
        .iter()
        .filter(|r| r.get::<TradeMsg>().is_none())
        .collect();
    // Deltas already covered by the image may come before it (in flight when the edge
    // started); from the image on, every later delta exactly once.
    let at = book_records
        .iter()
        .position(|r| r.header().flags.is_snapshot())
        .expect("the seeded image");
    let image_seq = book_records[at].header().sequence;
    assert!(book_records[..at]
        .iter()
        .all(|r| r.header().sequence <= image_seq));
    let book_records = &book_records[at..];
    let deltas: Vec<u64> = book_records
        .iter()
        .filter(|r| !r.header().flags.is_snapshot())
        .map(|r| r.header().sequence)
        .collect();
    assert_eq!(
        deltas,
        ((image_seq + 1)..=40).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    let mut edge_book = BookReplay::new();
    for r in book_records {
        edge_book.apply_record(r).unwrap();
    }
    let mut true_book = BookReplay::new();
    for r in before.iter().chain(&after) {
        true_book.apply_record(r).unwrap();
    }
    assert!(edge_book.is_valid());
    assert_eq!(edge_book.book(), true_book.book());

    // The feed node for B goes away: after the silence, a disconnected status.
    pub_b.stop().unwrap();
    let mut statuses = Vec::new();
    collect(&mut got_b, &mut statuses, |v| !v.is_empty());
    let status = statuses[0].get::<StatusMsg>().expect("a status record");
    assert_eq!(status.kind(), Some(StatusKind::Disconnected));
    assert_eq!(status.reason(), Some(StatusReason::StaleStream));

    edge.stop().unwrap();
    pub_a.stop().unwrap();
}
