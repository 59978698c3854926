//! Records of every type with awkward but valid values (`UNDEF` fields, a 128-bit trade
//! id, a negative 101-bit notional, a 5e14 size, a 9.485e-11 price), shared by the layout tests here and by
//! other crates' encoding tests (cargo feature `fixtures`).

use super::*;
use crate::decimal::{Notional, Price, Rate, Size};
use crate::venue::Venue;

/// A header with every field set.
pub fn header<R: Record>(flags: Flags) -> RecordHeader {
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

/// One record of every type (two trades: a numeric id and a 128-bit one), all from
/// `binance-usdm`, instrument 42, sequence 7.
pub fn one_of_each() -> Vec<RecordBuf> {
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
        volume: q("500000000000000.123456789012345678"),
        notional: Notional::ZERO,
    };
    bar.set_notional(Notional::from_i128(-(1i128 << 100) - 5));
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
        RecordBuf::new(&TradeMsg {
            hd: header::<TradeMsg>(Flags::REPLAY),
            price: p("1"),
            size: q("2"),
            trade_id: 0x9112_a178_eb60_23af,
            trade_id_hi: 0x20f4_3950_d8dd_5b31,
            side: Side::Unknown as u8,
            _reserved: [0; 7],
        }),
        // An empty ask side: the venue sent no ask.
        RecordBuf::new(&BboMsg {
            hd: header::<BboMsg>(Flags::DERIVED),
            bid_price: p("29010.9"),
            bid_size: q("13.94302"),
            ask_price: Price::UNDEF,
            ask_size: Size::ZERO,
        }),
        RecordBuf::new(&BookDeltaMsg {
            hd: header::<BookDeltaMsg>(Flags::SNAPSHOT | Flags::LAST),
            price: p("0.00000000009485"),
            size: q("0"),
            update_id: 41_603_413,
            side: BookSide::Ask as u8,
            action: BookAction::Set as u8,
            _reserved: [0; 6],
        }),
        // The `clear` that opens a snapshot image: no side, no price.
        RecordBuf::new(&BookDeltaMsg {
            hd: header::<BookDeltaMsg>(Flags::SNAPSHOT),
            price: Price::UNDEF,
            size: Size::ZERO,
            update_id: 41_603_412,
            side: 0,
            action: BookAction::Clear as u8,
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
