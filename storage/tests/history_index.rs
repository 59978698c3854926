//! Posting indexes and bar series: indexed queries return exactly what the journal
//! read without them returns, for journals written before they existed (built
//! lazily), after more is appended, after crash recovery cuts a torn tail, and after
//! an index or series file is damaged.

mod history_support;

use std::io::Write;
use std::path::{Path, PathBuf};

use history_support::*;
use tickd_bus::record::{BarMsg, TradeMsg};
use tickd_bus::{RecordBuf, Venue};
use tickd_storage::bars::FillPolicy;
use tickd_storage::history::{BarQuery, History, RangeQuery};
use tickd_storage::journal::{
    Filter, IndexUse, Journal, JournalConfig, JournalReader, ProblemKind,
};

const DAY: u64 = 86_400 * SEC;

/// Trades of instruments 1 and 2 (binance) and 3 (okx) over `n` seconds from `start`,
/// a few per second, prices walking.
fn trades(start: u64, n: u64, seed: u64) -> Vec<TradeMsg> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = Vec::new();
    for s in 0..n {
        for k in 0..rng.u64(0..4) {
            let (venue, id) = match rng.u32(0..3) {
                0 => (Venue::Binance, 1),
                1 => (Venue::Binance, 2),
                _ => (Venue::Okx, 3),
            };
            let price = format!("{}.{:02}", 100 + rng.u32(0..50), rng.u32(0..100));
            out.push(trade(
                venue,
                id,
                start + s * SEC + k * 1_000_000,
                &price,
                "0.5",
            ));
        }
    }
    out
}

fn small_segments(dir: &Path) -> JournalConfig {
    JournalConfig {
        block_bytes: 2048,
        segment_max_bytes: 64 * 1024,
        ..JournalConfig::new(dir)
    }
}

fn append(dir: &Path, records: &[RecordBuf]) {
    let (mut journal, _) = Journal::open(small_segments(dir)).unwrap();
    for r in records {
        journal.append(r).unwrap();
    }
    journal.close().unwrap();
}

fn bar_query(id: u32, interval_s: u32, from_ns: u64, to_ns: u64) -> BarQuery {
    BarQuery {
        venue: Venue::Binance,
        instrument_id: id,
        interval_s,
        from_ns,
        to_ns,
        fill: FillPolicy::Omit,
    }
}

/// Every query shape, indexed and not: they must be equal.
fn assert_same_answers(dir: &Path) {
    let plain = History::open(dir).unwrap().with_index(IndexUse::Off);
    let indexed = History::open(dir).unwrap();
    for id in [1, 2] {
        let r = RangeQuery {
            venue: Venue::Binance,
            instrument_id: id,
            from_ns: JAN1 + 600 * SEC,
            to_ns: JAN1 + 3000 * SEC,
        };
        let a: Vec<TradeMsg> = plain.trades(&r).unwrap().collect();
        let b: Vec<TradeMsg> = indexed.trades(&r).unwrap().collect();
        assert!(!a.is_empty());
        assert_eq!(a, b, "trades of {id}");
        for (interval, from, to) in [
            (60, JAN1, JAN1 + DAY),
            (300, JAN1, JAN1 + DAY),
            (1, JAN1, JAN1 + DAY),
            (7, JAN1, JAN1 + DAY),
            (60, JAN1 + 1800 * SEC, JAN1 + 5400 * SEC),
            (1, JAN1 + 1799 * SEC, JAN1 + 2000 * SEC),
            (60, JAN1 - DAY, JAN1 + 2 * DAY),
        ] {
            let q = bar_query(id, interval, from, to);
            let a: Vec<BarMsg> = plain.bars(&q).unwrap().collect();
            let b: Vec<BarMsg> = indexed.bars(&q).unwrap().collect();
            assert!(!a.is_empty());
            assert_eq!(a, b, "{interval} s bars of {id} over {from}..{to}");
        }
    }
}

fn files_named(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == ext) {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn a_journal_written_before_indexes_is_indexed_lazily_and_answers_the_same() {
    let dir = tempfile::tempdir().unwrap();
    registry(dir.path());
    // Two days, many small segments; bar writing starts mid-day (an upgrade): the
    // day's first part has trades only, the rest stored bars too.
    let all = trades(JAN1 + 100 * SEC, 4000, 1);
    let (head, tail) = all.split_at(all.len() / 2);
    append(dir.path(), &bufs(head));
    write_with_bars(dir.path(), &bufs(tail));
    append(dir.path(), &bufs(&trades(JAN1 + DAY + 50 * SEC, 200, 2)));
    assert!(
        files_named(dir.path(), "idx").is_empty(),
        "nothing indexed yet"
    );
    assert_same_answers(dir.path());
    // Only binance is queried: its segments, and only those, are indexed.
    let segments = files_named(&dir.path().join("binance"), "seg").len();
    assert!(segments > 4, "{segments} segments");
    assert_eq!(files_named(dir.path(), "idx").len(), segments);
    assert!(!files_named(dir.path(), "bars").is_empty(), "series saved");
    // Answers from the saved files, again.
    assert_same_answers(dir.path());
}

#[test]
fn appends_after_indexing_are_seen() {
    let dir = tempfile::tempdir().unwrap();
    registry(dir.path());
    append(dir.path(), &bufs(&trades(JAN1 + 100 * SEC, 3000, 3)));
    assert_same_answers(dir.path());
    // More trades for the same day (a new writer session): the series are stale.
    append(dir.path(), &bufs(&trades(JAN1 + 2000 * SEC, 2000, 4)));
    assert_same_answers(dir.path());
}

#[test]
fn recovery_and_damage_keep_indexed_answers_exact() {
    let dir = tempfile::tempdir().unwrap();
    registry(dir.path());
    append(dir.path(), &bufs(&trades(JAN1 + 100 * SEC, 3000, 5)));
    assert_same_answers(dir.path());
    let segments = files_named(&dir.path().join("binance"), "seg");
    let newest = segments.last().unwrap().clone();

    // A torn tail after the indexed bytes (a writer killed mid-block).
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&newest)
        .unwrap();
    file.write_all(&[0xAB; 3000]).unwrap();
    drop(file);
    let filter = Filter::all().venue(Venue::Binance).instrument(1);
    let reader = JournalReader::open(dir.path(), filter.clone()).unwrap();
    assert!(reader
        .problems()
        .iter()
        .any(|p| matches!(p.kind, ProblemKind::Tail { .. })));
    assert_same_answers(dir.path());

    // Recovery cuts the tail; the indexes stay valid and exact.
    let (journal, report) = Journal::open(small_segments(dir.path())).unwrap();
    assert!(report.truncated_bytes() >= 3000);
    journal.close().unwrap();
    assert_same_answers(dir.path());

    // A segment cut below what its index covers (damage, not recovery): rebuilt.
    let len = std::fs::metadata(&segments[0]).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&segments[0])
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    assert_same_answers(dir.path());

    // Garbage index and series files are ignored and replaced.
    for path in files_named(dir.path(), "idx")
        .into_iter()
        .chain(files_named(dir.path(), "bars"))
    {
        std::fs::write(&path, b"not an index").unwrap();
    }
    assert_same_answers(dir.path());
    let plain = JournalReader::open_with(dir.path(), filter.clone(), IndexUse::Off).unwrap();
    let indexed = JournalReader::open(dir.path(), filter).unwrap();
    let a: Vec<_> = plain.records().map(|r| r.as_bytes().to_vec()).collect();
    let b: Vec<_> = indexed.records().map(|r| r.as_bytes().to_vec()).collect();
    assert_eq!(a, b);
}
