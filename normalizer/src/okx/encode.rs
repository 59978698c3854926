//! OKX's wire format in the other direction: what the exchange sends, written by the
//! simulator (`okx.md` §3, §6, §7). Every function appends one JSON document to a
//! reusable `Vec<u8>`. Numbers are strings except `checksum`, `seqId` and `prevSeqId`
//! (§5); decimals are written canonically (no trailing zeros), as OKX writes them,
//! which is what makes [`super::checksum`] verify on the other side.

use std::io::Write as _;

use tickd_bus::instrument::{ContractType, InstrumentKind, InstrumentSpec};
use tickd_bus::record::Side;
use tickd_bus::{Price, Rate, Size};

use super::frame::BookChannel;
use crate::binance::encode::{push_i64, push_str, push_u64};
use crate::book::Level;

/// The text frame OKX answers a text `ping` with.
pub const PONG: &[u8] = b"pong";
/// The text frame a client sends to keep the connection alive.
pub const PING: &[u8] = b"ping";

fn push_ms_string(out: &mut Vec<u8>, ms: u64) {
    out.push(b'"');
    push_u64(out, ms);
    out.push(b'"');
}

fn push_decimal<const S: u32>(out: &mut Vec<u8>, value: tickd_bus::Fixed<S>) {
    // Writing to a Vec cannot fail.
    let _ = write!(out, "\"{value}\"");
}

fn push_arg(out: &mut Vec<u8>, channel: &str, key: &str, value: &str) {
    out.extend_from_slice(b"{\"channel\":");
    push_str(out, channel);
    out.push(b',');
    push_str(out, key);
    out.push(b':');
    push_str(out, value);
    out.push(b'}');
}

fn data_begin(out: &mut Vec<u8>, channel: &str, inst_id: &str) {
    out.extend_from_slice(b"{\"arg\":");
    push_arg(out, channel, "instId", inst_id);
    out.extend_from_slice(b",\"data\":[");
}

fn data_end(out: &mut Vec<u8>) {
    out.extend_from_slice(b"]}");
}

fn side_str(side: Side) -> &'static str {
    match side {
        Side::Sell => "sell",
        _ => "buy",
    }
}

/// One trade print on `trades` (or `trades-all`).
#[derive(Debug, Clone, Copy)]
pub struct Trade<'a> {
    pub inst_id: &'a str,
    pub trade_id: u64,
    pub price: Price,
    pub size: Size,
    /// Taker side.
    pub side: Side,
    pub ts_ms: u64,
}

pub fn encode_trade(out: &mut Vec<u8>, channel: &str, t: &Trade<'_>) {
    data_begin(out, channel, t.inst_id);
    out.extend_from_slice(b"{\"instId\":");
    push_str(out, t.inst_id);
    out.extend_from_slice(b",\"tradeId\":\"");
    push_u64(out, t.trade_id);
    out.extend_from_slice(b"\",\"px\":");
    push_decimal(out, t.price);
    out.extend_from_slice(b",\"sz\":");
    push_decimal(out, t.size);
    out.extend_from_slice(b",\"side\":");
    push_str(out, side_str(t.side));
    out.extend_from_slice(b",\"ts\":");
    push_ms_string(out, t.ts_ms);
    out.push(b'}');
    data_end(out);
}

fn push_levels(out: &mut Vec<u8>, levels: &[Level]) {
    out.push(b'[');
    for (i, level) in levels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        push_decimal(out, level.price);
        out.push(b',');
        push_decimal(out, level.size);
        // The deprecated liquidated-orders field and an order count.
        out.extend_from_slice(if level.size.is_zero() {
            b",\"0\",\"0\"]"
        } else {
            b",\"0\",\"1\"]"
        });
    }
    out.push(b']');
}

/// A book message on an order-book channel.
#[derive(Debug, Clone, Copy)]
pub struct Book<'a> {
    pub channel: BookChannel,
    pub inst_id: &'a str,
    /// `action: "snapshot"` (ignored on `books5`, which has no `action`).
    pub snapshot: bool,
    pub bids: &'a [Level],
    pub asks: &'a [Level],
    pub ts_ms: u64,
    /// `0` is "not computed", as OKX sends since 2026-06-23.
    pub checksum: i32,
    pub seq_id: u64,
    /// `-1` on snapshots.
    pub prev_seq_id: i64,
}

pub fn encode_book(out: &mut Vec<u8>, b: &Book<'_>) {
    out.extend_from_slice(b"{\"arg\":");
    push_arg(out, b.channel.as_str(), "instId", b.inst_id);
    if b.channel.incremental() {
        out.extend_from_slice(if b.snapshot {
            b",\"action\":\"snapshot\""
        } else {
            b",\"action\":\"update\""
        });
    }
    out.extend_from_slice(b",\"data\":[{\"asks\":");
    push_levels(out, b.asks);
    out.extend_from_slice(b",\"bids\":");
    push_levels(out, b.bids);
    out.extend_from_slice(b",\"ts\":");
    push_ms_string(out, b.ts_ms);
    if b.channel.incremental() {
        out.extend_from_slice(b",\"checksum\":");
        push_i64(out, i64::from(b.checksum));
        out.extend_from_slice(b",\"prevSeqId\":");
        push_i64(out, b.prev_seq_id);
    }
    out.extend_from_slice(b",\"seqId\":");
    push_u64(out, b.seq_id);
    out.extend_from_slice(b"}]}");
}

/// `bbo-tbt`: best bid and ask (either side may be empty).
pub fn encode_bbo(
    out: &mut Vec<u8>,
    inst_id: &str,
    bid: Option<Level>,
    ask: Option<Level>,
    ts_ms: u64,
    seq_id: u64,
) {
    data_begin(out, "bbo-tbt", inst_id);
    out.extend_from_slice(b"{\"asks\":");
    push_levels(out, ask.as_slice());
    out.extend_from_slice(b",\"bids\":");
    push_levels(out, bid.as_slice());
    out.extend_from_slice(b",\"ts\":");
    push_ms_string(out, ts_ms);
    out.extend_from_slice(b",\"seqId\":");
    push_u64(out, seq_id);
    out.push(b'}');
    data_end(out);
}

pub fn encode_funding(
    out: &mut Vec<u8>,
    inst_id: &str,
    rate: Rate,
    funding_time_ms: u64,
    ts_ms: u64,
) {
    data_begin(out, "funding-rate", inst_id);
    out.extend_from_slice(b"{\"instId\":");
    push_str(out, inst_id);
    out.extend_from_slice(b",\"instType\":\"SWAP\",\"fundingRate\":");
    push_decimal(out, rate);
    out.extend_from_slice(b",\"fundingTime\":");
    push_ms_string(out, funding_time_ms);
    out.extend_from_slice(b",\"ts\":");
    push_ms_string(out, ts_ms);
    out.push(b'}');
    data_end(out);
}

/// `mark-price` (`index: false`) or `index-tickers` (`index: true`).
pub fn encode_price(out: &mut Vec<u8>, index: bool, inst_id: &str, price: Price, ts_ms: u64) {
    let (channel, key) = if index {
        ("index-tickers", ",\"idxPx\":")
    } else {
        ("mark-price", ",\"markPx\":")
    };
    data_begin(out, channel, inst_id);
    out.extend_from_slice(b"{\"instId\":");
    push_str(out, inst_id);
    out.extend_from_slice(key.as_bytes());
    push_decimal(out, price);
    out.extend_from_slice(b",\"ts\":");
    push_ms_string(out, ts_ms);
    out.push(b'}');
    data_end(out);
}

pub fn encode_open_interest(out: &mut Vec<u8>, inst_id: &str, oi: Size, ts_ms: u64) {
    data_begin(out, "open-interest", inst_id);
    out.extend_from_slice(b"{\"instId\":");
    push_str(out, inst_id);
    out.extend_from_slice(b",\"oi\":");
    push_decimal(out, oi);
    out.extend_from_slice(b",\"ts\":");
    push_ms_string(out, ts_ms);
    out.push(b'}');
    data_end(out);
}

/// One liquidation on `liquidation-orders` (subscribed by `instType`).
pub fn encode_liquidation(
    out: &mut Vec<u8>,
    inst_type: &str,
    inst_id: &str,
    bankruptcy_price: Price,
    size: Size,
    side: Side,
    ts_ms: u64,
) {
    out.extend_from_slice(b"{\"arg\":");
    push_arg(out, "liquidation-orders", "instType", inst_type);
    out.extend_from_slice(b",\"data\":[{\"details\":[{\"bkLoss\":\"0\",\"bkPx\":");
    push_decimal(out, bankruptcy_price);
    out.extend_from_slice(b",\"sz\":");
    push_decimal(out, size);
    out.extend_from_slice(b",\"side\":");
    push_str(out, side_str(side));
    out.extend_from_slice(b",\"ts\":");
    push_ms_string(out, ts_ms);
    out.extend_from_slice(b"}],\"instId\":");
    push_str(out, inst_id);
    out.extend_from_slice(b",\"instType\":");
    push_str(out, inst_type);
    out.extend_from_slice(b"}]}");
}

/// The ack of one subscribed (or unsubscribed) arg; `key` is `instId` or `instType`.
pub fn encode_ack(
    out: &mut Vec<u8>,
    subscribe: bool,
    channel: &str,
    key: &str,
    value: &str,
    conn_id: &str,
) {
    out.extend_from_slice(if subscribe {
        b"{\"event\":\"subscribe\",\"arg\":"
    } else {
        b"{\"event\":\"unsubscribe\",\"arg\":"
    });
    push_arg(out, channel, key, value);
    out.extend_from_slice(b",\"connId\":");
    push_str(out, conn_id);
    out.push(b'}');
}

/// `{"event":"error",..}` (60012 bad request, 60018 unknown channel or instrument).
pub fn encode_error(out: &mut Vec<u8>, code: u32, msg: &str, conn_id: &str) {
    out.extend_from_slice(b"{\"event\":\"error\",\"msg\":");
    push_str(out, msg);
    out.extend_from_slice(b",\"code\":\"");
    push_u64(out, u64::from(code));
    out.extend_from_slice(b"\",\"connId\":");
    push_str(out, conn_id);
    out.push(b'}');
}

/// `{"event":"notice","code":"64008",..}`: the connection closes for an upgrade soon.
pub fn encode_notice(out: &mut Vec<u8>, code: u32, msg: &str, conn_id: &str) {
    out.extend_from_slice(b"{\"event\":\"notice\",\"code\":\"");
    push_u64(out, u64::from(code));
    out.extend_from_slice(b"\",\"msg\":");
    push_str(out, msg);
    out.extend_from_slice(b",\"connId\":");
    push_str(out, conn_id);
    out.push(b'}');
}

/// `GET /api/v5/market/books` body (with the `seqId` OKX announced for the splice).
pub fn encode_rest_books(
    out: &mut Vec<u8>,
    bids: &[Level],
    asks: &[Level],
    ts_ms: u64,
    seq_id: u64,
) {
    out.extend_from_slice(b"{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"asks\":");
    push_levels(out, asks);
    out.extend_from_slice(b",\"bids\":");
    push_levels(out, bids);
    out.extend_from_slice(b",\"ts\":");
    push_ms_string(out, ts_ms);
    out.extend_from_slice(b",\"seqId\":");
    push_u64(out, seq_id);
    out.extend_from_slice(b"}]}");
}

/// A REST error body (`code` nonzero), e.g. `50011` rate limit.
pub fn encode_rest_error(out: &mut Vec<u8>, code: u32, msg: &str) {
    out.extend_from_slice(b"{\"code\":\"");
    push_u64(out, u64::from(code));
    out.extend_from_slice(b"\",\"msg\":");
    push_str(out, msg);
    out.extend_from_slice(b",\"data\":[]}");
}

/// `GET /api/v5/public/instruments` body for `specs` (spot, swaps and futures; others
/// are left out). Futures ids end in the expiry as `YYMMDD`.
pub fn encode_instruments(out: &mut Vec<u8>, specs: &[InstrumentSpec]) {
    out.extend_from_slice(b"{\"code\":\"0\",\"msg\":\"\",\"data\":[");
    let mut first = true;
    for spec in specs {
        let inst_type = match spec.kind {
            InstrumentKind::Spot => "SPOT",
            InstrumentKind::Perpetual => "SWAP",
            InstrumentKind::Future { .. } => "FUTURES",
            InstrumentKind::Option { .. } => continue,
        };
        if !first {
            out.push(b',');
        }
        first = false;
        let spot = spec.kind == InstrumentKind::Spot;
        let family = format!("{}-{}", spec.base, spec.quote);
        let field = |out: &mut Vec<u8>, key: &str, value: &str| {
            push_str(out, key);
            out.push(b':');
            push_str(out, value);
            out.push(b',');
        };
        out.push(b'{');
        field(out, "instType", inst_type);
        field(out, "instId", &spec.raw_symbol);
        field(out, "instFamily", if spot { "" } else { &family });
        field(out, "uly", if spot { "" } else { &family });
        field(out, "baseCcy", if spot { &spec.base } else { "" });
        field(out, "quoteCcy", if spot { &spec.quote } else { "" });
        match &spec.contract {
            Some(c) => {
                field(out, "settleCcy", &c.settle_currency);
                field(out, "ctVal", &c.value.to_string());
                field(out, "ctMult", "1");
                field(out, "ctValCcy", &c.value_currency);
                let kind = match c.kind {
                    ContractType::Linear => "linear",
                    ContractType::Inverse => "inverse",
                };
                field(out, "ctType", kind);
            }
            None => {
                for key in ["settleCcy", "ctVal", "ctMult", "ctValCcy", "ctType"] {
                    field(out, key, "");
                }
            }
        }
        field(out, "tickSz", &spec.tick_size.to_string());
        field(out, "lotSz", &spec.step_size.to_string());
        out.extend_from_slice(b"\"state\":\"live\"}");
    }
    out.extend_from_slice(b"]}");
}
