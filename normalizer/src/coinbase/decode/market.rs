//! The channels that become records directly: `market_trades` (§7.2) and
//! `ticker` / `ticker_batch` (§7.3, best bid/offer). Prices and sizes are strings.
//!
//! A trade's `side`: the reference leaves it open (nautilus_trader reads the
//! maker's side, as on the legacy feed; other clients the taker's). tickd reads it
//! as the **taker's** side ([`TradeSide::Taker`]): in the real update frame of
//! `samples/coinbase/trades.jsonl` two trades of the same instant are `SELL` at
//! 2668.35 and `BUY` at 2668.36, a seller hitting the bid and a buyer lifting the
//! offer one tick above it; read as makers' sides they would need a bid above the
//! offer. [`TradeSide::Maker`] is kept for a venue change.

use serde::Deserialize;
use tickd_bus::record::{BboMsg, Side, TradeMsg};
use tickd_bus::{Price, Record, RecordHeader, Size, Venue};

use crate::binance::decode::json::{price, price_or_undef, req, size};
use crate::engine::VenueEvent;
use crate::error::DecodeError;
use crate::kraken::decode::time::rfc3339_ns;
use crate::okx::decode::fields::for_each;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;
use sonic_rs::LazyValue;

/// What a trade's `side` names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TradeSide {
    /// The aggressor's side (tickd's reading, see the module docs).
    #[default]
    Taker,
    /// The resting order's side: the aggressor is the opposite.
    Maker,
}

/// Records pushed and elements skipped for products the map does not hold.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pushed {
    pub records: usize,
    pub unknown: usize,
}

impl Pushed {
    /// Only unknown products: the frame's symbol is not known (replay may learn it).
    pub fn event(self) -> VenueEvent<'static> {
        if self.records == 0 && self.unknown > 0 {
            VenueEvent::UnknownSymbol
        } else {
            VenueEvent::Records(self.records)
        }
    }

    fn lookup(
        &mut self,
        symbols: &SymbolMap,
        product: Option<&str>,
    ) -> Result<Option<u32>, DecodeError> {
        let id = symbols.get(req(product, "product_id")?);
        self.unknown += usize::from(id.is_none());
        Ok(id)
    }
}

pub(super) fn header<R: Record>(id: u32, ts_event: u64, ts_recv: u64) -> RecordHeader {
    RecordHeader::new::<R>(Venue::Coinbase, id, ts_event, ts_recv)
}

/// An event whose payload is an array under `key` (`trades`, `tickers`, `candles`).
#[derive(Deserialize)]
pub(super) struct Batch<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<&'a str>,
    #[serde(borrow)]
    trades: Option<LazyValue<'a>>,
    #[serde(borrow)]
    tickers: Option<LazyValue<'a>>,
    #[serde(borrow)]
    candles: Option<LazyValue<'a>>,
}

/// Which array of a [`Batch`] a channel reads.
#[derive(Clone, Copy)]
pub(super) enum Key {
    Trades,
    Tickers,
    Candles,
}

/// Calls `each` with whether the event is a `snapshot` and the raw array under
/// `key`, for every event.
pub(super) fn for_each_batch(
    events: &[u8],
    key: Key,
    mut each: impl FnMut(bool, &[u8]) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    for_each(events, |b: Batch<'_>| {
        let (value, field) = match key {
            Key::Trades => (b.trades, "trades"),
            Key::Tickers => (b.tickers, "tickers"),
            Key::Candles => (b.candles, "candles"),
        };
        each(
            b.kind == Some("snapshot"),
            req(value, field)?.as_raw_str().as_bytes(),
        )
    })?;
    Ok(())
}

#[derive(Deserialize)]
struct Trade<'a> {
    #[serde(borrow)]
    trade_id: Option<&'a str>,
    #[serde(borrow)]
    product_id: Option<&'a str>,
    #[serde(borrow)]
    price: Option<&'a str>,
    #[serde(borrow)]
    size: Option<&'a str>,
    #[serde(borrow)]
    side: Option<&'a str>,
    #[serde(borrow)]
    time: Option<&'a str>,
}

/// A trade id kept whole: a decimal string of up to 38 digits as 128 bits
/// `(low, high)` (today's ids fit the low word; `"000000000"` is 0).
pub fn trade_id(text: &str) -> Result<(u64, u64), DecodeError> {
    let bad = DecodeError::OutOfRange { field: "trade_id" };
    if text.is_empty() || text.len() > 38 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    let value: u128 = text.parse().map_err(|_| bad)?;
    Ok((value as u64, (value >> 64) as u64))
}

fn side(text: Option<&str>, reading: TradeSide) -> Result<Side, DecodeError> {
    let named = match req(text, "side")? {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return Err(DecodeError::OutOfRange { field: "side" }),
    };
    Ok(match (reading, named) {
        (TradeSide::Taker, side) => side,
        (TradeSide::Maker, Side::Buy) => Side::Sell,
        (TradeSide::Maker, _) => Side::Buy,
    })
}

/// The time of the newest trade decoded per instrument (all connections).
pub(super) type LastTrades = std::collections::HashMap<u32, u64>;

/// `market_trades`: a snapshot batch of recent trades, then updates. The order
/// inside a batch is not documented (§7.2): a snapshot batch (once a subscription)
/// is published oldest first, by time then id, and without the trades older than
/// the newest one already decoded for the product (repeats the feed drops anyway,
/// or trades a lost frame carried, already flagged lost: published now they would
/// go out of order); updates as they come.
pub(super) fn trades(
    events: &[u8],
    symbols: &SymbolMap,
    reading: TradeSide,
    last: &mut LastTrades,
    ts_recv: u64,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let mut pushed = Pushed::default();
    let mut batch: Vec<TradeMsg> = Vec::new();
    for_each_batch(events, Key::Trades, |snapshot, trades| {
        for_each(trades, |t: Trade<'_>| {
            let Some(id) = pushed.lookup(symbols, t.product_id)? else {
                return Ok(());
            };
            let (trade_id, trade_id_hi) = trade_id(req(t.trade_id, "trade_id")?)?;
            let record = TradeMsg {
                hd: header::<TradeMsg>(
                    id,
                    rfc3339_ns(Some(req(t.time, "time")?), "time")?,
                    ts_recv,
                ),
                price: price(req(t.price, "price")?, "price")?,
                size: size(req(t.size, "size")?, "size")?,
                trade_id,
                trade_id_hi,
                side: side(t.side, reading)? as u8,
                _reserved: [0; 7],
            };
            if snapshot {
                batch.push(record);
            } else {
                let newest = last.entry(id).or_insert(0);
                *newest = (*newest).max(record.hd.ts_event);
                sink.push_record(&record);
            }
            pushed.records += 1;
            Ok(())
        })?;
        Ok(())
    })?;
    batch.sort_by_key(|t| (t.hd.ts_event, t.trade_id_hi, t.trade_id));
    for record in &batch {
        let newest = last.get(&record.hd.instrument_id).copied().unwrap_or(0);
        if record.hd.ts_event < newest {
            pushed.records -= 1;
            continue;
        }
        last.insert(record.hd.instrument_id, record.hd.ts_event);
        sink.push_record(record);
    }
    Ok(pushed)
}

#[derive(Deserialize)]
struct Ticker<'a> {
    #[serde(borrow)]
    product_id: Option<&'a str>,
    #[serde(borrow)]
    best_bid: Option<&'a str>,
    #[serde(borrow)]
    best_bid_quantity: Option<&'a str>,
    #[serde(borrow)]
    best_ask: Option<&'a str>,
    #[serde(borrow)]
    best_ask_quantity: Option<&'a str>,
}

fn size_or_zero(text: Option<&str>, field: &'static str) -> Result<Size, DecodeError> {
    match text {
        None | Some("") => Ok(Size::ZERO),
        Some(text) => size(text, field),
    }
}

/// `ticker` / `ticker_batch` → best bid/offer. Tickers without `best_bid` and
/// `best_ask` (before 2024-04, and `ticker_batch`) carry no top of book: skipped.
pub(super) fn tickers(
    events: &[u8],
    symbols: &SymbolMap,
    ts_event: u64,
    ts_recv: u64,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let mut pushed = Pushed::default();
    for_each_batch(events, Key::Tickers, |_, tickers| {
        for_each(tickers, |t: Ticker<'_>| {
            let Some(id) = pushed.lookup(symbols, t.product_id)? else {
                return Ok(());
            };
            if t.best_bid.is_none() && t.best_ask.is_none() {
                return Ok(());
            }
            let record = BboMsg {
                hd: header::<BboMsg>(id, ts_event, ts_recv),
                bid_price: price_or_undef(t.best_bid, "best_bid")?,
                bid_size: size_or_zero(t.best_bid_quantity, "best_bid_quantity")?,
                ask_price: price_or_undef(t.best_ask, "best_ask")?,
                ask_size: size_or_zero(t.best_ask_quantity, "best_ask_quantity")?,
            };
            if record.bid_price == Price::UNDEF && record.ask_price == Price::UNDEF {
                return Ok(());
            }
            sink.push_record(&record);
            pushed.records += 1;
            Ok(())
        })?;
        Ok(())
    })?;
    Ok(pushed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trade_ids_are_kept_whole() {
        assert_eq!(trade_id("892262231"), Ok((892_262_231, 0)));
        assert_eq!(trade_id("000000000"), Ok((0, 0)));
        assert_eq!(trade_id("18446744073709551616"), Ok((0, 1)));
        for bad in ["", "-1", "12a", "1.5", &"9".repeat(39)] {
            assert!(trade_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn maker_reading_flips_the_side() {
        assert_eq!(side(Some("BUY"), TradeSide::Taker), Ok(Side::Buy));
        assert_eq!(side(Some("BUY"), TradeSide::Maker), Ok(Side::Sell));
        assert_eq!(side(Some("SELL"), TradeSide::Maker), Ok(Side::Buy));
        assert!(side(Some("buy"), TradeSide::Taker).is_err());
    }
}
