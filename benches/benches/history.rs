//! History queries: one day of 1-minute bars for one instrument, from a journal that
//! stored 1-second bars as trades arrived, beside the same day from a journal that
//! holds only the trades (bars built on the fly); one hour of one symbol's trades out
//! of 4 and out of 100 symbols; the full scan. Each query runs "before" (the journal
//! read without posting indexes and bar series, `IndexUse::Off`) and "after" (the
//! default) in the same run.
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
use tickd_storage::journal::{Filter, IndexUse, JournalReader};

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
    let open = |spec: Spec| {
        let started = Instant::now();
        let dir = cached(&root, spec).expect("generate the dataset");
        eprintln!(
            "dataset {} ready in {:.1?}",
            dir.display(),
            started.elapsed()
        );
        dir
    };
    let stored_dir = open(Spec {
        trades,
        instruments,
        with_bars: true,
    });
    let raw_dir = open(Spec {
        trades,
        instruments,
        with_bars: false,
    });
    let wide_dir = open(Spec {
        trades,
        instruments: 100,
        with_bars: true,
    });
    let history = |dir: &PathBuf, index: IndexUse| {
        History::open(dir)
            .expect("open the dataset")
            .with_index(index)
    };
    // "before": the journal read as it was before posting indexes and bar series
    // existed; "after": the default. Same data, same run.
    let before = [
        history(&stored_dir, IndexUse::Off),
        history(&raw_dir, IndexUse::Off),
    ];
    let after = [
        history(&stored_dir, IndexUse::Auto),
        history(&raw_dir, IndexUse::Auto),
    ];
    let q = BarQuery {
        venue: Venue::Binance,
        instrument_id: 1,
        interval_s: 60,
        from_ns: DAY_START,
        to_ns: DAY_START + DAY_NS,
        fill: FillPolicy::Omit,
    };
    // Every path must agree before their speed means anything. The first indexed
    // queries also build the indexes and series (timed here, once).
    let reference: Vec<_> = before[0].bars(&q).expect("query").collect();
    assert_eq!(reference.len(), 1440, "one day of 1m bars");
    for (name, h) in [
        ("journal without bars, unindexed", &before[1]),
        ("journal with bars, indexed", &after[0]),
        ("journal without bars, indexed", &after[1]),
    ] {
        let started = Instant::now();
        let got: Vec<_> = h.bars(&q).expect("query").collect();
        eprintln!("first query, {name}: {:.1?}", started.elapsed());
        assert!(got == reference, "{name}: bars differ");
    }
    let own_trades: u64 = reference.iter().map(|b| u64::from(b.trade_count)).sum();

    let mut group = c.benchmark_group(format!("history_1m_bars_day_{trades}_trades"));
    group.sample_size(10);
    group.throughput(Throughput::Elements(own_trades));
    for (label, pair) in [("before", &before), ("after", &after)] {
        group.bench_function(format!("{label}/from_stored_1s_bars"), |bench| {
            bench.iter(|| pair[0].bars(&q).expect("query").count())
        });
        group.bench_function(format!("{label}/from_raw_trades"), |bench| {
            bench.iter(|| pair[1].bars(&q).expect("query").count())
        });
    }
    let hour = RangeQuery {
        venue: Venue::Binance,
        instrument_id: 1,
        from_ns: DAY_START + 12 * DAY_NS / 24,
        to_ns: DAY_START + 13 * DAY_NS / 24,
    };
    group.throughput(Throughput::Elements(own_trades / 24));
    for (label, pair) in [("before", &before), ("after", &after)] {
        group.bench_function(format!("{label}/trades_one_hour"), |bench| {
            bench.iter(|| pair[0].trades(&hour).expect("query").count())
        });
    }
    group.finish();

    // One symbol's hour out of a day with 100 symbols.
    let wide = [
        history(&wide_dir, IndexUse::Off),
        history(&wide_dir, IndexUse::Auto),
    ];
    let want: Vec<_> = wide[0].trades(&hour).expect("query").collect();
    let got: Vec<_> = wide[1].trades(&hour).expect("query").collect();
    assert!(!want.is_empty() && got == want, "indexed trades differ");
    let mut group = c.benchmark_group(format!("history_trades_hour_1_of_100_{trades}_trades"));
    group.sample_size(10);
    group.throughput(Throughput::Elements(want.len() as u64));
    for (label, h) in [("before", &wide[0]), ("after", &wide[1])] {
        group.bench_function(format!("{label}/trades_one_hour"), |bench| {
            bench.iter(|| h.trades(&hour).expect("query").count())
        });
    }
    group.finish();

    // The full scan (every record, every checksum) uses no posting index; "after"
    // keeps its segment maps between scans.
    let mut group = c.benchmark_group(format!("history_full_scan_{trades}_trades"));
    group.sample_size(10);
    let scan = |index: IndexUse| {
        JournalReader::open_with(&raw_dir, Filter::all(), index)
            .expect("open")
            .records()
            .count()
    };
    group.throughput(Throughput::Elements(scan(IndexUse::Off) as u64));
    for (label, index) in [("before", IndexUse::Off), ("after", IndexUse::Auto)] {
        group.bench_function(format!("{label}/all_records"), |bench| {
            bench.iter(|| scan(index))
        });
    }
    group.finish();
}

criterion_group!(benches, history);
criterion_main!(benches);
