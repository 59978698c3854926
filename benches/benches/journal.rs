//! Journal throughput: appends beside a plain sequential file write of the same
//! bytes (in the same run, so the ratio is what to read on a noisy machine), and
//! full/filtered scan rates over a 1M-record journal.
//!
//! `cargo bench -p tickd-benches --bench journal -- --warm-up-time 1 --measurement-time 3`

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tickd_bus::record::TradeMsg;
use tickd_bus::{Price, RecordBuf, RecordHeader, RecordType, Size, Venue};
use tickd_storage::journal::{Filter, FsyncPolicy, Journal, JournalConfig, JournalReader};

/// Records per append iteration: 8.8 MB of 88-byte trades (7.2 MB of 72-byte ones in layout 1).
const APPEND_N: u64 = 100_000;
/// Records in the scanned journal.
const SCAN_N: u64 = 1_000_000;
const DAY0: u64 = 20_778 * 86_400_000_000_000;
const BLOCK: usize = 64 * 1024;

fn trade(i: u64) -> RecordBuf {
    let mut t = TradeMsg {
        hd: RecordHeader::new::<TradeMsg>(
            Venue::Binance,
            (i % 16) as u32,
            DAY0 + i * 10_000,
            DAY0 + i * 10_000 + 500,
        ),
        price: Price::from_raw((5_894_201 + i128::from(i % 1000)) * (Price::ONE_RAW / 100)),
        size: Size::from_raw((35_600 + i128::from(i % 777)) * (Size::ONE_RAW / 100_000_000)),
        trade_id: 4_000_000_000 + i,
        trade_id_hi: 0,
        side: (i % 2) as u8 + 1,
        _reserved: [0; 7],
    };
    t.hd.sequence = i;
    RecordBuf::new(&t)
}

fn journal_config(dir: &Path, fsync: FsyncPolicy) -> JournalConfig {
    JournalConfig {
        fsync,
        block_bytes: BLOCK,
        ..JournalConfig::new(dir)
    }
}

/// Time `APPEND_N` journal appends plus the final flush (and fsync, by policy).
fn time_journal(records: &[RecordBuf], fsync: FsyncPolicy) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut journal, _) = Journal::open(journal_config(dir.path(), fsync)).expect("open");
    // The first append creates the segment (file, folders, directory fsyncs):
    // once per segment or day, like `File::create` for the plain write, so both
    // are left out of the timing.
    journal.append(&records[0]).expect("append");
    let start = Instant::now();
    for record in &records[1..] {
        journal.append(record).expect("append");
    }
    match fsync {
        FsyncPolicy::Never => journal.flush().expect("flush"),
        _ => journal.sync().expect("sync"),
    }
    let elapsed = start.elapsed();
    drop(journal);
    elapsed
}

/// The same bytes through `BufWriter<File>` with a block-sized buffer; with
/// `fsync_every_block`, `sync_data` after each block's worth, as `EveryBlock` does.
fn time_plain(records: &[RecordBuf], fsync_every_block: bool) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = File::create(dir.path().join("plain.bin")).expect("create");
    let mut out = BufWriter::with_capacity(BLOCK, file);
    out.write_all(records[0].as_bytes()).expect("write");
    let start = Instant::now();
    let mut since_sync = 0;
    for record in &records[1..] {
        let bytes = record.as_bytes();
        out.write_all(bytes).expect("write");
        since_sync += bytes.len();
        if fsync_every_block && since_sync >= BLOCK {
            out.flush().expect("flush");
            out.get_ref().sync_data().expect("fsync");
            since_sync = 0;
        }
    }
    out.flush().expect("flush");
    if fsync_every_block {
        out.get_ref().sync_data().expect("fsync");
    }
    let elapsed = start.elapsed();
    // Untimed, as the journal's close: leave no dirty pages to slow the next run.
    out.get_ref().sync_data().expect("fsync");
    elapsed
}

fn append(c: &mut Criterion) {
    let records: Vec<RecordBuf> = (0..APPEND_N).map(trade).collect();
    let mut group = c.benchmark_group("journal/append 100k trades");
    group.throughput(Throughput::Elements(APPEND_N));
    group.bench_function("journal, fsync never", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| time_journal(&records, FsyncPolicy::Never))
                .sum()
        })
    });
    group.bench_function("plain BufWriter<File>, no fsync", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| time_plain(&records, false)).sum())
    });
    group.finish();

    let mut group = c.benchmark_group("journal/append 100k trades, fsync per 64 KiB");
    group.throughput(Throughput::Elements(APPEND_N));
    group.sample_size(10);
    group.bench_function("journal, fsync every block", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| time_journal(&records, FsyncPolicy::EveryBlock))
                .sum()
        })
    });
    group.bench_function("plain BufWriter<File>, fsync per 64 KiB", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| time_plain(&records, true)).sum())
    });
    group.finish();
}

fn scan(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut journal, _) =
        Journal::open(journal_config(dir.path(), FsyncPolicy::Never)).expect("open");
    for i in 0..SCAN_N {
        journal.append(&trade(i)).expect("append");
    }
    journal.close().expect("close");

    let sum_scan = |filter: Filter| {
        let reader = JournalReader::open(dir.path(), filter).expect("reader");
        let mut n = 0u64;
        let mut sum = 0u64;
        for record in reader.records() {
            n += 1;
            sum = sum.wrapping_add(record.header().ts_recv);
        }
        black_box(sum);
        n
    };
    assert_eq!(sum_scan(Filter::all()), SCAN_N);

    let mut group = c.benchmark_group("journal/scan 1M trades");
    group.throughput(Throughput::Elements(SCAN_N));
    group.sample_size(20);
    group.bench_function("full scan (open, verify, iterate)", |b| {
        b.iter(|| sum_scan(Filter::all()))
    });
    group.bench_function("one instrument of 16", |b| {
        b.iter(|| sum_scan(Filter::all().instrument(3)))
    });
    // 10% of the time span: the index skips the other blocks unread.
    let span = SCAN_N * 10_000;
    let range = DAY0 + span / 2..DAY0 + span / 2 + span / 10;
    group.bench_function("10% time range", |b| {
        b.iter(|| {
            sum_scan(
                Filter::all()
                    .rtype(RecordType::Trade)
                    .ts_recv(range.clone()),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, append, scan);
criterion_main!(benches);
