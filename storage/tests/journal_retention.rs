//! Retention: old days deleted, closed segments compressed and still readable.

mod journal_support;

use journal_support::*;
use tickd_bus::{RecordBuf, RecordType, Venue};
use tickd_storage::journal::layout::{list_all, NS_PER_DAY};
use tickd_storage::journal::retention::apply;
use tickd_storage::journal::{Filter, Journal, JournalConfig, RetentionPolicy};

fn day0() -> u32 {
    (DAY0 / NS_PER_DAY) as u32
}

/// Records for venue `venue` on each of `days` (offsets from DAY0), 20 per day.
fn records_on(days: &[u64], venue: Venue) -> Vec<RecordBuf> {
    days.iter()
        .flat_map(|&d| {
            (0..20).map(move |i| {
                any_record(
                    d * 100 + i,
                    venue,
                    i as u32 % 3,
                    DAY0 + d * NS_PER_DAY + i * 1000,
                )
            })
        })
        .collect()
}

fn write(dir: &std::path::Path, records: &[RecordBuf]) {
    let cfg = JournalConfig {
        block_bytes: 512,
        ..JournalConfig::new(dir)
    };
    let (mut journal, _) = Journal::open(cfg).unwrap();
    for record in records {
        journal.append(record).unwrap();
    }
    journal.close().unwrap();
}

#[test]
fn day_folders_older_than_keep_days_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let records = records_on(&[0, 5, 8, 9, 10], Venue::Okx);
    write(dir.path(), &records);
    let policy = RetentionPolicy {
        keep_days: 2,
        compress_after_days: None,
        ..RetentionPolicy::default()
    };
    let report = apply(dir.path(), &policy, day0() + 10, &[]).unwrap();
    assert_eq!(report.deleted_days.len(), 2);
    assert!(report.deleted_days[0].ends_with("okx/2026-11-21"));
    assert!(!dir.path().join("okx/2026-11-21").exists());
    assert!(!dir.path().join("okx/2026-11-26").exists());
    assert!(dir.path().join("okx/2026-11-29").exists());
    let kept: Vec<RecordBuf> = records[40..].to_vec();
    assert_eq!(read_all(dir.path()), kept);
}

#[test]
fn compressed_closed_segments_read_identically() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = records_on(&[0, 1, 2], Venue::Binance);
    records.extend(records_on(&[0, 1, 2], Venue::Kraken));
    write(dir.path(), &records);
    let filter = || {
        Filter::all()
            .venue(Venue::Kraken)
            .rtype(RecordType::Trade)
            .rtype(RecordType::Bar)
            .ts_recv(DAY0 + NS_PER_DAY..DAY0 + 3 * NS_PER_DAY)
    };
    let plain_all = read_all(dir.path());
    let (plain_some, _) = read(dir.path(), filter());
    assert!(!plain_some.is_empty());

    let policy = RetentionPolicy {
        keep_days: 30,
        compress_after_days: Some(1),
        zstd_level: 3,
    };
    let report = apply(dir.path(), &policy, day0() + 2, &[]).unwrap();
    assert_eq!(report.compressed.len(), 4, "days 0 and 1 of both venues");
    assert!(report.bytes_after < report.bytes_before);
    let segments = list_all(dir.path()).unwrap();
    assert_eq!(segments.iter().filter(|s| s.compressed).count(), 4);
    for s in &segments {
        assert_eq!(s.compressed, s.day < day0() + 2);
        assert!(s.path.exists());
    }

    assert_eq!(read_all(dir.path()), plain_all);
    assert_eq!(read(dir.path(), filter()).0, plain_some);
}

#[test]
fn the_writers_open_segments_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = JournalConfig::new(dir.path());
    let (mut journal, _) = Journal::open(cfg).unwrap();
    let old = records_on(&[0], Venue::Bybit);
    for record in &old {
        journal.append(record).unwrap();
    }
    journal.sync().unwrap();
    // Day 0's segment is still open (no record of a later day yet): neither
    // deleted nor compressed, however old.
    let policy = RetentionPolicy {
        keep_days: 1,
        compress_after_days: Some(0),
        zstd_level: 1,
    };
    let report = journal.run_retention(&policy, day0() + 5).unwrap();
    assert!(report.deleted_days.is_empty() && report.compressed.is_empty());
    let new = records_on(&[5], Venue::Bybit);
    for record in &new {
        journal.append(record).unwrap();
    }
    let report = journal.run_retention(&policy, day0() + 5).unwrap();
    assert_eq!(report.deleted_days.len(), 1);
    journal.close().unwrap();
    assert_eq!(read_all(dir.path()), new);
}
