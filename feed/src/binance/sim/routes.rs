//! WebSocket URL paths and stream names: which venue, which path class, which channels.

use tickd_bus::Venue;

/// Which routed path a connection came in on (USD-M splits streams by path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathClass {
    Spot,
    /// `/public/...`: book data (and `@trade`).
    UsdmPublic,
    /// `/market/...`: aggTrade, markPrice, forceOrder.
    UsdmMarket,
    /// The bare USD-M root: only public-class streams produce data.
    UsdmRoot,
}

/// Channel bits of a subscription.
pub(crate) mod ch {
    pub const TRADE: u16 = 1;
    pub const AGG_TRADE: u16 = 2;
    pub const BOOK_TICKER: u16 = 4;
    pub const DEPTH: u16 = 8;
    pub const DEPTH_100MS: u16 = 16;
    pub const DEPTH_250MS: u16 = 32;
    pub const DEPTH_500MS: u16 = 64;
    pub const MARK_PRICE: u16 = 128;
    pub const MARK_PRICE_1S: u16 = 256;
    pub const FORCE_ORDER: u16 = 512;
    pub const ANY_DEPTH: u16 = DEPTH | DEPTH_100MS | DEPTH_250MS | DEPTH_500MS;
}

/// `(bit, stream suffix)` for every channel the synthetic market produces.
pub(crate) const CHANNELS: [(u16, &str); 10] = [
    (ch::TRADE, "trade"),
    (ch::AGG_TRADE, "aggTrade"),
    (ch::BOOK_TICKER, "bookTicker"),
    (ch::DEPTH, "depth"),
    (ch::DEPTH_100MS, "depth@100ms"),
    (ch::DEPTH_250MS, "depth@250ms"),
    (ch::DEPTH_500MS, "depth@500ms"),
    (ch::MARK_PRICE, "markPrice"),
    (ch::MARK_PRICE_1S, "markPrice@1s"),
    (ch::FORCE_ORDER, "forceOrder"),
];

impl PathClass {
    pub fn venue(self) -> Venue {
        if self == PathClass::Spot {
            Venue::Binance
        } else {
            Venue::BinanceUsdm
        }
    }

    /// Channels that produce data on this path (others are accepted but silent).
    pub fn delivers(self) -> u16 {
        use ch::*;
        match self {
            PathClass::Spot => TRADE | AGG_TRADE | BOOK_TICKER | DEPTH | DEPTH_100MS,
            PathClass::UsdmPublic | PathClass::UsdmRoot => TRADE | BOOK_TICKER | ANY_DEPTH,
            PathClass::UsdmMarket => AGG_TRADE | MARK_PRICE | MARK_PRICE_1S | FORCE_ORDER,
        }
    }
}

/// A parsed WebSocket request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WsTarget {
    pub class: PathClass,
    pub combined: bool,
    pub streams: Vec<String>,
    /// `timeUnit=MICROSECOND` (spot only).
    pub micros: bool,
}

/// Parse `/ws/<s1>/<s2>`, `/stream?streams=<s1>/<s2>`, optionally under `/public` or
/// `/market`. `bare_root_is_usdm`: the sim serves only USD-M symbols, so `/ws` means
/// the USD-M root rather than spot.
pub(crate) fn parse_ws_target(target: &str, bare_root_is_usdm: bool) -> Option<WsTarget> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (class, rest) = if let Some(rest) = path.strip_prefix("/public") {
        (PathClass::UsdmPublic, rest)
    } else if let Some(rest) = path.strip_prefix("/market") {
        (PathClass::UsdmMarket, rest)
    } else if bare_root_is_usdm {
        (PathClass::UsdmRoot, path)
    } else {
        (PathClass::Spot, path)
    };
    let mut micros = false;
    let mut query_streams = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("streams", v)) => query_streams = Some(v),
            Some(("timeUnit", v)) => micros = v.eq_ignore_ascii_case("microsecond"),
            _ => {}
        }
    }
    let split = |s: &str| {
        s.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (combined, streams) = if rest == "/ws" || rest == "/ws/" {
        (false, Vec::new())
    } else if let Some(list) = rest.strip_prefix("/ws/") {
        let streams: Vec<String> = split(list);
        // Every segment is a stream name (`sym@channel` or `!name`): other venues'
        // paths under `/ws/` (OKX `/ws/v5/public`) are not Binance's.
        if !streams
            .iter()
            .all(|s| s.contains('@') || s.starts_with('!'))
        {
            return None;
        }
        (false, streams)
    } else if rest == "/stream" || rest == "/stream/" {
        (true, query_streams.map(split).unwrap_or_default())
    } else {
        return None;
    };
    Some(WsTarget {
        class,
        combined,
        streams,
        micros: micros && class == PathClass::Spot,
    })
}

/// A well-formed stream name: lower-case `<symbol>@<channel>` or `!<name>`, ASCII.
pub(crate) fn valid_stream_name(s: &str) -> bool {
    let symbol = s.split('@').next().unwrap_or("");
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@_!-.".contains(&b))
        && (s.starts_with('!') || !symbol.bytes().any(|b| b.is_ascii_uppercase()))
}

/// `btcusdt@depth@100ms` → (`btcusdt`, DEPTH_100MS); unknown channels → None.
pub(crate) fn split_stream(s: &str) -> Option<(&str, u16)> {
    let (sym, channel) = s.split_once('@')?;
    CHANNELS
        .iter()
        .find(|(_, name)| *name == channel)
        .map(|(bit, _)| (sym, *bit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_as_binance_serves_them() {
        let t = parse_ws_target("/ws/btcusdt@trade/ethusdt@depth", false).unwrap();
        assert_eq!(
            (t.class, t.combined, t.streams.len()),
            (PathClass::Spot, false, 2)
        );
        let t = parse_ws_target(
            "/market/stream?streams=btcusdt@aggTrade/btcusdt@markPrice",
            false,
        )
        .unwrap();
        assert_eq!((t.class, t.combined), (PathClass::UsdmMarket, true));
        assert_eq!(t.streams, ["btcusdt@aggTrade", "btcusdt@markPrice"]);
        let t =
            parse_ws_target("/stream?streams=btcusdt@trade&timeUnit=MICROSECOND", false).unwrap();
        assert!(t.micros && t.combined);
        assert_eq!(
            parse_ws_target("/ws", true).unwrap().class,
            PathClass::UsdmRoot
        );
        assert!(parse_ws_target("/nope", false).is_none());
        assert!(parse_ws_target("/ws/v5/public", false).is_none());
        assert_eq!(
            split_stream("btcusdt@depth@100ms"),
            Some(("btcusdt", ch::DEPTH_100MS))
        );
        assert!(valid_stream_name("btcusdt@aggTrade") && valid_stream_name("!bookTicker"));
        assert!(!valid_stream_name("BTCUSDT@trade") && !valid_stream_name("a b"));
    }
}
