//! The venue engine's cost per message, per venue: a recorded session run through
//! `Replayer` — decode, exactly-once merge, book sync, sequencer and publisher, the same
//! core the live feed runs — per capture line. The files are read and decompressed
//! once, outside the timing.
//! - `testdata/captures/binance_sim.jsonl.zst`: Binance spot and USD-M (trades, book
//!   tickers, depth diffs with REST snapshots, gaps and resyncs, mark prices,
//!   liquidations, open interest);
//! - `testdata/captures/okx_sim.jsonl.zst`: OKX spot from the simulator, 6 s at 2,000
//!   events/s (`tickd sim --venue okx=BTC-USDT,ETH-USDT,SOL-USDT,BNB-USDT --seed 7`
//!   recorded with `tickd record --venue okx`): trades, bbo-tbt and 400-level books
//!   with checksums;
//! - `testdata/captures/kraken_sim.jsonl.zst`: Kraken v2 from the simulator, 6 s at
//!   2,000 events/s (`tickd sim --venue kraken=BTC/USD,ETH/USD,SOL/USD,BNB/USD
//!   --spot none --usdm none --seed 7` recorded with `tickd record --venue kraken`,
//!   trades, bbo, book at depth 25): trades, tickers and books whose every message
//!   carries a CRC32 of the top 10 levels a side, verified at the pair's precision;
//! - `testdata/captures/bybit_sim.jsonl.zst`: Bybit from the simulator, 2 s at 2,000
//!   events/s on three category connections (`tickd sim --spot none --usdm none
//!   --venue bybit=spot/BTCUSDT,linear/BTCUSDT,linear/ETHUSDT,inverse/ETHUSD --seed 7`
//!   recorded with `tickd record --venue bybit --duration 2` from a config whose
//!   `[venues.bybit]` points at it with symbols BTC-USDT, BTC-USDT-PERP,
//!   ETH-USDT-PERP, ETH-USD-PERP, book depth 50 and every channel):
//!   publicTrade with UUID ids, orderbook.1, orderbook.50 snapshots and `u` deltas,
//!   tickers snapshot + deltas, allLiquidation.
//!
//! cargo bench -p tickd-benches --bench engine -- --warm-up-time 1 --measurement-time 3

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tickd_bus::instrument::InstrumentRegistry;
use tickd_feed::capture::{CaptureKind, CaptureLine, CaptureReader};
use tickd_feed::replay::Replayer;

fn capture(file: &str) -> Vec<CaptureLine> {
    let path = format!("{}/../testdata/captures/{file}", env!("CARGO_MANIFEST_DIR"));
    CaptureReader::open(std::path::Path::new(&path))
        .expect("the capture")
        .filter_map(Result::ok)
        .collect()
}

fn bench_engine(c: &mut Criterion) {
    for (venue, file) in [
        ("binance", "binance_sim.jsonl.zst"),
        ("okx", "okx_sim.jsonl.zst"),
        ("bybit", "bybit_sim.jsonl.zst"),
        ("kraken", "kraken_sim.jsonl.zst"),
    ] {
        bench_capture(c, venue, &capture(file));
    }
}

fn bench_capture(c: &mut Criterion, venue: &str, lines: &[CaptureLine]) {
    let mut group = c.benchmark_group(format!("engine_{venue}_capture"));
    group.throughput(Throughput::Elements(lines.len() as u64));
    // A `loss` line of 0 frames per venue makes the replayer set the venue up (its
    // record ring) outside the timing, and changes nothing else.
    let mut warm: Vec<CaptureLine> = Vec::new();
    for line in lines {
        if !warm.iter().any(|w| w.venue == line.venue) {
            let mut w = line.clone();
            w.kind = CaptureKind::Loss;
            w.data = "0".into();
            warm.push(w);
        }
    }
    group.bench_function("replay_per_line", |b| {
        b.iter_batched(
            || {
                let mut replayer = Replayer::new(InstrumentRegistry::new());
                for w in &warm {
                    replayer.push(w, &mut |_| {});
                }
                replayer
            },
            |mut replayer| {
                let mut records = 0u64;
                for line in lines {
                    replayer.push(line, &mut |_| records += 1);
                }
                (records, replayer)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_engine);
criterion_main!(benches);
