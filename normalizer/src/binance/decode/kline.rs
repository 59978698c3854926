//! `kline` (`<symbol>@kline_<interval>`) → a [`BarMsg`] flagged `VENUE_BAR`: the
//! exchange's own candle, told apart from the bars tickd builds from trades.
//!
//! Binance pushes the open candle every second or two; only the final one (`k.x`
//! true) becomes a record, stamped with the candle's close time `k.T` (ms, + 1 ms:
//! Binance's `T` is the last millisecond inside the candle). `k.o/h/l/c` prices,
//! `k.v` base volume, `k.q` quote volume (the exact notional), `k.n` trades.

use serde::Deserialize;
use tickd_bus::decimal::NOTIONAL_SCALE;
use tickd_bus::record::BarMsg;
use tickd_bus::{Flags, RecordHeader, Size};

use super::json::{self, price, req, size, time_ns, JsonBackend, SimdScratch};
use super::{Decoded, EventCtx};
use crate::error::DecodeError;
use crate::sink::RecordSink;

#[derive(Deserialize)]
struct KlineEvent<'a> {
    #[serde(borrow)]
    k: Option<Kline<'a>>,
}

#[derive(Deserialize)]
struct Kline<'a> {
    #[serde(rename = "t")]
    start: Option<u64>,
    #[serde(rename = "T")]
    close_time: Option<u64>,
    #[serde(borrow)]
    s: Option<&'a str>,
    #[serde(borrow)]
    o: Option<&'a str>,
    #[serde(borrow)]
    h: Option<&'a str>,
    #[serde(borrow)]
    l: Option<&'a str>,
    #[serde(borrow)]
    c: Option<&'a str>,
    #[serde(borrow)]
    v: Option<&'a str>,
    #[serde(borrow)]
    q: Option<&'a str>,
    n: Option<u64>,
    x: Option<bool>,
}

pub(crate) fn decode(
    body: &[u8],
    backend: JsonBackend,
    simd: &mut SimdScratch,
    ctx: &EventCtx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Decoded, DecodeError> {
    let event: KlineEvent<'_> = json::parse(backend, body, simd)?;
    let k = req(event.k, "k")?;
    let symbol = req(k.s, "k.s")?;
    let Some(instrument_id) = ctx.symbols.get(symbol) else {
        return Ok(Decoded::unknown_symbol());
    };
    if !req(k.x, "k.x")? {
        // The candle is still open: its final push is the record.
        return Ok(Decoded::records(0));
    }
    let start = req(k.start, "k.t")?;
    let close_time = req(k.close_time, "k.T")?;
    if close_time < start {
        return Err(DecodeError::OutOfRange { field: "k.T" });
    }
    let interval_ms = close_time - start + 1;
    let interval_s = u32::try_from(interval_ms / 1000)
        .ok()
        .filter(|s| *s > 0)
        .ok_or(DecodeError::OutOfRange { field: "k.T" })?;
    let ts_event = time_ns(Some(close_time.saturating_add(1)), ctx.unit, "k.T")?;
    let quote: Size = size(req(k.q, "k.q")?, "k.q")?;
    let notional = i128::from(quote.raw()) * 10i128.pow(NOTIONAL_SCALE - Size::SCALE);
    let mut hd = RecordHeader::new::<BarMsg>(ctx.venue, instrument_id, ts_event, ctx.ts_recv);
    hd.flags = hd.flags.union(Flags::VENUE_BAR);
    let mut bar = BarMsg {
        hd,
        interval_s,
        trade_count: u32::try_from(req(k.n, "k.n")?).unwrap_or(u32::MAX),
        open: price(req(k.o, "k.o")?, "k.o")?,
        high: price(req(k.h, "k.h")?, "k.h")?,
        low: price(req(k.l, "k.l")?, "k.l")?,
        close: price(req(k.c, "k.c")?, "k.c")?,
        volume: size(req(k.v, "k.v")?, "k.v")?,
        notional_lo: 0,
        notional_hi: 0,
    };
    bar.set_notional(notional);
    sink.push_record(&bar);
    Ok(Decoded::records(1))
}
