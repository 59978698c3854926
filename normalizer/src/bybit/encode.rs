//! Bybit's wire format in the other direction: what the exchange sends, written by
//! the simulator (`bybit.md` §2, §3, §6). Every function appends one JSON document to
//! a reusable `Vec<u8>`. Prices and sizes are strings; `ts`, `T`, `u`, `seq` numbers
//! (§5). What is written here, the decoder reads back exactly (`normalizer/tests/bybit_encode.rs`).

use std::io::Write as _;

use tickd_bus::instrument::{InstrumentKind, InstrumentSpec};
use tickd_bus::record::Side;
use tickd_bus::{Price, Size};

use super::ticker::TickerUpdate;
use super::Category;
use crate::binance::encode::{push_str, push_u64};
use crate::book::Level;

fn push_fixed<const S: u32>(out: &mut Vec<u8>, value: tickd_bus::Fixed<S>) {
    if value.defined().is_none() {
        out.extend_from_slice(b"\"\"");
    } else {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "\"{value}\"");
    }
}

fn side_str(side: Side) -> &'static str {
    match side {
        Side::Sell => "Sell",
        _ => "Buy",
    }
}

fn data_begin(out: &mut Vec<u8>, topic: &[&str], snapshot: bool, ts_ms: u64) {
    out.extend_from_slice(b"{\"topic\":\"");
    for (i, part) in topic.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        out.extend_from_slice(part.as_bytes());
    }
    out.extend_from_slice(if snapshot {
        b"\",\"type\":\"snapshot\",\"ts\":"
    } else {
        b"\",\"type\":\"delta\",\"ts\":"
    });
    push_u64(out, ts_ms);
    out.extend_from_slice(b",\"data\":");
}

/// The trade id as Bybit writes it: a UUID (`uuid`), else a decimal number.
fn push_trade_id(out: &mut Vec<u8>, id: u128, uuid: bool) {
    if uuid {
        let h = format!("{id:032x}");
        let _ = write!(
            out,
            "\"{}-{}-{}-{}-{}\"",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        );
    } else {
        let _ = write!(out, "\"{}\"", id as u64);
    }
}

/// One trade of a `publicTrade` message.
#[derive(Debug, Clone, Copy)]
pub struct Trade {
    /// 128 bits written as a UUID on derivatives, the low 64 as a number on spot.
    pub id: u128,
    pub price: Price,
    pub size: Size,
    /// Taker side.
    pub side: Side,
    pub ts_ms: u64,
    pub block: bool,
}

/// A `publicTrade.{symbol}` message with `trades` (UUID ids unless spot).
pub fn encode_trades(
    out: &mut Vec<u8>,
    category: Category,
    symbol: &str,
    trades: &[Trade],
    ts_ms: u64,
) {
    data_begin(out, &["publicTrade", symbol], true, ts_ms);
    out.push(b'[');
    for (i, t) in trades.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"T\":");
        push_u64(out, t.ts_ms);
        out.extend_from_slice(b",\"s\":");
        push_str(out, symbol);
        out.extend_from_slice(b",\"S\":");
        push_str(out, side_str(t.side));
        out.extend_from_slice(b",\"v\":");
        push_fixed(out, t.size);
        out.extend_from_slice(b",\"p\":");
        push_fixed(out, t.price);
        out.extend_from_slice(b",\"i\":");
        push_trade_id(out, t.id, category != Category::Spot);
        out.extend_from_slice(if t.block {
            b",\"BT\":true}"
        } else {
            b",\"BT\":false}"
        });
    }
    out.extend_from_slice(b"]}");
}

/// One candle of a `kline.{interval}.{symbol}` message.
#[derive(Debug, Clone, Copy)]
pub struct Kline {
    pub start_ms: u64,
    /// The interval, ms (`end` is the candle's last millisecond).
    pub length_ms: u64,
    pub open: Price,
    pub high: Price,
    pub low: Price,
    pub close: Price,
    pub volume: Size,
    /// The quote volume on spot and linear, the base coin on inverse.
    pub turnover: tickd_bus::decimal::Notional,
    pub confirm: bool,
}

/// A `kline.{interval}.{symbol}` message with one candle (`interval` as in the
/// topic: `1`, `60`, `D`).
pub fn encode_kline(out: &mut Vec<u8>, interval: &str, symbol: &str, k: &Kline, ts_ms: u64) {
    data_begin(out, &["kline", interval, symbol], true, ts_ms);
    out.extend_from_slice(b"[{\"start\":");
    push_u64(out, k.start_ms);
    out.extend_from_slice(b",\"end\":");
    push_u64(out, k.start_ms + k.length_ms.saturating_sub(1));
    out.extend_from_slice(b",\"interval\":");
    push_str(out, interval);
    for (key, value) in [
        (&b",\"open\":"[..], k.open),
        (b",\"close\":", k.close),
        (b",\"high\":", k.high),
        (b",\"low\":", k.low),
    ] {
        out.extend_from_slice(key);
        push_fixed(out, value);
    }
    out.extend_from_slice(b",\"volume\":");
    push_fixed(out, k.volume);
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        ",\"turnover\":\"{}\",\"confirm\":{}",
        k.turnover, k.confirm
    );
    out.extend_from_slice(b",\"timestamp\":");
    push_u64(out, ts_ms);
    out.extend_from_slice(b"}]}");
}

fn push_levels(out: &mut Vec<u8>, levels: &[Level]) {
    out.push(b'[');
    for (i, level) in levels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        push_fixed(out, level.price);
        out.push(b',');
        push_fixed(out, level.size);
        out.push(b']');
    }
    out.push(b']');
}

/// An `orderbook.{depth}.{symbol}` message (size 0 deletes, in a delta).
#[derive(Debug, Clone, Copy)]
pub struct Book<'a> {
    /// `orderbook.{depth}`; [`FULL_DEPTH`]: `orderbook.full`.
    pub depth: u32,
    pub symbol: &'a str,
    pub snapshot: bool,
    pub bids: &'a [Level],
    pub asks: &'a [Level],
    /// The update id: contiguous, 1 after a service restart.
    pub u: u64,
    pub seq: u64,
    pub ts_ms: u64,
}

/// [`Book::depth`] of the `orderbook.full` topic (§6.2).
pub const FULL_DEPTH: u32 = 0;

pub fn encode_book(out: &mut Vec<u8>, b: &Book<'_>) {
    let depth = match b.depth {
        FULL_DEPTH => "full".to_string(),
        d => d.to_string(),
    };
    data_begin(out, &["orderbook", &depth, b.symbol], b.snapshot, b.ts_ms);
    out.extend_from_slice(b"{\"s\":");
    push_str(out, b.symbol);
    out.extend_from_slice(b",\"b\":");
    push_levels(out, b.bids);
    out.extend_from_slice(b",\"a\":");
    push_levels(out, b.asks);
    out.extend_from_slice(b",\"u\":");
    push_u64(out, b.u);
    out.extend_from_slice(b",\"seq\":");
    push_u64(out, b.seq);
    out.extend_from_slice(b"},\"cts\":");
    push_u64(out, b.ts_ms);
    out.push(b'}');
}

/// A `tickers.{symbol}` message with the fields `update` carries (a delta carries
/// only what changed; `UNDEF` is written `""`).
pub fn encode_ticker(
    out: &mut Vec<u8>,
    symbol: &str,
    snapshot: bool,
    update: &TickerUpdate,
    cs: u64,
    ts_ms: u64,
) {
    data_begin(out, &["tickers", symbol], snapshot, ts_ms);
    out.extend_from_slice(b"{\"symbol\":");
    push_str(out, symbol);
    let prices: [(&str, Option<Price>); 2] = [
        ("markPrice", update.mark_price),
        ("indexPrice", update.index_price),
    ];
    for (key, value) in prices {
        if let Some(v) = value {
            let _ = write!(out, ",\"{key}\":");
            push_fixed(out, v);
        }
    }
    if let Some(rate) = update.funding_rate {
        out.extend_from_slice(b",\"fundingRate\":");
        push_fixed(out, rate);
    }
    if let Some(ns) = update.next_funding_time {
        out.extend_from_slice(b",\"nextFundingTime\":\"");
        if ns > 0 {
            push_u64(out, ns / 1_000_000);
        }
        out.push(b'"');
    }
    let sizes: [(&str, Option<Size>); 2] = [
        ("openInterest", update.open_interest),
        ("openInterestValue", update.open_interest_value),
    ];
    for (key, value) in sizes {
        if let Some(v) = value {
            let _ = write!(out, ",\"{key}\":");
            push_fixed(out, v);
        }
    }
    out.extend_from_slice(b"},\"cs\":");
    push_u64(out, cs);
    out.push(b'}');
}

/// One liquidation of an `allLiquidation` batch: `position_side` is the side of the
/// position liquidated (`Buy`: a long, closed by a sell order).
#[derive(Debug, Clone, Copy)]
pub struct Liquidation {
    pub position_side: Side,
    pub price: Price,
    pub size: Size,
    pub ts_ms: u64,
}

pub fn encode_liquidations(out: &mut Vec<u8>, symbol: &str, batch: &[Liquidation], ts_ms: u64) {
    data_begin(out, &["allLiquidation", symbol], true, ts_ms);
    out.push(b'[');
    for (i, l) in batch.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"T\":");
        push_u64(out, l.ts_ms);
        out.extend_from_slice(b",\"s\":");
        push_str(out, symbol);
        out.extend_from_slice(b",\"S\":");
        push_str(out, side_str(l.position_side));
        out.extend_from_slice(b",\"v\":");
        push_fixed(out, l.size);
        out.extend_from_slice(b",\"p\":");
        push_fixed(out, l.price);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
}

/// The reply to a subscribe/unsubscribe (`success: false` with the reason in
/// `ret_msg`), in the category's shape (spot names the op in `ret_msg`).
pub fn encode_ack(
    out: &mut Vec<u8>,
    category: Category,
    op: &str,
    req_id: Option<&str>,
    success: bool,
    ret_msg: &str,
    conn_id: &str,
) {
    out.extend_from_slice(if success {
        b"{\"success\":true"
    } else {
        b"{\"success\":false"
    });
    out.extend_from_slice(b",\"ret_msg\":");
    let msg = match (category, success) {
        (Category::Spot, true) => op,
        _ => ret_msg,
    };
    push_str(out, msg);
    out.extend_from_slice(b",\"conn_id\":");
    push_str(out, conn_id);
    out.extend_from_slice(b",\"req_id\":");
    push_str(out, req_id.unwrap_or(""));
    out.extend_from_slice(b",\"op\":");
    push_str(out, op);
    out.push(b'}');
}

/// The answer to `{"op":"ping"}` in the category's shape (`bybit.md` §2).
pub fn encode_pong(out: &mut Vec<u8>, category: Category, req_id: Option<&str>, conn_id: &str) {
    out.extend_from_slice(b"{\"success\":true,\"ret_msg\":\"pong\",\"conn_id\":");
    push_str(out, conn_id);
    if category != Category::Spot {
        out.extend_from_slice(b",\"req_id\":");
        push_str(out, req_id.unwrap_or(""));
    }
    out.extend_from_slice(b",\"op\":\"ping\"}");
}

/// An instruments-info page of `specs` (raw symbols `category/SYMBOL`; others of
/// the category are skipped), with `next_cursor` (`""` on the last page).
pub fn encode_instruments(
    out: &mut Vec<u8>,
    category: Category,
    specs: &[InstrumentSpec],
    next_cursor: &str,
) {
    out.extend_from_slice(b"{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":");
    push_str(out, category.as_str());
    out.extend_from_slice(b",\"list\":[");
    let mut first = true;
    for spec in specs {
        let Some((c, symbol)) = Category::split_raw(&spec.raw_symbol) else {
            continue;
        };
        if c != category {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b"{\"symbol\":");
        push_str(out, symbol);
        let (contract_type, delivery_ms) = match (category, &spec.kind) {
            (Category::Spot, _) => (None, 0),
            (Category::Linear, InstrumentKind::Perpetual) => (Some("LinearPerpetual"), 0),
            (Category::Inverse, InstrumentKind::Perpetual) => (Some("InversePerpetual"), 0),
            (Category::Linear, InstrumentKind::Future { expiry }) => {
                (Some("LinearFutures"), days_ms(*expiry))
            }
            (_, InstrumentKind::Future { expiry }) => (Some("InverseFutures"), days_ms(*expiry)),
            _ => (None, 0),
        };
        if let Some(kind) = contract_type {
            out.extend_from_slice(b",\"contractType\":");
            push_str(out, kind);
            out.extend_from_slice(b",\"deliveryTime\":\"");
            push_u64(out, delivery_ms);
            out.extend_from_slice(b"\",\"settleCoin\":");
            let settle = spec
                .contract
                .as_ref()
                .map_or(spec.quote.as_str(), |c| c.settle_currency.as_str());
            push_str(out, settle);
        }
        out.extend_from_slice(b",\"status\":\"Trading\",\"baseCoin\":");
        push_str(out, &spec.base);
        out.extend_from_slice(b",\"quoteCoin\":");
        push_str(out, &spec.quote);
        out.extend_from_slice(b",\"priceFilter\":{\"tickSize\":");
        push_fixed(out, spec.tick_size);
        out.extend_from_slice(if category == Category::Spot {
            b"},\"lotSizeFilter\":{\"basePrecision\":"
        } else {
            b"},\"lotSizeFilter\":{\"qtyStep\":"
        });
        push_fixed(out, spec.step_size);
        out.extend_from_slice(b"}}");
    }
    out.extend_from_slice(b"],\"nextPageCursor\":");
    push_str(out, next_cursor);
    out.extend_from_slice(b"},\"retExtInfo\":{},\"time\":0}");
}

/// A REST error reply (`retCode` nonzero), e.g. 10006 for too many requests.
pub fn encode_rest_error(out: &mut Vec<u8>, code: u32, msg: &str) {
    out.extend_from_slice(b"{\"retCode\":");
    push_u64(out, u64::from(code));
    out.extend_from_slice(b",\"retMsg\":");
    push_str(out, msg);
    out.extend_from_slice(b",\"result\":{},\"retExtInfo\":{},\"time\":0}");
}

/// Midnight UTC of `date`, in ms since the epoch (Howard Hinnant's `days_from_civil`).
fn days_ms(date: tickd_bus::instrument::Date) -> u64 {
    let (y, m, d) = (
        i64::from(date.year),
        i64::from(date.month),
        i64::from(date.day),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days).unwrap_or(0) * 86_400_000
}

/// A `/v5/market/orderbook` or `/v5/market/full_orderbook` reply: the book best
/// first, at update id `u` and cross sequence `seq`.
pub fn encode_rest_book(
    out: &mut Vec<u8>,
    symbol: &str,
    bids: &[Level],
    asks: &[Level],
    u: u64,
    seq: u64,
    ts_ms: u64,
) {
    out.extend_from_slice(b"{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"s\":");
    push_str(out, symbol);
    out.extend_from_slice(b",\"b\":");
    push_levels(out, bids);
    out.extend_from_slice(b",\"a\":");
    push_levels(out, asks);
    out.extend_from_slice(b",\"ts\":");
    push_u64(out, ts_ms);
    out.extend_from_slice(b",\"u\":");
    push_u64(out, u);
    out.extend_from_slice(b",\"seq\":");
    push_u64(out, seq);
    out.extend_from_slice(b"},\"retExtInfo\":{},\"time\":");
    push_u64(out, ts_ms);
    out.push(b'}');
}
