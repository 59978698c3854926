//! One measured run: the simulator, the feed (and optionally the gateway with N
//! subscribers) in this process on 127.0.0.1, warmed up, then measured for a while.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tickd_bus::instrument::InstrumentRegistry;
use tickd_bus::ring::{ring, Bus, TryRecv};
use tickd_bus::{Channel, RecordHeader, RecordType, Venue};
use tickd_feed::runtime::shutdown_channel;
use tickd_feed::sim::{SendTimeUnit, SimConfig, SimServer, SimSymbol};
use tickd_feed::venue::{spawn_venue, VenueSettings};

use super::hist::{new_hist, now_ns, record_delta, Summary};
use super::procstat::{rss_bytes, thread_cpu_secs};
use super::subscribers::{self, Encoding, Transport};

/// Thread-name prefixes of the server side (feed thread + gateway runtime): whose CPU
/// the report shows.
pub const SERVER_THREADS: [&str; 2] = ["feed-", "srv-"];

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    /// Simulator market steps per second over all symbols (each a trade and/or a
    /// book change; the feed's data frames per second are what the report calls msgs/s).
    pub rate: u32,
    pub symbols: usize,
    /// `None`: feed only (simulator → feed → bus consumer).
    pub transport: Option<Transport>,
    pub encoding: Encoding,
    pub subscribers: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub events_per_sec: f64,
    pub frames_per_sec: f64,
    pub records_per_sec: f64,
    /// Mean data frame size the feed read (bytes): the floor's message size.
    pub bytes_per_frame: f64,
    /// Records delivered to subscribers per second (all of them).
    pub deliveries_per_sec: f64,
    /// Simulator send → last receiver (bus consumer, or subscriber decode).
    pub e2e: Summary,
    pub hops: Vec<(&'static str, Summary)>,
    /// Server CPU (feed + gateway threads) as % of one core.
    pub server_cpu_pct: f64,
    pub rss_bytes: u64,
    /// Signs the run did not keep up: simulator events skipped, slow closes, bus lag,
    /// gateway drops, subscriber gaps.
    pub sim_behind: u64,
    pub sim_slow_closes: u64,
    pub bus_lagged: u64,
    pub gateway_drops: u64,
    pub subscriber_gaps: u64,
    /// Why subscribers' connections ended early (distinct reasons).
    pub subscriber_errors: Vec<String>,
    pub books_synced: u64,
    pub books_total: u64,
}

impl Outcome {
    /// Kept up: nothing skipped, dropped, lost or closed for being slow.
    pub fn sustained(&self) -> bool {
        self.sim_behind == 0
            && self.sim_slow_closes == 0
            && self.bus_lagged == 0
            && self.gateway_drops == 0
            && self.subscriber_gaps == 0
            && self.subscriber_errors.is_empty()
    }
}

/// Samples for latency: the last delta of each book event, whose `ts_event` is the
/// simulator's send time (µs, stamped into `E`). Trades carry the match time instead.
#[inline]
pub fn is_timed(h: &RecordHeader) -> bool {
    h.rtype == RecordType::BookDelta as u8
        && h.flags.is_last()
        && !h.flags.is_snapshot()
        && h.ts_event > 0
}

fn sim_config(s: &Scenario) -> SimConfig {
    SimConfig {
        symbols: SimSymbol::generate(Venue::Binance, s.symbols),
        rate_per_sec: s.rate,
        send_time_unit: Some(SendTimeUnit::Micros),
        book_depth: 50,
        queue_len: 1 << 18,
        trade_record_cap: 0,
        ..SimConfig::default()
    }
}

fn feed_settings(sim: &SimServer, config: &SimConfig) -> VenueSettings {
    let addr = sim.local_addr();
    let mut s = VenueSettings::new(
        Venue::Binance,
        &format!("ws://{addr}"),
        &format!("http://{addr}"),
    );
    s.symbols = config.symbols.iter().map(|sym| sym.raw.clone()).collect();
    s.channels = vec![Channel::Trades, Channel::Book];
    s.time_unit_micros = true;
    s.book_depth = 100;
    s.snapshot_requests_per_minute = 6_000;
    s.stale_after = Duration::from_secs(10);
    s.max_buffered_events = 100_000;
    s
}

/// The harness's own bus consumer: per-hop histograms for the timed records.
struct BusProbe {
    send_to_read: Histogram<u64>,
    read_to_consumer: Histogram<u64>,
    send_to_consumer: Histogram<u64>,
    lagged: u64,
}

pub fn run(s: &Scenario) -> anyhow::Result<Outcome> {
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("sim")
        .enable_all()
        .build()?;
    let config = sim_config(s);
    let sim = sim_rt.block_on(SimServer::start(config.clone()))?;

    let (producer, ring_handle) = ring(1 << 18);
    let mut bus = Bus::new();
    bus.add(ring_handle.clone());
    let registry = InstrumentRegistry::new().into_shared();
    let (trigger, shutdown) = shutdown_channel();
    let feed = tickd_feed::engine::registry::feed(Venue::Binance)
        .ok_or_else(|| anyhow::anyhow!("no binance feed"))?;
    let handle = spawn_venue(
        feed,
        feed_settings(&sim, &config),
        producer,
        registry.clone(),
        shutdown,
    )?;

    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let probe_records = Arc::new(AtomicU64::new(0));
    let probe = {
        let mut consumer = ring_handle.subscribe();
        let (measuring, stop, count) = (measuring.clone(), stop.clone(), probe_records.clone());
        std::thread::Builder::new()
            .name("bench-bus".into())
            .spawn(move || {
                let mut p = BusProbe {
                    send_to_read: new_hist(),
                    read_to_consumer: new_hist(),
                    send_to_consumer: new_hist(),
                    lagged: 0,
                };
                while !stop.load(Relaxed) {
                    match consumer.recv_timeout(Duration::from_millis(20)) {
                        TryRecv::Record(r) => {
                            let now = now_ns();
                            let h = r.header();
                            if measuring.load(Relaxed) {
                                count.fetch_add(1, Relaxed);
                                if is_timed(h) {
                                    record_delta(&mut p.send_to_read, h.ts_event, h.ts_recv);
                                    record_delta(&mut p.read_to_consumer, h.ts_recv, now);
                                    record_delta(&mut p.send_to_consumer, h.ts_event, now);
                                }
                            }
                        }
                        TryRecv::Lagged(n) => {
                            if measuring.load(Relaxed) {
                                p.lagged += n;
                            }
                        }
                        TryRecv::Closed => break,
                        TryRecv::Empty => {}
                    }
                }
                p
            })?
    };

    // Warm-up: every book synced (bounded), then the configured warm-up time.
    let counters = || handle.stats.counters.snapshot();
    let synced_by = Instant::now() + Duration::from_secs(30);
    while Instant::now() < synced_by {
        let c = counters();
        if c.books_total > 0 && c.books_synced == c.books_total {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Subscribers come after the instruments exist (a symbol subscription is resolved
    // against the registry when it is made) and the books are in sync.
    let gateway = match s.transport {
        Some(transport) => Some(subscribers::start(
            transport,
            s.encoding,
            s.subscribers,
            &config.symbols,
            bus,
            registry.clone(),
            measuring.clone(),
        )?),
        None => None,
    };

    std::thread::sleep(s.warmup);

    let sim0 = sim.stats();
    let feed0 = counters();
    let cpu0 = thread_cpu_secs(&SERVER_THREADS);
    let delivered0 = gateway.as_ref().map_or(0, |g| g.delivered());
    if let Some(g) = &gateway {
        g.start_measuring();
    }
    let t0 = Instant::now();
    measuring.store(true, Relaxed);
    std::thread::sleep(s.duration);
    measuring.store(false, Relaxed);
    let secs = t0.elapsed().as_secs_f64();
    let sim1 = sim.stats();
    let feed1 = counters();
    let cpu1 = thread_cpu_secs(&SERVER_THREADS);
    let rss = rss_bytes();
    let delivered1 = gateway.as_ref().map_or(0, |g| g.delivered());

    let mut out = Outcome {
        events_per_sec: (sim1.events_generated - sim0.events_generated) as f64 / secs,
        frames_per_sec: (feed1.messages - feed0.messages) as f64 / secs,
        records_per_sec: (feed1.records - feed0.records) as f64 / secs,
        bytes_per_frame: (feed1.bytes - feed0.bytes) as f64
            / (feed1.messages - feed0.messages).max(1) as f64,
        deliveries_per_sec: delivered1.saturating_sub(delivered0) as f64 / secs,
        server_cpu_pct: 100.0 * (cpu1 - cpu0) / secs,
        rss_bytes: rss,
        sim_behind: sim1.events_behind - sim0.events_behind,
        sim_slow_closes: sim1.slow_closes - sim0.slow_closes,
        books_synced: feed1.books_synced,
        books_total: feed1.books_total,
        ..Outcome::default()
    };

    let sub_result = gateway.map(subscribers::Running::finish);
    stop.store(true, Relaxed);
    trigger.trigger();
    let _ = handle.join();
    let p = probe
        .join()
        .map_err(|_| anyhow::anyhow!("bus probe thread panicked"))?;
    sim_rt.block_on(sim.shutdown());
    sim_rt.shutdown_timeout(Duration::from_secs(2));

    out.bus_lagged = p.lagged;
    out.hops
        .push(("sim send → feed read", Summary::of(&p.send_to_read)));
    out.hops
        .push(("feed read → bus consumer", Summary::of(&p.read_to_consumer)));
    out.e2e = Summary::of(&p.send_to_consumer);
    if let Some(r) = sub_result {
        out.hops.push(("feed read → gateway router", r.router));
        out.hops.push(("feed read → socket write", r.socket_write));
        out.hops
            .push(("feed read → subscriber decode", r.read_to_client));
        out.e2e = r.send_to_client;
        out.gateway_drops = r.drops;
        out.subscriber_gaps = r.gaps;
        out.subscriber_errors = r.errors;
    }
    Ok(out)
}
