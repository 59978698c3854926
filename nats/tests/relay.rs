//! Feed-node publishers → a real nats-server → an edge consumer, in one process: the
//! edge's rings get every record byte for byte, in order; book images join the
//! deltas with no gap or duplicate; lost records become an exact gap; a silent feed
//! node becomes a disconnected status.

use std::time::{Duration, Instant};

use tickd_bus::record::{BookSide, StatusKind, StatusMsg, StatusReason, TradeMsg};
use tickd_bus::ring::{ring, Consumer, Producer, TryRecv};
use tickd_bus::{
    Flags, InstrumentKind, InstrumentRegistry, InstrumentSpec, Price, RecordBuf, RecordHeader,
    SharedRegistry, Size, Venue,
};
use tickd_nats::testkit::NatsServer;
use tickd_nats::{spawn_edge, spawn_publisher, NatsSettings};
use tickd_normalizer::book::apply::BookReplay;
use tickd_normalizer::book::image::{clear_delta, set_delta, Stamp};
use tickd_normalizer::book::Level;

fn settings(server: &NatsServer, node: &str) -> NatsSettings {
    let mut s = NatsSettings {
        servers: vec![server.url()],
        node: node.into(),
        silence: Duration::from_millis(800),
        ..NatsSettings::default()
    };
    s.stream.max_age = Duration::from_secs(600);
    s.stream.max_bytes = 64 << 20;
    s
}

fn feed_registry(venue: Venue, kind: InstrumentKind) -> (SharedRegistry, u32) {
    let mut r = InstrumentRegistry::new();
    r.scope_ids_by_venue();
    let id = r
        .upsert(InstrumentSpec {
            venue,
            raw_symbol: "BTCUSDT".into(),
            base: "BTC".into(),
            quote: "USDT".into(),
            kind,
            tick_size: Price::parse_str("0.01").unwrap(),
            step_size: Size::parse_str("0.001").unwrap(),
        })
        .unwrap();
    (r.into_shared(), id)
}

fn trade(venue: Venue, id: u32, seq: u64) -> RecordBuf {
    let mut hd = RecordHeader::new::<TradeMsg>(venue, id, seq, seq);
    hd.sequence = seq;
    let mut t: TradeMsg = bytemuck::Zeroable::zeroed();
    t.hd = hd;
    t.price = Price::from_int(100 + (seq % 7) as i64).unwrap();
    t.size = Size::from_int(1).unwrap();
    t.trade_id = seq;
    RecordBuf::new(&t)
}

fn delta(venue: Venue, id: u32, seq: u64, price: i64, size: i64) -> RecordBuf {
    let stamp = Stamp {
        venue,
        instrument_id: id,
        ts_event: seq,
        ts_recv: seq,
    };
    let level = Level::new(
        Price::from_int(price).unwrap(),
        Size::from_int(size).unwrap(),
    );
    let side = if price < 100 {
        BookSide::Bid
    } else {
        BookSide::Ask
    };
    // The first record opens the book: an empty image.
    let mut d = if seq == 1 {
        clear_delta(&stamp, seq, Flags::SNAPSHOT | Flags::LAST)
    } else {
        set_delta(&stamp, side, level, seq, Flags::LAST)
    };
    d.hd.sequence = seq;
    RecordBuf::new(&d)
}

/// Reads a ring until `until` holds or the time is up.
fn collect(
    consumer: &mut Consumer,
    out: &mut Vec<RecordBuf>,
    until: impl Fn(&[RecordBuf]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !until(out) && Instant::now() < deadline {
        match consumer.recv_timeout(Duration::from_millis(20)) {
            TryRecv::Record(r) => out.push(r),
            TryRecv::Lagged(n) => panic!("edge ring lagged {n}"),
            TryRecv::Empty => {}
            TryRecv::Closed => break,
        }
    }
}

fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn publish_all(producer: &mut Producer, records: &[RecordBuf]) {
    for r in records {
        producer.publish(r);
    }
}

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
    assert!(
        book_records[0].header().flags.is_snapshot(),
        "starts with the seeded image"
    );
    let image_seq = book_records[0].header().sequence;
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
    for r in &book_records {
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
