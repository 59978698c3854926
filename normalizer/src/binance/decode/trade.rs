//! `trade` and `aggTrade` events → [`TradeMsg`].
//!
//! `m` is "buyer was the maker": the aggressor sold when it is true. Times are `T`
//! (match time) when present, else `E`. Futures `@trade` also carries `X` (MARKET,
//! INSURANCE_FUND, ADL, NA): every print is published; the record has no field for
//! the origin, so consumers see insurance-fund and ADL fills as trades, as the
//! venue's own tape does.

use serde::Deserialize;
use tickd_bus::record::{Side, TradeMsg};
use tickd_bus::RecordHeader;

use super::json::{self, price, req, size, time_ns, JsonBackend, SimdScratch};
use super::{Decoded, EventCtx};
use crate::error::DecodeError;
use crate::sink::RecordSink;

#[derive(Deserialize)]
struct TradeEvent<'a> {
    #[serde(rename = "E")]
    event_time: Option<u64>,
    #[serde(rename = "T")]
    trade_time: Option<u64>,
    #[serde(borrow)]
    s: Option<&'a str>,
    /// `trade`: trade id.
    t: Option<u64>,
    /// `aggTrade`: aggregate trade id (older futures captures omit it).
    a: Option<IdOrOther>,
    #[serde(borrow)]
    p: Option<&'a str>,
    #[serde(borrow)]
    q: Option<&'a str>,
    m: Option<bool>,
}

/// `a` is the aggregate id on `aggTrade` but the seller's order id on legacy
/// `trade` captures; both are integers, read as such.
#[derive(Deserialize)]
#[serde(transparent)]
struct IdOrOther(u64);

/// Which of the two events the body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TradeKind {
    Trade,
    AggTrade,
}

pub(crate) fn decode(
    kind: TradeKind,
    body: &[u8],
    backend: JsonBackend,
    simd: &mut SimdScratch,
    ctx: &EventCtx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Decoded, DecodeError> {
    let event: TradeEvent<'_> = json::parse(backend, body, simd)?;
    let symbol = req(event.s, "s")?;
    let Some(instrument_id) = ctx.symbols.get(symbol) else {
        return Ok(Decoded::unknown_symbol());
    };
    let trade_id = match kind {
        TradeKind::Trade => req(event.t, "t")?,
        TradeKind::AggTrade => event.a.map_or(0, |id| id.0),
    };
    let side = match event.m {
        Some(true) => Side::Sell,
        Some(false) => Side::Buy,
        None => Side::Unknown,
    };
    let ts_event = match event.trade_time {
        Some(t) => time_ns(Some(t), ctx.unit, "T")?,
        None => time_ns(event.event_time, ctx.unit, "E")?,
    };
    let record = TradeMsg {
        hd: RecordHeader::new::<TradeMsg>(ctx.venue, instrument_id, ts_event, ctx.ts_recv),
        price: price(req(event.p, "p")?, "p")?,
        size: size(req(event.q, "q")?, "q")?,
        trade_id,
        trade_id_hi: 0,
        side: side as u8,
        _reserved: [0; 7],
    };
    sink.push_record(&record);
    Ok(Decoded::records(1))
}
