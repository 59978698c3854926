//! `bookTicker` → [`BboMsg`]. Spot sends no time at all (ts_event stays 0, the
//! receive time is in the header); futures sends `T` (transaction) and `E`, and `T`
//! is used as the event time, as for trades.

use serde::Deserialize;
use tickd_bus::record::BboMsg;
use tickd_bus::RecordHeader;

use super::json::{self, price, req, size, time_ns, JsonBackend, SimdScratch};
use super::{Decoded, EventCtx};
use crate::error::DecodeError;
use crate::sink::RecordSink;

#[derive(Deserialize)]
struct BookTickerEvent<'a> {
    #[serde(rename = "E")]
    event_time: Option<u64>,
    #[serde(rename = "T")]
    transaction_time: Option<u64>,
    #[serde(borrow)]
    s: Option<&'a str>,
    #[serde(borrow)]
    b: Option<&'a str>,
    #[serde(borrow, rename = "B")]
    bid_qty: Option<&'a str>,
    #[serde(borrow)]
    a: Option<&'a str>,
    #[serde(borrow, rename = "A")]
    ask_qty: Option<&'a str>,
}

pub(crate) fn decode(
    body: &[u8],
    backend: JsonBackend,
    simd: &mut SimdScratch,
    ctx: &EventCtx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Decoded, DecodeError> {
    let event: BookTickerEvent<'_> = json::parse(backend, body, simd)?;
    let symbol = req(event.s, "s")?;
    let Some(instrument_id) = ctx.symbols.get(symbol) else {
        return Ok(Decoded::unknown_symbol());
    };
    let ts_event = match event.transaction_time {
        Some(t) => time_ns(Some(t), ctx.unit, "T")?,
        None => time_ns(event.event_time, ctx.unit, "E")?,
    };
    let record = BboMsg {
        hd: RecordHeader::new::<BboMsg>(ctx.venue, instrument_id, ts_event, ctx.ts_recv),
        bid_price: price(req(event.b, "b")?, "b")?,
        bid_size: size(req(event.bid_qty, "B")?, "B")?,
        ask_price: price(req(event.a, "a")?, "a")?,
        ask_size: size(req(event.ask_qty, "A")?, "A")?,
    };
    sink.push_record(&record);
    Ok(Decoded::records(1))
}
