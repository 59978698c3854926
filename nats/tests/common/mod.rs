//! Helpers for the relay and fault tests: settings for a test server, registries,
//! records, and bounded waits.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use tickd_bus::record::{BookSide, TradeMsg};
use tickd_bus::ring::{Consumer, Producer, TryRecv};
use tickd_bus::{
    Flags, InstrumentKind, InstrumentRegistry, InstrumentSpec, Price, RecordBuf, RecordHeader,
    SharedRegistry, Size, Venue,
};
use tickd_nats::testkit::NatsServer;
use tickd_nats::NatsSettings;
use tickd_normalizer::book::image::{clear_delta, set_delta, Stamp};
use tickd_normalizer::book::Level;

pub fn settings(server: &NatsServer, node: &str) -> NatsSettings {
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

pub fn feed_registry(venue: Venue, kind: InstrumentKind) -> (SharedRegistry, u32) {
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
            contract: None,
        })
        .unwrap();
    (r.into_shared(), id)
}

pub fn trade(venue: Venue, id: u32, seq: u64) -> RecordBuf {
    let mut hd = RecordHeader::new::<TradeMsg>(venue, id, seq, seq);
    hd.sequence = seq;
    let mut t: TradeMsg = bytemuck::Zeroable::zeroed();
    t.hd = hd;
    t.price = Price::from_int(100 + (seq % 7) as i64).unwrap();
    t.size = Size::from_int(1).unwrap();
    t.trade_id = seq;
    RecordBuf::new(&t)
}

pub fn delta(venue: Venue, id: u32, seq: u64, price: i64, size: i64) -> RecordBuf {
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
pub fn collect(
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

pub fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn publish_all(producer: &mut Producer, records: &[RecordBuf]) {
    for r in records {
        producer.publish(r);
    }
}
