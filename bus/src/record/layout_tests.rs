//! Pins every record's size, alignment and field offsets: these bytes are the journal
//! and binary-protocol format, so a change here must be deliberate.

use std::mem::{align_of, offset_of, size_of};

use super::*;
use crate::decimal::{Price, Rate, Size};
use crate::venue::Venue;

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
    assert_layout!(TradeMsg, size 72, price @ 32, size @ 40, trade_id @ 48, trade_id_hi @ 56, side @ 64);
    assert_layout!(BboMsg, size 64, bid_price @ 32, bid_size @ 40, ask_price @ 48, ask_size @ 56);
    assert_layout!(BookDeltaMsg, size 64, price @ 32, size @ 40, update_id @ 48, side @ 56, action @ 57);
    assert_layout!(BarMsg, size 96, interval_s @ 32, trade_count @ 36, open @ 40, high @ 48, low @ 56,
        close @ 64, volume @ 72, notional_lo @ 80, notional_hi @ 88);
    assert_layout!(MarkFundingMsg, size 64, mark_price @ 32, index_price @ 40, funding_rate @ 48,
        next_funding_time @ 56);
    assert_layout!(LiquidationMsg, size 56, price @ 32, size @ 40, side @ 48);
    assert_layout!(OpenInterestMsg, size 48, open_interest @ 32, open_interest_value @ 40);
    assert_layout!(StatusMsg, size 56, kind @ 32, reason @ 34, conn @ 36, lost @ 40, detail @ 48);
    assert_eq!(size_of::<RecordBuf>(), MAX_RECORD_SIZE);
    assert_eq!(RecordType::Trade.record_size(), 72);
    assert_eq!(RecordType::Bar.record_size(), MAX_RECORD_SIZE);
    assert_eq!(align_of::<RecordBuf>(), 8);
}

fn header<R: Record>(flags: Flags) -> RecordHeader {
    let mut hd = RecordHeader::new::<R>(
        Venue::BinanceUsdm,
        42,
        1_700_000_000_123_000_000,
        1_700_000_000_124_000_001,
    );
    hd.sequence = 7;
    hd.flags = flags;
    hd
}

fn sample_records() -> Vec<RecordBuf> {
    let p = |s: &str| Price::parse_str(s).unwrap();
    let q = |s: &str| Size::parse_str(s).unwrap();
    let mut bar = BarMsg {
        hd: header::<BarMsg>(Flags::NONE),
        interval_s: 60,
        trade_count: 3,
        open: p("1"),
        high: p("3"),
        low: p("0.5"),
        close: p("2"),
        volume: q("50000000000.12345678"),
        notional_lo: 0,
        notional_hi: 0,
    };
    bar.set_notional(-(1i128 << 100) - 5);
    vec![
        RecordBuf::new(&TradeMsg {
            hd: header::<TradeMsg>(Flags::NONE),
            price: p("58942.01"),
            size: q("0.000356"),
            trade_id: 716_849_523,
            trade_id_hi: 0,
            side: Side::Sell as u8,
            _reserved: [0; 7],
        }),
        RecordBuf::new(&BboMsg {
            hd: header::<BboMsg>(Flags::DERIVED),
            bid_price: p("29010.9"),
            bid_size: q("13.94302"),
            ask_price: p("29010.91"),
            ask_size: q("3.99953"),
        }),
        RecordBuf::new(&BookDeltaMsg {
            hd: header::<BookDeltaMsg>(Flags::SNAPSHOT | Flags::LAST),
            price: p("0.00002246"),
            size: q("0"),
            update_id: 41_603_413,
            side: BookSide::Ask as u8,
            action: BookAction::Set as u8,
            _reserved: [0; 6],
        }),
        RecordBuf::new(&bar),
        RecordBuf::new(&MarkFundingMsg {
            hd: header::<MarkFundingMsg>(Flags::NONE),
            mark_price: p("11794.15"),
            index_price: Price::UNDEF,
            funding_rate: Rate::parse_str("-0.0001542145319804").unwrap(),
            next_funding_time: 1_597_392_000_000_000_000,
        }),
        RecordBuf::new(&LiquidationMsg {
            hd: header::<LiquidationMsg>(Flags::NONE),
            price: p("9910"),
            size: q("0.014"),
            side: Side::Sell as u8,
            _reserved: [0; 7],
        }),
        RecordBuf::new(&OpenInterestMsg {
            hd: header::<OpenInterestMsg>(Flags::NONE),
            open_interest: q("10659.509"),
            open_interest_value: Size::UNDEF,
        }),
        RecordBuf::new(&StatusMsg {
            hd: header::<StatusMsg>(Flags::NONE),
            kind: StatusKind::Gap as u8,
            _reserved: 0,
            reason: StatusReason::SequenceGap as u16,
            conn: 2,
            lost: LOST_UNKNOWN,
            detail: 160,
        }),
    ]
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
    assert_eq!(records.len(), RecordType::ALL.len());
    for buf in &records {
        let view = buf.as_ref().unwrap();
        assert_eq!(view.header().sequence, 7);
        assert_eq!(RecordBuf::from_bytes(view.as_bytes()).unwrap(), *buf);
        match view {
            RecordRef::Trade(r) => rkyv_round_trip(r),
            RecordRef::Bbo(r) => rkyv_round_trip(r),
            RecordRef::BookDelta(r) => rkyv_round_trip(r),
            RecordRef::Bar(r) => {
                assert_eq!(r.notional(), -(1i128 << 100) - 5);
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
        RecordBuf::from_bytes(&shifted[1..50]),
        Err(RecordError::Truncated { .. })
    ));
    shifted[1] = 255;
    assert!(matches!(
        RecordBuf::from_bytes(&shifted[1..]),
        Err(RecordError::BadLength { expected: 72, .. })
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
