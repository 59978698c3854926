//! Pins every record's size, alignment and field offsets: these bytes are the journal
//! and binary-protocol format, so a change here must be deliberate.

use std::mem::{align_of, offset_of, size_of};

use super::fixtures::one_of_each as sample_records;
use super::*;

macro_rules! assert_layout {
    ($ty:ty, size $size:expr, $($field:ident @ $offset:expr),* $(,)?) => {{
        assert_eq!(size_of::<$ty>(), $size, "size of {}", stringify!($ty));
        assert_eq!(align_of::<$ty>(), 8, "align of {}", stringify!($ty));
        assert_eq!(size_of::<$ty>() % 8, 0);
        assert!(size_of::<$ty>() <= MAX_RECORD_SIZE);
        assert_eq!(offset_of!($ty, hd), 0);
        $(assert_eq!(offset_of!($ty, $field), $offset, "{}.{}", stringify!($ty), stringify!($field));)*
    }};
}

/// Every number is its raw integer's little-endian words: `lo` then `hi` for a
/// `Fixed`, four words least significant first for a `Notional`.
#[test]
fn number_layout() {
    use crate::decimal::{Notional, Price};
    assert_eq!(size_of::<Price>(), 16);
    assert_eq!(align_of::<Price>(), 8);
    let p = Price::from_raw(-2);
    assert_eq!(bytemuck::bytes_of(&p), (-2i128).to_le_bytes());
    assert_eq!(size_of::<Notional>(), 32);
    assert_eq!(align_of::<Notional>(), 8);
    let n = Notional::from_i128(-2);
    assert_eq!(&bytemuck::bytes_of(&n)[..16], (-2i128).to_le_bytes());
    assert_eq!(&bytemuck::bytes_of(&n)[16..], [0xff; 16]);
}

#[test]
fn header_layout() {
    assert_eq!(size_of::<RecordHeader>(), 32);
    assert_eq!(align_of::<RecordHeader>(), 8);
    assert_eq!(offset_of!(RecordHeader, length), 0);
    assert_eq!(offset_of!(RecordHeader, rtype), 1);
    assert_eq!(offset_of!(RecordHeader, venue), 2);
    assert_eq!(offset_of!(RecordHeader, flags), 3);
    assert_eq!(offset_of!(RecordHeader, instrument_id), 4);
    assert_eq!(offset_of!(RecordHeader, sequence), 8);
    assert_eq!(offset_of!(RecordHeader, ts_event), 16);
    assert_eq!(offset_of!(RecordHeader, ts_recv), 24);
}

#[test]
fn record_layouts() {
    assert_layout!(TradeMsg, size 88, price @ 32, size @ 48, trade_id @ 64, trade_id_hi @ 72, side @ 80);
    assert_layout!(BboMsg, size 96, bid_price @ 32, bid_size @ 48, ask_price @ 64, ask_size @ 80);
    assert_layout!(BookDeltaMsg, size 80, price @ 32, size @ 48, update_id @ 64, side @ 72, action @ 73);
    assert_layout!(BarMsg, size 152, interval_s @ 32, trade_count @ 36, open @ 40, high @ 56, low @ 72,
        close @ 88, volume @ 104, notional @ 120);
    assert_layout!(MarkFundingMsg, size 88, mark_price @ 32, index_price @ 48, funding_rate @ 64,
        next_funding_time @ 80);
    assert_layout!(LiquidationMsg, size 72, price @ 32, size @ 48, side @ 64);
    assert_layout!(OpenInterestMsg, size 64, open_interest @ 32, open_interest_value @ 48);
    assert_layout!(StatusMsg, size 56, kind @ 32, reason @ 34, conn @ 36, lost @ 40, detail @ 48);
    assert_eq!(size_of::<RecordBuf>(), MAX_RECORD_SIZE);
    assert_eq!(RECORD_VERSION, 2);
    assert_eq!(RecordType::Trade.record_size(), 88);
    assert_eq!(RecordType::Bar.record_size(), MAX_RECORD_SIZE);
    assert_eq!(align_of::<RecordBuf>(), 8);
}

/// Serialize with rkyv, read back through validated access, check the archived bytes
/// are the record's own bytes, and deserialize to an equal record.
fn rkyv_round_trip<R>(record: &R)
where
    R: Record
        + rkyv::Archive
        + for<'a> rkyv::Serialize<
            rkyv::api::high::HighSerializer<
                rkyv::util::AlignedVec,
                rkyv::ser::allocator::ArenaHandle<'a>,
                rkyv::rancor::Error,
            >,
        >,
    R::Archived: for<'a> rkyv::bytecheck::CheckBytes<rkyv::api::high::HighValidator<'a, rkyv::rancor::Error>>
        + rkyv::Deserialize<R, rkyv::api::high::HighDeserializer<rkyv::rancor::Error>>,
{
    let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(record).unwrap();
    assert_eq!(
        bytes.as_slice(),
        record.as_bytes(),
        "archived bytes differ from record bytes"
    );
    let archived = rkyv::access::<R::Archived, rkyv::rancor::Error>(&bytes).unwrap();
    let back: R = rkyv::deserialize::<R, rkyv::rancor::Error>(archived).unwrap();
    assert_eq!(&back, record);
}

#[test]
fn every_record_round_trips_through_rkyv_and_bytes() {
    let records = sample_records();
    for rtype in RecordType::ALL {
        assert!(
            records.iter().any(|r| r.header().rtype == *rtype as u8),
            "{rtype} missing"
        );
    }
    for buf in &records {
        let view = buf.as_ref().unwrap();
        assert_eq!(view.header().sequence, 7);
        assert_eq!(RecordBuf::from_bytes(view.as_bytes()).unwrap(), *buf);
        match view {
            RecordRef::Trade(r) => rkyv_round_trip(r),
            RecordRef::Bbo(r) => rkyv_round_trip(r),
            RecordRef::BookDelta(r) => rkyv_round_trip(r),
            RecordRef::Bar(r) => {
                assert_eq!(
                    r.notional(),
                    crate::decimal::Notional::from_i128(-(1i128 << 100) - 5)
                );
                rkyv_round_trip(r)
            }
            RecordRef::MarkFunding(r) => rkyv_round_trip(r),
            RecordRef::Liquidation(r) => rkyv_round_trip(r),
            RecordRef::OpenInterest(r) => rkyv_round_trip(r),
            RecordRef::Status(r) => rkyv_round_trip(r),
        }
    }
}

#[test]
fn rkyv_validation_rejects_short_input() {
    let bytes = rkyv::util::AlignedVec::<16>::with_capacity(8);
    assert!(rkyv::access::<super::types::ArchivedTradeMsg, rkyv::rancor::Error>(&bytes).is_err());
}

#[test]
fn malformed_bytes_are_typed_errors() {
    let trade = sample_records()[0];
    let bytes = trade.as_bytes();
    assert_eq!(
        RecordRef::from_bytes(&bytes[..10]),
        Err(RecordError::TooShort(10))
    );
    assert!(matches!(
        RecordRef::from_bytes(&bytes[..40]),
        Err(RecordError::Truncated { .. })
    ));
    let mut bad = trade;
    bad.header_mut().rtype = 200;
    assert_eq!(bad.as_ref(), Err(RecordError::UnknownType(200)));
    let mut bad = trade;
    bad.header_mut().length = 4;
    assert!(matches!(bad.as_ref(), Err(RecordError::BadLength { .. })));
    // Unaligned bytes are copied, then validated the same way.
    let mut shifted = vec![0u8; 1];
    shifted.extend_from_slice(bytes);
    assert_eq!(RecordBuf::from_bytes(&shifted[1..]), Ok(trade));
    assert!(matches!(
        RecordBuf::from_bytes(&shifted[1..60]),
        Err(RecordError::Truncated { .. })
    ));
    shifted[1] = 255;
    assert!(matches!(
        RecordBuf::from_bytes(&shifted[1..]),
        Err(RecordError::BadLength { expected: 88, .. })
    ));
}

#[test]
fn typed_access_checks_the_type() {
    let records = sample_records();
    assert!(records[0].get::<TradeMsg>().is_some());
    assert!(records[0].get::<BboMsg>().is_none());
    assert_eq!(records[0].get::<TradeMsg>().unwrap().side(), Side::Sell);
}

#[test]
fn uuid_trade_ids_print_as_uuids() {
    let mut trade = *sample_records()[0].get::<TradeMsg>().unwrap();
    trade.trade_id_hi = 0x20f4_3950_d8dd_5b31;
    trade.trade_id = 0x9112_a178_eb60_23af;
    assert_eq!(
        trade.trade_id_string(),
        "20f43950-d8dd-5b31-9112-a178eb6023af"
    );
}
