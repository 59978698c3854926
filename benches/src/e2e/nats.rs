//! `tickd-bench nats`: the NATS hop (`docs/scale-out.md`) against a real nats-server
//! with JetStream on loopback.
//!
//! 1. Throughput, per batch size (`max_records_per_message`): a producer fills a feed
//!    ring with N trade records as fast as it can (the ring holds them all, so nothing
//!    is lapped); the feed node's publisher sends them into the stream and an edge
//!    consumer reads them back. Reported: records/s handed to NATS by the publisher,
//!    and records/s through NATS (publisher → JetStream → edge ring), N / time.
//! 2. Hop latency, same run: records paced at a fixed rate, stamped `ts_recv` = now as
//!    they enter the feed ring; a consumer of the feed ring (what a subscriber of the
//!    feed node is fed from) and a consumer of the edge ring (what a subscriber of the
//!    edge node is fed from) record now - ts_recv. The difference is what the NATS hop
//!    adds; the gateway after it is the same code on both nodes.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tickd_bus::record::TradeMsg;
use tickd_bus::ring::{ring, Consumer, TryRecv};
use tickd_bus::{
    InstrumentKind, InstrumentRegistry, InstrumentSpec, Price, RecordBuf, RecordHeader, Size, Venue,
};
use tickd_nats::testkit::NatsServer;
use tickd_nats::{spawn_edge, spawn_publisher, NatsSettings};

use super::hist::{new_hist, now_ns, record_delta, Summary};

#[derive(Debug, Clone)]
pub struct NatsBenchConfig {
    pub batch_sizes: Vec<usize>,
    pub records: u64,
    pub latency_rate: u64,
    pub latency_secs: Duration,
    pub latency_batch: usize,
}

impl NatsBenchConfig {
    pub fn new(quick: bool) -> Self {
        NatsBenchConfig {
            batch_sizes: vec![1, 8, 64, 256],
            records: if quick { 200_000 } else { 1_000_000 },
            latency_rate: 20_000,
            latency_secs: Duration::from_secs(if quick { 3 } else { 10 }),
            latency_batch: 64,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ThroughputRow {
    pub batch: usize,
    pub publish_per_sec: f64,
    pub through_per_sec: f64,
    pub messages: u64,
    pub lost: u64,
}

#[derive(Debug, Clone, Default)]
pub struct LatencyResult {
    pub rate: u64,
    pub feed: Summary,
    pub edge: Summary,
    pub records: u64,
    pub lost: u64,
}

fn settings(server: &NatsServer, node: &str, batch: usize) -> NatsSettings {
    let mut s = NatsSettings {
        servers: vec![server.url()],
        node: node.into(),
        max_records_per_message: batch,
        ..NatsSettings::default()
    };
    s.stream.max_bytes = 4 << 30;
    s
}

fn registry() -> (tickd_bus::SharedRegistry, u32) {
    let mut r = InstrumentRegistry::new();
    r.scope_ids_by_venue();
    let id = r
        .upsert(InstrumentSpec {
            venue: Venue::Binance,
            raw_symbol: "BTCUSDT".into(),
            base: "BTC".into(),
            quote: "USDT".into(),
            kind: InstrumentKind::Spot,
            tick_size: Price::from_int(1).unwrap_or(Price::UNDEF),
            step_size: Size::from_int(1).unwrap_or(Size::ZERO),
            contract: None,
        })
        .expect("a valid instrument");
    (r.into_shared(), id)
}

fn trade(id: u32, seq: u64) -> RecordBuf {
    let now = now_ns();
    let mut t: TradeMsg = bytemuck_zeroed();
    t.hd = RecordHeader::new::<TradeMsg>(Venue::Binance, id, now, now);
    t.hd.sequence = seq;
    t.trade_id = seq;
    RecordBuf::new(&t)
}

fn bytemuck_zeroed<T: bytemuck::Zeroable>() -> T {
    T::zeroed()
}

/// Counts (and optionally times) what a ring consumer gets until `stop` or `until` records.
fn drain(
    mut consumer: Consumer,
    until: u64,
    stop: Arc<AtomicBool>,
    timed: bool,
) -> std::thread::JoinHandle<(u64, u64, Histogram<u64>, Instant)> {
    std::thread::spawn(move || {
        let (mut n, mut lost) = (0u64, 0u64);
        let mut h = new_hist();
        let mut last = Instant::now();
        while n < until && !stop.load(Relaxed) {
            match consumer.recv_timeout(Duration::from_millis(20)) {
                TryRecv::Record(r) => {
                    if r.get::<TradeMsg>().is_some() {
                        n += 1;
                        last = Instant::now();
                        if timed {
                            record_delta(&mut h, r.header().ts_recv, now_ns());
                        }
                    }
                }
                TryRecv::Lagged(k) => lost += k,
                TryRecv::Empty => {}
                TryRecv::Closed => break,
            }
        }
        (n, lost, h, last)
    })
}

fn wait_ready(what: &str, cond: impl Fn() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        if Instant::now() > deadline {
            anyhow::bail!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// One batch size: N records as fast as they can go.
pub fn throughput(batch: usize, records: u64) -> anyhow::Result<ThroughputRow> {
    let server = NatsServer::start()?;
    let (reg, id) = registry();
    let capacity = (records as usize + 1024).next_power_of_two();
    let (mut feed, feed_ring) = ring(capacity);
    let publisher = spawn_publisher(
        settings(&server, "bench-feed", batch),
        vec![(Venue::Binance, feed_ring)],
        reg,
    )?;
    wait_ready("publisher", || publisher.stats().ready.load(Relaxed) == 1)?;
    let (edge_producer, edge_ring) = ring(capacity);
    let edge_consumer = edge_ring.subscribe();
    let edge = spawn_edge(
        settings(&server, "bench-edge", batch),
        vec![(Venue::Binance, edge_producer)],
        InstrumentRegistry::new().into_shared(),
    )?;
    wait_ready("edge", || edge.stats().venues_ready.load(Relaxed) == 1)?;
    let stop = Arc::new(AtomicBool::new(false));
    let reader = drain(edge_consumer, records, stop.clone(), false);
    let t0 = Instant::now();
    for seq in 1..=records {
        feed.publish(&trade(id, seq));
    }
    let stats = publisher.stats().clone();
    let deadline = Instant::now() + Duration::from_secs(120);
    while stats.records.load(Relaxed) < records && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let published = t0.elapsed();
    let watchdog = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(60));
            stop.store(true, Relaxed);
        })
    };
    let (got, lost, _, last) = reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader panicked"))?;
    drop(watchdog);
    let through = last.duration_since(t0);
    let row = ThroughputRow {
        batch,
        publish_per_sec: stats.records.load(Relaxed) as f64 / published.as_secs_f64(),
        through_per_sec: got as f64 / through.as_secs_f64(),
        messages: stats.messages.load(Relaxed),
        lost: lost + stats.records_lost.load(Relaxed) + records.saturating_sub(got),
    };
    drop(feed);
    let _ = edge.stop();
    let _ = publisher.stop();
    Ok(row)
}

/// Paced records: latency from the feed ring vs from the edge ring, same records.
pub fn latency(cfg: &NatsBenchConfig) -> anyhow::Result<LatencyResult> {
    let server = NatsServer::start()?;
    let (reg, id) = registry();
    let (mut feed, feed_ring) = ring(1 << 18);
    let local = feed_ring.subscribe();
    let publisher = spawn_publisher(
        settings(&server, "bench-feed", cfg.latency_batch),
        vec![(Venue::Binance, feed_ring)],
        reg,
    )?;
    wait_ready("publisher", || publisher.stats().ready.load(Relaxed) == 1)?;
    let (edge_producer, edge_ring) = ring(1 << 18);
    let edge_consumer = edge_ring.subscribe();
    let edge = spawn_edge(
        settings(&server, "bench-edge", cfg.latency_batch),
        vec![(Venue::Binance, edge_producer)],
        InstrumentRegistry::new().into_shared(),
    )?;
    wait_ready("edge", || edge.stats().venues_ready.load(Relaxed) == 1)?;
    let total = cfg.latency_rate * cfg.latency_secs.as_secs();
    let stop = Arc::new(AtomicBool::new(false));
    let feed_reader = drain(local, total, stop.clone(), true);
    let edge_reader = drain(edge_consumer, total, stop.clone(), true);
    // Paced in 1 ms steps.
    let per_ms = (cfg.latency_rate / 1000).max(1);
    let t0 = Instant::now();
    let mut seq = 0;
    while seq < total {
        let due = t0 + Duration::from_micros(seq * 1000 / per_ms);
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        for _ in 0..per_ms.min(total - seq) {
            seq += 1;
            feed.publish(&trade(id, seq));
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Relaxed);
    let (n_feed, lost_feed, h_feed, _) = feed_reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader panicked"))?;
    let (n_edge, lost_edge, h_edge, _) = edge_reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader panicked"))?;
    drop(feed);
    let _ = edge.stop();
    let _ = publisher.stop();
    Ok(LatencyResult {
        rate: cfg.latency_rate,
        feed: Summary::of(&h_feed),
        edge: Summary::of(&h_edge),
        records: n_feed.min(n_edge),
        lost: lost_feed + lost_edge + total.saturating_sub(n_edge),
    })
}

pub fn table(rows: &[ThroughputRow], latency: &LatencyResult) -> String {
    let mut out = String::from(
        "records/message | publisher → NATS rec/s | through NATS (→ JetStream → edge) rec/s | messages | lost\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{:>15} | {:>22.0} | {:>40.0} | {:>8} | {}\n",
            r.batch, r.publish_per_sec, r.through_per_sec, r.messages, r.lost
        ));
    }
    let us = |ns: u64| ns as f64 / 1000.0;
    out.push_str(&format!(
        "\nlatency at {} rec/s ({} records, {} lost), µs from entering the feed ring:\n\
         where the subscriber's records come from | p50 | p90 | p99 | p99.9 | max\n\
         feed node ring   | {:.1} | {:.1} | {:.1} | {:.1} | {:.1}\n\
         edge node ring   | {:.1} | {:.1} | {:.1} | {:.1} | {:.1}\n",
        latency.rate,
        latency.records,
        latency.lost,
        us(latency.feed.p50),
        us(latency.feed.p90),
        us(latency.feed.p99),
        us(latency.feed.p999),
        us(latency.feed.max),
        us(latency.edge.p50),
        us(latency.edge.p90),
        us(latency.edge.p99),
        us(latency.edge.p999),
        us(latency.edge.max),
    ));
    out
}

pub fn json(rows: &[ThroughputRow], latency: &LatencyResult) -> serde_json::Value {
    serde_json::json!({
        "throughput": rows.iter().map(|r| serde_json::json!({
            "records_per_message": r.batch, "publish_per_sec": r.publish_per_sec,
            "through_per_sec": r.through_per_sec, "messages": r.messages, "lost": r.lost,
        })).collect::<Vec<_>>(),
        "latency": {
            "rate": latency.rate, "records": latency.records, "lost": latency.lost,
            "feed_ring": latency.feed.to_json(), "edge_ring": latency.edge.to_json(),
        },
    })
}
