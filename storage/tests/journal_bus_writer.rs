//! The writer thread on real rings: lag becomes an exact gap record, and the
//! producer never waits for the writer.

mod journal_support;

use std::sync::atomic::Ordering;

use journal_support::*;
use tickd_bus::record::{StatusKind, StatusMsg, StatusReason};
use tickd_bus::ring::{ring, Bus};
use tickd_bus::{RecordBuf, RecordType, Venue};
use tickd_storage::journal::{BusWriter, BusWriterConfig, Journal, JournalConfig};

fn journal(dir: &std::path::Path) -> Journal {
    Journal::open(JournalConfig::new(dir)).unwrap().0
}

fn gaps(records: &[RecordBuf]) -> Vec<StatusMsg> {
    records
        .iter()
        .filter_map(|r| r.get::<StatusMsg>().copied())
        .collect()
}

#[test]
fn a_lapped_writer_journals_a_gap_with_the_exact_number_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (mut producer, handle) = ring(1024);
    let consumer = handle.subscribe();
    // The writer is not running yet: the slowest writer there is. The producer
    // publishes ten rings' worth regardless, and never waits.
    let published = 10_240u64;
    for i in 0..published {
        producer.publish(&trade(i, Venue::Okx));
    }
    assert_eq!(producer.published(), published);
    drop(producer);

    let writer =
        BusWriter::spawn(consumer, journal(dir.path()), BusWriterConfig::default()).unwrap();
    let stats = std::sync::Arc::clone(writer.stats());
    writer.join().unwrap();

    let records = read_all(dir.path());
    let gaps = gaps(&records);
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let gap = gaps[0];
    assert_eq!(gap.kind(), Some(StatusKind::Gap));
    assert_eq!(gap.reason(), Some(StatusReason::WriterLagged));
    assert_eq!(gap.hd.venue, Venue::Okx as u8);
    let trades: Vec<&RecordBuf> = records
        .iter()
        .filter(|r| r.header().rtype == RecordType::Trade as u8)
        .collect();
    assert_eq!(gap.lost + trades.len() as u64, published);
    // The gap comes first, then the newest records in order, none missing.
    assert_eq!(records[0].get::<StatusMsg>(), Some(&gap));
    assert_eq!(gap.hd.ts_recv, trades[0].header().ts_recv);
    for (k, record) in trades.iter().enumerate() {
        assert_eq!(**record, trade(gap.lost + k as u64, Venue::Okx));
    }
    assert_eq!(stats.lag_events.load(Ordering::Relaxed), 1);
    assert_eq!(stats.records_lost.load(Ordering::Relaxed), gap.lost);
    assert_eq!(stats.records.load(Ordering::Relaxed), records.len() as u64);
    assert_eq!(stats.durable.load(Ordering::Relaxed), records.len() as u64);
}

#[test]
fn a_fast_producer_and_a_live_writer_account_for_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut bus = Bus::new();
    let (mut okx, okx_ring) = ring(256);
    let (mut kraken, kraken_ring) = ring(256);
    bus.add(okx_ring);
    bus.add(kraken_ring);
    let writer = BusWriter::spawn(
        bus.subscribe_all(),
        journal(dir.path()),
        BusWriterConfig::default(),
    )
    .unwrap();
    let stats = std::sync::Arc::clone(writer.stats());
    // Publish as fast as the producers can; whether and how often the writer
    // is lapped depends on the machine, but every record is either journaled
    // or counted in a gap record of its own venue.
    let per_venue = 100_000u64;
    for i in 0..per_venue {
        okx.publish(&trade(i, Venue::Okx));
        kraken.publish(&trade(i, Venue::Kraken));
    }
    drop((okx, kraken));
    writer.join().unwrap();

    let records = read_all(dir.path());
    for venue in [Venue::Okx, Venue::Kraken] {
        let mine: Vec<&RecordBuf> = records
            .iter()
            .filter(|r| r.header().venue == venue as u8)
            .collect();
        let lost: u64 = mine
            .iter()
            .filter_map(|r| r.get::<StatusMsg>())
            .map(|g| g.lost)
            .sum();
        let trades: Vec<u64> = mine
            .iter()
            .filter(|r| r.header().rtype == RecordType::Trade as u8)
            .map(|r| r.header().sequence)
            .collect();
        assert_eq!(lost + trades.len() as u64, per_venue, "{venue}");
        assert!(trades.windows(2).all(|w| w[0] < w[1]), "{venue}: in order");
    }
    let lost_total: u64 = gaps(&records).iter().map(|g| g.lost).sum();
    assert_eq!(stats.records_lost.load(Ordering::Relaxed), lost_total);
    assert_eq!(stats.gaps_unwritten.load(Ordering::Relaxed), 0);
}

#[test]
fn stop_syncs_what_was_received() {
    let dir = tempfile::tempdir().unwrap();
    let (mut producer, handle) = ring(4096);
    let writer = BusWriter::spawn(
        handle.subscribe(),
        journal(dir.path()),
        BusWriterConfig::default(),
    )
    .unwrap();
    for i in 0..100 {
        producer.publish(&trade(i, Venue::Bybit));
    }
    // Wait (bounded) until the writer has taken all 100, then stop it while
    // the producer is still alive.
    let stats = std::sync::Arc::clone(writer.stats());
    for _ in 0..5_000 {
        if stats.records.load(Ordering::Acquire) == 100 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    writer.stop().unwrap();
    let expected: Vec<RecordBuf> = (0..100).map(|i| trade(i, Venue::Bybit)).collect();
    assert_eq!(read_all(dir.path()), expected);
}
