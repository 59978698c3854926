//! `candles` (§7.5) → a [`BarMsg`] flagged `VENUE_BAR`: Coinbase's own 5-minute
//! candle, told apart from the bars tickd builds from trades.
//!
//! Events hold `candles: [{"start":"1688998200","high","low","open","close",
//! "volume","product_id"}]` (`start` in Unix seconds). Coinbase pushes the open
//! candle again every second and sends no "closed" flag, so a candle becomes a
//! record when a later one of the same product begins: one bar per interval, final
//! values, stamped with its start. The channel gives no trade count or notional
//! (both 0).

use std::collections::HashMap;

use serde::Deserialize;
use tickd_bus::decimal::Notional;
use tickd_bus::record::BarMsg;
use tickd_bus::Flags;

use super::market::{for_each_batch, header, Key, Pushed};
use crate::binance::decode::json::{price, req, size};
use crate::error::DecodeError;
use crate::okx::decode::fields::{for_each, uint};
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

/// The only candle length the channel sends.
pub const INTERVAL_S: u32 = 300;

#[derive(Deserialize)]
struct Candle<'a> {
    #[serde(borrow)]
    product_id: Option<&'a str>,
    #[serde(borrow)]
    start: Option<&'a str>,
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
}

/// The open candle per instrument, kept until a later one begins.
pub(super) type OpenCandles = HashMap<u32, BarMsg>;

pub(super) fn candles(
    events: &[u8],
    symbols: &SymbolMap,
    open: &mut OpenCandles,
    ts_recv: u64,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let mut pushed = Pushed::default();
    for_each_batch(events, Key::Candles, |_, candles| {
        for_each(candles, |c: Candle<'_>| {
            let Some(id) = symbols.get(req(c.product_id, "product_id")?) else {
                pushed.unknown += 1;
                return Ok(());
            };
            let begin = uint(req(c.start, "start")?, "start")?
                .checked_mul(1_000_000_000)
                .ok_or(DecodeError::OutOfRange { field: "start" })?;
            let mut hd = header::<BarMsg>(id, begin, ts_recv);
            hd.flags = hd.flags.union(Flags::VENUE_BAR);
            let bar = BarMsg {
                hd,
                interval_s: INTERVAL_S,
                trade_count: 0,
                open: price(req(c.open, "open")?, "open")?,
                high: price(req(c.high, "high")?, "high")?,
                low: price(req(c.low, "low")?, "low")?,
                close: price(req(c.close, "close")?, "close")?,
                volume: size(req(c.volume, "volume")?, "volume")?,
                notional: Notional::ZERO,
            };
            match open.get_mut(&id) {
                Some(previous) if previous.hd.ts_event < begin => {
                    let mut closed = std::mem::replace(previous, bar);
                    closed.hd.ts_recv = ts_recv;
                    sink.push_record(&closed);
                    pushed.records += 1;
                }
                // An older candle repeated (the snapshot after a resubscribe): ignored.
                Some(previous) if previous.hd.ts_event > begin => {}
                Some(previous) => *previous = bar,
                None => {
                    open.insert(id, bar);
                }
            }
            Ok(())
        })?;
        Ok(())
    })?;
    Ok(pushed)
}
