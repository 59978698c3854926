//! Binance stream names, which routed path each goes to, and how streams are
//! spread over connections and batched into `SUBSCRIBE` messages.
//!
//! Facts (docs/exchanges/binance_spot.md §1–3, binance_usdm_futures.md §1–2):
//! stream names are the lower-cased raw symbol + `@channel`; at most 1024 streams
//! per connection; at most 5 (spot) / 10 (USD-M) inbound messages per second,
//! pongs included; USD-M splits streams over `/public` (book data, bookTicker and —
//! per tardis-node, live-tested — `@trade`) and `/market` (markPrice, forceOrder).

use tickd_bus::channel::Channel;
use tickd_normalizer::binance::BinanceMarket;

/// Streams per connection the venue allows (spot documents 1024; USD-M documents
/// 1024 too, but clients that track it cap at 200 to be safe, and so do we).
pub const fn max_streams_per_connection(market: BinanceMarket) -> usize {
    match market {
        BinanceMarket::Spot => 1024,
        BinanceMarket::UsdmFutures => 200,
    }
}
/// Streams per `SUBSCRIBE` message (keeps each message small; not a venue rule).
pub const STREAMS_PER_SUBSCRIBE: usize = 100;

/// Which URL path a stream must use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Route {
    Spot,
    UsdmPublic,
    UsdmMarket,
}

impl Route {
    pub const fn path(self) -> &'static str {
        match self {
            Route::Spot => "",
            Route::UsdmPublic => "/public",
            Route::UsdmMarket => "/market",
        }
    }
}

/// One subscribed stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSub {
    pub name: String,
    pub instrument_id: u32,
    pub channel: Channel,
    pub route: Route,
}

/// The stream carrying `channel` for `raw_symbol`; `None` when the channel is not a
/// stream on this market (open interest is polled over REST; spot has no derivatives data).
pub fn stream_name(market: BinanceMarket, raw_symbol: &str, channel: Channel) -> Option<String> {
    let symbol = raw_symbol.to_ascii_lowercase();
    let suffix = match (market, channel) {
        (_, Channel::Trades) => "trade",
        (_, Channel::Bbo) => "bookTicker",
        (_, Channel::Book) => "depth@100ms",
        (BinanceMarket::UsdmFutures, Channel::Funding) => "markPrice@1s",
        (BinanceMarket::UsdmFutures, Channel::Liquidations) => "forceOrder",
        _ => return None,
    };
    Some(format!("{symbol}@{suffix}"))
}

pub fn route(market: BinanceMarket, channel: Channel) -> Route {
    match (market, channel) {
        (BinanceMarket::Spot, _) => Route::Spot,
        (_, Channel::Funding | Channel::Liquidations) => Route::UsdmMarket,
        _ => Route::UsdmPublic,
    }
}

/// The combined-stream URL of a route: `<base>[/public|/market]/stream`, with
/// `timeUnit=MICROSECOND` when asked (spot only offers it).
pub fn connection_url(market: BinanceMarket, ws_base: &str, route: Route, micros: bool) -> String {
    let mut base = ws_base.trim_end_matches('/');
    for suffix in ["/stream", "/ws", "/public", "/market"] {
        base = base.strip_suffix(suffix).unwrap_or(base);
    }
    let query = if micros && market == BinanceMarket::Spot {
        "?timeUnit=MICROSECOND"
    } else {
        ""
    };
    format!("{base}{}/stream{query}", route.path())
}

/// One planned connection: a route and its streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedConn {
    pub route: Route,
    pub streams: Vec<StreamSub>,
}

/// Spread `(instrument id, raw symbol)` × `channels` over connections: per route, at
/// most `per_connection` streams each (capped at the market's limit), one
/// instrument's streams of a route always on the same connection.
pub fn plan(
    market: BinanceMarket,
    instruments: &[(u32, String)],
    channels: &[Channel],
    per_connection: usize,
) -> Vec<PlannedConn> {
    let per_connection = per_connection.clamp(1, max_streams_per_connection(market));
    let mut by_route: Vec<(Route, Vec<Vec<StreamSub>>)> = Vec::new();
    for (id, raw) in instruments {
        let mut groups: Vec<(Route, Vec<StreamSub>)> = Vec::new();
        for &channel in channels {
            let Some(name) = stream_name(market, raw, channel) else {
                continue;
            };
            let route = route(market, channel);
            let sub = StreamSub {
                name,
                instrument_id: *id,
                channel,
                route,
            };
            match groups.iter_mut().find(|(r, _)| *r == route) {
                Some((_, g)) => g.push(sub),
                None => groups.push((route, vec![sub])),
            }
        }
        for (route, group) in groups {
            match by_route.iter_mut().find(|(r, _)| *r == route) {
                Some((_, g)) => g.push(group),
                None => by_route.push((route, vec![group])),
            }
        }
    }
    let mut conns = Vec::new();
    for (route, groups) in by_route {
        let mut current: Vec<StreamSub> = Vec::new();
        for group in groups {
            if !current.is_empty() && current.len() + group.len() > per_connection {
                conns.push(PlannedConn {
                    route,
                    streams: std::mem::take(&mut current),
                });
            }
            current.extend(group);
        }
        if !current.is_empty() {
            conns.push(PlannedConn {
                route,
                streams: current,
            });
        }
    }
    conns
}

/// `SUBSCRIBE` messages for `streams`, `STREAMS_PER_SUBSCRIBE` per message, ids
/// from `first_id`.
pub fn subscribe_messages(streams: &[StreamSub], first_id: u64) -> Vec<String> {
    streams
        .chunks(STREAMS_PER_SUBSCRIBE)
        .zip(first_id..)
        .map(|(chunk, id)| {
            let params: Vec<String> = chunk.iter().map(|s| format!("\"{}\"", s.name)).collect();
            format!(
                "{{\"method\":\"SUBSCRIBE\",\"params\":[{}],\"id\":{id}}}",
                params.join(",")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use BinanceMarket::{Spot, UsdmFutures};

    #[test]
    fn names_and_routes() {
        assert_eq!(
            stream_name(Spot, "BTCUSDT", Channel::Book).as_deref(),
            Some("btcusdt@depth@100ms")
        );
        assert_eq!(stream_name(Spot, "BTCUSDT", Channel::Funding), None);
        assert_eq!(stream_name(UsdmFutures, "BTCUSDT", Channel::Oi), None);
        assert_eq!(
            stream_name(UsdmFutures, "ETHUSDT", Channel::Funding).as_deref(),
            Some("ethusdt@markPrice@1s")
        );
        assert_eq!(route(UsdmFutures, Channel::Book), Route::UsdmPublic);
        assert_eq!(route(UsdmFutures, Channel::Trades), Route::UsdmPublic);
        assert_eq!(route(UsdmFutures, Channel::Liquidations), Route::UsdmMarket);
        assert_eq!(
            connection_url(Spot, "wss://stream.binance.com:9443/", Route::Spot, true),
            "wss://stream.binance.com:9443/stream?timeUnit=MICROSECOND"
        );
        assert_eq!(
            connection_url(
                UsdmFutures,
                "wss://fstream.binance.com/ws",
                Route::UsdmMarket,
                true
            ),
            "wss://fstream.binance.com/market/stream"
        );
    }

    #[test]
    fn plan_respects_limits_and_keeps_an_instrument_together() {
        let instruments: Vec<(u32, String)> = (1..=5).map(|i| (i, format!("S{i}USDT"))).collect();
        let channels = [
            Channel::Trades,
            Channel::Bbo,
            Channel::Book,
            Channel::Funding,
            Channel::Oi,
        ];
        let conns = plan(UsdmFutures, &instruments, &channels, 7);
        // Public: 3 streams per instrument, 2 instruments per connection → 3 conns;
        // market: 1 per instrument → 1 conn.
        let public: Vec<_> = conns
            .iter()
            .filter(|c| c.route == Route::UsdmPublic)
            .collect();
        let market: Vec<_> = conns
            .iter()
            .filter(|c| c.route == Route::UsdmMarket)
            .collect();
        assert_eq!(
            public.iter().map(|c| c.streams.len()).collect::<Vec<_>>(),
            vec![6, 6, 3]
        );
        assert_eq!(market.len(), 1);
        assert_eq!(market[0].streams.len(), 5);
        for c in &conns {
            assert!(c.streams.len() <= 7);
            assert!(c.streams.iter().all(|s| s.route == c.route));
        }
        let total: usize = conns.iter().map(|c| c.streams.len()).sum();
        assert_eq!(total, 20);
        // Spot drops derivatives channels; huge per-connection is capped at 1024.
        let spot = plan(Spot, &instruments, &channels, 1_000_000);
        assert_eq!(spot.len(), 1);
        assert_eq!(spot[0].streams.len(), 15);
        // 100 USD-M instruments × 3 public streams: capped at 200 per connection.
        let many: Vec<(u32, String)> = (1..=100).map(|i| (i, format!("S{i}USDT"))).collect();
        let usdm = plan(UsdmFutures, &many, &channels[..3], 1024);
        assert_eq!(
            usdm.iter().map(|c| c.streams.len()).collect::<Vec<_>>(),
            vec![198, 102]
        );
        let spot = plan(Spot, &many, &channels[..3], 1024);
        assert_eq!(spot.len(), 1);
    }

    #[test]
    fn subscribe_batches() {
        let streams: Vec<StreamSub> = (0..250)
            .map(|i| StreamSub {
                name: format!("s{i}usdt@trade"),
                instrument_id: i,
                channel: Channel::Trades,
                route: Route::Spot,
            })
            .collect();
        let msgs = subscribe_messages(&streams, 1);
        assert_eq!(msgs.len(), 3);
        assert!(msgs[0].starts_with(
            "{\"method\":\"SUBSCRIBE\",\"params\":[\"s0usdt@trade\",\"s1usdt@trade\""
        ));
        assert!(msgs[2].ends_with("\"s249usdt@trade\"],\"id\":3}"));
        let v: serde_json::Value = serde_json::from_str(&msgs[1]).unwrap();
        assert_eq!(v["params"].as_array().unwrap().len(), 100);
    }
}
