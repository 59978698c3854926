//! Hostile-client soak on loopback, in two processes (so the server's memory and file
//! descriptors are its own):
//!
//! - `hostile server --trades N --rate R`: writes a journal of N trades, then runs a
//!   gateway over it fed by a real bus ring with R live trades per second; prints
//!   `listening <addr> pid <pid>` and runs until killed.
//! - `hostile clients --addr ADDR --server-pid PID --seconds S [--idle N]`: for S
//!   seconds at once: N idle TCP sockets, half-sent HTTP requests, WebSocket
//!   subscribers that never read, replays from the journal's start that never read,
//!   large history queries in a loop, oversized frames; and one well-behaved
//!   subscriber whose lost records are counted from its sequence numbers. Prints the
//!   connections the server held at most, its peak memory and the records lost.
//!
//! `scripts/soak-hostile.sh` runs both, bounded in count and time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tickd_bus::record::TradeMsg;
use tickd_bus::ring::{ring, Bus};
use tickd_bus::{
    InstrumentKind, InstrumentRegistry, InstrumentSpec, Price, RecordBuf, RecordHeader, Size, Venue,
};
use tickd_gateway::metrics::now_ns;
use tickd_gateway::{Gateway, GatewayConfig};
use tickd_storage::journal::{Journal, JournalConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
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
        _ => eprintln!("usage: hostile server [--trades N --rate R --dir D] | hostile clients --addr ADDR --server-pid PID [--seconds S --idle N]"),
    }
}

fn trade(id: u32, seq: u64, ts: u64) -> RecordBuf {
    let mut hd = RecordHeader::new::<TradeMsg>(Venue::Binance, id, ts, ts);
    hd.sequence = seq;
    RecordBuf::new(&TradeMsg {
        hd,
        price: Price::from_raw((50_000_000_000_000 + i128::from(seq)) * 1_000_000_000_000_000),
        size: Size::from_raw(100),
        trade_id: seq,
        trade_id_hi: 0,
        side: 1,
        _reserved: [0; 7],
    })
}

async fn server(opts: Opts) {
    let trades: u64 = get(&opts, "trades", 200_000);
    let rate: u64 = get(&opts, "rate", 500);
    let dir = std::path::PathBuf::from(get(&opts, "dir", "/tmp/tickd-soak".to_string()));
    let mut registry = InstrumentRegistry::new();
    let mut ids = Vec::new();
    for (raw, base) in [("BTCUSDT", "BTC"), ("ETHUSDT", "ETH")] {
        ids.push(
            registry
                .upsert(InstrumentSpec {
                    venue: Venue::Binance,
                    raw_symbol: raw.into(),
                    base: base.into(),
                    quote: "USDT".into(),
                    kind: InstrumentKind::Spot,
                    tick_size: Price::from_raw(1),
                    step_size: Size::from_raw(1),
                    contract: None,
                })
                .expect("instrument"),
        );
    }
    // History for the queries and replays: an earlier run's trades of both instruments.
    let _ = std::fs::remove_dir_all(&dir);
    {
        let (mut journal, _) = Journal::open(JournalConfig::new(&dir)).expect("journal");
        let start = now_ns() - trades * 1_000_000;
        for n in 0..trades {
            let id = ids[(n % 2) as usize];
            journal
                .append(&trade(id, n / 2 + 1, start + n * 1_000_000))
                .expect("append");
        }
        journal.close().expect("close");
    }
    let (mut producer, handle) = ring(1 << 16);
    let mut bus = Bus::new();
    bus.add(handle);
    let config = GatewayConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        max_connections: get(&opts, "max-connections", 2_000),
        header_timeout_ms: 2_000,
        idle_timeout_ms: 5_000,
        write_timeout_ms: 2_000,
        heartbeat_ms: 1_000,
        ..GatewayConfig::default()
    };
    let gateway = Gateway::start(config, bus, registry.into_shared(), Some(dir))
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
        for seq in 1u64.. {
            producer.publish(&trade(ids[0], seq, now_ns()));
            next += period;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    });
    std::future::pending::<()>().await;
}

fn status_kb(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The server's open sockets (its descriptors that are sockets).
fn sockets(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
                })
                .count()
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct Good {
    received: AtomicU64,
    first: AtomicU64,
    last: AtomicU64,
    gaps: AtomicU64,
    disconnected: AtomicBool,
}

async fn clients(opts: Opts) {
    let addr: SocketAddr = opts
        .get("addr")
        .and_then(|a| a.parse().ok())
        .expect("--addr host:port");
    let pid = opts.get("server-pid").cloned().expect("--server-pid");
    let seconds: u64 = get(&opts, "seconds", 20);
    let idle: usize = get(&opts, "idle", 5_000);
    let url = format!("ws://{addr}/v1/stream");
    let stop = Arc::new(AtomicBool::new(false));
    let good = Arc::new(Good::default());
    let mut tasks = Vec::new();

    // The well-behaved subscriber: reads everything, counts by sequence number.
    {
        let (good, stop, url) = (Arc::clone(&good), Arc::clone(&stop), url.clone());
        let (mut ws, _) = tokio_tungstenite::connect_async(&url)
            .await
            .expect("subscriber");
        ws.send(Message::text(
            r#"{"op":"subscribe","id":1,"streams":["trades.binance.BTC-USDT"]}"#,
        ))
        .await
        .expect("subscribe");
        tasks.push(tokio::spawn(async move {
            while !stop.load(Relaxed) {
                let text = match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                    Ok(Some(Ok(Message::Text(text)))) => text,
                    Ok(Some(Ok(_))) | Err(_) => continue,
                    Ok(None | Some(Err(_))) => {
                        good.disconnected.store(true, Relaxed);
                        return;
                    }
                };
                let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
                    continue;
                };
                match value["type"].as_str() {
                    Some("data") => {
                        let seq = value["seq"].as_u64().unwrap_or(0);
                        good.received.fetch_add(1, Relaxed);
                        let _ = good.first.compare_exchange(0, seq, Relaxed, Relaxed);
                        good.last.store(seq, Relaxed);
                    }
                    Some("gap") => {
                        good.gaps
                            .fetch_add(value["lost"].as_u64().unwrap_or(1), Relaxed);
                    }
                    _ => {}
                }
            }
        }));
    }

    // Idle sockets that never send a byte, opened as fast as the server takes them.
    let held = Arc::new(parking_lot::Mutex::new(Vec::new()));
    {
        let (held, stop) = (Arc::clone(&held), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move {
            for _ in 0..idle {
                if stop.load(Relaxed) {
                    break;
                }
                if let Ok(Ok(stream)) =
                    tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(addr)).await
                {
                    held.lock().push(stream);
                }
            }
        }));
    }
    // Half-sent HTTP requests, trickled a byte a second.
    for _ in 0..100 {
        let stop = Arc::clone(&stop);
        tasks.push(tokio::spawn(async move {
            let Ok(mut stream) = TcpStream::connect(addr).await else {
                return;
            };
            let _ = stream
                .write_all(b"GET /v1/status HTTP/1.1\r\nHost: x")
                .await;
            while !stop.load(Relaxed) {
                if stream.write_all(b"x").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }
    // Subscribers that never read: live data and replays from the journal's start.
    let mut silent = Vec::new();
    for i in 0..60 {
        if let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&url).await {
            let request = if i % 10 == 0 {
                r#"{"op":"subscribe","id":1,"streams":["trades.*.*"],"from":"2020-01-01"}"#
            } else {
                r#"{"op":"subscribe","id":1,"streams":["trades.*.*","bbo.*.*","book.*.*"]}"#
            };
            let _ = ws.send(Message::text(request)).await;
            silent.push(ws);
        }
    }
    // Oversized frames.
    for _ in 0..10 {
        if let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&url).await {
            let _ = ws.send(Message::text("x".repeat(1 << 20))).await;
        }
    }
    // Large history queries, 16 at a time, in a loop.
    let history_ok = Arc::new(AtomicU64::new(0));
    let history_refused = Arc::new(AtomicU64::new(0));
    for _ in 0..16 {
        let (stop, ok, refused) = (
            Arc::clone(&stop),
            Arc::clone(&history_ok),
            Arc::clone(&history_refused),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Relaxed) {
                let Ok(mut stream) = TcpStream::connect(addr).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let request =
                    "GET /v1/trades?venue=binance&symbol=BTC-USDT&limit=100000 HTTP/1.0\r\n\r\n";
                if stream.write_all(request.as_bytes()).await.is_err() {
                    continue;
                }
                let mut buf = vec![0u8; 64 * 1024];
                let mut first = Vec::new();
                while let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await
                {
                    if n == 0 {
                        break;
                    }
                    if first.len() < 12 {
                        first.extend_from_slice(&buf[..n.min(12)]);
                    }
                }
                if first.get(9..12) == Some(b"200") {
                    ok.fetch_add(1, Relaxed);
                } else {
                    refused.fetch_add(1, Relaxed);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }));
    }

    let started = Instant::now();
    let mut max_sockets = 0;
    let mut peak_kb = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        max_sockets = max_sockets.max(sockets(&pid));
        peak_kb = peak_kb.max(status_kb(&pid, "VmHWM:"));
    }
    stop.store(true, Relaxed);
    // Let the good subscriber drain what is in flight before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (first, last, received) = (
        good.first.load(Relaxed),
        good.last.load(Relaxed),
        good.received.load(Relaxed),
    );
    let expected = if first == 0 { 0 } else { last - first + 1 };
    let lost = expected.saturating_sub(received) + good.gaps.load(Relaxed);
    println!("soak: {seconds} s, {} idle sockets attempted, 100 half-sent requests, 60 silent subscribers (6 replaying from the start), 10 oversized frames, 16 history loops", idle);
    println!(
        "server: at most {max_sockets} sockets open, peak RSS {} MiB",
        peak_kb / 1024
    );
    println!(
        "history: {} answered, {} refused by the caps",
        history_ok.load(Relaxed),
        history_refused.load(Relaxed)
    );
    let disconnected = good.disconnected.load(Relaxed);
    println!(
        "well-behaved subscriber: {received} records, seq {first}..{last}, lost {lost}{}",
        if disconnected { ", DISCONNECTED" } else { "" }
    );
    for task in tasks {
        task.abort();
    }
    drop(silent);
    drop(held);
    if lost > 0 || received == 0 || disconnected {
        std::process::exit(1);
    }
}
