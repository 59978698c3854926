//! `forceOrder` → [`LiquidationMsg`].
//!
//! Binance pushes the latest state of the liquidation order (at most one per symbol
//! per second). What was liquidated is what filled: price `o.ap` (average fill
//! price) and size `o.z` (cumulative filled quantity). `o.l` is only the last fill
//! (one recorded sample even has `l > z`), and `o.p`/`o.q` are the order's limit
//! price and original quantity, used only when nothing has filled yet (`ap`/`z`
//! absent or zero), so the record still says where and how much was being liquidated.
//! `o.S` is the side of the liquidation order (SELL: a long was liquidated).

use serde::Deserialize;
use tickd_bus::record::{LiquidationMsg, Side};
use tickd_bus::{Price, RecordHeader, Size};

use super::json::{self, price, req, size, time_ns, JsonBackend, SimdScratch};
use super::{Decoded, EventCtx};
use crate::error::DecodeError;
use crate::sink::RecordSink;

#[derive(Deserialize)]
struct ForceOrderEvent<'a> {
    #[serde(rename = "E")]
    event_time: Option<u64>,
    #[serde(borrow)]
    o: Option<Order<'a>>,
}

#[derive(Deserialize)]
struct Order<'a> {
    #[serde(borrow)]
    s: Option<&'a str>,
    #[serde(borrow, rename = "S")]
    side: Option<&'a str>,
    #[serde(borrow)]
    q: Option<&'a str>,
    #[serde(borrow)]
    p: Option<&'a str>,
    #[serde(borrow)]
    ap: Option<&'a str>,
    #[serde(borrow)]
    z: Option<&'a str>,
    #[serde(rename = "T")]
    trade_time: Option<u64>,
}

/// `primary` unless it is absent or zero, then `fallback`.
fn filled_or<T: Copy>(
    primary: Option<&str>,
    primary_field: &'static str,
    fallback: Option<&str>,
    fallback_field: &'static str,
    parse: fn(&str, &'static str) -> Result<T, DecodeError>,
    is_zero: fn(T) -> bool,
) -> Result<T, DecodeError> {
    if let Some(text) = primary.filter(|t| !t.is_empty()) {
        let value = parse(text, primary_field)?;
        if !is_zero(value) {
            return Ok(value);
        }
    }
    parse(req(fallback, fallback_field)?, fallback_field)
}

pub(crate) fn decode(
    body: &[u8],
    backend: JsonBackend,
    simd: &mut SimdScratch,
    ctx: &EventCtx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Decoded, DecodeError> {
    let event: ForceOrderEvent<'_> = json::parse(backend, body, simd)?;
    let order = req(event.o, "o")?;
    let symbol = req(order.s, "o.s")?;
    let Some(instrument_id) = ctx.symbols.get(symbol) else {
        return Ok(Decoded::unknown_symbol());
    };
    let side = match order.side {
        Some("BUY") => Side::Buy,
        Some("SELL") => Side::Sell,
        _ => Side::Unknown,
    };
    let ts_event = match order.trade_time {
        Some(t) => time_ns(Some(t), ctx.unit, "o.T")?,
        None => time_ns(event.event_time, ctx.unit, "E")?,
    };
    let record = LiquidationMsg {
        hd: RecordHeader::new::<LiquidationMsg>(ctx.venue, instrument_id, ts_event, ctx.ts_recv),
        price: filled_or(order.ap, "o.ap", order.p, "o.p", price, Price::is_zero)?,
        size: filled_or(order.z, "o.z", order.q, "o.q", size, Size::is_zero)?,
        side: side as u8,
        _reserved: [0; 7],
    };
    sink.push_record(&record);
    Ok(Decoded::records(1))
}
