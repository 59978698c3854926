//! `ohlc` → a [`BarMsg`] flagged `VENUE_BAR`: Kraken's own candle, told apart from
//! the bars tickd builds from trades.
//!
//! `data` holds candles `{"symbol","open","high","low","close","trades","volume",
//! "vwap","interval_begin","interval","timestamp"}` (`interval` in minutes). Kraken
//! pushes the open candle again on every trade and sends no "closed" flag, so a
//! candle becomes a record when a later one of the same symbol and interval begins:
//! one bar per interval, final values, stamped with its start (the bar covers
//! `[ts_event, ts_event + interval)`). Notional is `vwap × volume` (Kraken's vwap is
//! rounded to the pair's precision, so it is close, not exact).

use std::collections::HashMap;

use serde::Deserialize;
use sonic_rs::LazyValue;
use tickd_bus::decimal::Notional;
use tickd_bus::record::BarMsg;
use tickd_bus::{Flags, Price};

use super::market::{header, Pushed};
use super::number::decimal;
use super::time::rfc3339_ns;
use crate::binance::decode::json::req;
use crate::error::DecodeError;
use crate::okx::decode::fields::for_each;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

/// Candle lengths Kraken offers, minutes (`ohlc.interval`).
pub const INTERVALS_MIN: [u32; 9] = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600];

#[derive(Deserialize)]
struct Candle<'a> {
    #[serde(borrow)]
    symbol: Option<&'a str>,
    #[serde(borrow)]
    open: Option<LazyValue<'a>>,
    #[serde(borrow)]
    high: Option<LazyValue<'a>>,
    #[serde(borrow)]
    low: Option<LazyValue<'a>>,
    #[serde(borrow)]
    close: Option<LazyValue<'a>>,
    #[serde(borrow)]
    vwap: Option<LazyValue<'a>>,
    #[serde(borrow)]
    volume: Option<LazyValue<'a>>,
    trades: Option<u32>,
    #[serde(borrow)]
    interval_begin: Option<&'a str>,
    interval: Option<u32>,
}

/// The open candle per `(instrument, interval minutes)`, kept until a later one begins.
pub(crate) type OpenCandles = HashMap<(u32, u32), BarMsg>;

pub(super) fn candles(
    data: &[u8],
    symbols: &SymbolMap,
    open: &mut OpenCandles,
    ts_recv: u64,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let mut pushed = Pushed::default();
    for_each(data, |c: Candle<'_>| {
        let Some(id) = symbols.get(req(c.symbol, "symbol")?) else {
            pushed.unknown += 1;
            return Ok(());
        };
        let minutes = req(c.interval, "interval")?;
        if !INTERVALS_MIN.contains(&minutes) {
            return Err(DecodeError::OutOfRange { field: "interval" });
        }
        let begin = rfc3339_ns(
            Some(req(c.interval_begin, "interval_begin")?),
            "interval_begin",
        )?;
        let vwap: Price = decimal(req(c.vwap.as_ref(), "vwap")?, "vwap")?;
        let mut hd = header::<BarMsg>(id, begin, ts_recv);
        hd.flags = hd.flags.union(Flags::VENUE_BAR);
        let mut bar = BarMsg {
            hd,
            interval_s: minutes * 60,
            trade_count: c.trades.unwrap_or(0),
            open: decimal(req(c.open.as_ref(), "open")?, "open")?,
            high: decimal(req(c.high.as_ref(), "high")?, "high")?,
            low: decimal(req(c.low.as_ref(), "low")?, "low")?,
            close: decimal(req(c.close.as_ref(), "close")?, "close")?,
            volume: decimal(req(c.volume.as_ref(), "volume")?, "volume")?,
            notional: Notional::ZERO,
        };
        bar.set_notional(Notional::product(vwap, bar.volume));
        match open.get_mut(&(id, minutes)) {
            Some(previous) if previous.hd.ts_event < begin => {
                let mut closed = std::mem::replace(previous, bar);
                closed.hd.ts_recv = ts_recv;
                sink.push_record(&closed);
                pushed.records += 1;
            }
            // An older candle repeated (a snapshot after a resubscribe): ignored.
            Some(previous) if previous.hd.ts_event > begin => {}
            Some(previous) => *previous = bar,
            None => {
                open.insert((id, minutes), bar);
            }
        }
        Ok(())
    })?;
    Ok(pushed)
}
