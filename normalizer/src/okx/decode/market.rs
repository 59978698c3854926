//! The channels that become records directly (`okx.md` §6): trades, `bbo-tbt`,
//! tickers, funding rate, mark and index prices, open interest, liquidations.
//! Every number is a string; `""` means "not applicable" (§5).

use serde::Deserialize;
use tickd_bus::record::{BboMsg, LiquidationMsg, MarkFundingMsg, OpenInterestMsg, Side, TradeMsg};
use tickd_bus::{Price, Rate, RecordHeader, Size, Venue};

use super::book;
use super::fields::{for_each, ms_ns, uint};
use crate::binance::decode::json::{price, price_or_undef, rate_or_undef, req, size};
use crate::book::Level;
use crate::error::DecodeError;
use crate::okx::frame::OkxFrame;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

/// What every channel needs besides `data`.
pub(super) struct Ctx<'c> {
    pub symbols: &'c SymbolMap,
    /// `arg.instId` (absent on `liquidation-orders`, subscribed by `instType`).
    pub inst_id: Option<&'c str>,
    pub ts_recv: u64,
}

impl Ctx<'_> {
    /// The frame's instrument, `None` if the map does not hold it.
    pub fn instrument(&self) -> Result<Option<u32>, DecodeError> {
        let inst_id = req(self.inst_id, "arg.instId")?;
        Ok(self.symbols.get(inst_id))
    }

    fn header<R: tickd_bus::Record>(&self, instrument_id: u32, ts_event: u64) -> RecordHeader {
        RecordHeader::new::<R>(Venue::Okx, instrument_id, ts_event, self.ts_recv)
    }
}

/// Records pushed and elements skipped for unknown instruments.
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

    pub const UNKNOWN: Pushed = Pushed {
        records: 0,
        unknown: 1,
    };

    pub fn into_frame(self) -> OkxFrame<'static> {
        if self.records == 0 && self.unknown > 0 {
            OkxFrame::UnknownSymbol
        } else {
            OkxFrame::Records(self.records)
        }
    }
}

fn side(text: Option<&str>, field: &'static str) -> Result<Side, DecodeError> {
    match text {
        Some("buy") => Ok(Side::Buy),
        Some("sell") => Ok(Side::Sell),
        None | Some("") => Ok(Side::Unknown),
        Some(_) => Err(DecodeError::OutOfRange { field }),
    }
}

fn size_or_zero(text: Option<&str>, field: &'static str) -> Result<Size, DecodeError> {
    match text {
        None | Some("") => Ok(Size::ZERO),
        Some(text) => size(text, field),
    }
}

#[derive(Deserialize)]
struct Trade<'a> {
    #[serde(borrow, rename = "tradeId")]
    trade_id: Option<&'a str>,
    #[serde(borrow)]
    px: Option<&'a str>,
    #[serde(borrow)]
    sz: Option<&'a str>,
    #[serde(borrow)]
    side: Option<&'a str>,
    #[serde(borrow)]
    ts: Option<&'a str>,
}

/// `trades` (a print may aggregate fills; `tradeId` is the last one's) and
/// `trades-all` (every fill). `side` is the taker's.
pub(super) fn trades(
    data: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let Some(instrument_id) = ctx.instrument()? else {
        return Ok(Pushed::UNKNOWN);
    };
    let n = for_each(data, |t: Trade<'_>| {
        let record = TradeMsg {
            hd: ctx.header::<TradeMsg>(instrument_id, ms_ns(t.ts, "ts")?),
            price: price(req(t.px, "px")?, "px")?,
            size: size(req(t.sz, "sz")?, "sz")?,
            trade_id: uint(req(t.trade_id, "tradeId")?, "tradeId")?,
            trade_id_hi: 0,
            side: side(t.side, "side")? as u8,
            _reserved: [0; 7],
        };
        sink.push_record(&record);
        Ok(())
    })?;
    Ok(Pushed::records(n))
}

/// Best bid and offer from two (possibly empty) best-first sides.
fn bbo_record(
    ctx: &Ctx<'_>,
    instrument_id: u32,
    ts_event: u64,
    bid: Option<&Level>,
    ask: Option<&Level>,
) -> BboMsg {
    let split =
        |level: Option<&Level>| level.map_or((Price::UNDEF, Size::ZERO), |l| (l.price, l.size));
    let (bid_price, bid_size) = split(bid);
    let (ask_price, ask_size) = split(ask);
    BboMsg {
        hd: ctx.header::<BboMsg>(instrument_id, ts_event),
        bid_price,
        bid_size,
        ask_price,
        ask_size,
    }
}

/// `bbo-tbt`: one level a side (a side may be empty on illiquid options).
pub(super) fn bbo(
    data: &[u8],
    ctx: &Ctx<'_>,
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let head = book::parse(data, bids, asks)?;
    let Some(instrument_id) = ctx.instrument()? else {
        return Ok(Pushed::UNKNOWN);
    };
    let ts_event = ms_ns(head.ts, "ts")?;
    let record = bbo_record(ctx, instrument_id, ts_event, bids.first(), asks.first());
    sink.push_record(&record);
    Ok(Pushed::records(1))
}

#[derive(Deserialize)]
struct Ticker<'a> {
    #[serde(borrow, rename = "bidPx")]
    bid_px: Option<&'a str>,
    #[serde(borrow, rename = "bidSz")]
    bid_sz: Option<&'a str>,
    #[serde(borrow, rename = "askPx")]
    ask_px: Option<&'a str>,
    #[serde(borrow, rename = "askSz")]
    ask_sz: Option<&'a str>,
    #[serde(borrow)]
    ts: Option<&'a str>,
}

/// `tickers`: only its top of book is used, as a BBO (throttled to 100 ms, so the
/// adapter subscribes it only where `bbo-tbt` is not available; §6.3).
pub(super) fn tickers(
    data: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let Some(instrument_id) = ctx.instrument()? else {
        return Ok(Pushed::UNKNOWN);
    };
    let n = for_each(data, |t: Ticker<'_>| {
        let record = BboMsg {
            hd: ctx.header::<BboMsg>(instrument_id, ms_ns(t.ts, "ts")?),
            bid_price: price_or_undef(t.bid_px, "bidPx")?,
            bid_size: size_or_zero(t.bid_sz, "bidSz")?,
            ask_price: price_or_undef(t.ask_px, "askPx")?,
            ask_size: size_or_zero(t.ask_sz, "askSz")?,
        };
        sink.push_record(&record);
        Ok(())
    })?;
    Ok(Pushed::records(n))
}

#[derive(Deserialize)]
struct Funding<'a> {
    #[serde(borrow, rename = "fundingRate")]
    funding_rate: Option<&'a str>,
    #[serde(borrow, rename = "fundingTime")]
    funding_time: Option<&'a str>,
    #[serde(borrow)]
    ts: Option<&'a str>,
}

/// `funding-rate`: the rate for the period settling at `fundingTime` (every field
/// optional: older captures lack `ts`, some pushes lack `fundingRate`; §6.4).
pub(super) fn funding(
    data: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let Some(instrument_id) = ctx.instrument()? else {
        return Ok(Pushed::UNKNOWN);
    };
    let n = for_each(data, |f: Funding<'_>| {
        let record = MarkFundingMsg {
            hd: ctx.header::<MarkFundingMsg>(instrument_id, ms_ns(f.ts, "ts")?),
            mark_price: Price::UNDEF,
            index_price: Price::UNDEF,
            funding_rate: rate_or_undef(f.funding_rate, "fundingRate")?,
            next_funding_time: ms_ns(f.funding_time, "fundingTime")?,
        };
        sink.push_record(&record);
        Ok(())
    })?;
    Ok(Pushed::records(n))
}

#[derive(Deserialize)]
struct PriceTick<'a> {
    #[serde(borrow, rename = "markPx")]
    mark_px: Option<&'a str>,
    #[serde(borrow, rename = "idxPx")]
    idx_px: Option<&'a str>,
    #[serde(borrow)]
    ts: Option<&'a str>,
}

/// Which price a [`PriceTick`] carries.
#[derive(Clone, Copy)]
enum PriceKind {
    Mark,
    Index,
}

fn price_tick(
    kind: PriceKind,
    data: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let Some(instrument_id) = ctx.instrument()? else {
        return Ok(Pushed::UNKNOWN);
    };
    let n = for_each(data, |t: PriceTick<'_>| {
        let (mark_price, index_price) = match kind {
            PriceKind::Mark => (price(req(t.mark_px, "markPx")?, "markPx")?, Price::UNDEF),
            PriceKind::Index => (Price::UNDEF, price(req(t.idx_px, "idxPx")?, "idxPx")?),
        };
        let record = MarkFundingMsg {
            hd: ctx.header::<MarkFundingMsg>(instrument_id, ms_ns(t.ts, "ts")?),
            mark_price,
            index_price,
            funding_rate: Rate::UNDEF,
            next_funding_time: 0,
        };
        sink.push_record(&record);
        Ok(())
    })?;
    Ok(Pushed::records(n))
}

/// `mark-price` (§6.6).
pub(super) fn mark_price(
    data: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    price_tick(PriceKind::Mark, data, ctx, sink)
}

/// `index-tickers`: the index is named like the spot pair (`BTC-USDT`), so its
/// records carry that spot instrument's id.
pub(super) fn index_price(
    data: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    price_tick(PriceKind::Index, data, ctx, sink)
}

#[derive(Deserialize)]
struct OpenInterest<'a> {
    #[serde(borrow)]
    oi: Option<&'a str>,
    #[serde(borrow)]
    ts: Option<&'a str>,
}

/// `open-interest`: `oi` in contracts (§6.5). `oiCcy`/`oiUsd` are coin and USD, not
/// the quote value the record's second field holds, so that stays `UNDEF`.
pub(super) fn open_interest(
    data: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let Some(instrument_id) = ctx.instrument()? else {
        return Ok(Pushed::UNKNOWN);
    };
    let n = for_each(data, |o: OpenInterest<'_>| {
        let record = OpenInterestMsg {
            hd: ctx.header::<OpenInterestMsg>(instrument_id, ms_ns(o.ts, "ts")?),
            open_interest: size(req(o.oi, "oi")?, "oi")?,
            open_interest_value: Size::UNDEF,
        };
        sink.push_record(&record);
        Ok(())
    })?;
    Ok(Pushed::records(n))
}

#[derive(Deserialize)]
struct Liquidation<'a> {
    #[serde(borrow, rename = "instId")]
    inst_id: Option<&'a str>,
    #[serde(borrow)]
    details: Vec<LiquidationDetail<'a>>,
}

#[derive(Deserialize)]
struct LiquidationDetail<'a> {
    #[serde(borrow, rename = "bkPx")]
    bk_px: Option<&'a str>,
    #[serde(borrow)]
    sz: Option<&'a str>,
    #[serde(borrow)]
    side: Option<&'a str>,
    #[serde(borrow)]
    ts: Option<&'a str>,
}

/// `liquidation-orders`: subscribed per `instType`, so each element names its
/// instrument; instruments not in the map are skipped (§6.7). Price is the
/// bankruptcy price, size in contracts, side that of the liquidation order.
pub(super) fn liquidations(
    data: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let mut pushed = Pushed::default();
    for_each(data, |l: Liquidation<'_>| {
        let inst_id = req(l.inst_id, "instId")?;
        let Some(instrument_id) = ctx.symbols.get(inst_id) else {
            pushed.unknown += 1;
            return Ok(());
        };
        for d in &l.details {
            let record = LiquidationMsg {
                hd: ctx.header::<LiquidationMsg>(instrument_id, ms_ns(d.ts, "ts")?),
                price: price(req(d.bk_px, "bkPx")?, "bkPx")?,
                size: size(req(d.sz, "sz")?, "sz")?,
                side: side(d.side, "side")? as u8,
                _reserved: [0; 7],
            };
            sink.push_record(&record);
            pushed.records += 1;
        }
        Ok(())
    })?;
    Ok(pushed)
}
