//! The venue engine's cost per message for Binance: the recorded session in
//! `testdata/captures/binance_sim.jsonl.zst` (spot and USD-M, trades, book tickers,
//! depth diffs with REST snapshots, gaps and resyncs, mark prices, liquidations,
//! open interest) run through `Replayer` — decode, exactly-once merge, book sync,
//! sequencer and publisher, the same core the live feed runs — per capture line.
//! The file is read and decompressed once, outside the timing.
//!
//! cargo bench -p tickd-benches --bench engine -- --warm-up-time 1 --measurement-time 3

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tickd_bus::instrument::InstrumentRegistry;
use tickd_feed::capture::{CaptureKind, CaptureLine, CaptureReader};
use tickd_feed::replay::Replayer;

fn capture() -> Vec<CaptureLine> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/captures/binance_sim.jsonl.zst"
    );
    CaptureReader::open(std::path::Path::new(path))
        .expect("the golden capture")
        .filter_map(Result::ok)
        .collect()
}

fn bench_engine(c: &mut Criterion) {
    let lines = capture();
    let mut group = c.benchmark_group("engine_binance_capture");
    group.throughput(Throughput::Elements(lines.len() as u64));
    // A `loss` line of 0 frames per venue makes the replayer set the venue up (its
    // record ring) outside the timing, and changes nothing else.
    let mut warm: Vec<CaptureLine> = Vec::new();
    for line in &lines {
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
                for line in &lines {
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
