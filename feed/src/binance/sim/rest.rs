//! Binance REST in the simulator: depth snapshots, exchangeInfo, openInterest — from
//! the true books, or from a capture in replay mode — and the 429/418 body.

use std::sync::atomic::Ordering::Relaxed;

use tickd_bus::Venue;
use tickd_normalizer::binance::encode as enc;
use tickd_normalizer::binance::BinanceMarket;

use crate::sim::{now_ns, query_param, Response, SimView};

fn error(status: u16, code: i64, msg: &str) -> Response {
    let mut body = Vec::new();
    enc::encode_error(&mut body, code, msg, None);
    Response::status(status, body)
}

/// The body of a 429 (rate limited) or 418 (IP banned) answer.
pub(crate) fn limited(status: u16) -> Vec<u8> {
    let msg = if status == 418 {
        "Way too many requests; IP banned."
    } else {
        "Too many requests; current limit is 6000 request weight per 1 MINUTE."
    };
    error(status, -1003, msg).body
}

/// The Binance REST paths the simulator serves.
pub(crate) fn owns(path: &str) -> bool {
    matches!(
        path,
        "/api/v3/depth"
            | "/api/v3/exchangeInfo"
            | "/fapi/v1/depth"
            | "/fapi/v1/exchangeInfo"
            | "/fapi/v1/openInterest"
    )
}

pub(crate) fn handle(path: &str, query: &str, sim: &SimView<'_>) -> Response {
    let (venue, market) = match path {
        "/api/v3/depth" | "/api/v3/exchangeInfo" => (Venue::Binance, BinanceMarket::Spot),
        "/fapi/v1/depth" | "/fapi/v1/exchangeInfo" | "/fapi/v1/openInterest" => {
            (Venue::BinanceUsdm, BinanceMarket::UsdmFutures)
        }
        _ => return error(404, -1000, "Not found."),
    };
    let target = format!("{path}?{query}");
    if let Some(body) = sim.replayed_rest(&target) {
        return Response::ok(body.into_bytes());
    }
    let now_ms = now_ns() / 1_000_000;
    let mut body = Vec::with_capacity(4096);
    if path.ends_with("exchangeInfo") {
        let infos: Vec<enc::SymbolInfo> = sim
            .symbols()
            .iter()
            .filter(|s| s.venue == venue)
            .map(|s| enc::SymbolInfo {
                symbol: &s.raw,
                base: &s.base,
                quote: &s.quote,
                tick_size: s.tick_size,
                step_size: s.lot_size,
            })
            .collect();
        enc::encode_exchange_info(&mut body, market, now_ms, &infos);
        return Response::ok(body);
    }
    let Some(symbol) = query_param(query, "symbol").filter(|s| !s.is_empty()) else {
        return error(
            400,
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        );
    };
    let market_state = sim.market();
    let Some(book) = market_state.find(venue, symbol) else {
        return error(400, -1121, "Invalid symbol.");
    };
    if path.ends_with("openInterest") {
        enc::encode_open_interest(&mut body, &book.info.raw, book.open_interest, now_ms);
        return Response::ok(body);
    }
    let default_limit = if venue == Venue::Binance { 100 } else { 500 };
    let limit = match query_param(query, "limit").map(str::parse::<usize>) {
        None => default_limit,
        Some(Ok(l)) if venue == Venue::Binance && (1..=5000).contains(&l) => l,
        Some(Ok(l))
            if venue == Venue::BinanceUsdm && [5, 10, 20, 50, 100, 500, 1000].contains(&l) =>
        {
            l
        }
        Some(_) => return error(400, -1100, "Illegal characters found in parameter 'limit'."),
    };
    let stale = sim.faults().stale_snapshot_events;
    let mut snapshot = match stale {
        Some(events) => {
            sim.fault_counters().stale_snapshots.fetch_add(1, Relaxed);
            book.snapshot_events_ago(events as usize, limit)
        }
        None => book.snapshot(limit),
    };
    drop(market_state);
    snapshot.ts_event = now_ms;
    enc::encode_depth_snapshot(&mut body, market, &snapshot);
    Response::ok(body)
}
