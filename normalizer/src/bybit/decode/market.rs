//! The topics that become records directly (`bybit.md` §6.3–§6.5): `publicTrade`,
//! `orderbook.1` as the best bid/offer, `tickers` (through the merged state),
//! `allLiquidation` and the older `liquidation`. Prices and sizes are strings.

use serde::Deserialize;
use tickd_bus::record::{BboMsg, LiquidationMsg, MarkFundingMsg, OpenInterestMsg, Side, TradeMsg};
use tickd_bus::{Flags, Price, Record, RecordHeader, Size, Venue};

use super::{ms_ns, Head, Top};
use crate::binance::decode::json::{self, price, req, size};
use crate::book::Level;
use crate::bybit::ticker::{TickerState, TickerText, TickerUpdate};
use crate::bybit::Category;
use crate::error::DecodeError;
use crate::okx::decode::fields::for_each;
use crate::sink::RecordSink;

fn header<R: Record>(instrument_id: u32, ts_event: u64, ts_recv: u64) -> RecordHeader {
    RecordHeader::new::<R>(Venue::Bybit, instrument_id, ts_event, ts_recv)
}

/// `Buy`/`Sell`.
fn side(text: Option<&str>, field: &'static str) -> Result<Side, DecodeError> {
    match req(text, field)? {
        "Buy" => Ok(Side::Buy),
        "Sell" => Ok(Side::Sell),
        _ => Err(DecodeError::OutOfRange { field }),
    }
}

/// A trade id kept whole (`bybit.md` §6.3): a UUID (derivatives) as 128 bits
/// `(low, high)`, or a decimal number (spot) in the low word.
pub fn trade_id(text: &str) -> Result<(u64, u64), DecodeError> {
    let bad = DecodeError::OutOfRange { field: "i" };
    let bytes = text.as_bytes();
    if !bytes.is_empty() && bytes.len() <= 20 && bytes.iter().all(u8::is_ascii_digit) {
        let id: u64 = text.parse().map_err(|_| bad)?;
        return Ok((id, 0));
    }
    let dashes_at = [8, 13, 18, 23];
    let uuid_shape = bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| {
            if dashes_at.contains(&i) {
                *b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        });
    if !uuid_shape {
        return Err(bad);
    }
    let mut value: u128 = 0;
    for b in bytes.iter().filter(|b| **b != b'-') {
        // Hex digits only, checked above.
        let digit = (*b as char).to_digit(16).ok_or(bad.clone())?;
        value = (value << 4) | u128::from(digit);
    }
    Ok((value as u64, (value >> 64) as u64))
}

#[derive(Deserialize)]
struct Trade<'a> {
    #[serde(rename = "T")]
    time: Option<u64>,
    #[serde(borrow, rename = "S")]
    side: Option<&'a str>,
    #[serde(borrow, rename = "v")]
    size: Option<&'a str>,
    #[serde(borrow, rename = "p")]
    price: Option<&'a str>,
    #[serde(borrow, rename = "i")]
    id: Option<&'a str>,
    #[serde(rename = "BT")]
    block: Option<bool>,
}

/// `publicTrade`: up to 1024 trades a message; `S` is the taker's side, `BT` a
/// block trade (flagged [`Flags::BLOCK_TRADE`]).
pub(super) fn trades(
    instrument_id: u32,
    data: &[u8],
    head: &Head,
    sink: &mut impl RecordSink,
) -> Result<usize, DecodeError> {
    for_each(data, |t: Trade<'_>| {
        let (trade_id, trade_id_hi) = trade_id(req(t.id, "i")?)?;
        let mut hd = header::<TradeMsg>(instrument_id, ms_ns(t.time, "T")?, head.ts_recv);
        if t.block == Some(true) {
            hd.flags = hd.flags.union(Flags::BLOCK_TRADE);
        }
        sink.push_record(&TradeMsg {
            hd,
            price: price(req(t.price, "p")?, "p")?,
            size: size(req(t.size, "v")?, "v")?,
            trade_id,
            trade_id_hi,
            side: side(t.side, "S")? as u8,
            _reserved: [0; 7],
        });
        Ok(())
    })
}

/// The best bid and offer an `orderbook.1` stream stands at (an empty side is
/// `UNDEF` with size 0).
pub(super) fn bbo_record(instrument_id: u32, head: &Head, top: &Top) -> BboMsg {
    let split = |l: Option<Level>| l.map_or((Price::UNDEF, Size::ZERO), |l| (l.price, l.size));
    let (bid_price, bid_size) = split(top.bid);
    let (ask_price, ask_size) = split(top.ask);
    BboMsg {
        hd: header::<BboMsg>(instrument_id, head.ts_event, head.ts_recv),
        bid_price,
        bid_size,
        ask_price,
        ask_size,
    }
}

/// The ticker fields of a `tickers` data object.
pub(super) fn parse_ticker(data: &[u8]) -> Result<TickerUpdate, DecodeError> {
    let text: TickerText<'_> = json::sonic(data)?;
    TickerUpdate::from_text(&text)
}

/// The records a merged ticker message publishes: mark/index/funding when the
/// message carried any of them, open interest when it carried it. Inverse
/// `openInterestValue` is in the base coin, not the quote: not published.
pub(super) fn ticker_records(
    instrument_id: u32,
    category: Category,
    head: &Head,
    update: &TickerUpdate,
    state: &TickerState,
    sink: &mut impl RecordSink,
) -> usize {
    let mut n = 0;
    if update.touches_funding() {
        sink.push_record(&MarkFundingMsg {
            hd: header::<MarkFundingMsg>(instrument_id, head.ts_event, head.ts_recv),
            mark_price: state.mark_price,
            index_price: state.index_price,
            funding_rate: state.funding_rate,
            next_funding_time: state.next_funding_time,
        });
        n += 1;
    }
    if update.touches_open_interest() {
        sink.push_record(&OpenInterestMsg {
            hd: header::<OpenInterestMsg>(instrument_id, head.ts_event, head.ts_recv),
            open_interest: state.open_interest,
            open_interest_value: match category {
                Category::Inverse => Size::UNDEF,
                _ => state.open_interest_value,
            },
        });
        n += 1;
    }
    n
}

/// The liquidation order's side: Bybit names the side of the *position*
/// liquidated (`Buy`: a long was closed by a sell order).
fn order_side(position: Side) -> Side {
    match position {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
        other => other,
    }
}

#[derive(Deserialize)]
struct Liquidation<'a> {
    #[serde(rename = "T")]
    time: Option<u64>,
    #[serde(borrow, rename = "S")]
    side: Option<&'a str>,
    #[serde(borrow, rename = "v")]
    size: Option<&'a str>,
    #[serde(borrow, rename = "p")]
    price: Option<&'a str>,
}

/// `allLiquidation` (`bybit.md` §6.5): every liquidation, batched per 500 ms; `p` is
/// the bankruptcy price.
pub(super) fn liquidations(
    instrument_id: u32,
    data: &[u8],
    head: &Head,
    sink: &mut impl RecordSink,
) -> Result<usize, DecodeError> {
    for_each(data, |l: Liquidation<'_>| {
        sink.push_record(&LiquidationMsg {
            hd: header::<LiquidationMsg>(instrument_id, ms_ns(l.time, "T")?, head.ts_recv),
            price: price(req(l.price, "p")?, "p")?,
            size: size(req(l.size, "v")?, "v")?,
            side: order_side(side(l.side, "S")?) as u8,
            _reserved: [0; 7],
        });
        Ok(())
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyLiquidation<'a> {
    updated_time: Option<u64>,
    #[serde(borrow)]
    side: Option<&'a str>,
    #[serde(borrow)]
    size: Option<&'a str>,
    #[serde(borrow)]
    price: Option<&'a str>,
}

/// The older `liquidation` topic (removed in 2025; captures still hold it): one
/// object, at most one liquidation a second, the same position-side convention.
pub(super) fn legacy_liquidation(
    instrument_id: u32,
    data: &[u8],
    head: &Head,
    sink: &mut impl RecordSink,
) -> Result<usize, DecodeError> {
    let l: LegacyLiquidation<'_> = json::sonic(data)?;
    let ts_event = match l.updated_time {
        Some(ms) => ms_ns(Some(ms), "updatedTime")?,
        None => head.ts_event,
    };
    sink.push_record(&LiquidationMsg {
        hd: header::<LiquidationMsg>(instrument_id, ts_event, head.ts_recv),
        price: price(req(l.price, "price")?, "price")?,
        size: size(req(l.size, "size")?, "size")?,
        side: order_side(side(l.side, "side")?) as u8,
        _reserved: [0; 7],
    });
    Ok(1)
}
