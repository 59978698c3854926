//! Kraken v2 frames written out, for the simulator (`kraken.md` §8): numbers are
//! JSON numbers printed minimally (no trailing zeros: clients must apply the pair's
//! precision), books carry the checksum of the book they describe.

use std::fmt::Write;

use tickd_bus::instrument::InstrumentSpec;
use tickd_bus::record::Side;
use tickd_bus::{Price, Size};

use super::instruments::precision_of;
use crate::book::Level;

/// RFC 3339 with microseconds (`2023-10-06T17:35:55.440295Z`) of `ns` since the epoch.
pub fn rfc3339(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let micros = (ns % 1_000_000_000) / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's inverse of days-from-civil.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn levels(out: &mut String, levels: &[Level]) {
    out.push('[');
    for (i, l) in levels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, r#"{{"price":{},"qty":{}}}"#, l.price, l.size);
    }
    out.push(']');
}

/// A `book` snapshot or update for `symbol` (bids and asks in the order given;
/// an update may repeat a price).
pub fn book(
    symbol: &str,
    snapshot: bool,
    bids: &[Level],
    asks: &[Level],
    checksum: u32,
    ts_ns: u64,
) -> String {
    let mut out = String::with_capacity(96 + 48 * (bids.len() + asks.len()));
    let kind = if snapshot { "snapshot" } else { "update" };
    let _ = write!(
        out,
        r#"{{"channel":"book","type":"{kind}","data":[{{"symbol":"{symbol}","bids":"#
    );
    levels(&mut out, bids);
    out.push_str(r#","asks":"#);
    levels(&mut out, asks);
    let _ = write!(
        out,
        r#","checksum":{checksum},"timestamp":"{}"}}]}}"#,
        rfc3339(ts_ns)
    );
    out
}

/// One `trade` update.
pub fn trade(
    symbol: &str,
    side: Side,
    price: Price,
    qty: Size,
    trade_id: u64,
    ts_ns: u64,
) -> String {
    let side = if side == Side::Sell { "sell" } else { "buy" };
    format!(
        r#"{{"channel":"trade","type":"update","data":[{{"symbol":"{symbol}","side":"{side}","price":{price},"qty":{qty},"ord_type":"limit","trade_id":{trade_id},"timestamp":"{}"}}]}}"#,
        rfc3339(ts_ns)
    )
}

/// A `ticker` update with its top of book (`event_trigger: bbo`).
pub fn ticker(symbol: &str, bid: Level, ask: Level, ts_ns: u64) -> String {
    format!(
        r#"{{"channel":"ticker","type":"update","data":[{{"symbol":"{symbol}","bid":{},"bid_qty":{},"ask":{},"ask_qty":{},"timestamp":"{}"}}]}}"#,
        bid.price,
        bid.size,
        ask.price,
        ask.size,
        rfc3339(ts_ns)
    )
}

pub fn heartbeat() -> &'static str {
    r#"{"channel":"heartbeat"}"#
}

/// The `status` message sent on connect (and on a state change).
pub fn status(system: &str) -> String {
    format!(
        r#"{{"channel":"status","type":"update","data":[{{"api_version":"v2","connection_id":1,"system":"{system}","version":"2.0.0"}}]}}"#
    )
}

/// One subscribe/unsubscribe acknowledgement (one per symbol).
pub fn ack(
    method: &str,
    channel: &str,
    symbol: &str,
    depth: Option<u32>,
    req_id: Option<u64>,
) -> String {
    let depth = depth
        .map(|d| format!(r#","depth":{d}"#))
        .unwrap_or_default();
    let req = req_id
        .map(|r| format!(r#","req_id":{r}"#))
        .unwrap_or_default();
    format!(
        r#"{{"method":"{method}","result":{{"channel":"{channel}"{depth},"snapshot":true,"symbol":"{symbol}"}},"success":true{req},"time_in":"2026-01-01T00:00:00.000000Z","time_out":"2026-01-01T00:00:00.000001Z"}}"#
    )
}

/// A JSON string of `s` (client text echoed back may hold anything).
fn quoted(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    crate::binance::encode::push_str(&mut out, s);
    String::from_utf8_lossy(&out).into_owned()
}

/// A refused request for one symbol (the error, method and symbol are escaped:
/// they may echo the client's text).
pub fn error(method: &str, symbol: &str, error: &str, req_id: Option<u64>) -> String {
    let req = req_id
        .map(|r| format!(r#","req_id":{r}"#))
        .unwrap_or_default();
    format!(
        r#"{{"error":{},"method":{},"success":false,"symbol":{}{req},"time_in":"2026-01-01T00:00:00.000000Z","time_out":"2026-01-01T00:00:00.000001Z"}}"#,
        quoted(error),
        quoted(method),
        quoted(symbol)
    )
}

/// The answer to `{"method":"ping"}`.
pub fn pong(req_id: Option<u64>) -> String {
    let req = req_id
        .map(|r| format!(r#","req_id":{r}"#))
        .unwrap_or_default();
    format!(
        r#"{{"method":"pong"{req},"time_in":"2026-01-01T00:00:00.000000Z","time_out":"2026-01-01T00:00:00.000001Z"}}"#
    )
}

/// A request a client sends (`subscribe`/`unsubscribe` one channel for `symbols`);
/// `size` is the book's `depth` or the ohlc `interval` (minutes).
pub fn request(
    method: &str,
    channel: &str,
    symbols: &[&str],
    size: Option<u32>,
    req_id: Option<u64>,
) -> String {
    let list = symbols
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(",");
    let key = if channel == "ohlc" {
        "interval"
    } else {
        "depth"
    };
    let depth = size.map(|d| format!(r#","{key}":{d}"#)).unwrap_or_default();
    let trigger = if channel == "ticker" {
        r#","event_trigger":"bbo""#
    } else {
        ""
    };
    let req = req_id
        .map(|r| format!(r#","req_id":{r}"#))
        .unwrap_or_default();
    format!(
        r#"{{"method":"{method}","params":{{"channel":"{channel}","symbol":[{list}]{depth}{trigger}}}{req}}}"#
    )
}

/// Kraken's legacy code of a v2 asset code (REST names `XBT`, `XDG`).
fn legacy_code(code: &str) -> &str {
    match code {
        "BTC" => "XBT",
        "DOGE" => "XDG",
        other => other,
    }
}

/// A REST `AssetPairs` body listing `specs` (`kraken.md` §4): `wsname` with the
/// legacy codes (`XBT/USD`), the precision as `pair_decimals` / `lot_decimals`.
pub fn asset_pairs(specs: &[InstrumentSpec]) -> String {
    let mut out = String::from(r#"{"error":[],"result":{"#);
    for (i, spec) in specs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let (base, quote) = (legacy_code(&spec.base), legacy_code(&spec.quote));
        let p = precision_of(spec);
        let _ = write!(
            out,
            r#""{base}{quote}":{{"altname":"{base}{quote}","wsname":"{base}/{quote}","base":"{base}","quote":"{quote}","pair_decimals":{},"lot_decimals":{},"tick_size":"{}","status":"online"}}"#,
            p.price, p.qty, spec.tick_size
        );
    }
    out.push_str("}}");
    out
}

/// A REST error body (`{"error":["EAPI:Rate limit exceeded"]}`).
pub fn rest_error(error: &str) -> String {
    format!(r#"{{"error":["{error}"]}}"#)
}

/// One `ohlc` update: the candle of `interval` minutes that began at `begin_ns`.
#[allow(clippy::too_many_arguments)]
pub fn ohlc(
    symbol: &str,
    [open, high, low, close]: [Price; 4],
    vwap: Price,
    volume: Size,
    trades: u32,
    begin_ns: u64,
    interval: u32,
    ts_ns: u64,
) -> String {
    format!(
        r#"{{"channel":"ohlc","type":"update","timestamp":"{ts}","data":[{{"symbol":"{symbol}","open":{open},"high":{high},"low":{low},"close":{close},"trades":{trades},"volume":{volume},"vwap":{vwap},"interval_begin":"{}","interval":{interval},"timestamp":"{ts}"}}]}}"#,
        rfc3339(begin_ns),
        ts = rfc3339(ts_ns),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_pairs_read_back_with_their_precision() {
        let spec = |base: &str, quote: &str, tick: &str, step: &str| InstrumentSpec {
            venue: tickd_bus::Venue::Kraken,
            raw_symbol: format!("{base}/{quote}"),
            base: base.into(),
            quote: quote.into(),
            kind: tickd_bus::instrument::InstrumentKind::Spot,
            tick_size: Price::parse_str(tick).unwrap(),
            step_size: Size::parse_str(step).unwrap(),
            contract: None,
        };
        let specs = vec![
            spec("BTC", "USD", "0.1", "0.00000001"),
            spec("ETH", "EUR", "0.01", "0.001"),
        ];
        let body = asset_pairs(&specs);
        assert!(body.contains(r#""wsname":"XBT/USD""#), "{body}");
        let mut back = crate::kraken::decode_asset_pairs(body.as_bytes()).unwrap();
        back.sort_by(|a, b| a.raw_symbol.cmp(&b.raw_symbol));
        assert_eq!(back, specs);
        assert!(crate::kraken::decode_asset_pairs(
            rest_error("EAPI:Rate limit exceeded").as_bytes()
        )
        .is_err());
    }

    #[test]
    fn times_round_trip() {
        assert_eq!(
            rfc3339(1_696_613_755_440_295_000),
            "2023-10-06T17:35:55.440295Z"
        );
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
    }
}
