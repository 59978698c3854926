//! Gateway load test on loopback, in two processes (so the server's memory is its own):
//!
//! - `loadtest server --rate R --instruments K`: a gateway on 127.0.0.1 fed by a real bus
//!   ring with R synthetic trades per second spread over K binance instruments; prints
//!   `listening <addr> pid <pid>` and runs until killed.
//! - `loadtest clients --url URL --server-pid PID --idle N --subscribers M --seconds S`:
//!   opens N idle WebSocket connections (they only answer heartbeats and pings) and M
//!   trade subscribers (subscriber i takes instrument i mod K), then measures for S
//!   seconds: the server's VmRSS per connection and delivery latency (now − ts_recv).
//!
//! `scripts/loadtest.sh` runs both, bounded in count and time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use tickd_bus::record::TradeMsg;
use tickd_bus::ring::{ring, Bus};
use tickd_bus::{
    InstrumentKind, InstrumentRegistry, InstrumentSpec, Price, RecordBuf, RecordHeader, Size, Venue,
};
use tickd_gateway::metrics::now_ns;
use tickd_gateway::{Gateway, GatewayConfig};
use tokio_tungstenite::tungstenite::Message;

type Opts = HashMap<String, String>;

fn opts(args: &[String]) -> Opts {
    args.chunks(2)
        .filter_map(|pair| match pair {
            [k, v] => Some((k.trim_start_matches("--").to_string(), v.clone())),
            _ => None,
        })
        .collect()
}

fn get<T: std::str::FromStr>(opts: &Opts, key: &str, default: T) -> T {
    opts.get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match args.first().map(String::as_str) {
        Some("server") => runtime.block_on(server(opts(&args[1..]))),
        Some("clients") => runtime.block_on(clients(opts(&args[1..]))),
        _ => eprintln!("usage: loadtest server [--rate R --instruments K] | loadtest clients --url URL --server-pid PID [--idle N --subscribers M --seconds S]"),
    }
}

fn symbol(i: usize) -> String {
    format!("S{i}USDT")
}

async fn server(opts: Opts) {
    let rate: u64 = get(&opts, "rate", 100);
    let instruments: usize = get(&opts, "instruments", 10);
    let mut registry = InstrumentRegistry::new();
    let mut ids = Vec::new();
    for i in 0..instruments {
        let spec = InstrumentSpec {
            venue: Venue::Binance,
            raw_symbol: symbol(i),
            base: format!("S{i}"),
            quote: "USDT".into(),
            kind: InstrumentKind::Spot,
            tick_size: Price::from_raw(1),
            step_size: Size::from_raw(1),
            contract: None,
        };
        ids.push(registry.upsert(spec).expect("instrument"));
    }
    let (mut producer, handle) = ring(1 << 16);
    let mut bus = Bus::new();
    bus.add(handle);
    let config = GatewayConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        heartbeat_ms: get(&opts, "heartbeat-ms", 1000),
        max_subscriptions_per_connection: 10,
        // Thousands of idle connections from one address that never subscribe.
        max_connections: 100_000,
        max_connections_per_ip: 0,
        idle_timeout_ms: u64::MAX / 2,
        ..GatewayConfig::default()
    };
    let gateway = Gateway::start(config, bus, registry.into_shared(), None)
        .await
        .expect("gateway");
    println!(
        "listening {} pid {}",
        gateway.local_addr(),
        std::process::id()
    );
    // The producer is a plain thread, like a feed: it never waits for the gateway.
    std::thread::spawn(move || {
        let period = Duration::from_nanos(1_000_000_000 / rate.max(1));
        let mut next = Instant::now();
        let mut seqs = vec![0u64; ids.len()];
        for n in 0u64.. {
            let k = (n as usize) % ids.len();
            seqs[k] += 1;
            let now = now_ns();
            let mut hd = RecordHeader::new::<TradeMsg>(Venue::Binance, ids[k], now, now);
            hd.sequence = seqs[k];
            producer.publish(&RecordBuf::new(&TradeMsg {
                hd,
                price: Price::from_raw(i128::from(50_000_000_000_000 + n as i64)),
                size: Size::from_raw(100),
                trade_id: n,
                trade_id_hi: 0,
                side: 1,
                _reserved: [0; 7],
            }));
            next += period;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    });
    std::future::pending::<()>().await;
}

fn rss_kb(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct Counts {
    connected: AtomicU64,
    failed: AtomicU64,
    heartbeats: AtomicU64,
    records: AtomicU64,
    gaps: AtomicU64,
}

async fn clients(opts: Opts) {
    let url = opts.get("url").cloned().unwrap_or_default();
    let pid = opts.get("server-pid").cloned().unwrap_or_default();
    let idle: usize = get(&opts, "idle", 10_000);
    let subscribers: usize = get(&opts, "subscribers", 1_000);
    let instruments: usize = get(&opts, "instruments", 10);
    let seconds: u64 = get(&opts, "seconds", 20);
    let counts = Arc::new(Counts::default());
    let latency = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("histogram"),
    ));
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rss_before = rss_kb(&pid);
    let started = Instant::now();
    // Connect in waves so the accept queue is not overrun.
    let mut tasks = Vec::new();
    for i in 0..idle + subscribers {
        let subscribe = (i >= idle).then(|| {
            format!(
                r#"{{"op":"subscribe","streams":["trades.binance.S{}-USDT"],"policy":"drop"}}"#,
                (i - idle) % instruments
            )
        });
        tasks.push(tokio::spawn(connection(
            url.clone(),
            subscribe,
            Arc::clone(&counts),
            Arc::clone(&latency),
            Arc::clone(&measuring),
        )));
        if i % 200 == 199 {
            while counts.connected.load(Relaxed) + counts.failed.load(Relaxed) < i as u64 + 1 - 100
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    let total = (idle + subscribers) as u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while counts.connected.load(Relaxed) + counts.failed.load(Relaxed) < total
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connect_time = started.elapsed();
    // Let subscriptions settle, then measure.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let records_before = counts.records.load(Relaxed);
    let beats_before = counts.heartbeats.load(Relaxed);
    measuring.store(true, Relaxed);
    let measure_start = Instant::now();
    let mut rss_peak = 0;
    while measure_start.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        rss_peak = rss_peak.max(rss_kb(&pid));
    }
    measuring.store(false, Relaxed);
    let elapsed = measure_start.elapsed().as_secs_f64();
    let rss_after = rss_kb(&pid);
    let connected = counts.connected.load(Relaxed);
    let h = latency.lock().clone();
    println!(
        "connections: {connected} of {total} connected ({} failed) in {:.1} s",
        counts.failed.load(Relaxed),
        connect_time.as_secs_f64()
    );
    println!("server VmRSS: {rss_before} kB before, {rss_after} kB with connections (peak {rss_peak} kB)");
    if connected > 0 {
        println!(
            "memory per connection: {:.1} kB",
            rss_after.saturating_sub(rss_before) as f64 / connected as f64
        );
    }
    println!(
        "delivered: {} records in {elapsed:.1} s ({:.0}/s) to {subscribers} subscribers; gaps {}; heartbeats {}",
        counts.records.load(Relaxed) - records_before,
        (counts.records.load(Relaxed) - records_before) as f64 / elapsed,
        counts.gaps.load(Relaxed),
        counts.heartbeats.load(Relaxed) - beats_before,
    );
    println!(
        "delivery latency (ts_recv → client decoded), us: p50 {:.0} p90 {:.0} p99 {:.0} p99.9 {:.0} max {:.0} (n={})",
        h.value_at_quantile(0.5) as f64 / 1e3,
        h.value_at_quantile(0.9) as f64 / 1e3,
        h.value_at_quantile(0.99) as f64 / 1e3,
        h.value_at_quantile(0.999) as f64 / 1e3,
        h.max() as f64 / 1e3,
        h.len()
    );
    if let Some(status) = http_get(&url, "/v1/status").await {
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(&status) {
            let send = &json["lag_ns"]["send"];
            let us = |k: &str| send[k].as_u64().unwrap_or(0) as f64 / 1e3;
            println!(
                "server send hop (ts_recv → written to socket, whole run), us: p50 {:.0} p99 {:.0} p99.9 {:.0} max {:.0}",
                us("p50"), us("p99"), us("p999"), us("max")
            );
        }
    }
    for task in tasks {
        task.abort();
    }
}

/// GET `path` on the gateway behind a `ws://host:port/...` URL.
async fn http_get(ws_url: &str, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = ws_url.strip_prefix("ws://")?.split('/').next()?;
    let mut stream = tokio::net::TcpStream::connect(host).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response).into_owned();
    text.split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

async fn connection(
    url: String,
    subscribe: Option<String>,
    counts: Arc<Counts>,
    latency: Arc<Mutex<Histogram<u64>>>,
    measuring: Arc<std::sync::atomic::AtomicBool>,
) {
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let connect = tokio_tungstenite::connect_async_with_config(&url, Some(config), true);
    let Ok((mut ws, _)) = connect.await else {
        counts.failed.fetch_add(1, Relaxed);
        return;
    };
    counts.connected.fetch_add(1, Relaxed);
    if let Some(subscribe) = subscribe {
        if ws.send(Message::text(subscribe)).await.is_err() {
            return;
        }
    }
    let mut samples = Vec::with_capacity(64);
    while let Some(Ok(message)) = ws.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        if text.starts_with(r#"{"type":"data""#) {
            counts.records.fetch_add(1, Relaxed);
            if measuring.load(Relaxed) {
                if let Ok(record) = tickd_gateway::protocol::json::decode(&text) {
                    samples.push(now_ns().saturating_sub(record.header().ts_recv).max(1));
                }
                if samples.len() >= 32 {
                    let mut h = latency.lock();
                    for s in samples.drain(..) {
                        let _ = h.record(s);
                    }
                }
            }
        } else if text.starts_with(r#"{"type":"heartbeat""#) {
            counts.heartbeats.fetch_add(1, Relaxed);
        } else if text.starts_with(r#"{"type":"gap""#) {
            counts.gaps.fetch_add(1, Relaxed);
        }
    }
}
