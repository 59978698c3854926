//! Kraken spot v2 on the venue engine (`docs/exchanges/kraken.md`): books pushed
//! after each subscription (snapshot then updates, no sequence numbers, a CRC32 of
//! the top 10 levels a side on every message), a checksum failure resubscribing
//! that one book on its connection, `heartbeat` frames every second as the
//! connection's liveness, the optional `{"method":"ping"}`, sequential trade ids.
//!
//! Channels: trades → `trade`, bbo → `ticker` with `event_trigger: bbo`, book →
//! `book` at `book_depth` (10, 25, 100, 500 or 1000); with `venue_bars_minutes`,
//! `ohlc` at that interval (→ venue bars, no watched stream). Instruments (and each pair's
//! precision, kept in the registry as tick and step sizes) come from REST
//! `AssetPairs`; the v2 symbol is `BTC/USD` (Kraken's legacy `XBT` is `BTC`).

use std::time::Duration;

use tickd_bus::{Channel, Venue};
use tickd_normalizer::engine::TradeIds;
use tickd_normalizer::kraken::{encode, KrakenDecoder, KrakenRule, DEPTHS};
use tickd_normalizer::SymbolMap;

use crate::capture::request_target;
use crate::engine::adapter::{
    Keepalive, Outbound, PlannedConn, RestPath, RestTarget, StreamSub, VenueAdapter, VenueLimits,
};
use crate::venue::VenueSettings;

/// Kraken spot.
#[derive(Debug, Clone, Copy, Default)]
pub struct KrakenAdapter;

const VENUES: &[Venue] = &[Venue::Kraken];

/// Production endpoints (`kraken.md` §1).
pub const WS_URL: &str = "wss://ws.kraken.com/v2";
pub const REST_URL: &str = "https://api.kraken.com";

/// Kraken sends `heartbeat` every second on a subscribed connection, so the ping
/// (optional, §2) only goes out on a connection that went quiet.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(15);

const ASSET_PAIRS: &str = "/0/public/AssetPairs";

/// The WebSocket URL from a configured one: a bare `ws[s]://host[:port]` (the
/// simulator, `tickd demo`) gets Kraken's `/v2` path; a URL with a path is used as
/// it is.
pub fn ws_url(configured: &str) -> String {
    let after_scheme = configured.split_once("://").map_or(configured, |(_, r)| r);
    match after_scheme.find('/') {
        Some(i) if after_scheme.len() > i + 1 => configured.to_string(),
        _ => format!("{}/v2", configured.trim_end_matches('/')),
    }
}

/// The v2 channel of a tickd channel (`None`: Kraken spot has no such stream).
fn kraken_channel(channel: Channel) -> Option<&'static str> {
    match channel {
        Channel::Trades => Some("trade"),
        Channel::Bbo => Some("ticker"),
        Channel::Book => Some("book"),
        Channel::Funding | Channel::Liquidations | Channel::Oi => None,
    }
}

/// The stream name of a book: `book:<depth>:<symbol>` (resubscribe reads it back).
fn book_stream_name(depth: u32, symbol: &str) -> String {
    format!("book:{depth}:{symbol}")
}

fn subscribe_text(
    method: &str,
    channel: &str,
    symbols: &[&str],
    depth: u32,
    req_id: u64,
) -> Outbound {
    // The book's depth; `ohlc` passes its interval in the same place.
    let depth = matches!(channel, "book" | "ohlc").then_some(depth);
    Outbound::Text(encode::request(
        method,
        channel,
        symbols,
        depth,
        Some(req_id),
    ))
}

impl VenueAdapter for KrakenAdapter {
    type Decoder = KrakenDecoder;
    type Rule = KrakenRule;

    fn venues(&self) -> &'static [Venue] {
        VENUES
    }

    /// `kraken.md` §2 states no numbers (Cloudflare and the engine enforce limits;
    /// subscribe many symbols per request, back off on `success:false`): tickd sends
    /// one request per channel per connection, paces control messages to 5 a second,
    /// opens at most one connection a second, and reads AssetPairs once at start-up
    /// (public REST: about one call a second). Connections have no lifetime.
    fn limits(&self, _venue: Venue) -> VenueLimits {
        VenueLimits {
            streams_per_connection: 300,
            messages_per_second: 5,
            connection_lifetime: Duration::from_secs(24 * 3600),
            rest_weight_per_minute: 60,
        }
    }

    fn default_urls(&self, _venue: Venue) -> (&'static str, &'static str) {
        (WS_URL, REST_URL)
    }

    /// `trade_id` is sequential per pair (§6.1): a hole is a lost trade.
    fn trade_ids(&self, _venue: Venue) -> TradeIds {
        TradeIds::Contiguous
    }

    fn keepalive(&self, _venue: Venue) -> Keepalive {
        Keepalive::Idle {
            idle: PING_AFTER_IDLE,
            message: Outbound::Text(r#"{"method":"ping"}"#.into()),
        }
    }

    fn decoder(
        &self,
        _venue: Venue,
        symbols: SymbolMap,
        settings: &VenueSettings,
    ) -> KrakenDecoder {
        KrakenDecoder::new(symbols, settings.book_depth)
    }

    /// Without the decoder's facts: no precision (the checksum is not verified)
    /// and the deepest book.
    fn rule(&self, _venue: Venue, _instrument_id: u32) -> KrakenRule {
        KrakenRule {
            precision: None,
            depth: DEPTHS[DEPTHS.len() - 1],
        }
    }

    fn book_rule(&self, venue: Venue, instrument_id: u32, decoder: &KrakenDecoder) -> KrakenRule {
        let precision = decoder.precision(instrument_id);
        if precision.is_none() {
            tracing::warn!(%venue, instrument_id, "no precision known for this pair: its book checksum cannot be verified");
        }
        KrakenRule {
            precision,
            depth: decoder.depth(instrument_id),
        }
    }

    fn instruments_path(&self, _venue: Venue) -> RestPath {
        ASSET_PAIRS.into()
    }

    /// Kraken books come only on the stream: never fetched.
    fn snapshot_path(&self, _venue: Venue, _raw_symbol: &str, _depth: u32) -> RestPath {
        String::new()
    }

    /// The configured depth must be one Kraken accepts (no REST snapshot is made).
    fn snapshot_weight(&self, _venue: Venue, depth: u32) -> Result<u32, String> {
        if DEPTHS.contains(&depth) {
            Ok(1)
        } else {
            Err(format!(
                "kraken book depth must be one of {DEPTHS:?}, got {depth}"
            ))
        }
    }

    fn classify_rest(&self, _venue: Venue, url: &str) -> Option<RestTarget> {
        let (path, _) = request_target(url);
        path.ends_with(ASSET_PAIRS)
            .then_some(RestTarget::Instruments)
    }

    /// `data[0].symbol` of a data frame, or `symbol` / `result.symbol` of a reply.
    fn peek_symbol(&self, _market: u8, frame: &[u8]) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Sym {
            symbol: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Peek {
            symbol: Option<String>,
            result: Option<Sym>,
            data: Option<Vec<Sym>>,
        }
        let peek: Peek = serde_json::from_slice(frame).ok()?;
        peek.data
            .and_then(|d| d.into_iter().next()?.symbol)
            .or(peek.symbol)
            .or_else(|| peek.result?.symbol)
            .filter(|s| !s.is_empty())
    }

    /// Pairs in groups that fit `streams_per_connection`, one connection per group,
    /// each subscribing one request per channel for all its pairs.
    fn plan(
        &self,
        _venue: Venue,
        instruments: &[(u32, String)],
        settings: &VenueSettings,
    ) -> Vec<PlannedConn> {
        let channels: Vec<(Channel, &'static str)> = settings
            .channels
            .iter()
            .filter_map(|&c| Some((c, kraken_channel(c)?)))
            .collect();
        let limit = self.limits(Venue::Kraken).streams_per_connection;
        let per_pair = channels.len() + usize::from(settings.venue_bars_minutes.is_some());
        let per_conn = (settings.streams_per_connection.min(limit) / per_pair.max(1)).max(1);
        let depth = settings.book_depth;
        let mut req_id = 0;
        instruments
            .chunks(per_conn)
            .map(|group| {
                let symbols: Vec<&str> = group.iter().map(|(_, s)| s.as_str()).collect();
                let mut streams = Vec::new();
                let mut subscribe = Vec::new();
                for &(channel, name) in &channels {
                    req_id += 1;
                    subscribe.push(subscribe_text("subscribe", name, &symbols, depth, req_id));
                    for (id, symbol) in group {
                        streams.push(StreamSub {
                            name: if channel == Channel::Book {
                                book_stream_name(depth, symbol)
                            } else {
                                format!("{name}:{symbol}")
                            },
                            instrument_id: *id,
                            channel,
                        });
                    }
                }
                if let Some(minutes) = settings.venue_bars_minutes {
                    // Candles are no tickd channel: no stream is watched for them.
                    req_id += 1;
                    subscribe.push(subscribe_text(
                        "subscribe",
                        "ohlc",
                        &symbols,
                        minutes,
                        req_id,
                    ));
                }
                PlannedConn {
                    url: ws_url(&settings.ws_url),
                    streams,
                    subscribe,
                }
            })
            .collect()
    }

    /// Unsubscribe then subscribe the pair's book at its depth: Kraken pushes a
    /// fresh snapshot (`kraken.md` §7.1 rule 4).
    fn resubscribe(&self, conn: &PlannedConn, instrument_id: u32) -> Vec<Outbound> {
        let Some(book) = conn
            .streams
            .iter()
            .find(|s| s.instrument_id == instrument_id && s.channel == Channel::Book)
        else {
            return Vec::new();
        };
        let mut parts = book.name.splitn(3, ':');
        let (Some("book"), Some(depth), Some(symbol)) = (parts.next(), parts.next(), parts.next())
        else {
            return Vec::new();
        };
        let Ok(depth) = depth.parse() else {
            return Vec::new();
        };
        let req_id = 1_000_000 + u64::from(instrument_id);
        vec![
            subscribe_text("unsubscribe", "book", &[symbol], depth, req_id),
            subscribe_text("subscribe", "book", &[symbol], depth, req_id),
        ]
    }

    /// `ohlc` candles.
    fn venue_bar_minutes(&self, _venue: Venue) -> &'static [u32] {
        &super::OHLC_INTERVALS_MIN
    }

    fn simulator(&self) -> Option<&'static dyn crate::sim::SimProtocol> {
        Some(&super::sim::KrakenSim)
    }
}
