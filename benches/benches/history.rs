//! History queries: one day of 1-minute bars for one instrument, from a journal that
//! stored 1-second bars as trades arrived, beside the same day from a journal that
//! holds only the trades (bars built on the fly), in the same run.
//!
//! The datasets (`TICKD_BENCH_TRADES` trades, default 10M, over one day across
//! `TICKD_BENCH_INSTRUMENTS` instruments, default 4) are generated once into
//! `target/bench-data/` by `tickd_benches::dataset` through the real writer path.
//!
//! `cargo bench -p tickd-benches --bench history -- --warm-up-time 1 --measurement-time 3`

use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tickd_benches::dataset::{cached, Spec, DAY_NS, DAY_START};
use tickd_bus::Venue;
use tickd_storage::bars::FillPolicy;
use tickd_storage::history::{BarQuery, History, RangeQuery};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn data_root() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("bench-data")
}

fn history(c: &mut Criterion) {
    let trades = env_or("TICKD_BENCH_TRADES", 10_000_000);
    let instruments = env_or("TICKD_BENCH_INSTRUMENTS", 4) as u32;
    let root = data_root();
    let mut dirs = Vec::new();
    for with_bars in [true, false] {
        let spec = Spec {
            trades,
            instruments,
            with_bars,
        };
        let started = Instant::now();
        let dir = cached(&root, spec).expect("generate the dataset");
        eprintln!(
            "dataset {} ready in {:.1?}",
            dir.display(),
            started.elapsed()
        );
        dirs.push(History::open(&dir).expect("open the dataset"));
    }
    let (stored, raw) = (&dirs[0], &dirs[1]);
    let q = BarQuery {
        venue: Venue::Binance,
        instrument_id: 1,
        interval_s: 60,
        from_ns: DAY_START,
        to_ns: DAY_START + DAY_NS,
        fill: FillPolicy::Omit,
    };
    // Both paths must agree before their speed means anything.
    let a: Vec<_> = stored.bars(&q).expect("query").collect();
    let b: Vec<_> = raw.bars(&q).expect("query").collect();
    assert_eq!(a.len(), 1440, "one day of 1m bars");
    let values = |bars: &[tickd_bus::record::BarMsg]| {
        bars.iter()
            .map(|b| {
                (
                    b.hd.ts_event,
                    b.open,
                    b.high,
                    b.low,
                    b.close,
                    b.volume,
                    b.trade_count,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(values(&a), values(&b), "stored and on-the-fly bars differ");
    let own_trades: u64 = a.iter().map(|b| u64::from(b.trade_count)).sum();

    let mut group = c.benchmark_group(format!("history_1m_bars_day_{trades}_trades"));
    group.sample_size(10);
    group.throughput(Throughput::Elements(own_trades));
    group.bench_function("from_stored_1s_bars", |bench| {
        bench.iter(|| stored.bars(&q).expect("query").count())
    });
    group.bench_function("from_raw_trades", |bench| {
        bench.iter(|| raw.bars(&q).expect("query").count())
    });
    let hour = RangeQuery {
        venue: Venue::Binance,
        instrument_id: 1,
        from_ns: DAY_START + 12 * DAY_NS / 24,
        to_ns: DAY_START + 13 * DAY_NS / 24,
    };
    group.throughput(Throughput::Elements(own_trades / 24));
    group.bench_function("trades_one_hour", |bench| {
        bench.iter(|| stored.trades(&hour).expect("query").count())
    });
    group.finish();
}

criterion_group!(benches, history);
criterion_main!(benches);
