//! The channels that become records directly (`kraken.md` §6.1, §6.2): `trade`
//! (taker side, per-pair sequential `trade_id`) and `ticker` (top of book → a best
//! bid/offer record; subscribed with `event_trigger: bbo` it is pushed on every
//! top-of-book change). Numbers are JSON number tokens read exactly.

use serde::Deserialize;
use sonic_rs::LazyValue;
use tickd_bus::record::{BboMsg, Side, TradeMsg};
use tickd_bus::{Price, RecordHeader, Size, Venue};

use super::number::{decimal, decimal_or};
use super::time::rfc3339_ns;
use crate::binance::decode::json::req;
use crate::error::DecodeError;
use crate::okx::decode::fields::for_each;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

/// Records pushed and elements skipped for symbols the map does not hold.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pushed {
    pub records: usize,
    pub unknown: usize,
}

pub(super) fn header<R: tickd_bus::Record>(id: u32, ts_event: u64, ts_recv: u64) -> RecordHeader {
    RecordHeader::new::<R>(Venue::Kraken, id, ts_event, ts_recv)
}

#[derive(Deserialize)]
struct Trade<'a> {
    #[serde(borrow)]
    symbol: Option<&'a str>,
    #[serde(borrow)]
    side: Option<&'a str>,
    #[serde(borrow)]
    price: Option<LazyValue<'a>>,
    #[serde(borrow)]
    qty: Option<LazyValue<'a>>,
    trade_id: Option<u64>,
    #[serde(borrow)]
    timestamp: Option<&'a str>,
}

fn taker_side(text: Option<&str>) -> Result<Side, DecodeError> {
    match text {
        Some("buy") => Ok(Side::Buy),
        Some("sell") => Ok(Side::Sell),
        _ => Err(DecodeError::OutOfRange { field: "side" }),
    }
}

/// `trade`: one or more trades (possibly several symbols); `side` is the taker's.
pub(super) fn trades(
    data: &[u8],
    symbols: &SymbolMap,
    ts_recv: u64,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let mut pushed = Pushed::default();
    for_each(data, |t: Trade<'_>| {
        let Some(id) = symbols.get(req(t.symbol, "symbol")?) else {
            pushed.unknown += 1;
            return Ok(());
        };
        let record = TradeMsg {
            hd: header::<TradeMsg>(id, rfc3339_ns(t.timestamp, "timestamp")?, ts_recv),
            price: decimal(req(t.price.as_ref(), "price")?, "price")?,
            size: decimal(req(t.qty.as_ref(), "qty")?, "qty")?,
            trade_id: req(t.trade_id, "trade_id")?,
            trade_id_hi: 0,
            side: taker_side(t.side)? as u8,
            _reserved: [0; 7],
        };
        sink.push_record(&record);
        pushed.records += 1;
        Ok(())
    })?;
    Ok(pushed)
}

#[derive(Deserialize)]
struct Ticker<'a> {
    #[serde(borrow)]
    symbol: Option<&'a str>,
    #[serde(borrow)]
    bid: Option<LazyValue<'a>>,
    #[serde(borrow)]
    bid_qty: Option<LazyValue<'a>>,
    #[serde(borrow)]
    ask: Option<LazyValue<'a>>,
    #[serde(borrow)]
    ask_qty: Option<LazyValue<'a>>,
    /// Added later: older captures lack it (0).
    #[serde(borrow)]
    timestamp: Option<&'a str>,
}

/// `ticker` → best bid/offer (the 24 h statistics are not records).
pub(super) fn tickers(
    data: &[u8],
    symbols: &SymbolMap,
    ts_recv: u64,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let mut pushed = Pushed::default();
    for_each(data, |t: Ticker<'_>| {
        let Some(id) = symbols.get(req(t.symbol, "symbol")?) else {
            pushed.unknown += 1;
            return Ok(());
        };
        let record = BboMsg {
            hd: header::<BboMsg>(id, rfc3339_ns(t.timestamp, "timestamp")?, ts_recv),
            bid_price: decimal_or(t.bid.as_ref(), Price::UNDEF, "bid")?,
            bid_size: decimal_or(t.bid_qty.as_ref(), Size::ZERO, "bid_qty")?,
            ask_price: decimal_or(t.ask.as_ref(), Price::UNDEF, "ask")?,
            ask_size: decimal_or(t.ask_qty.as_ref(), Size::ZERO, "ask_qty")?,
        };
        sink.push_record(&record);
        pushed.records += 1;
        Ok(())
    })?;
    Ok(pushed)
}
