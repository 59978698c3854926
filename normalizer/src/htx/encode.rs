//! HTX frames written out, for the simulator and the tests (`htx.md` §3, §6, §8):
//! every server message is JSON compressed into one gzip member ([`gzip`]); numbers
//! are written the way HTX's Java formatter writes them ([`java_number`]: plain
//! decimals, and `E` notation below 1e-3 or from 1e7 on), so the simulator feeds
//! the decoder the shapes the venue sends.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use tickd_bus::decimal::Notional;
use tickd_bus::record::Side;
use tickd_bus::{Price, Rate, Size};

use crate::book::Level;

/// `text` as one gzip member (what HTX puts in every binary frame).
pub fn gzip(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 2 + 32);
    gzip_into(text, &mut out);
    out
}

/// [`gzip`] into `out` (replacing what it held).
pub fn gzip_into(text: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut enc = GzEncoder::new(std::mem::take(out), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(text);
    *out = enc.finish().unwrap_or_default();
}

/// A plain decimal (`123.45`, `-0.00012`) as Java's `Double.toString` lays it out
/// (HTX's market pushes): `0.0` for zero, plain from 1e-3 up to 1e7, else
/// `d.dddE±n`. Exact: the digits are the decimal's own.
pub fn java_number(out: &mut Vec<u8>, plain: &str) {
    let (neg, body) = match plain.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, plain),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = format!("{int}{frac}");
    let Some(first) = digits.bytes().position(|b| b != b'0') else {
        out.extend_from_slice(b"0.0");
        return;
    };
    // The decimal exponent of the first significant digit.
    let exp = int.len() as i64 - 1 - first as i64;
    if neg {
        out.push(b'-');
    }
    if (-3..7).contains(&exp) {
        out.extend_from_slice(int.as_bytes());
        out.push(b'.');
        out.extend_from_slice(if frac.is_empty() {
            b"0"
        } else {
            frac.as_bytes()
        });
        return;
    }
    let significant = digits[first..].trim_end_matches('0');
    let (lead, rest) = significant.split_at(1);
    out.extend_from_slice(lead.as_bytes());
    out.push(b'.');
    out.extend_from_slice(if rest.is_empty() {
        b"0"
    } else {
        rest.as_bytes()
    });
    let _ = write!(out, "E{exp}");
}

fn num(out: &mut Vec<u8>, value: impl std::fmt::Display) {
    java_number(out, &value.to_string());
}

fn pair(out: &mut Vec<u8>, l: &Level) {
    out.push(b'[');
    num(out, l.price);
    out.push(b',');
    num(out, l.size);
    out.push(b']');
}

fn levels(out: &mut Vec<u8>, levels: &[Level]) {
    out.push(b'[');
    for (i, l) in levels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        pair(out, l);
    }
    out.push(b']');
}

fn direction(side: Side) -> &'static str {
    if side == Side::Sell {
        "sell"
    } else {
        "buy"
    }
}

/// One trade.
#[derive(Debug, Clone, Copy)]
pub struct Trade<'a> {
    pub symbol: &'a str,
    pub trade_id: u64,
    pub price: Price,
    pub size: Size,
    /// The taker's side.
    pub side: Side,
    pub ts_ms: u64,
}

/// `market.$symbol.trade.detail`. Spot carries `tradeId` and a legacy `id` wider
/// than u64 (§6.1); swaps carry their `id`.
pub fn encode_trade(out: &mut Vec<u8>, spot: bool, t: &Trade<'_>) {
    let _ = write!(
        out,
        r#"{{"ch":"market.{}.trade.detail","ts":{},"tick":{{"id":{},"ts":{},"data":[{{"#,
        t.symbol, t.ts_ms, t.trade_id, t.ts_ms
    );
    if spot {
        let _ = write!(
            out,
            r#""id":{}236887569077664,"ts":{},"tradeId":{},"amount":"#,
            t.trade_id, t.ts_ms, t.trade_id
        );
    } else {
        let _ = write!(out, r#""id":{},"ts":{},"amount":"#, t.trade_id, t.ts_ms);
    }
    num(out, t.size);
    out.extend_from_slice(b",\"price\":");
    num(out, t.price);
    let _ = write!(out, r#","direction":"{}"}}]}}}}"#, direction(t.side));
}

/// `market.$symbol.bbo`: spot numbers at `quoteTime`, swaps `[price, size]` pairs.
pub fn encode_bbo(
    out: &mut Vec<u8>,
    spot: bool,
    symbol: &str,
    bid: &Level,
    ask: &Level,
    seq: u64,
    ts_ms: u64,
) {
    let _ = write!(
        out,
        r#"{{"ch":"market.{symbol}.bbo","ts":{ts_ms},"tick":{{"#
    );
    if spot {
        let _ = write!(out, r#""seqId":{seq},"ask":"#);
        num(out, ask.price);
        out.extend_from_slice(b",\"askSize\":");
        num(out, ask.size);
        out.extend_from_slice(b",\"bid\":");
        num(out, bid.price);
        out.extend_from_slice(b",\"bidSize\":");
        num(out, bid.size);
        let _ = write!(out, r#","quoteTime":{ts_ms},"symbol":"{symbol}"}}}}"#);
    } else {
        let _ = write!(out, r#""mrid":{seq},"id":{},"bid":"#, ts_ms / 1000);
        pair(out, bid);
        out.extend_from_slice(b",\"ask\":");
        pair(out, ask);
        let _ = write!(
            out,
            r#","ts":{ts_ms},"version":{seq},"ch":"market.{symbol}.bbo"}}}}"#
        );
    }
}

/// A spot `mbp.N` increment (`seqNum`, `prevSeqNum`; an empty side is left out).
pub fn encode_mbp(
    out: &mut Vec<u8>,
    topic: &str,
    seq: u64,
    prev: u64,
    bids: &[Level],
    asks: &[Level],
    ts_ms: u64,
) {
    let _ = write!(
        out,
        r#"{{"ch":"{topic}","ts":{ts_ms},"tick":{{"seqNum":{seq},"prevSeqNum":{prev}"#
    );
    if !bids.is_empty() {
        out.extend_from_slice(b",\"bids\":");
        levels(out, bids);
    }
    if !asks.is_empty() {
        out.extend_from_slice(b",\"asks\":");
        levels(out, asks);
    }
    out.extend_from_slice(b"}}");
}

/// The `req` reply for a spot `mbp.N` topic: the image at `seq`.
pub fn encode_mbp_image(
    out: &mut Vec<u8>,
    id: &str,
    topic: &str,
    seq: u64,
    bids: &[Level],
    asks: &[Level],
    ts_ms: u64,
) {
    let _ = write!(
        out,
        r#"{{"id":"{id}","status":"ok","ts":{ts_ms},"rep":"{topic}","data":{{"seqNum":{seq},"bids":"#
    );
    levels(out, bids);
    out.extend_from_slice(b",\"asks\":");
    levels(out, asks);
    out.extend_from_slice(b"}}");
}

/// A `depth.step0` push (spot and swaps): the whole book, `version` its id.
pub fn encode_step0(
    out: &mut Vec<u8>,
    topic: &str,
    version: u64,
    bids: &[Level],
    asks: &[Level],
    ts_ms: u64,
) {
    let _ = write!(out, r#"{{"ch":"{topic}","ts":{ts_ms},"tick":{{"bids":"#);
    levels(out, bids);
    out.extend_from_slice(b",\"asks\":");
    levels(out, asks);
    let _ = write!(out, r#","version":{version},"ts":{ts_ms}}}}}"#);
}

/// One open candle of `kline.$period` (§6.2), in the venue's units: spot `amount`
/// base and `vol` quote; swaps `vol` contracts, `amount` base (USDT-M) or coin
/// (coin-M), USDT-M `trade_turnover` quote.
#[derive(Debug, Clone, Copy)]
pub struct Candle {
    /// The candle's start, seconds.
    pub start_s: u64,
    pub open: Price,
    pub high: Price,
    pub low: Price,
    pub close: Price,
    pub amount: Notional,
    pub vol: Notional,
    pub turnover: Option<Notional>,
    pub count: u64,
}

/// A kline push: the open candle as it stands.
pub fn encode_kline(out: &mut Vec<u8>, topic: &str, spot: bool, c: &Candle, ts_ms: u64) {
    let _ = write!(
        out,
        r#"{{"ch":"{topic}","ts":{ts_ms},"tick":{{"id":{}"#,
        c.start_s
    );
    if !spot {
        let _ = write!(out, r#","mrid":{}"#, c.start_s);
    }
    for (key, value) in [
        ("open", c.open),
        ("close", c.close),
        ("low", c.low),
        ("high", c.high),
    ] {
        let _ = write!(out, r#","{key}":"#);
        num(out, value);
    }
    let _ = write!(out, r#","count":{},"amount":"#, c.count);
    java_number(out, &size_places(c.amount));
    out.extend_from_slice(b",\"vol\":");
    java_number(out, &size_places(c.vol));
    if let Some(turnover) = c.turnover {
        out.extend_from_slice(b",\"trade_turnover\":");
        java_number(out, &size_places(turnover));
    }
    out.extend_from_slice(b"}}");
}

/// A notional's text cut to a size's 18 places (what the venue's doubles hold).
fn size_places(n: Notional) -> String {
    let text = n.to_string();
    match text.split_once('.') {
        Some((int, frac)) => {
            let frac = &frac[..frac.len().min(Size::SCALE as usize)];
            format!("{int}.{frac}")
        }
        None => text,
    }
}

/// A swap `depth.size_N.high_freq` message (`event` snapshot or update).
pub fn encode_high_freq(
    out: &mut Vec<u8>,
    topic: &str,
    snapshot: bool,
    version: u64,
    bids: &[Level],
    asks: &[Level],
    ts_ms: u64,
) {
    let _ = write!(out, r#"{{"ch":"{topic}","ts":{ts_ms},"tick":{{"asks":"#);
    levels(out, asks);
    out.extend_from_slice(b",\"bids\":");
    levels(out, bids);
    let event = if snapshot { "snapshot" } else { "update" };
    let _ = write!(
        out,
        r#","ch":"{topic}","event":"{event}","id":{version},"mrid":{version},"ts":{ts_ms},"version":{version}}}}}"#
    );
}

/// `public.$code.funding_rate` on a notification socket (strings, §6.8).
pub fn encode_funding(
    out: &mut Vec<u8>,
    code: &str,
    base: &str,
    quote: &str,
    rate: Rate,
    ts_ms: u64,
    settlement_ms: u64,
) {
    let _ = write!(
        out,
        r#"{{"op":"notify","topic":"public.{code}.funding_rate","ts":{ts_ms},"data":[{{"symbol":"{base}","contract_code":"{code}","fee_asset":"{quote}","funding_time":"{ts_ms}","funding_rate":"{rate}","estimated_rate":null,"settlement_time":"{settlement_ms}","trade_partition":"{quote}"}}]}}"#
    );
}

/// `public.$code.liquidation_orders` (numbers, §6.9).
pub fn encode_liquidation(
    out: &mut Vec<u8>,
    code: &str,
    base: &str,
    sell: bool,
    price: Price,
    contracts: Size,
    ts_ms: u64,
) {
    let direction = if sell { "sell" } else { "buy" };
    let _ = write!(
        out,
        r#"{{"op":"notify","topic":"public.{code}.liquidation_orders","ts":{ts_ms},"data":[{{"symbol":"{base}","contract_code":"{code}","direction":"{direction}","offset":"close","volume":"#
    );
    num(out, contracts);
    out.extend_from_slice(b",\"price\":");
    num(out, price);
    let _ = write!(
        out,
        r#","created_at":{ts_ms},"contract_type":"swap","pair":"{code}","business_type":"swap"}}]}}"#
    );
}

/// The market sockets' ping (`{"ping":n}`) or the notification sockets' (`op`).
pub fn encode_ping(out: &mut Vec<u8>, notification: bool, n: u64) {
    if notification {
        let _ = write!(out, r#"{{"op":"ping","ts":"{n}"}}"#);
    } else {
        let _ = write!(out, r#"{{"ping":{n}}}"#);
    }
}

/// `{"id":..,"status":"ok","subbed":..}` or `unsubbed` (swap high-freq echoes `data_type`).
pub fn encode_ack(
    out: &mut Vec<u8>,
    id: &str,
    topic: &str,
    sub: bool,
    data_type: Option<&str>,
    ts_ms: u64,
) {
    let key = if sub { "subbed" } else { "unsubbed" };
    let _ = write!(
        out,
        r#"{{"id":"{id}","status":"ok","{key}":"{topic}","ts":{ts_ms}"#
    );
    if let Some(dt) = data_type {
        let _ = write!(out, r#","data_type":"{dt}""#);
    }
    out.push(b'}');
}

/// A market socket's error reply (the socket stays open).
pub fn encode_error(out: &mut Vec<u8>, id: &str, msg: &str, ts_ms: u64) {
    let _ = write!(
        out,
        r#"{{"status":"error","ts":{ts_ms},"id":"{id}","err-code":"bad-request","err-msg":"{}"}}"#,
        msg.replace('"', "'")
    );
}

/// A notification socket's `op: sub`/`unsub` answer (`err-code` 0: accepted).
pub fn encode_op_ack(
    out: &mut Vec<u8>,
    op: &str,
    cid: &str,
    topic: &str,
    code: u32,
    msg: &str,
    ts_ms: u64,
) {
    let _ = write!(
        out,
        r#"{{"op":"{op}","cid":"{cid}","topic":"{topic}","ts":{ts_ms},"err-code":{code}"#
    );
    if code != 0 {
        let _ = write!(out, r#","err-msg":"{}""#, msg.replace('"', "'"));
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn java(plain: &str) -> String {
        let mut out = Vec::new();
        java_number(&mut out, plain);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn java_layout() {
        assert_eq!(java("13640078"), "1.3640078E7");
        assert_eq!(java("0.000533"), "5.33E-4");
        assert_eq!(java("0.00000000009485"), "9.485E-11");
        assert_eq!(java("5106999000000"), "5.106999E12");
        assert_eq!(java("9138.6"), "9138.6");
        assert_eq!(java("308"), "308.0");
        assert_eq!(java("0"), "0.0");
        assert_eq!(java("0.001"), "0.001");
        assert_eq!(java("-0.0001"), "-1.0E-4");
        for plain in [
            "13640078",
            "0.000533",
            "9.485",
            "1234567.891",
            "0.00000000009485",
        ] {
            let back = Price::parse_str(&java(plain)).unwrap();
            assert_eq!(back, Price::parse_str(plain).unwrap(), "{plain}");
        }
    }
}
