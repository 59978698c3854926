//! The records the crash writer appends, shared with `tests/crash_sigkill.rs`:
//! each is a pure function of its sequence number, so any record read back can
//! be checked byte for byte.

use tickd_bus::record::{
    BarMsg, BboMsg, BookDeltaMsg, LiquidationMsg, MarkFundingMsg, OpenInterestMsg, StatusMsg,
    TradeMsg,
};
use tickd_bus::{Record, RecordBuf, RecordHeader, Venue};

/// 2026-11-21 00:00:00 UTC.
pub const DAY0: u64 = 20_778 * 86_400_000_000_000;
/// `ts_recv` step between consecutive sequence numbers: a UTC day every 8640 records.
pub const STEP_NS: u64 = 10_000_000_000;

fn make<R: Record>(seq: u64) -> RecordBuf {
    let venue = if seq.is_multiple_of(2) {
        Venue::Okx
    } else {
        Venue::Binance
    };
    let ts_recv = DAY0 + seq * STEP_NS;
    let mut rec: R = bytemuck::Zeroable::zeroed();
    *rec.header_mut() = RecordHeader::new::<R>(venue, (seq % 7) as u32, ts_recv - 1, ts_recv);
    rec.header_mut().sequence = seq;
    let body = &mut bytemuck::bytes_of_mut(&mut rec)[std::mem::size_of::<RecordHeader>()..];
    for (i, byte) in body.iter_mut().enumerate() {
        *byte = (seq.rotate_left(i as u32) as u8) ^ i as u8;
    }
    RecordBuf::new(&rec)
}

/// The record with sequence number `seq` (record types cycle, venues alternate).
pub fn crash_record(seq: u64) -> RecordBuf {
    match seq % 8 {
        0 => make::<TradeMsg>(seq),
        1 => make::<BboMsg>(seq),
        2 => make::<BookDeltaMsg>(seq),
        3 => make::<BarMsg>(seq),
        4 => make::<MarkFundingMsg>(seq),
        5 => make::<LiquidationMsg>(seq),
        6 => make::<OpenInterestMsg>(seq),
        _ => make::<StatusMsg>(seq),
    }
}
