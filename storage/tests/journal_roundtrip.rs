//! Round trips, filters, rollovers and the durable position of the journal writer.

mod journal_support;

use std::time::Duration;

use journal_support::*;
use tickd_bus::{RecordBuf, RecordType, Venue};
use tickd_storage::journal::layout::{list_all, NS_PER_DAY};
use tickd_storage::journal::{Filter, FsyncPolicy, Journal, JournalConfig};

fn config(dir: &std::path::Path) -> JournalConfig {
    JournalConfig {
        block_bytes: 1024,
        ..JournalConfig::new(dir)
    }
}

/// 800 records of all eight types over two venues, 1 ms apart.
fn mixed() -> Vec<RecordBuf> {
    (0..800)
        .map(|i| {
            let venue = if i % 3 == 0 {
                Venue::Okx
            } else {
                Venue::Binance
            };
            any_record(i, venue, (i % 5) as u32, DAY0 + i * 1_000_000)
        })
        .collect()
}

fn write(dir: &std::path::Path, records: &[RecordBuf]) {
    let (mut journal, report) = Journal::open(config(dir)).unwrap();
    assert!(report.is_clean());
    for (i, record) in records.iter().enumerate() {
        assert_eq!(journal.append(record).unwrap(), i as u64);
    }
    journal.close().unwrap();
}

/// Reader order is venue by venue (in `Venue::ALL` order), append order within one.
fn in_read_order(records: &[RecordBuf]) -> Vec<RecordBuf> {
    let mut sorted = records.to_vec();
    sorted.sort_by_key(|r| r.header().venue); // stable: keeps append order per venue
    sorted
}

#[test]
fn every_record_type_round_trips_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let records = mixed();
    write(dir.path(), &records);
    let read = read_all(dir.path());
    assert_eq!(read, in_read_order(&records));
    for rtype in RecordType::ALL {
        assert!(read.iter().any(|r| r.header().rtype == *rtype as u8));
    }
}

#[test]
fn filters_select_exactly_the_matching_records() {
    let dir = tempfile::tempdir().unwrap();
    let records = in_read_order(&mixed());
    write(dir.path(), &records);
    let check = |filter: Filter, keep: &dyn Fn(&RecordBuf) -> bool| {
        let expected: Vec<RecordBuf> = records.iter().copied().filter(|r| keep(r)).collect();
        assert!(!expected.is_empty());
        let (got, problems) = read(dir.path(), filter);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(got, expected);
    };
    check(Filter::all().venue(Venue::Okx), &|r| {
        r.header().venue == Venue::Okx as u8
    });
    check(Filter::all().instrument(2).instrument(4), &|r| {
        matches!(r.header().instrument_id, 2 | 4)
    });
    check(
        Filter::all()
            .rtype(RecordType::Trade)
            .rtype(RecordType::Status),
        &|r| matches!(r.header().rtype, 1 | 8),
    );
    let (from, to) = (DAY0 + 123_000_000, DAY0 + 456_000_000);
    check(Filter::all().ts_recv(from..to), &|r| {
        (from..to).contains(&r.header().ts_recv)
    });
    check(Filter::all().ts_event(from..to), &|r| {
        (from..to).contains(&r.header().ts_event)
    });
    check(
        Filter::all()
            .venue(Venue::Binance)
            .instrument(1)
            .rtype(RecordType::Bbo)
            .rtype(RecordType::Bar)
            .ts_recv(from..to),
        &|r| {
            let h = r.header();
            h.venue == Venue::Binance as u8
                && h.instrument_id == 1
                && matches!(h.rtype, 2 | 4)
                && (from..to).contains(&h.ts_recv)
        },
    );
    let (none, _) = read(dir.path(), Filter::all().venue(Venue::Kraken));
    assert!(none.is_empty());
}

#[test]
fn a_new_utc_day_opens_a_new_segment_and_late_records_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let mut records: Vec<RecordBuf> = (0..30)
        .map(|i| trade(i, Venue::Bybit))
        .map(|mut r| {
            // Ten records per day over three days.
            let i = r.header().sequence;
            r.header_mut().ts_recv = DAY0 + (i / 10) * NS_PER_DAY + i;
            r
        })
        .collect();
    // A clock step back: a record stamped on day 1 arriving during day 2.
    let mut late = trade(99, Venue::Bybit);
    late.header_mut().ts_recv = DAY0 + NS_PER_DAY + 500;
    records.push(late);
    write(dir.path(), &records);

    let segments = list_all(dir.path()).unwrap();
    let days: Vec<u32> = segments.iter().map(|s| s.day).collect();
    let day0 = (DAY0 / NS_PER_DAY) as u32;
    assert_eq!(days, vec![day0, day0 + 1, day0 + 2]);
    assert!(segments[0].path.ends_with("bybit/2026-11-21/000000.seg"));
    assert_eq!(read_all(dir.path()), records);

    // The late record is found by a time query for its own day.
    let day1 = DAY0 + NS_PER_DAY..DAY0 + 2 * NS_PER_DAY;
    let (got, _) = read(dir.path(), Filter::all().ts_recv(day1));
    assert_eq!(got.len(), 11);
    assert!(got.contains(&late));
}

#[test]
fn segments_roll_at_the_size_limit_and_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = JournalConfig {
        segment_max_bytes: 4096,
        ..config(dir.path())
    };
    let records: Vec<RecordBuf> = (0..300).map(|i| trade(i, Venue::Kraken)).collect();
    let (mut journal, _) = Journal::open(cfg.clone()).unwrap();
    for record in &records[..200] {
        journal.append(record).unwrap();
    }
    journal.close().unwrap();
    let before = list_all(dir.path()).unwrap().len();
    assert!(before > 3, "{before} segments");
    let (mut journal, report) = Journal::open(cfg).unwrap();
    assert!(report.is_clean(), "{report:?}");
    for record in &records[200..] {
        journal.append(record).unwrap();
    }
    journal.close().unwrap();
    assert!(list_all(dir.path()).unwrap().len() > before);
    assert_eq!(read_all(dir.path()), records);
}

#[test]
fn durable_position_follows_the_fsync_policy() {
    let dir = tempfile::tempdir().unwrap();
    let per_block = 1024 / 88 + 1; // trades that fill one 1 KiB block

    let cfg = JournalConfig {
        fsync: FsyncPolicy::EveryBlock,
        block_max_age: Duration::ZERO,
        ..config(&dir.path().join("every"))
    };
    let (mut journal, _) = Journal::open(cfg).unwrap();
    for i in 0..per_block - 1 {
        journal.append(&trade(i, Venue::Okx)).unwrap();
    }
    assert_eq!(journal.durable_position(), 0, "open block is not durable");
    journal.append(&trade(99, Venue::Okx)).unwrap();
    assert_eq!(journal.durable_position(), per_block, "sealed block is");
    journal.append(&trade(100, Venue::Binance)).unwrap();
    journal.append(&trade(101, Venue::Okx)).unwrap();
    assert_eq!(journal.durable_position(), per_block);
    journal.tick().unwrap(); // block_max_age 0: seals both blocks, fsyncs each
    assert_eq!(journal.durable_position(), per_block + 2);

    let cfg = JournalConfig {
        fsync: FsyncPolicy::Never,
        ..config(&dir.path().join("never"))
    };
    let (mut journal, _) = Journal::open(cfg).unwrap();
    for i in 0..3 * per_block {
        journal.append(&trade(i, Venue::Okx)).unwrap();
    }
    journal.tick().unwrap();
    assert_eq!(journal.durable_position(), 0);
    assert!(journal.stats().blocks_written >= 3);
    journal.sync().unwrap();
    assert_eq!(journal.durable_position(), 3 * per_block);
}

#[test]
fn invalid_records_are_rejected_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, _) = Journal::open(config(dir.path())).unwrap();
    let mut bad_type = trade(0, Venue::Okx);
    bad_type.header_mut().rtype = 200;
    assert!(journal.append(&bad_type).is_err());
    let mut bad_venue = trade(1, Venue::Okx);
    bad_venue.header_mut().venue = 77;
    assert!(journal.append(&bad_venue).is_err());
    assert_eq!(journal.stats().rejected, 2);
    assert_eq!(journal.appended(), 0);
}

#[test]
fn a_second_writer_on_the_same_journal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, _) = Journal::open(config(dir.path())).unwrap();
    first.append(&trade(0, Venue::Okx)).unwrap();
    assert!(matches!(
        Journal::open(config(dir.path())),
        Err(tickd_storage::journal::JournalError::Locked(_))
    ));
    first.close().unwrap();
    let (second, report) = Journal::open(config(dir.path())).unwrap();
    assert!(report.is_clean());
    drop(second);
    assert_eq!(read_all(dir.path()), vec![trade(0, Venue::Okx)]);
}
