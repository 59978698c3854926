//! tickd against cryptofeed on the same simulator stream (`scripts/compare-cryptofeed.sh`).
//!
//! One simulator in this process; for each stream kind (Binance trades, Binance depth)
//! tickd's feed runs first, then cryptofeed (a Python subprocess, `scripts/cryptofeed/
//! cf_bench.py`) against the same simulator, market and rate. Each side reports the
//! normalized messages it produced, the CPU seconds it used (tickd: the feed thread;
//! cryptofeed: its process) and receive → output latency (tickd: frame read → bus
//! consumer; cryptofeed: `receipt_timestamp` → callback).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tickd_bus::instrument::InstrumentRegistry;
use tickd_bus::ring::{ring, TryRecv};
use tickd_bus::{Channel, RecordBuf, RecordType, Venue};
use tickd_feed::runtime::shutdown_channel;
use tickd_feed::sim::{SimConfig, SimServer, SimSymbol};
use tickd_feed::venue::{spawn_venue, VenueSettings};
use tickd_normalizer::binance::{BinanceDecoder, BinanceMarket};
use tickd_normalizer::SymbolMap;

use super::hist::{new_hist, now_ns, record_delta, Summary};
use super::procstat::thread_cpu_secs;

#[derive(Debug, Clone)]
pub struct CompareConfig {
    pub python: PathBuf,
    pub script: PathBuf,
    pub rate: u32,
    pub symbols: usize,
    pub warmup: Duration,
    pub secs: Duration,
}

/// One side's measurement of one stream kind.
#[derive(Debug, Clone, Default)]
pub struct Side {
    pub messages: u64,
    pub cpu_secs: f64,
    pub wall_secs: f64,
    pub latency: Summary,
}

impl Side {
    /// Normalized messages per CPU-second (per core).
    pub fn per_core(&self) -> f64 {
        if self.cpu_secs > 0.0 {
            self.messages as f64 / self.cpu_secs
        } else {
            0.0
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "messages": self.messages, "cpu_secs": self.cpu_secs, "wall_secs": self.wall_secs,
            "messages_per_cpu_sec": self.per_core(), "latency": self.latency.to_json(),
        })
    }
}

pub struct StreamResult {
    pub kind: &'static str,
    pub tickd: Side,
    pub cryptofeed: Result<Side, String>,
}

fn tickd_side(
    sim: &SimServer,
    cfg: &CompareConfig,
    symbols: &[SimSymbol],
    channel: Channel,
) -> anyhow::Result<Side> {
    let addr = sim.local_addr();
    let mut s = VenueSettings::new(
        Venue::Binance,
        &format!("ws://{addr}"),
        &format!("http://{addr}"),
    );
    s.symbols = symbols.iter().map(|sym| sym.raw.clone()).collect();
    s.channels = vec![channel];
    s.book_depth = 100;
    s.snapshot_requests_per_minute = 600;
    s.stale_after = Duration::from_secs(10);
    let (producer, handle) = ring(1 << 18);
    let mut consumer = handle.subscribe();
    let (trigger, shutdown) = shutdown_channel();
    let feed = tickd_feed::engine::registry::feed(Venue::Binance)
        .ok_or_else(|| anyhow::anyhow!("no binance feed"))?;
    let venue = spawn_venue(
        feed,
        s,
        producer,
        InstrumentRegistry::new().into_shared(),
        shutdown,
    )?;
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let probe = {
        let (measuring, stop) = (measuring.clone(), stop.clone());
        std::thread::Builder::new()
            .name("bench-bus".into())
            .spawn(move || {
                let mut h = new_hist();
                while !stop.load(Relaxed) {
                    if let TryRecv::Record(r) = consumer.recv_timeout(Duration::from_millis(20)) {
                        let now = now_ns();
                        let hd = r.header();
                        // One sample per message: each trade, or the last delta of a book event.
                        let per_message = hd.rtype == RecordType::Trade as u8
                            || (hd.rtype == RecordType::BookDelta as u8
                                && hd.flags.is_last()
                                && !hd.flags.is_snapshot());
                        if per_message && measuring.load(Relaxed) {
                            record_delta(&mut h, hd.ts_recv, now);
                        }
                    }
                }
                h
            })?
    };
    let counters = || venue.stats.counters.snapshot();
    let deadline = Instant::now() + Duration::from_secs(30);
    while channel == Channel::Book && Instant::now() < deadline {
        let c = counters();
        if c.books_total > 0 && c.books_synced == c.books_total {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(cfg.warmup);
    let (c0, cpu0, t0) = (counters(), thread_cpu_secs(&["feed-"]), Instant::now());
    measuring.store(true, Relaxed);
    std::thread::sleep(cfg.secs);
    measuring.store(false, Relaxed);
    let (c1, cpu1, wall) = (
        counters(),
        thread_cpu_secs(&["feed-"]),
        t0.elapsed().as_secs_f64(),
    );
    stop.store(true, Relaxed);
    trigger.trigger();
    let _ = venue.join();
    let h = probe
        .join()
        .map_err(|_| anyhow::anyhow!("probe thread panicked"))?;
    Ok(Side {
        messages: c1.messages - c0.messages,
        cpu_secs: cpu1 - cpu0,
        wall_secs: wall,
        latency: Summary::of(&h),
    })
}

fn summary_from_json(v: &serde_json::Value) -> Summary {
    let get = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    Summary {
        count: get("count"),
        p50: get("p50_ns"),
        p90: get("p90_ns"),
        p99: get("p99_ns"),
        p999: get("p999_ns"),
        max: get("max_ns"),
    }
}

/// Run `cf_bench.py` against the simulator; its last JSON line.
fn run_python(
    sim: &SimServer,
    cfg: &CompareConfig,
    symbols: &[SimSymbol],
    kind: &str,
    extra: &[&str],
) -> Result<serde_json::Value, String> {
    let addr = sim.local_addr();
    let names: Vec<String> = symbols
        .iter()
        .map(|s| format!("{}-{}", s.base, s.quote))
        .collect();
    let mut child = Command::new(&cfg.python)
        .arg(&cfg.script)
        .args([
            "--ws",
            &format!("ws://{addr}"),
            "--rest",
            &format!("http://{addr}"),
        ])
        .args(["--symbols", &names.join(","), "--channel", kind])
        .args(["--warmup", &cfg.warmup.as_secs_f64().to_string()])
        .args(["--secs", &cfg.secs.as_secs_f64().to_string()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", cfg.python.display()))?;
    let deadline = Instant::now() + cfg.warmup + cfg.secs + Duration::from_secs(60);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("cryptofeed did not finish in time".into());
            }
            Err(e) => return Err(format!("waiting for cryptofeed: {e}")),
        }
    };
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    let line = out.lines().rev().find(|l| l.starts_with('{'));
    line.and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .ok_or_else(|| {
            let tail: String = err.lines().rev().take(8).collect::<Vec<_>>().join(" | ");
            format!("cryptofeed ({status}) printed no result: {tail}")
        })
}

fn cryptofeed_side(
    sim: &SimServer,
    cfg: &CompareConfig,
    symbols: &[SimSymbol],
    kind: &str,
) -> Result<Side, String> {
    let v = run_python(sim, cfg, symbols, kind, &[])?;
    Ok(Side {
        messages: v
            .get("messages")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0),
        cpu_secs: v
            .get("cpu_secs")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0),
        wall_secs: v
            .get("wall_secs")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0),
        latency: v.get("latency").map(summary_from_json).unwrap_or_default(),
    })
}

/// The real spot aggTrade frame of `testdata/exchanges/samples/binance_spot/agg_trades.jsonl`.
pub const AGG_TRADE_FRAME: &str = r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1616176861895,"s":"BTCUSDT","a":640283266,"p":"58942.01000000","q":"0.00035600","f":716849523,"l":716849523,"T":1616176861893,"m":false,"M":true}}"#;

/// Decode-only cost of one trade frame, CPU ns per message, each side on its own.
#[derive(Debug, Clone)]
pub struct DecodeResult {
    pub tickd_ns: f64,
    pub cryptofeed_ns: Result<f64, String>,
}

/// tickd's Binance decoder on [`AGG_TRADE_FRAME`] in a loop on its own thread.
fn tickd_decode_ns(secs: Duration) -> anyhow::Result<f64> {
    const THREAD: &str = "bench-decode";
    let worker = std::thread::Builder::new().name(THREAD.into()).spawn(
        move || -> Result<(u64, f64), String> {
            let symbols: SymbolMap = [("BTCUSDT".to_string(), 1u32)].into_iter().collect();
            let mut decoder = BinanceDecoder::new(BinanceMarket::Spot, symbols);
            let mut sink: Vec<RecordBuf> = Vec::with_capacity(4);
            decoder
                .decode(AGG_TRADE_FRAME.as_bytes(), 1, &mut sink)
                .map_err(|e| e.to_string())?;
            let (cpu0, t0) = (thread_cpu_secs(&[THREAD]), Instant::now());
            let mut n = 0u64;
            while t0.elapsed() < secs {
                for _ in 0..10_000 {
                    sink.clear();
                    let ok = decoder
                        .decode(
                            std::hint::black_box(AGG_TRADE_FRAME.as_bytes()),
                            1,
                            &mut sink,
                        )
                        .is_ok();
                    std::hint::black_box(ok);
                }
                n += 10_000;
            }
            Ok((n, thread_cpu_secs(&[THREAD]) - cpu0))
        },
    )?;
    let (n, cpu) = worker
        .join()
        .map_err(|_| anyhow::anyhow!("decode thread panicked"))?
        .map_err(|e| anyhow::anyhow!("the sample frame does not decode: {e}"))?;
    Ok(cpu * 1e9 / n.max(1) as f64)
}

/// Both sides on trades, then on depth, then decode-only on one trade frame.
pub fn run(
    cfg: &CompareConfig,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<(Vec<StreamResult>, DecodeResult)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("sim")
        .enable_all()
        .build()?;
    let symbols = SimSymbol::generate(Venue::Binance, cfg.symbols);
    let config = SimConfig {
        symbols: symbols.clone(),
        rate_per_sec: cfg.rate,
        trade_record_cap: 0,
        ..SimConfig::default()
    };
    let sim = rt.block_on(SimServer::start(config))?;
    let mut results = Vec::new();
    for (kind, channel) in [("trades", Channel::Trades), ("book", Channel::Book)] {
        progress(&format!("{kind}: tickd ..."));
        let tickd = tickd_side(&sim, cfg, &symbols, channel)?;
        progress(&format!("{kind}: cryptofeed ..."));
        let cryptofeed = cryptofeed_side(&sim, cfg, &symbols, kind);
        results.push(StreamResult {
            kind,
            tickd,
            cryptofeed,
        });
    }
    progress("decode only (one aggTrade frame): tickd, cryptofeed ...");
    let tickd_ns = tickd_decode_ns(cfg.secs.min(Duration::from_secs(3)))?;
    let frame_arg = ["--decode-frame", AGG_TRADE_FRAME];
    let cryptofeed_ns = run_python(&sim, cfg, &symbols, "trades", &frame_arg).and_then(|v| {
        let n = v
            .get("messages")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        let cpu = v
            .get("cpu_secs")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0);
        if n == 0 {
            return Err("cryptofeed decoded nothing".to_string());
        }
        Ok(cpu * 1e9 / n as f64)
    });
    rt.block_on(sim.shutdown());
    rt.shutdown_timeout(Duration::from_secs(2));
    Ok((
        results,
        DecodeResult {
            tickd_ns,
            cryptofeed_ns,
        },
    ))
}

fn us(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1e3)
}

pub fn table(results: &[StreamResult], decode: &DecodeResult) -> String {
    let mut out = String::from(
        "stream  side        msgs   cpu s   msgs/cpu-s  recv→out p50 µs  p99 µs  p99.9 µs\n",
    );
    for r in results {
        let mut line = |name: &str, s: &Side| {
            out.push_str(&format!(
                "{:<7} {:<10} {:>6} {:>7.2} {:>12.0} {:>16} {:>7} {:>9}\n",
                r.kind,
                name,
                s.messages,
                s.cpu_secs,
                s.per_core(),
                us(s.latency.p50),
                us(s.latency.p99),
                us(s.latency.p999)
            ));
        };
        line("tickd", &r.tickd);
        match &r.cryptofeed {
            Ok(c) => {
                line("cryptofeed", c);
                let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
                out.push_str(&format!(
                    "{:<7} ratio      throughput/core tickd ÷ cryptofeed = {:.1}x, p50 latency cryptofeed ÷ tickd = {:.1}x\n",
                    r.kind,
                    ratio(r.tickd.per_core(), c.per_core()),
                    ratio(c.latency.p50 as f64, r.tickd.latency.p50 as f64)
                ));
            }
            Err(e) => out.push_str(&format!("{:<7} cryptofeed FAILED: {e}\n", r.kind)),
        }
    }
    match &decode.cryptofeed_ns {
        Ok(c) => out.push_str(&format!(
            "decode only, one aggTrade frame: tickd {:.0} ns, cryptofeed {:.0} ns CPU per message: {:.1}x\n",
            decode.tickd_ns,
            c,
            c / decode.tickd_ns.max(1.0)
        )),
        Err(e) => out.push_str(&format!("decode only: tickd {:.0} ns; cryptofeed FAILED: {e}\n", decode.tickd_ns)),
    }
    out
}

pub fn json(
    cfg: &CompareConfig,
    results: &[StreamResult],
    decode: &DecodeResult,
) -> serde_json::Value {
    let streams: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let mut v = serde_json::json!({ "stream": r.kind, "tickd": r.tickd.to_json() });
            match &r.cryptofeed {
                Ok(c) => {
                    v["cryptofeed"] = c.to_json();
                    v["throughput_per_core_ratio"] = serde_json::json!(if c.per_core() > 0.0 {
                        r.tickd.per_core() / c.per_core()
                    } else {
                        0.0
                    });
                    v["latency_p50_ratio"] = serde_json::json!(if r.tickd.latency.p50 > 0 {
                        c.latency.p50 as f64 / r.tickd.latency.p50 as f64
                    } else {
                        0.0
                    });
                }
                Err(e) => v["cryptofeed_error"] = serde_json::Value::String(e.clone()),
            }
            v
        })
        .collect();
    serde_json::json!({
        "tool": "tickd-bench compare",
        "rate": cfg.rate, "symbols": cfg.symbols,
        "warmup_s": cfg.warmup.as_secs_f64(), "secs": cfg.secs.as_secs_f64(),
        "streams": streams,
        "decode_only_agg_trade": {
            "tickd_cpu_ns_per_msg": decode.tickd_ns,
            "cryptofeed_cpu_ns_per_msg": decode.cryptofeed_ns.as_ref().ok(),
            "ratio": decode.cryptofeed_ns.as_ref().ok().map(|c| c / decode.tickd_ns.max(1.0)),
            "error": decode.cryptofeed_ns.as_ref().err(),
        },
    })
}
