//! The channels that become records directly: trades, best bid/offer, klines
//! (`htx.md` §6.1, §6.2), funding and liquidations from the notification sockets
//! (§6.8, §6.9). Numbers are read from their token text (or string) exactly.

use std::collections::HashMap;

use serde::Deserialize;
use sonic_rs::{JsonValueTrait, LazyValue};
use tickd_bus::decimal::{Notional, NOTIONAL_SCALE};
use tickd_bus::record::{BarMsg, BboMsg, LiquidationMsg, MarkFundingMsg, Side, TradeMsg};
use tickd_bus::{Flags, Price, Rate, RecordHeader, Size, Venue};

use super::fields::{decimal, decimal_or, ms_ns, req_decimal, uint};
use crate::binance::decode::json;
use crate::engine::VenueEvent;
use crate::error::DecodeError;
use crate::okx::decode::fields::for_each;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

/// What every channel needs besides its body.
/// A `Size` raw value times this is the same number as a `Price` raw value.
const POW10_PRICE_OVER_SIZE: i128 = Price::ONE_RAW / Size::ONE_RAW;

pub(super) struct Ctx<'c> {
    pub venue: Venue,
    pub symbols: &'c SymbolMap,
    pub ts_recv: u64,
    /// The quote value of one contract of each inverse (coin-margined) swap, from
    /// the registry: a candle's notional is its contracts times it.
    pub inverse_values: &'c HashMap<u32, Size>,
}

impl Ctx<'_> {
    fn header<R: tickd_bus::Record>(&self, instrument_id: u32, ts_event: u64) -> RecordHeader {
        RecordHeader::new::<R>(self.venue, instrument_id, ts_event, self.ts_recv)
    }

    fn spot(&self) -> bool {
        self.venue == Venue::Htx
    }
}

/// Records pushed and elements skipped for unknown contracts (notification
/// topics name their contract per element).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Pushed {
    records: usize,
    unknown: usize,
}

impl Pushed {
    pub fn records(records: usize) -> Self {
        Self {
            records,
            unknown: 0,
        }
    }

    pub fn into_event(self) -> VenueEvent<'static> {
        if self.records == 0 && self.unknown > 0 {
            VenueEvent::UnknownSymbol
        } else {
            VenueEvent::Records(self.records)
        }
    }
}

/// Channels that are not books and that this decoder reads.
pub(super) fn known(channel: &str) -> bool {
    matches!(channel, "trade.detail" | "bbo") || interval_secs(channel).is_some()
}

/// The bar length of a `kline.$period` channel (`1min` … `1week`); months and
/// years have no fixed length and are refused.
pub fn interval_secs(channel: &str) -> Option<u32> {
    Some(match channel.strip_prefix("kline.")? {
        "1min" => 60,
        "5min" => 300,
        "15min" => 900,
        "30min" => 1800,
        "60min" => 3600,
        "4hour" => 4 * 3600,
        "1day" => 86_400,
        "1week" => 7 * 86_400,
        _ => return None,
    })
}

fn side(direction: Option<&str>) -> Result<Side, DecodeError> {
    match direction {
        Some("buy") => Ok(Side::Buy),
        Some("sell") => Ok(Side::Sell),
        None | Some("") => Ok(Side::Unknown),
        Some(_) => Err(DecodeError::OutOfRange { field: "direction" }),
    }
}

#[derive(Deserialize)]
struct TradeTick<'a> {
    #[serde(borrow)]
    data: Option<LazyValue<'a>>,
}

#[derive(Deserialize)]
struct Trade<'a> {
    /// Spot: the legacy id, wider than u64 (kept as text, never read). Swaps:
    /// the trade id.
    #[serde(borrow)]
    id: Option<LazyValue<'a>>,
    #[serde(borrow, rename = "tradeId")]
    trade_id: Option<LazyValue<'a>>,
    #[serde(borrow)]
    ts: Option<LazyValue<'a>>,
    #[serde(borrow)]
    price: Option<LazyValue<'a>>,
    #[serde(borrow)]
    amount: Option<LazyValue<'a>>,
    #[serde(borrow)]
    direction: Option<&'a str>,
}

/// `trade.detail` push: `tick.data[]`, one or more trades; `direction` is the
/// taker's. Spot sizes in base, swap sizes in contracts.
pub(super) fn trades(
    instrument_id: u32,
    tick: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<usize, DecodeError> {
    let t: TradeTick<'_> = json::sonic(tick)?;
    let data = t
        .data
        .ok_or(DecodeError::MissingField { field: "tick.data" })?;
    trade_list(instrument_id, data.as_raw_str().as_bytes(), ctx, sink)
}

/// A trades array (the push's `tick.data`, or a `req` reply's `data`).
pub(super) fn trade_list(
    instrument_id: u32,
    data: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<usize, DecodeError> {
    for_each(data, |t: Trade<'_>| {
        // Spot: `tradeId` (the dedupe key; `id` overflows u64). Swaps: `id`.
        let (id, field) = if ctx.spot() {
            (&t.trade_id, "tradeId")
        } else {
            (&t.id, "id")
        };
        let id = id.as_ref().ok_or(DecodeError::MissingField { field })?;
        let record = TradeMsg {
            hd: ctx.header::<TradeMsg>(instrument_id, ms_ns(&t.ts, "ts")?),
            price: req_decimal(&t.price, "price")?,
            size: req_decimal(&t.amount, "amount")?,
            trade_id: uint(id, field)?,
            trade_id_hi: 0,
            side: side(t.direction)? as u8,
            _reserved: [0; 7],
        };
        sink.push_record(&record);
        Ok(())
    })
}

#[derive(Deserialize)]
struct Bbo<'a> {
    // Spot: numbers.
    #[serde(borrow)]
    bid: Option<LazyValue<'a>>,
    #[serde(borrow, rename = "bidSize")]
    bid_size: Option<LazyValue<'a>>,
    #[serde(borrow)]
    ask: Option<LazyValue<'a>>,
    #[serde(borrow, rename = "askSize")]
    ask_size: Option<LazyValue<'a>>,
    #[serde(borrow, rename = "quoteTime")]
    quote_time: Option<LazyValue<'a>>,
    // Swaps: `bid`/`ask` are `[price, contracts]`, a side may be missing.
    #[serde(borrow)]
    ts: Option<LazyValue<'a>>,
}

/// `bbo`: spot `bid`/`bidSize`/`ask`/`askSize` numbers at `quoteTime` (a frame
/// with `quoteTime` 0 is not a quote: skipped); swaps `[price, size]` pairs.
pub(super) fn bbo(
    instrument_id: u32,
    tick: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<usize, DecodeError> {
    let b: Bbo<'_> = json::sonic(tick)?;
    let record = if ctx.spot() {
        let ts = ms_ns(&b.quote_time, "quoteTime")?;
        if ts == 0 {
            return Ok(0);
        }
        BboMsg {
            hd: ctx.header::<BboMsg>(instrument_id, ts),
            bid_price: decimal_or(&b.bid, Price::UNDEF, "bid")?,
            bid_size: decimal_or(&b.bid_size, Size::ZERO, "bidSize")?,
            ask_price: decimal_or(&b.ask, Price::UNDEF, "ask")?,
            ask_size: decimal_or(&b.ask_size, Size::ZERO, "askSize")?,
        }
    } else {
        let (bid_price, bid_size) = pair(&b.bid, "bid")?;
        let (ask_price, ask_size) = pair(&b.ask, "ask")?;
        BboMsg {
            hd: ctx.header::<BboMsg>(instrument_id, ms_ns(&b.ts, "ts")?),
            bid_price,
            bid_size,
            ask_price,
            ask_size,
        }
    };
    sink.push_record(&record);
    Ok(1)
}

/// A swap BBO side, `[price, contracts]`; absent, `null` or `[]` is no quote.
fn pair(side: &Option<LazyValue<'_>>, field: &'static str) -> Result<(Price, Size), DecodeError> {
    let none = (Price::UNDEF, Size::ZERO);
    let Some(side) = side else { return Ok(none) };
    let raw = side.as_raw_str();
    if side.is_null() || raw.trim() == "[]" {
        return Ok(none);
    }
    let (price, size): (LazyValue<'_>, LazyValue<'_>) = json::sonic(raw.as_bytes())?;
    Ok((decimal(&price, field)?, decimal(&size, field)?))
}

#[derive(Deserialize)]
struct Kline<'a> {
    #[serde(borrow)]
    id: Option<LazyValue<'a>>,
    #[serde(borrow)]
    open: Option<LazyValue<'a>>,
    #[serde(borrow)]
    high: Option<LazyValue<'a>>,
    #[serde(borrow)]
    low: Option<LazyValue<'a>>,
    #[serde(borrow)]
    close: Option<LazyValue<'a>>,
    #[serde(borrow)]
    amount: Option<LazyValue<'a>>,
    #[serde(borrow)]
    vol: Option<LazyValue<'a>>,
    #[serde(borrow)]
    count: Option<LazyValue<'a>>,
    #[serde(borrow)]
    trade_turnover: Option<LazyValue<'a>>,
}

/// `kline.$period`: HTX pushes the open candle (`id` = its start, seconds) on
/// every change. A candle is published as a `VENUE_BAR` bar, stamped with its
/// close time, when the next candle starts. Volume in the venue's unit (spot
/// `amount` in base, swap `vol` in contracts); notional in quote (spot `vol`,
/// USDT-M `trade_turnover`; coin-M: `vol` contracts × the contract's USD value,
/// exact, since its turnover is in coin; 0 while the contract size is unknown).
pub(super) fn kline(
    instrument_id: u32,
    interval_s: u32,
    tick: &[u8],
    ctx: &Ctx<'_>,
    open_bars: &mut HashMap<(u32, u32), BarMsg>,
    sink: &mut impl RecordSink,
) -> Result<usize, DecodeError> {
    let k: Kline<'_> = json::sonic(tick)?;
    let start_s = uint(
        k.id.as_ref()
            .ok_or(DecodeError::MissingField { field: "id" })?,
        "id",
    )?;
    let close_ns = start_s
        .checked_add(u64::from(interval_s))
        .and_then(|s| s.checked_mul(1_000_000_000))
        .ok_or(DecodeError::OutOfRange { field: "id" })?;
    let (volume, quote): (Size, Size) = match ctx.venue {
        Venue::Htx => (
            req_decimal(&k.amount, "amount")?,
            req_decimal(&k.vol, "vol")?,
        ),
        Venue::HtxUsdm => (
            req_decimal(&k.vol, "vol")?,
            decimal_or(&k.trade_turnover, Size::ZERO, "trade_turnover")?,
        ),
        _ => (req_decimal(&k.vol, "vol")?, Size::ZERO),
    };
    let notional = match (ctx.venue, ctx.inverse_values.get(&instrument_id)) {
        (Venue::HtxCoinm, Some(value)) => {
            let places = POW10_PRICE_OVER_SIZE;
            let value = value
                .raw()
                .checked_mul(places)
                .ok_or(DecodeError::OutOfRange { field: "vol" })?;
            Notional::product(Price::from_raw(value), volume)
        }
        _ => Notional::from_i128_scaled(quote.raw(), NOTIONAL_SCALE - Size::SCALE),
    };
    let count = k
        .count
        .as_ref()
        .map_or(Ok(0), |c| uint(c, "count"))?
        .min(u64::from(u32::MAX)) as u32;
    let mut hd = ctx.header::<BarMsg>(instrument_id, close_ns);
    hd.flags = hd.flags.union(Flags::VENUE_BAR);
    let mut bar = BarMsg {
        hd,
        interval_s,
        trade_count: count,
        open: req_decimal(&k.open, "open")?,
        high: req_decimal(&k.high, "high")?,
        low: req_decimal(&k.low, "low")?,
        close: req_decimal(&k.close, "close")?,
        volume,
        notional: Notional::ZERO,
    };
    bar.set_notional(notional);
    let key = (instrument_id, interval_s);
    let mut pushed = 0;
    match open_bars.get_mut(&key) {
        Some(open) if open.hd.ts_event < close_ns => {
            // The open candle closed: publish it, keep the new one.
            let mut closed = *open;
            closed.hd.ts_recv = ctx.ts_recv;
            sink.push_record(&closed);
            pushed = 1;
            *open = bar;
        }
        Some(open) if open.hd.ts_event == close_ns => *open = bar,
        Some(_) => {} // an older candle: already published
        None => {
            open_bars.insert(key, bar);
        }
    }
    Ok(pushed)
}

#[derive(Deserialize)]
struct Funding<'a> {
    #[serde(borrow)]
    contract_code: Option<&'a str>,
    #[serde(borrow)]
    funding_rate: Option<LazyValue<'a>>,
    #[serde(borrow)]
    funding_time: Option<LazyValue<'a>>,
    #[serde(borrow)]
    settlement_time: Option<LazyValue<'a>>,
}

/// `public.$code.funding_rate`: the live rate of the current period (strings),
/// computed at `funding_time`, settling at `settlement_time`.
pub(super) fn funding(
    data: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let mut pushed = Pushed::default();
    for_each(data, |f: Funding<'_>| {
        let code = f.contract_code.ok_or(DecodeError::MissingField {
            field: "contract_code",
        })?;
        let Some(instrument_id) = ctx.symbols.get(code) else {
            pushed.unknown += 1;
            return Ok(());
        };
        let record = MarkFundingMsg {
            hd: ctx
                .header::<MarkFundingMsg>(instrument_id, ms_ns(&f.funding_time, "funding_time")?),
            mark_price: Price::UNDEF,
            index_price: Price::UNDEF,
            funding_rate: decimal_or(&f.funding_rate, Rate::UNDEF, "funding_rate")?,
            next_funding_time: ms_ns(&f.settlement_time, "settlement_time")?,
        };
        sink.push_record(&record);
        pushed.records += 1;
        Ok(())
    })?;
    Ok(pushed)
}

#[derive(Deserialize)]
struct Liquidation<'a> {
    #[serde(borrow)]
    contract_code: Option<&'a str>,
    #[serde(borrow)]
    direction: Option<&'a str>,
    #[serde(borrow)]
    volume: Option<LazyValue<'a>>,
    #[serde(borrow)]
    price: Option<LazyValue<'a>>,
    #[serde(borrow)]
    created_at: Option<LazyValue<'a>>,
}

/// `public.$code.liquidation_orders`: bankruptcy price, `volume` in contracts,
/// `direction` the liquidation order's side.
pub(super) fn liquidations(
    data: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let mut pushed = Pushed::default();
    for_each(data, |l: Liquidation<'_>| {
        let code = l.contract_code.ok_or(DecodeError::MissingField {
            field: "contract_code",
        })?;
        let Some(instrument_id) = ctx.symbols.get(code) else {
            pushed.unknown += 1;
            return Ok(());
        };
        let record = LiquidationMsg {
            hd: ctx.header::<LiquidationMsg>(instrument_id, ms_ns(&l.created_at, "created_at")?),
            price: req_decimal(&l.price, "price")?,
            size: req_decimal(&l.volume, "volume")?,
            side: side(l.direction)? as u8,
            _reserved: [0; 7],
        };
        sink.push_record(&record);
        pushed.records += 1;
        Ok(())
    })?;
    Ok(pushed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(interval_secs("kline.1min"), Some(60));
        assert_eq!(interval_secs("kline.4hour"), Some(14_400));
        assert_eq!(interval_secs("kline.1mon"), None);
        assert_eq!(interval_secs("trade.detail"), None);
    }
}
