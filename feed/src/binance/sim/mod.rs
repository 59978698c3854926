//! Binance spot and USD-M in the simulator ([`BinanceSim`]): WebSocket paths
//! `/ws/<streams>`, `/stream?streams=..` (spot) and `/public/..`, `/market/..` (USD-M),
//! `SUBSCRIBE` / `UNSUBSCRIBE` / `LIST_SUBSCRIPTIONS` / `SET_PROPERTY`, server pings,
//! `serverShutdown`, and REST depth, exchangeInfo and openInterest.

mod control;
mod frames;
mod reshape;
mod rest;
mod routes;
mod session;

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tickd_bus::Venue;

use crate::engine::adapter::VenueLimits;
use crate::sim::{ConnectionRules, ReplayFrame, Response, SimProtocol, SimSession, SimView};

/// The Binance protocol of the simulator.
pub struct BinanceSim;

/// Quote assets a raw symbol given on the command line may end in.
const QUOTES: [&str; 8] = ["USDT", "USDC", "FDUSD", "BUSD", "BTC", "ETH", "BNB", "EUR"];

impl SimProtocol for BinanceSim {
    fn venues(&self) -> &'static [Venue] {
        &[Venue::Binance, Venue::BinanceUsdm]
    }

    fn symbol_name(&self, _venue: Venue, base: &str, quote: &str) -> String {
        format!("{base}{quote}")
    }

    fn split_symbol(&self, _venue: Venue, raw: &str) -> Option<(String, String)> {
        let quote = QUOTES
            .iter()
            .find(|q| raw.len() > q.len() && raw.ends_with(*q))?;
        Some((
            raw[..raw.len() - quote.len()].to_string(),
            quote.to_string(),
        ))
    }

    /// Spot pings every 20 s and waits 60 s for the pong; USD-M every 180 s, 600 s.
    fn rules(&self, venue: Venue, limits: &VenueLimits) -> ConnectionRules {
        let (ping, pong) = if venue == Venue::BinanceUsdm {
            (180, 600)
        } else {
            (20, 60)
        };
        ConnectionRules {
            ping_interval: Some(Duration::from_secs(ping)),
            pong_timeout: Duration::from_secs(pong),
            idle_close: None,
            max_inbound_per_sec: limits.messages_per_second,
            max_streams: limits.streams_per_connection,
        }
    }

    fn open(&self, target: &str, sim: &SimView<'_>) -> Option<Box<dyn SimSession>> {
        let has = |v: Venue| sim.symbols().iter().any(|s| s.venue == v);
        // A simulator with only USD-M symbols serves the bare root as USD-M.
        let bare_root_is_usdm = !has(Venue::Binance) && has(Venue::BinanceUsdm);
        let target = routes::parse_ws_target(target, bare_root_is_usdm)?;
        Some(Box::new(session::BinanceSession::new(target, sim)))
    }

    fn owns_rest(&self, path: &str) -> bool {
        rest::owns(path)
    }

    fn rest(&self, path: &str, query: &str, sim: &SimView<'_>) -> Response {
        rest::handle(path, query, sim)
    }

    fn rest_limited(&self, status: u16) -> Vec<u8> {
        rest::limited(status)
    }

    fn replay_frame(&self, venue: Venue, data: &str) -> Option<ReplayFrame> {
        if let Ok(w) = serde_json::from_str::<Wrapped>(data) {
            return Some(ReplayFrame {
                venue,
                streams: vec![w.stream],
                data: w.data.get().to_string(),
            });
        }
        let value: Value = serde_json::from_str(data).ok()?;
        let streams = streams_of(&value);
        (!streams.is_empty()).then(|| ReplayFrame {
            venue,
            streams,
            data: data.to_string(),
        })
    }
}

#[derive(Deserialize)]
struct Wrapped<'a> {
    stream: String,
    #[serde(borrow)]
    data: &'a RawValue,
}

/// Stream names of an unwrapped event, from its type and symbol.
fn streams_of(event: &Value) -> Vec<String> {
    let e = event.get("e").and_then(Value::as_str).unwrap_or("");
    let symbol = event
        .get("s")
        .or_else(|| event.get("o").and_then(|o| o.get("s")))
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let Some(sym) = symbol else { return Vec::new() };
    let suffixes: &[&str] = match e {
        "trade" => &["trade"],
        "aggTrade" => &["aggTrade"],
        "depthUpdate" => &["depth", "depth@100ms", "depth@250ms", "depth@500ms"],
        "markPriceUpdate" => &["markPrice", "markPrice@1s"],
        "forceOrder" => &["forceOrder"],
        "bookTicker" => &["bookTicker"],
        "" if event.get("u").is_some() && event.get("b").is_some() => &["bookTicker"],
        _ => &[],
    };
    suffixes.iter().map(|s| format!("{sym}@{s}")).collect()
}
