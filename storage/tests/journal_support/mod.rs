//! Shared helpers for the journal tests: deterministic records of every type.
#![allow(dead_code)]

use std::path::Path;

use tickd_bus::record::{
    BarMsg, BboMsg, BookDeltaMsg, LiquidationMsg, MarkFundingMsg, OpenInterestMsg, StatusMsg,
    TradeMsg,
};
use tickd_bus::{Record, RecordBuf, RecordHeader, Venue};
use tickd_storage::journal::{Filter, JournalReader, ReadProblem};

pub const DAY_NS: u64 = 86_400 * 1_000_000_000;
/// 2026-11-21 00:00:00 UTC.
pub const DAY0: u64 = 20_778 * DAY_NS;

/// A record of type `R` whose body bytes are a pattern derived from `seq`.
pub fn record<R: Record>(venue: Venue, instrument_id: u32, seq: u64, ts_recv: u64) -> RecordBuf {
    let mut rec: R = bytemuck::Zeroable::zeroed();
    *rec.header_mut() = RecordHeader::new::<R>(venue, instrument_id, ts_recv - 1_000, ts_recv);
    rec.header_mut().sequence = seq;
    let body = &mut bytemuck::bytes_of_mut(&mut rec)[std::mem::size_of::<RecordHeader>()..];
    for (i, byte) in body.iter_mut().enumerate() {
        *byte = (seq as u8).wrapping_mul(31).wrapping_add(i as u8);
    }
    RecordBuf::new(&rec)
}

/// The `i`-th record of a stream cycling through all eight record types.
pub fn any_record(i: u64, venue: Venue, instrument_id: u32, ts_recv: u64) -> RecordBuf {
    match i % 8 {
        0 => record::<TradeMsg>(venue, instrument_id, i, ts_recv),
        1 => record::<BboMsg>(venue, instrument_id, i, ts_recv),
        2 => record::<BookDeltaMsg>(venue, instrument_id, i, ts_recv),
        3 => record::<BarMsg>(venue, instrument_id, i, ts_recv),
        4 => record::<MarkFundingMsg>(venue, instrument_id, i, ts_recv),
        5 => record::<LiquidationMsg>(venue, instrument_id, i, ts_recv),
        6 => record::<OpenInterestMsg>(venue, instrument_id, i, ts_recv),
        _ => record::<StatusMsg>(venue, instrument_id, i, ts_recv),
    }
}

/// A trade on `venue`, instrument `i % 4`, 1 ms apart from DAY0.
pub fn trade(i: u64, venue: Venue) -> RecordBuf {
    record::<TradeMsg>(venue, (i % 4) as u32, i, DAY0 + i * 1_000_000)
}

/// Every record the filter matches, copied out, and the problems met.
pub fn read(dir: &Path, filter: Filter) -> (Vec<RecordBuf>, Vec<ReadProblem>) {
    let reader = JournalReader::open(dir, filter).expect("open reader");
    let records = reader
        .records()
        .map(|r| RecordBuf::from_bytes(r.as_bytes()).expect("valid record"))
        .collect();
    (records, reader.problems().to_vec())
}

pub fn read_all(dir: &Path) -> Vec<RecordBuf> {
    let (records, problems) = read(dir, Filter::all());
    assert!(problems.is_empty(), "unexpected problems: {problems:?}");
    records
}
