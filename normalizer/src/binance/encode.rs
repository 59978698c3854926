//! Binance's wire format in the other direction: what the exchange sends, written by
//! the simulator. Every function appends one JSON document to a reusable `Vec<u8>`;
//! nothing allocates except the buffer growing. Numbers are written by hand (no
//! serde) and decimals with `Price`/`Size` Display, which is exact.
//!
//! Shapes follow `docs/exchanges/binance_spot.md` and `binance_usdm_futures.md`:
//! spot bookTicker has no `e`/`E`/`T`, futures events carry `T` and depth `pu`.

use std::io::Write as _;

use tickd_bus::{Price, Rate, Size};

use super::{BinanceMarket, DepthSnapshot};
use crate::book::Level;

/// A control request's `id`, echoed in the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestId {
    Int(i64),
    /// Alphanumeric, at most 36 characters (validated by the caller).
    Str(String),
    Null,
}

/// A trade (`@trade`) or aggregate trade (`@aggTrade`).
#[derive(Debug, Clone, Copy)]
pub struct TradeEvent<'a> {
    pub symbol: &'a str,
    pub event_time: u64,
    pub trade_time: u64,
    /// `t` for trades, `a` for aggregate trades.
    pub id: u64,
    /// `f`/`l` of an aggregate trade (ignored for trades).
    pub first_trade_id: u64,
    pub last_trade_id: u64,
    pub price: Price,
    pub qty: Size,
    pub buyer_is_maker: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct BookTickerEvent<'a> {
    pub symbol: &'a str,
    pub update_id: u64,
    /// Futures only (spot bookTicker has no times) unless `stamp_spot_time` is set.
    pub event_time: u64,
    pub transaction_time: u64,
    pub bid: Level,
    pub ask: Level,
}

#[derive(Debug, Clone, Copy)]
pub struct DepthUpdateEvent<'a> {
    pub symbol: &'a str,
    pub event_time: u64,
    /// Futures only.
    pub transaction_time: u64,
    pub first_update_id: u64,
    pub final_update_id: u64,
    /// Futures only: previous event's `u` on this stream, `-1` on the first.
    pub prev_final_update_id: i64,
    pub bids: &'a [Level],
    pub asks: &'a [Level],
}

#[derive(Debug, Clone, Copy)]
pub struct MarkPriceEvent<'a> {
    pub symbol: &'a str,
    pub event_time: u64,
    pub mark_price: Price,
    pub index_price: Price,
    pub settle_price: Price,
    pub funding_rate: Rate,
    pub next_funding_time: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct ForceOrderEvent<'a> {
    pub symbol: &'a str,
    pub event_time: u64,
    /// `true` = `SELL` (a long was liquidated).
    pub sell: bool,
    pub price: Price,
    pub avg_price: Price,
    pub qty: Size,
    pub trade_time: u64,
}

/// One instrument of an exchangeInfo body.
#[derive(Debug, Clone)]
pub struct SymbolInfo<'a> {
    pub symbol: &'a str,
    pub base: &'a str,
    pub quote: &'a str,
    pub tick_size: Price,
    pub step_size: Size,
}

pub fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

/// A JSON string with the escapes JSON requires.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                let _ = write!(out, "\\u{b:04x}");
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

fn push_decimal<const S: u32>(out: &mut Vec<u8>, v: tickd_bus::Fixed<S>) {
    out.push(b'"');
    // Writing to a Vec cannot fail; Display only fails for UNDEF, written as "0".
    if write!(out, "{v}").is_err() {
        out.push(b'0');
    }
    out.push(b'"');
}

fn key(out: &mut Vec<u8>, k: &str) {
    out.push(b'"');
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(b"\":");
}

fn levels(out: &mut Vec<u8>, levels: &[Level]) {
    out.push(b'[');
    for (i, l) in levels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        push_decimal(out, l.price);
        out.push(b',');
        push_decimal(out, l.size);
        out.push(b']');
    }
    out.push(b']');
}

/// `{"stream":"<name>","data":` — the combined-stream wrapper; close with [`wrap_end`].
pub fn wrap_begin(out: &mut Vec<u8>, stream: &str) {
    out.extend_from_slice(b"{\"stream\":");
    push_str(out, stream);
    out.extend_from_slice(b",\"data\":");
}

pub fn wrap_end(out: &mut Vec<u8>) {
    out.push(b'}');
}

pub fn encode_trade(out: &mut Vec<u8>, market: BinanceMarket, t: &TradeEvent<'_>) {
    out.extend_from_slice(b"{\"e\":\"trade\",\"E\":");
    push_u64(out, t.event_time);
    out.extend_from_slice(b",\"s\":");
    push_str(out, t.symbol);
    out.extend_from_slice(b",\"t\":");
    push_u64(out, t.id);
    out.extend_from_slice(b",\"p\":");
    push_decimal(out, t.price);
    out.extend_from_slice(b",\"q\":");
    push_decimal(out, t.qty);
    out.extend_from_slice(b",\"T\":");
    push_u64(out, t.trade_time);
    out.extend_from_slice(if t.buyer_is_maker {
        b",\"m\":true"
    } else {
        b",\"m\":false"
    });
    out.extend_from_slice(match market {
        BinanceMarket::Spot => b",\"M\":true}".as_slice(),
        BinanceMarket::UsdmFutures => b",\"X\":\"MARKET\"}".as_slice(),
    });
}

pub fn encode_agg_trade(out: &mut Vec<u8>, market: BinanceMarket, t: &TradeEvent<'_>) {
    out.extend_from_slice(b"{\"e\":\"aggTrade\",\"E\":");
    push_u64(out, t.event_time);
    out.extend_from_slice(b",\"s\":");
    push_str(out, t.symbol);
    out.extend_from_slice(b",\"a\":");
    push_u64(out, t.id);
    out.extend_from_slice(b",\"p\":");
    push_decimal(out, t.price);
    out.extend_from_slice(b",\"q\":");
    push_decimal(out, t.qty);
    out.extend_from_slice(b",\"f\":");
    push_u64(out, t.first_trade_id);
    out.extend_from_slice(b",\"l\":");
    push_u64(out, t.last_trade_id);
    out.extend_from_slice(b",\"T\":");
    push_u64(out, t.trade_time);
    out.extend_from_slice(if t.buyer_is_maker {
        b",\"m\":true"
    } else {
        b",\"m\":false"
    });
    out.extend_from_slice(match market {
        BinanceMarket::Spot => b",\"M\":true}".as_slice(),
        BinanceMarket::UsdmFutures => b"}".as_slice(),
    });
}

/// Spot: `{"u","s","b","B","a","A"}`, plus `"E"` when `spot_event_time` is true (the
/// simulator's send-time stamp; real spot frames have no time). Futures: with `e`/`E`/`T`.
pub fn encode_book_ticker(
    out: &mut Vec<u8>,
    market: BinanceMarket,
    b: &BookTickerEvent<'_>,
    spot_event_time: bool,
) {
    out.push(b'{');
    if market == BinanceMarket::UsdmFutures {
        out.extend_from_slice(b"\"e\":\"bookTicker\",");
    }
    key(out, "u");
    push_u64(out, b.update_id);
    out.extend_from_slice(b",\"s\":");
    push_str(out, b.symbol);
    out.extend_from_slice(b",\"b\":");
    push_decimal(out, b.bid.price);
    out.extend_from_slice(b",\"B\":");
    push_decimal(out, b.bid.size);
    out.extend_from_slice(b",\"a\":");
    push_decimal(out, b.ask.price);
    out.extend_from_slice(b",\"A\":");
    push_decimal(out, b.ask.size);
    if market == BinanceMarket::UsdmFutures {
        out.extend_from_slice(b",\"T\":");
        push_u64(out, b.transaction_time);
    }
    if market == BinanceMarket::UsdmFutures || spot_event_time {
        out.extend_from_slice(b",\"E\":");
        push_u64(out, b.event_time);
    }
    out.push(b'}');
}

pub fn encode_depth_update(out: &mut Vec<u8>, market: BinanceMarket, d: &DepthUpdateEvent<'_>) {
    out.extend_from_slice(b"{\"e\":\"depthUpdate\",\"E\":");
    push_u64(out, d.event_time);
    if market == BinanceMarket::UsdmFutures {
        out.extend_from_slice(b",\"T\":");
        push_u64(out, d.transaction_time);
    }
    out.extend_from_slice(b",\"s\":");
    push_str(out, d.symbol);
    out.extend_from_slice(b",\"U\":");
    push_u64(out, d.first_update_id);
    out.extend_from_slice(b",\"u\":");
    push_u64(out, d.final_update_id);
    if market == BinanceMarket::UsdmFutures {
        out.extend_from_slice(b",\"pu\":");
        push_i64(out, d.prev_final_update_id);
    }
    out.extend_from_slice(b",\"b\":");
    levels(out, d.bids);
    out.extend_from_slice(b",\"a\":");
    levels(out, d.asks);
    out.push(b'}');
}

pub fn encode_mark_price(out: &mut Vec<u8>, m: &MarkPriceEvent<'_>) {
    out.extend_from_slice(b"{\"e\":\"markPriceUpdate\",\"E\":");
    push_u64(out, m.event_time);
    out.extend_from_slice(b",\"s\":");
    push_str(out, m.symbol);
    out.extend_from_slice(b",\"p\":");
    push_decimal(out, m.mark_price);
    out.extend_from_slice(b",\"P\":");
    push_decimal(out, m.settle_price);
    out.extend_from_slice(b",\"i\":");
    push_decimal(out, m.index_price);
    out.extend_from_slice(b",\"r\":");
    push_decimal(out, m.funding_rate);
    out.extend_from_slice(b",\"T\":");
    push_u64(out, m.next_funding_time);
    out.push(b'}');
}

pub fn encode_force_order(out: &mut Vec<u8>, f: &ForceOrderEvent<'_>) {
    out.extend_from_slice(b"{\"e\":\"forceOrder\",\"E\":");
    push_u64(out, f.event_time);
    out.extend_from_slice(b",\"o\":{\"s\":");
    push_str(out, f.symbol);
    out.extend_from_slice(if f.sell {
        b",\"S\":\"SELL\""
    } else {
        b",\"S\":\"BUY\""
    });
    out.extend_from_slice(b",\"o\":\"LIMIT\",\"f\":\"IOC\",\"q\":");
    push_decimal(out, f.qty);
    out.extend_from_slice(b",\"p\":");
    push_decimal(out, f.price);
    out.extend_from_slice(b",\"ap\":");
    push_decimal(out, f.avg_price);
    out.extend_from_slice(b",\"X\":\"FILLED\",\"l\":");
    push_decimal(out, f.qty);
    out.extend_from_slice(b",\"z\":");
    push_decimal(out, f.qty);
    out.extend_from_slice(b",\"T\":");
    push_u64(out, f.trade_time);
    out.extend_from_slice(b"}}");
}

/// `{"e":"serverShutdown","E":<time>}`.
pub fn encode_server_shutdown(out: &mut Vec<u8>, event_time: u64) {
    out.extend_from_slice(b"{\"e\":\"serverShutdown\",\"E\":");
    push_u64(out, event_time);
    out.push(b'}');
}

/// REST depth body. Futures bodies carry `E` and `T` (`snapshot.ts_event` is written
/// as given, in the unit the caller chose).
pub fn encode_depth_snapshot(out: &mut Vec<u8>, market: BinanceMarket, snapshot: &DepthSnapshot) {
    out.extend_from_slice(b"{\"lastUpdateId\":");
    push_u64(out, snapshot.last_update_id);
    if market == BinanceMarket::UsdmFutures {
        out.extend_from_slice(b",\"E\":");
        push_u64(out, snapshot.ts_event);
        out.extend_from_slice(b",\"T\":");
        push_u64(out, snapshot.ts_event);
    }
    out.extend_from_slice(b",\"bids\":");
    levels(out, &snapshot.bids);
    out.extend_from_slice(b",\"asks\":");
    levels(out, &snapshot.asks);
    out.push(b'}');
}

pub fn encode_open_interest(out: &mut Vec<u8>, symbol: &str, open_interest: Size, time: u64) {
    out.extend_from_slice(b"{\"symbol\":");
    push_str(out, symbol);
    out.extend_from_slice(b",\"openInterest\":");
    push_decimal(out, open_interest);
    out.extend_from_slice(b",\"time\":");
    push_u64(out, time);
    out.push(b'}');
}

/// The fields of `/api/v3/exchangeInfo` or `/fapi/v1/exchangeInfo` a feed reads.
pub fn encode_exchange_info(
    out: &mut Vec<u8>,
    market: BinanceMarket,
    server_time: u64,
    symbols: &[SymbolInfo<'_>],
) {
    out.extend_from_slice(b"{\"timezone\":\"UTC\",\"serverTime\":");
    push_u64(out, server_time);
    out.extend_from_slice(b",\"rateLimits\":[],\"exchangeFilters\":[],\"symbols\":[");
    for (i, s) in symbols.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"symbol\":");
        push_str(out, s.symbol);
        out.extend_from_slice(b",\"status\":\"TRADING\",\"baseAsset\":");
        push_str(out, s.base);
        out.extend_from_slice(b",\"quoteAsset\":");
        push_str(out, s.quote);
        if market == BinanceMarket::UsdmFutures {
            out.extend_from_slice(b",\"pair\":");
            push_str(out, s.symbol);
            out.extend_from_slice(
                b",\"contractType\":\"PERPETUAL\",\"deliveryDate\":4133404800000,\"marginAsset\":",
            );
            push_str(out, s.quote);
        }
        out.extend_from_slice(b",\"filters\":[{\"filterType\":\"PRICE_FILTER\",\"minPrice\":");
        push_decimal(out, s.tick_size);
        out.extend_from_slice(b",\"maxPrice\":\"1000000\",\"tickSize\":");
        push_decimal(out, s.tick_size);
        out.extend_from_slice(b"},{\"filterType\":\"LOT_SIZE\",\"minQty\":");
        push_decimal(out, s.step_size);
        out.extend_from_slice(b",\"maxQty\":\"9000000\",\"stepSize\":");
        push_decimal(out, s.step_size);
        out.extend_from_slice(b"}]}");
    }
    out.extend_from_slice(b"]}");
}

fn push_id(out: &mut Vec<u8>, id: &RequestId) {
    match id {
        RequestId::Int(v) => push_i64(out, *v),
        RequestId::Str(s) => push_str(out, s),
        RequestId::Null => out.extend_from_slice(b"null"),
    }
}

/// `{"result":null,"id":<id>}`: success of SUBSCRIBE / UNSUBSCRIBE / SET_PROPERTY.
pub fn encode_result_null(out: &mut Vec<u8>, id: &RequestId) {
    out.extend_from_slice(b"{\"result\":null,\"id\":");
    push_id(out, id);
    out.push(b'}');
}

/// `{"result":["a","b"],"id":<id>}`: LIST_SUBSCRIPTIONS.
pub fn encode_result_list<'a>(
    out: &mut Vec<u8>,
    id: &RequestId,
    items: impl IntoIterator<Item = &'a str>,
) {
    out.extend_from_slice(b"{\"result\":[");
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, s);
    }
    out.extend_from_slice(b"],\"id\":");
    push_id(out, id);
    out.push(b'}');
}

/// `{"result":true,"id":<id>}`: GET_PROPERTY.
pub fn encode_result_bool(out: &mut Vec<u8>, id: &RequestId, value: bool) {
    out.extend_from_slice(if value {
        b"{\"result\":true,\"id\":"
    } else {
        b"{\"result\":false,\"id\":"
    });
    push_id(out, id);
    out.push(b'}');
}

/// `{"code":<n>,"msg":"..","id":<id>}`; without `id` when the request had none usable.
pub fn encode_error(out: &mut Vec<u8>, code: i64, msg: &str, id: Option<&RequestId>) {
    out.extend_from_slice(b"{\"code\":");
    push_i64(out, code);
    out.extend_from_slice(b",\"msg\":");
    push_str(out, msg);
    if let Some(id) = id {
        out.extend_from_slice(b",\"id\":");
        push_id(out, id);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lvl(p: &str, s: &str) -> Level {
        Level::new(p.parse().unwrap(), s.parse().unwrap())
    }

    #[test]
    fn depth_update_matches_the_documented_shapes() {
        let bids = [lvl("0.0024", "10")];
        let asks = [lvl("0.0026", "100")];
        let mut d = DepthUpdateEvent {
            symbol: "BNBBTC",
            event_time: 1672515782136,
            transaction_time: 123456788,
            first_update_id: 157,
            final_update_id: 160,
            prev_final_update_id: 149,
            bids: &bids,
            asks: &asks,
        };
        let mut out = Vec::new();
        encode_depth_update(&mut out, BinanceMarket::Spot, &d);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}"#
        );
        out.clear();
        d.event_time = 123456789;
        d.symbol = "BTCUSDT";
        encode_depth_update(&mut out, BinanceMarket::UsdmFutures, &d);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"e":"depthUpdate","E":123456789,"T":123456788,"s":"BTCUSDT","U":157,"u":160,"pu":149,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}"#
        );
    }

    #[test]
    fn trades_tickers_and_replies() {
        let t = TradeEvent {
            symbol: "BNBBTC",
            event_time: 1672515782136,
            trade_time: 1672515782136,
            id: 12345,
            first_trade_id: 100,
            last_trade_id: 105,
            price: "0.001".parse().unwrap(),
            qty: "100".parse().unwrap(),
            buyer_is_maker: true,
        };
        let mut out = Vec::new();
        encode_trade(&mut out, BinanceMarket::Spot, &t);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}"#
        );
        out.clear();
        encode_agg_trade(&mut out, BinanceMarket::Spot, &t);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}"#
        );
        out.clear();
        let b = BookTickerEvent {
            symbol: "BNBUSDT",
            update_id: 400900217,
            event_time: 7,
            transaction_time: 6,
            bid: lvl("25.3519", "31.21"),
            ask: lvl("25.3652", "40.66"),
        };
        encode_book_ticker(&mut out, BinanceMarket::Spot, &b, false);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"u":400900217,"s":"BNBUSDT","b":"25.3519","B":"31.21","a":"25.3652","A":"40.66"}"#
        );
        out.clear();
        encode_result_list(&mut out, &RequestId::Int(3), ["btcusdt@aggTrade"]);
        assert_eq!(out, br#"{"result":["btcusdt@aggTrade"],"id":3}"#);
        out.clear();
        encode_error(&mut out, 2, "bad \"id\"", None);
        assert_eq!(out, br#"{"code":2,"msg":"bad \"id\""}"#);
        out.clear();
        push_i64(&mut out, i64::MIN);
        assert_eq!(out, b"-9223372036854775808");
    }
}
