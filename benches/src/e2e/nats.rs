//! `tickd-bench nats`: the NATS hop of a scale-out deployment (`docs/scale-out.md`)
//! against a real nats-server with JetStream on loopback, all in one process.
//!
//! 1. Burst throughput per batching option (`max_records_per_message`) and subject
//!    count: a producer puts N trade records into a feed ring that holds them all
//!    (spread round-robin over K instruments, so K subjects); the feed node's publisher
//!    sends them into the stream and an edge consumer reads them back. Reported:
//!    records/s handed to NATS, records/s through NATS (publisher → JetStream → edge
//!    ring), the messages the stream stored, and anything lost.
//! 2. Paced runs at a fixed rate, with the rings a node really has (the default 65,536
//!    slots), so a publisher that cannot keep up is lapped and counts the loss: does one
//!    feed node push that rate into JetStream without lag? Same run, latency from the
//!    moment a record enters the feed ring (`ts_recv` = now) to: a consumer of the feed
//!    ring, a consumer of the edge ring, and a WebSocket subscriber of a gateway on each
//!    ring (the unchanged gateway of `tickd serve` and of `tickd gateway`). Edge minus
//!    feed is what the NATS hop adds.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tickd_bus::record::TradeMsg;
use tickd_bus::ring::{ring, Bus, Consumer, RingHandle, TryRecv};
use tickd_bus::{
    InstrumentKind, InstrumentRegistry, InstrumentSpec, Price, RecordBuf, RecordHeader,
    SharedRegistry, Size, Venue,
};
use tickd_gateway::client::{Client, ClientConfig, Event, Transport};
use tickd_gateway::protocol::{Encoding, SlowPolicy};
use tickd_gateway::{Gateway, GatewayConfig, GatewayHandle};
use tickd_nats::testkit::NatsServer;
use tickd_nats::{spawn_edge, spawn_publisher, NatsSettings};

use super::hist::{new_hist, now_ns, record_delta, Summary};
use super::procstat::load_average;

/// A node's ring in `tickd serve` / `tickd gateway` (config `bus.ring_capacity`).
const NODE_RING: usize = 65_536;

#[derive(Debug, Clone)]
pub struct NatsBenchConfig {
    pub batch_sizes: Vec<usize>,
    pub subjects: Vec<u32>,
    pub burst_records: u64,
    /// (records/s, seconds) of each paced run.
    pub paced: Vec<(u64, u64)>,
    pub paced_subjects: u32,
}

impl NatsBenchConfig {
    pub fn new(quick: bool) -> Self {
        NatsBenchConfig {
            batch_sizes: vec![1, 16, 64, 256],
            subjects: vec![1, 16],
            burst_records: if quick { 200_000 } else { 1_000_000 },
            paced: if quick {
                vec![(20_000, 3), (100_000, 3)]
            } else {
                vec![(20_000, 10), (100_000, 10), (200_000, 10)]
            },
            paced_subjects: 16,
        }
    }

    /// The smallest run that still goes through every part (CI's smoke run).
    pub fn smoke() -> Self {
        NatsBenchConfig {
            batch_sizes: vec![1, 64],
            subjects: vec![4],
            burst_records: 5_000,
            paced: vec![(5_000, 1)],
            paced_subjects: 4,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BurstRow {
    pub batch: usize,
    pub subjects: u32,
    pub publish_per_sec: f64,
    pub through_per_sec: f64,
    pub messages: u64,
    pub stored: u64,
    pub lost: u64,
}

#[derive(Debug, Clone, Default)]
pub struct PacedRow {
    pub rate: u64,
    pub secs: u64,
    pub batch: usize,
    pub subjects: u32,
    pub sent: u64,
    /// Records the publisher lost to lag (the ring lapped it).
    pub lagged: u64,
    pub edge_records: u64,
    /// Messages the publisher sent, and the messages the stream holds.
    pub messages: u64,
    pub stored: u64,
    pub feed_ring: Summary,
    pub edge_ring: Summary,
    pub feed_ws: Summary,
    pub edge_ws: Summary,
    pub ws_gaps: u64,
    pub load: f64,
}

/// Settings for a run of `records` records. The stream's `max_bytes` is sized to the
/// run: JetStream refuses a stream larger than the storage it may use (75% of the free
/// disk by default), and a fixed large figure failed on a machine with little disk left.
fn settings(server: &NatsServer, node: &str, batch: usize, records: u64) -> NatsSettings {
    let mut s = NatsSettings {
        servers: vec![server.url()],
        node: node.into(),
        max_records_per_message: batch,
        ..NatsSettings::default()
    };
    // A record with one message of its own (batch 1) costs well under 256 bytes stored.
    let need = records.saturating_mul(256).max(64 << 20);
    s.stream.max_bytes = i64::try_from(need).unwrap_or(i64::MAX);
    s
}

/// A feed node's registry with `n` spot instruments (`S0-USDT`, `S1-USDT`, ...).
fn registry(n: u32) -> anyhow::Result<(SharedRegistry, Vec<u32>)> {
    let mut r = InstrumentRegistry::new();
    r.scope_ids_by_venue();
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(r.upsert(InstrumentSpec {
            venue: Venue::Binance,
            raw_symbol: format!("S{i}USDT"),
            base: format!("S{i}"),
            quote: "USDT".into(),
            kind: InstrumentKind::Spot,
            tick_size: Price::from_int(1).unwrap_or(Price::UNDEF),
            step_size: Size::from_int(1).unwrap_or(Size::ZERO),
            contract: None,
        })?);
    }
    Ok((r.into_shared(), ids))
}

/// The `n`th record (from 1) of a round-robin over `ids`; each instrument's sequence
/// goes 1, 2, 3, ... as a venue's does (a subscriber checks it per stream).
fn nth_trade(ids: &[u32], n: u64) -> RecordBuf {
    let k = ids.len().max(1) as u64;
    let i = ((n - 1) % k) as usize;
    trade(ids.get(i).copied().unwrap_or(0), (n - 1) / k + 1)
}

fn trade(id: u32, seq: u64) -> RecordBuf {
    let now = now_ns();
    let mut t: TradeMsg = bytemuck::Zeroable::zeroed();
    t.hd = RecordHeader::new::<TradeMsg>(Venue::Binance, id, now, now);
    t.hd.sequence = seq;
    t.trade_id = seq;
    RecordBuf::new(&t)
}

struct Drained {
    records: u64,
    lagged: u64,
    hist: Histogram<u64>,
    last: Instant,
}

/// Counts (and times) what a ring consumer gets until `stop` or `until` records.
fn drain(
    mut consumer: Consumer,
    until: u64,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Drained> {
    std::thread::spawn(move || {
        let mut d = Drained {
            records: 0,
            lagged: 0,
            hist: new_hist(),
            last: Instant::now(),
        };
        while d.records < until && !stop.load(Relaxed) {
            match consumer.recv_timeout(Duration::from_millis(20)) {
                TryRecv::Record(r) if r.get::<TradeMsg>().is_some() => {
                    d.records += 1;
                    d.last = Instant::now();
                    record_delta(&mut d.hist, r.header().ts_recv, now_ns());
                }
                TryRecv::Lagged(k) => d.lagged += k,
                TryRecv::Closed => break,
                TryRecv::Record(_) | TryRecv::Empty => {}
            }
        }
        d
    })
}

/// Waits up to 20 s for `cond`; on a timeout the error carries `why()`'s last word.
fn wait_ready(
    what: &str,
    cond: impl Fn() -> bool,
    why: impl Fn() -> Option<String>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        if Instant::now() > deadline {
            match why() {
                Some(err) => anyhow::bail!("timed out waiting for {what}: {err}"),
                None => anyhow::bail!("timed out waiting for {what}"),
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

fn join<T>(handle: std::thread::JoinHandle<T>) -> anyhow::Result<T> {
    handle
        .join()
        .map_err(|_| anyhow::anyhow!("a bench thread panicked"))
}

/// A feed node's publisher and an edge node's consumer on one test server.
struct Hop {
    server: NatsServer,
    feed: tickd_bus::ring::Producer,
    feed_ring: RingHandle,
    edge_ring: RingHandle,
    /// The edge's registry, filled from the bucket.
    edge_registry: SharedRegistry,
    feed_registry: SharedRegistry,
    ids: Vec<u32>,
    publisher: tickd_nats::PublisherHandle,
    edge: tickd_nats::EdgeHandle,
}

impl Hop {
    /// `records`: how many the run sends (sizes the stream).
    fn start(batch: usize, subjects: u32, capacity: usize, records: u64) -> anyhow::Result<Hop> {
        let server = NatsServer::start()?;
        let (feed_registry, ids) = registry(subjects)?;
        let (feed, feed_ring) = ring(capacity);
        let publisher = spawn_publisher(
            settings(&server, "bench-feed", batch, records),
            vec![(Venue::Binance, feed_ring.clone())],
            feed_registry.clone(),
        )?;
        wait_ready(
            "publisher",
            || publisher.stats().ready.load(Relaxed) == 1,
            || publisher.stats().setup_error(),
        )?;
        let (edge_producer, edge_ring) = ring(capacity);
        let edge_registry = InstrumentRegistry::new().into_shared();
        let edge = spawn_edge(
            settings(&server, "bench-edge", batch, records),
            vec![(Venue::Binance, edge_producer)],
            edge_registry.clone(),
        )?;
        wait_ready(
            "edge",
            || edge.stats().venues_ready.load(Relaxed) == 1,
            || None,
        )?;
        Ok(Hop {
            server,
            feed,
            feed_ring,
            edge_ring,
            edge_registry,
            feed_registry,
            ids,
            publisher,
            edge,
        })
    }

    /// Messages the stream holds (each one a whole batch the publisher sent).
    fn stored_messages(&self) -> anyhow::Result<u64> {
        let name = NatsSettings::default().stream.name;
        let (messages, _) = self
            .server
            .stream_state(&name)
            .map_err(anyhow::Error::msg)?;
        Ok(messages)
    }

    fn stop(self) -> anyhow::Result<()> {
        drop(self.feed);
        self.edge.stop().map_err(anyhow::Error::msg)?;
        self.publisher.stop().map_err(anyhow::Error::msg)?;
        Ok(())
    }
}

/// One batching option: N records as fast as they go.
pub fn burst(batch: usize, subjects: u32, records: u64) -> anyhow::Result<BurstRow> {
    let capacity = (records as usize + 1024).next_power_of_two();
    let mut hop = Hop::start(batch, subjects, capacity, records)?;
    let stop = Arc::new(AtomicBool::new(false));
    let reader = drain(hop.edge_ring.subscribe(), records, stop.clone());
    let t0 = Instant::now();
    for n in 1..=records {
        hop.feed.publish(&nth_trade(&hop.ids, n));
    }
    let stats = hop.publisher.stats().clone();
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
    let got = join(reader)?;
    drop(watchdog);
    let stored = hop.stored_messages()?;
    let row = BurstRow {
        batch,
        subjects,
        publish_per_sec: stats.records.load(Relaxed) as f64 / published.as_secs_f64(),
        through_per_sec: got.records as f64 / got.last.duration_since(t0).as_secs_f64(),
        messages: stats.messages.load(Relaxed),
        stored,
        lost: got.lagged + stats.records_lost.load(Relaxed) + records.saturating_sub(got.records),
    };
    hop.stop()?;
    Ok(row)
}

/// A gateway on `ring` and one WebSocket subscriber of every instrument's trades:
/// what a subscriber of that node gets, timed from `ts_recv`.
struct WsProbe {
    gateway: GatewayHandle,
    client: tokio::task::JoinHandle<(Histogram<u64>, u64)>,
}

fn ws_probe(
    rt: &tokio::runtime::Runtime,
    ring: &RingHandle,
    registry: SharedRegistry,
    streams: Vec<String>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<WsProbe> {
    let mut bus = Bus::new();
    bus.add(ring.clone());
    let config = GatewayConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        subscriber_queue: 65_536,
        ..GatewayConfig::default()
    };
    let gateway = rt.block_on(Gateway::start(config, bus, registry, None))?;
    let url = format!("ws://{}/v1/stream", gateway.local_addr());
    let client = ClientConfig::new(Transport::Ws(url))
        .encoding(Encoding::Binary)
        .policy(SlowPolicy::Drop)
        .reconnect(false)
        .streams(streams);
    let mut client = rt.block_on(Client::connect(client))?;
    let client = rt.spawn(async move {
        let (mut hist, mut gaps) = (new_hist(), 0);
        while !stop.load(Relaxed) {
            match client.next_timeout(Duration::from_millis(100)).await {
                Some(Event::Record { record, .. }) => {
                    record_delta(&mut hist, record.header().ts_recv, now_ns());
                }
                Some(Event::Gap { lost, .. }) => gaps += lost.max(1),
                Some(Event::Disconnected(_)) => break,
                Some(_) | None => {}
            }
        }
        (hist, gaps)
    });
    Ok(WsProbe { gateway, client })
}

impl WsProbe {
    fn finish(self, rt: &tokio::runtime::Runtime) -> anyhow::Result<(Histogram<u64>, u64)> {
        let result = rt.block_on(self.client)?;
        rt.block_on(self.gateway.shutdown());
        Ok(result)
    }
}

/// Records paced at `rate` for `secs` through node-sized rings.
pub fn paced(rate: u64, secs: u64, subjects: u32) -> anyhow::Result<PacedRow> {
    let batch = NatsSettings::default().max_records_per_message;
    let total = rate * secs;
    let mut hop = Hop::start(batch, subjects, NODE_RING, total)?;
    let stop = Arc::new(AtomicBool::new(false));
    let feed_reader = drain(hop.feed_ring.subscribe(), total, stop.clone());
    let edge_reader = drain(hop.edge_ring.subscribe(), total, stop.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-ws")
        .enable_all()
        .build()?;
    // Subscriptions are resolved against each node's registry: the edge has the feed
    // node's instruments from the bucket by now.
    let streams: Vec<String> = (0..subjects)
        .map(|i| format!("trades.binance.S{i}-USDT"))
        .collect();
    let feed_ws = ws_probe(
        &rt,
        &hop.feed_ring,
        hop.feed_registry.clone(),
        streams.clone(),
        stop.clone(),
    )?;
    let edge_ws = ws_probe(
        &rt,
        &hop.edge_ring,
        hop.edge_registry.clone(),
        streams,
        stop.clone(),
    )?;
    let lag0 = hop.publisher.stats().records_lost.load(Relaxed);
    // Paced in 1 ms steps.
    let per_ms = (rate / 1000).max(1);
    let t0 = Instant::now();
    let mut seq = 0;
    while seq < total {
        let due = t0 + Duration::from_micros(seq * 1000 / per_ms);
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        for _ in 0..per_ms.min(total - seq) {
            seq += 1;
            hop.feed.publish(&nth_trade(&hop.ids, seq));
        }
    }
    // Everything in flight arrives (bounded).
    let deadline = Instant::now() + Duration::from_secs(10);
    while hop.edge.stats().records.load(Relaxed) < total && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Relaxed);
    let feed = join(feed_reader)?;
    let edge = join(edge_reader)?;
    let (feed_ws, _) = feed_ws.finish(&rt)?;
    let (edge_ws, ws_gaps) = edge_ws.finish(&rt)?;
    rt.shutdown_timeout(Duration::from_secs(2));
    let stats = hop.publisher.stats().clone();
    let stored = hop.stored_messages()?;
    let row = PacedRow {
        rate,
        secs,
        batch,
        subjects,
        sent: total,
        lagged: stats.records_lost.load(Relaxed) - lag0,
        edge_records: edge.records,
        messages: stats.messages.load(Relaxed),
        stored,
        feed_ring: Summary::of(&feed.hist),
        edge_ring: Summary::of(&edge.hist),
        feed_ws: Summary::of(&feed_ws),
        edge_ws: Summary::of(&edge_ws),
        ws_gaps,
        load: load_average(),
    };
    hop.stop()?;
    Ok(row)
}

pub fn table(burst: &[BurstRow], paced: &[PacedRow]) -> String {
    let mut out = String::from(
        "burst: records/message | subjects | publisher → NATS rec/s | through NATS (→ JetStream → edge) rec/s | messages | stored | lost\n",
    );
    for r in burst {
        out.push_str(&format!(
            "{:>22} | {:>8} | {:>22.0} | {:>40.0} | {:>8} | {:>6} | {}\n",
            r.batch, r.subjects, r.publish_per_sec, r.through_per_sec, r.messages, r.stored, r.lost
        ));
    }
    let us = |ns: u64| ns as f64 / 1000.0;
    for p in paced {
        out.push_str(&format!(
            "\npaced: {} rec/s for {} s over {} subjects, {} per message (load {:.2}): sent {}, \
             publisher lagged {}, edge got {}, messages published {} / stored {}\n\
             µs from entering the feed ring to | p50 | p90 | p99 | p99.9 | max\n",
            p.rate,
            p.secs,
            p.subjects,
            p.batch,
            p.load,
            p.sent,
            p.lagged,
            p.edge_records,
            p.messages,
            p.stored
        ));
        for (name, s) in [
            ("feed node ring           ", &p.feed_ring),
            ("edge node ring           ", &p.edge_ring),
            ("feed node WS subscriber  ", &p.feed_ws),
            ("edge node WS subscriber  ", &p.edge_ws),
        ] {
            out.push_str(&format!(
                "{name}| {:.1} | {:.1} | {:.1} | {:.1} | {:.1}\n",
                us(s.p50),
                us(s.p90),
                us(s.p99),
                us(s.p999),
                us(s.max)
            ));
        }
        out.push_str(&format!(
            "NATS hop adds (edge − feed WS subscriber): p50 {:.1} µs, p99 {:.1} µs; edge subscriber gaps {}\n",
            us(p.edge_ws.p50.saturating_sub(p.feed_ws.p50)),
            us(p.edge_ws.p99.saturating_sub(p.feed_ws.p99)),
            p.ws_gaps
        ));
    }
    out
}

pub fn json(burst: &[BurstRow], paced: &[PacedRow]) -> serde_json::Value {
    serde_json::json!({
        "burst": burst.iter().map(|r| serde_json::json!({
            "records_per_message": r.batch, "subjects": r.subjects,
            "publish_per_sec": r.publish_per_sec, "through_per_sec": r.through_per_sec,
            "messages": r.messages, "stored_messages": r.stored, "lost": r.lost,
        })).collect::<Vec<_>>(),
        "paced": paced.iter().map(|p| serde_json::json!({
            "rate": p.rate, "secs": p.secs, "records_per_message": p.batch,
            "subjects": p.subjects, "sent": p.sent, "publisher_lagged": p.lagged,
            "edge_records": p.edge_records, "messages": p.messages, "stored_messages": p.stored,
            "load_average": p.load,
            "feed_ring": p.feed_ring.to_json(), "edge_ring": p.edge_ring.to_json(),
            "feed_ws_subscriber": p.feed_ws.to_json(), "edge_ws_subscriber": p.edge_ws.to_json(),
            "edge_ws_gaps": p.ws_gaps,
        })).collect::<Vec<_>>(),
    })
}
