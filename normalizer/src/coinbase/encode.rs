//! Coinbase Advanced Trade frames written out, for the simulator and tests
//! (`coinbase.md` §9): every data frame in the envelope with the connection's
//! `sequence_num`, prices and sizes as minimal decimal strings, `offer` for asks,
//! snapshot `event_time` the epoch.

use std::fmt::Write;

use tickd_bus::record::Side;
use tickd_bus::{Price, Size};

use crate::book::Level;

/// RFC 3339 with nanoseconds (`2023-02-09T20:32:50.714964855Z`) of `ns`.
pub fn rfc3339_nanos(ns: u64) -> String {
    let mut text = crate::kraken::encode::rfc3339(ns);
    text.pop(); // the `Z` after the microseconds
    let _ = write!(text, "{:03}Z", ns % 1000);
    text
}

/// `{"channel":..,"client_id":"","timestamp":..,"sequence_num":..,"events":[..]}`
/// around `events` (a JSON array).
pub fn envelope(channel: &str, ts_ns: u64, seq: u64, events: &str) -> String {
    format!(
        r#"{{"channel":"{channel}","client_id":"","timestamp":"{}","sequence_num":{seq},"events":{events}}}"#,
        rfc3339_nanos(ts_ns)
    )
}

/// One product's book in an `l2_data` frame: its whole book (snapshot) or changes.
#[derive(Debug, Clone, Copy)]
pub struct L2<'a> {
    pub product: &'a str,
    pub bids: &'a [Level],
    pub asks: &'a [Level],
}

/// One `l2_data` frame: a snapshot (whole book, bids then offers) or an update.
pub fn l2(
    product: &str,
    snapshot: bool,
    bids: &[Level],
    asks: &[Level],
    ts_ns: u64,
    seq: u64,
) -> String {
    l2_products(
        &[L2 {
            product,
            bids,
            asks,
        }],
        snapshot,
        ts_ns,
        seq,
    )
}

/// One `l2_data` frame with one event per product (§4: a frame may carry events of
/// several products).
pub fn l2_products(books: &[L2<'_>], snapshot: bool, ts_ns: u64, seq: u64) -> String {
    let kind = if snapshot { "snapshot" } else { "update" };
    let time = if snapshot {
        rfc3339_nanos(0)
    } else {
        rfc3339_nanos(ts_ns)
    };
    let mut events = String::from("[");
    for (i, book) in books.iter().enumerate() {
        if i > 0 {
            events.push(',');
        }
        let _ = write!(
            events,
            r#"{{"type":"{kind}","product_id":"{}","updates":["#,
            book.product
        );
        let mut first = true;
        for (side, levels) in [("bid", book.bids), ("offer", book.asks)] {
            for l in levels {
                if !first {
                    events.push(',');
                }
                first = false;
                let _ = write!(
                    events,
                    r#"{{"side":"{side}","event_time":"{time}","price_level":"{}","new_quantity":"{}"}}"#,
                    l.price, l.size
                );
            }
        }
        events.push_str("]}");
    }
    events.push(']');
    envelope("l2_data", ts_ns, seq, &events)
}

/// One trade of a `market_trades` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade<'a> {
    pub product: &'a str,
    pub trade_id: u64,
    pub price: Price,
    pub size: Size,
    /// The taker's side.
    pub side: Side,
    pub ts_ns: u64,
}

/// A `market_trades` frame: the snapshot batch after a subscription, or an update.
pub fn trades(trades: &[Trade<'_>], snapshot: bool, ts_ns: u64, seq: u64) -> String {
    let kind = if snapshot { "snapshot" } else { "update" };
    let mut events = format!(r#"[{{"type":"{kind}","trades":["#);
    for (i, t) in trades.iter().enumerate() {
        if i > 0 {
            events.push(',');
        }
        let side = if t.side == Side::Sell { "SELL" } else { "BUY" };
        let _ = write!(
            events,
            r#"{{"trade_id":"{}","product_id":"{}","price":"{}","size":"{}","side":"{side}","time":"{}"}}"#,
            t.trade_id,
            t.product,
            t.price,
            t.size,
            crate::kraken::encode::rfc3339(t.ts_ns)
        );
    }
    events.push_str("]}]");
    envelope("market_trades", ts_ns, seq, &events)
}

/// A `ticker` frame with the best bid and offer (the 24 h statistics left out).
pub fn ticker(product: &str, last: Price, bid: Level, ask: Level, ts_ns: u64, seq: u64) -> String {
    let events = format!(
        r#"[{{"type":"update","tickers":[{{"type":"ticker","product_id":"{product}","price":"{last}","best_bid":"{}","best_bid_quantity":"{}","best_ask":"{}","best_ask_quantity":"{}"}}]}}]"#,
        bid.price, bid.size, ask.price, ask.size
    );
    envelope("ticker", ts_ns, seq, &events)
}

/// A `heartbeats` frame.
pub fn heartbeat(counter: u64, ts_ns: u64, seq: u64) -> String {
    let events = format!(
        r#"[{{"current_time":"{} +0000 UTC m=+{counter}.000000001","heartbeat_counter":{counter}}}]"#,
        rfc3339_nanos(ts_ns).replace('T', " ").trim_end_matches('Z')
    );
    envelope("heartbeats", ts_ns, seq, &events)
}

/// A `candles` frame with one 5-minute candle starting at `start_s`.
#[allow(clippy::too_many_arguments)]
pub fn candle(
    product: &str,
    start_s: u64,
    [open, high, low, close]: [Price; 4],
    volume: Size,
    ts_ns: u64,
    seq: u64,
) -> String {
    let events = format!(
        r#"[{{"type":"update","candles":[{{"start":"{start_s}","high":"{high}","low":"{low}","open":"{open}","close":"{close}","volume":"{volume}","product_id":"{product}"}}]}}]"#
    );
    envelope("candles", ts_ns, seq, &events)
}

/// The `subscriptions` reply listing every subscription of the connection.
pub fn subscriptions(channels: &[(&str, Vec<String>)], ts_ns: u64, seq: u64) -> String {
    let mut subs = String::from("{");
    for (i, (channel, products)) in channels.iter().enumerate() {
        if i > 0 {
            subs.push(',');
        }
        let list: Vec<String> = products.iter().map(|p| format!("\"{p}\"")).collect();
        let _ = write!(subs, r#""{channel}":[{}]"#, list.join(","));
    }
    subs.push('}');
    envelope(
        "subscriptions",
        ts_ns,
        seq,
        &format!(r#"[{{"subscriptions":{subs}}}]"#),
    )
}

/// An error reply (no envelope, §3).
pub fn error(message: &str) -> String {
    let mut quoted = Vec::new();
    crate::binance::encode::push_str(&mut quoted, message);
    format!(
        r#"{{"type":"error","message":{}}}"#,
        String::from_utf8_lossy(&quoted)
    )
}

/// A client request: `{"type":"subscribe"|"unsubscribe","product_ids":[..],"channel":..}`
/// (`product_ids` left out when empty, as for `heartbeats`).
pub fn request(kind: &str, channel: &str, products: &[&str]) -> String {
    if products.is_empty() {
        return format!(r#"{{"type":"{kind}","channel":"{channel}"}}"#);
    }
    let list: Vec<String> = products.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        r#"{{"type":"{kind}","product_ids":[{}],"channel":"{channel}"}}"#,
        list.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanosecond_times() {
        assert_eq!(
            rfc3339_nanos(1_675_974_770_714_964_855),
            "2023-02-09T20:32:50.714964855Z"
        );
        assert_eq!(rfc3339_nanos(0), "1970-01-01T00:00:00.000000000Z");
    }
}
