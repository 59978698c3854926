//! `kline.{interval}.{symbol}` → a [`BarMsg`] flagged `VENUE_BAR`: Bybit's own
//! candle, told apart from the bars tickd builds from trades.
//!
//! `data` is `[{"start":ms,"end":ms,"interval":"5","open":..,"close":..,"high":..,
//! "low":..,"volume":..,"turnover":..,"confirm":bool,"timestamp":ms}]`. Bybit
//! pushes the open candle repeatedly; only a confirmed one becomes a record, stamped
//! with its close time (start + interval). `volume` is in the venue's unit (base
//! coin for spot and linear, USD contracts for inverse). The notional is the quote
//! volume, as for the other venues' candles: `turnover` on spot and linear; on
//! inverse `turnover` is in the base coin, and the quote volume is `volume` itself
//! (each contract is worth 1 USD, `instruments.rs`), exact. Bybit sends no trade
//! count (0). Month candles (`M`) have no fixed length and are refused.

use serde::Deserialize;
use tickd_bus::decimal::{Notional, NOTIONAL_SCALE};
use tickd_bus::record::BarMsg;
use tickd_bus::{Flags, RecordHeader, Size, Venue};

use super::{ms_ns, Head};
use crate::binance::decode::json::{price, req, size};
use crate::bybit::Category;
use crate::error::DecodeError;
use crate::okx::decode::fields::for_each;
use crate::sink::RecordSink;

/// The candle lengths `kline` offers, in minutes, with each one's name in the
/// topic (`kline.5.BTCUSDT`, `kline.D.BTCUSDT`).
pub const KLINE_INTERVALS: [(u32, &str); 12] = [
    (1, "1"),
    (3, "3"),
    (5, "5"),
    (15, "15"),
    (30, "30"),
    (60, "60"),
    (120, "120"),
    (240, "240"),
    (360, "360"),
    (720, "720"),
    (1440, "D"),
    (10_080, "W"),
];

/// The candle length in seconds of a topic's interval (`1`..`720` minutes, `D`,
/// `W`), `None` for anything else.
pub fn interval_secs(interval: &str) -> Option<u32> {
    KLINE_INTERVALS
        .iter()
        .find(|(_, name)| *name == interval)
        .map(|(minutes, _)| minutes * 60)
}

/// The topic's name for a candle of `minutes`, `None` if Bybit has none that long.
pub fn interval_name(minutes: u32) -> Option<&'static str> {
    KLINE_INTERVALS
        .iter()
        .find(|(m, _)| *m == minutes)
        .map(|(_, name)| *name)
}

#[derive(Deserialize)]
struct Kline<'a> {
    start: Option<u64>,
    #[serde(borrow)]
    open: Option<&'a str>,
    #[serde(borrow)]
    high: Option<&'a str>,
    #[serde(borrow)]
    low: Option<&'a str>,
    #[serde(borrow)]
    close: Option<&'a str>,
    #[serde(borrow)]
    volume: Option<&'a str>,
    #[serde(borrow)]
    turnover: Option<&'a str>,
    confirm: Option<bool>,
}

pub(super) fn klines(
    instrument_id: u32,
    category: Category,
    interval_s: u32,
    data: &[u8],
    head: &Head,
    sink: &mut impl RecordSink,
) -> Result<usize, DecodeError> {
    let mut pushed = 0;
    for_each(data, |k: Kline<'_>| {
        if k.confirm != Some(true) {
            return Ok(());
        }
        let start_ms = req(k.start, "start")?;
        let close_ms = start_ms
            .checked_add(u64::from(interval_s) * 1000)
            .ok_or(DecodeError::OutOfRange { field: "start" })?;
        let volume: Size = size(req(k.volume, "volume")?, "volume")?;
        let quote: Size = match category {
            // 1-USD contracts: the USD traded is the contract count.
            Category::Inverse => volume,
            Category::Spot | Category::Linear => size(req(k.turnover, "turnover")?, "turnover")?,
        };
        let notional = Notional::from_i128_scaled(quote.raw(), NOTIONAL_SCALE - Size::SCALE);
        let mut hd = RecordHeader::new::<BarMsg>(
            Venue::Bybit,
            instrument_id,
            ms_ns(Some(close_ms), "start")?,
            head.ts_recv,
        );
        hd.flags = hd.flags.union(Flags::VENUE_BAR);
        sink.push_record(&BarMsg {
            hd,
            interval_s,
            trade_count: 0,
            open: price(req(k.open, "open")?, "open")?,
            high: price(req(k.high, "high")?, "high")?,
            low: price(req(k.low, "low")?, "low")?,
            close: price(req(k.close, "close")?, "close")?,
            volume,
            notional,
        });
        pushed += 1;
        Ok(())
    })?;
    Ok(pushed)
}
