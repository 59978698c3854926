//! Bybit v5 on the venue engine (`docs/exchanges/bybit.md`): books pushed on the
//! WebSocket (`orderbook.N`, snapshot then deltas with contiguous `u`; a `u == 1`
//! snapshot after a Bybit restart replaces the book), a gap resubscribing that one
//! topic on its connection, the `{"op":"ping"}` keep-alive, UUID trade ids deduped
//! as opaque ids.
//!
//! Channels: trades → `publicTrade`, bbo → `orderbook.1`, book → `orderbook.{50,
//! 200,1000}` (the smallest the category offers with at least `book_depth` levels,
//! [`Category::book_depth`]; check-config refuses more than 1000), funding and oi →
//! `tickers` (merged snapshot + deltas), liquidations → `allLiquidation`. Funding,
//! oi and liquidations exist on linear and inverse only. With
//! `venue_bars_minutes`, `kline.{interval}` too (confirmed candles become venue
//! bars; no stream is watched for them).
//!
//! With `full_book` (spot only: linear and inverse have it on testnet only,
//! `bybit.md` §6.2), spot books are `orderbook.full`: a delta-only stream spliced
//! onto REST `/v5/market/full_orderbook` (up to 10,000 levels, its `u` and `seq`),
//! the engine's REST path with [`BybitRule::FullBook`]; a gap or `u == 1` fetches
//! that one book's image again.
//!
//! Raw symbols are `category/SYMBOL` (`linear/BTCUSDT`): each category has its own
//! URL (`<ws_url>/spot`, `/linear`, `/inverse`) and its own connections.

use std::time::Duration;

use tickd_bus::{Channel, Venue};
use tickd_normalizer::bybit::request::{
    args_chars, Op, Request, MAX_ARGS_CHARS, SPOT_MAX_ARGS_PER_REQUEST,
};
use tickd_normalizer::bybit::{
    kline_interval_name, next_page_cursor, BybitDecoder, BybitRule, Category, KLINE_INTERVALS,
};
use tickd_normalizer::engine::TradeIds;
use tickd_normalizer::SymbolMap;

use crate::capture::request_target;
use crate::engine::adapter::{
    HostBudget, Keepalive, Outbound, PlannedConn, RateLimit, RestPath, RestTarget, StreamSub,
    VenueAdapter, VenueLimits,
};
use crate::venue::VenueSettings;

/// Bybit spot, linear and inverse.
#[derive(Debug, Clone, Copy, Default)]
pub struct BybitAdapter;

const VENUES: &[Venue] = &[Venue::Bybit];

/// Production endpoints (`bybit.md` §1): the category is appended to the WebSocket
/// base (`/v5/public/spot`, `/linear`, `/inverse`).
pub const WS_URL: &str = "wss://stream.bybit.com/v5/public";
pub const REST_URL: &str = "https://api.bybit.com";

/// Bybit recommends a ping every 20 s (`bybit.md` §2), sent whether data flows or
/// not; without data or pings it cuts the connection after about 10 minutes.
pub const PING_EVERY: Duration = Duration::from_secs(20);

/// Bybit lets one host open at most 500 connections per 5 minutes (`bybit.md` §2).
pub const CONNECTS_PER_WINDOW: RateLimit = RateLimit {
    max: 500,
    per: Duration::from_secs(300),
};

/// The `kline` candle lengths in minutes ([`KLINE_INTERVALS`]' first column).
const KLINE_MINUTES: [u32; KLINE_INTERVALS.len()] = {
    let mut minutes = [0; KLINE_INTERVALS.len()];
    let mut i = 0;
    while i < minutes.len() {
        minutes[i] = KLINE_INTERVALS[i].0;
        i += 1;
    }
    minutes
};

/// The REST image `orderbook.full` is spliced onto (`bybit.md` §6.2).
pub const FULL_ORDERBOOK_PATH: &str = "/v5/market/full_orderbook";

/// Streams one connection carries at most (the 21,000-character args bound is
/// checked as well: about 800 topics).
const STREAMS_PER_CONNECTION: usize = 400;

/// The topics (and streams) of one instrument.
fn instrument_topics(
    id: u32,
    category: Category,
    symbol: &str,
    settings: &VenueSettings,
    topics: &mut Vec<String>,
    streams: &mut Vec<StreamSub>,
) {
    let derivative = category != Category::Spot;
    for &channel in &settings.channels {
        let topic = match channel {
            Channel::Trades => format!("publicTrade.{symbol}"),
            Channel::Bbo => format!("orderbook.1.{symbol}"),
            Channel::Book if settings.full_book && category == Category::Spot => {
                format!("orderbook.full.{symbol}")
            }
            Channel::Book => format!(
                "orderbook.{}.{symbol}",
                category.book_depth(settings.book_depth)
            ),
            Channel::Funding | Channel::Oi if derivative => format!("tickers.{symbol}"),
            Channel::Liquidations if derivative => format!("allLiquidation.{symbol}"),
            _ => continue,
        };
        if !topics.contains(&topic) {
            topics.push(topic.clone());
        }
        streams.push(StreamSub {
            name: topic,
            instrument_id: id,
            channel,
        });
    }
    if let Some(interval) = settings.venue_bars_minutes.and_then(kline_interval_name) {
        // Candles are no tickd channel: no stream is watched for them.
        topics.push(format!("kline.{interval}.{symbol}"));
    }
}

/// Subscribe requests for `topics` (spot: at most 10 args a request).
fn requests(category: Category, op: Op, topics: &[String]) -> Vec<Outbound> {
    let per_request = match category {
        Category::Spot => SPOT_MAX_ARGS_PER_REQUEST,
        Category::Linear | Category::Inverse => topics.len().max(1),
    };
    topics
        .chunks(per_request)
        .map(|chunk| Outbound::Text(Request::new(op, None, chunk.to_vec()).to_text()))
        .collect()
}

/// The WebSocket base the category is appended to: without a category a user may
/// have appended, and a bare `ws[s]://host[:port]` (the simulator, `tickd demo`) gets
/// Bybit's `/v5/public` path.
fn ws_base(ws_url: &str) -> String {
    let url = ws_url.trim_end_matches('/');
    let url = match url.rsplit_once('/') {
        Some((base, last)) if Category::from_name(last).is_some() => base,
        _ => url,
    };
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    if after_scheme.contains('/') {
        url.to_string()
    } else {
        format!("{url}/v5/public")
    }
}

impl VenueAdapter for BybitAdapter {
    type Decoder = BybitDecoder;
    type Rule = BybitRule;

    fn venues(&self) -> &'static [Venue] {
        VENUES
    }

    /// `bybit.md` §2: args under 21,000 characters per connection; no stated
    /// connection lifetime or message rate (10 control messages a second is
    /// modest). The 500 connections per 5 minutes are [`Self::host_budget`].
    fn limits(&self, _venue: Venue) -> VenueLimits {
        VenueLimits {
            streams_per_connection: STREAMS_PER_CONNECTION,
            messages_per_second: 10,
            connection_lifetime: Duration::from_secs(24 * 3600),
            rest_weight_per_minute: 1200,
            connections_per_second: 1,
        }
    }

    /// `kline` intervals: `venue_bars_minutes` is one of them.
    fn venue_bar_minutes(&self, _venue: Venue) -> &'static [u32] {
        &KLINE_MINUTES
    }

    /// Every connect, first or after the reconnect backoff, takes one of 500 slots
    /// per 5 minutes shared by all Bybit connections to the host (no per-IP message
    /// budget is stated).
    fn host_budget(&self, _venue: Venue) -> HostBudget {
        HostBudget {
            connects: Some(CONNECTS_PER_WINDOW),
            messages: None,
        }
    }

    fn default_urls(&self, _venue: Venue) -> (&'static str, &'static str) {
        (WS_URL, REST_URL)
    }

    /// UUIDs on derivatives: no order, deduplicated by recent ids.
    fn trade_ids(&self, _venue: Venue) -> TradeIds {
        TradeIds::Opaque
    }

    fn keepalive(&self, _venue: Venue) -> Keepalive {
        Keepalive::Every {
            every: PING_EVERY,
            message: Outbound::Text(Request::ping().to_text()),
        }
    }

    fn decoder(&self, _venue: Venue, symbols: SymbolMap, settings: &VenueSettings) -> BybitDecoder {
        BybitDecoder::new(symbols).with_full_book(settings.full_book)
    }

    fn market_of_url(&self, _venue: Venue, url: &str) -> u8 {
        Category::of_url(url).map_or(0, Category::market)
    }

    fn rule(&self, _venue: Venue, _instrument_id: u32) -> BybitRule {
        BybitRule::Pushed
    }

    /// `orderbook.full` books (spot, with `full_book`) splice REST images.
    fn book_rule(&self, _venue: Venue, instrument_id: u32, decoder: &BybitDecoder) -> BybitRule {
        decoder.book_rule(instrument_id)
    }

    /// Spot symbols (`BTC-USDT`, `spot/BTCUSDT`): `orderbook.full` (§6.2).
    fn offers_full_book(&self, _venue: Venue, symbol: &str) -> bool {
        match Category::split_raw(symbol) {
            Some((category, _)) => category == Category::Spot,
            // A normalized spot pair is `BASE-QUOTE`; contracts have a suffix.
            None => symbol.split('-').count() == 2,
        }
    }

    fn instruments_path(&self, _venue: Venue) -> RestPath {
        instruments_path(Category::Spot)
    }

    /// One list per category, each paginated by `cursor`.
    fn instruments_paths(&self, _venue: Venue) -> Vec<RestPath> {
        Category::ALL.into_iter().map(instruments_path).collect()
    }

    fn next_instruments_path(&self, _venue: Venue, path: &str, body: &[u8]) -> Option<RestPath> {
        let cursor = next_page_cursor(body).ok()??;
        let base = path.split("&cursor=").next().unwrap_or(path);
        Some(format!("{base}&cursor={}", query_escape(&cursor)))
    }

    /// Spot: the `orderbook.full` image (`/v5/market/full_orderbook`, §6.2), the
    /// only book the feed fetches; the others are pushed.
    fn snapshot_path(&self, _venue: Venue, raw_symbol: &str, depth: u32) -> RestPath {
        let (category, symbol) =
            Category::split_raw(raw_symbol).unwrap_or((Category::Linear, raw_symbol));
        if category == Category::Spot {
            return format!("{FULL_ORDERBOOK_PATH}?category=spot&symbol={symbol}");
        }
        format!(
            "/v5/market/orderbook?category={}&symbol={symbol}&limit={}",
            category.as_str(),
            depth.clamp(1, 1000)
        )
    }

    /// The depth-limited books come pushed on the stream; `orderbook.full` images
    /// are fetched (weight 1 each, within `snapshot_requests_per_minute`).
    fn snapshot_weight(&self, _venue: Venue, depth: u32) -> Result<u32, String> {
        if (1..=1000).contains(&depth) {
            Ok(1)
        } else {
            Err(format!("bybit book depth must be 1..=1000, got {depth}"))
        }
    }

    fn classify_rest(&self, _venue: Venue, url: &str) -> Option<RestTarget> {
        let (path, symbol) = request_target(url);
        let category = url
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("category="))
            .and_then(Category::from_name);
        if path.ends_with("/market/instruments-info") {
            Some(RestTarget::Instruments)
        } else if path.ends_with("/market/orderbook") || path.ends_with(FULL_ORDERBOOK_PATH) {
            Some(RestTarget::BookSnapshot(category?.raw_symbol(&symbol)))
        } else {
            None
        }
    }

    /// The topic's symbol (its last segment), in the connection's category.
    fn peek_symbol(&self, market: u8, frame: &[u8]) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Peek {
            topic: Option<String>,
        }
        let topic = serde_json::from_slice::<Peek>(frame).ok()?.topic?;
        let symbol = topic.rsplit('.').next().filter(|s| !s.is_empty())?;
        Some(Category::from_market(market).raw_symbol(symbol))
    }

    /// Per category, in the configured order: instruments join a connection while
    /// its streams stay within `streams_per_connection` and its args under 21,000
    /// characters; each connection subscribes all its topics after connecting.
    fn plan(
        &self,
        _venue: Venue,
        instruments: &[(u32, String)],
        settings: &VenueSettings,
    ) -> Vec<PlannedConn> {
        let max_streams = settings
            .streams_per_connection
            .clamp(1, STREAMS_PER_CONNECTION);
        let base = ws_base(&settings.ws_url);
        let mut plan = Vec::new();
        for category in Category::ALL {
            let mut topics: Vec<String> = Vec::new();
            let mut streams: Vec<StreamSub> = Vec::new();
            let flush = |topics: &mut Vec<String>,
                         streams: &mut Vec<StreamSub>,
                         plan: &mut Vec<PlannedConn>| {
                if !streams.is_empty() {
                    plan.push(PlannedConn {
                        url: format!("{base}/{}", category.as_str()),
                        subscribe: requests(category, Op::Subscribe, topics),
                        streams: std::mem::take(streams),
                    });
                    topics.clear();
                }
            };
            for (id, raw) in instruments {
                let Some((c, symbol)) = Category::split_raw(raw) else {
                    tracing::warn!(raw, "not a bybit raw symbol (category/SYMBOL); skipped");
                    continue;
                };
                if c != category {
                    continue;
                }
                let (mut own_topics, mut own_streams) = (Vec::new(), Vec::new());
                instrument_topics(
                    *id,
                    category,
                    symbol,
                    settings,
                    &mut own_topics,
                    &mut own_streams,
                );
                let too_many = streams.len() + own_streams.len() > max_streams
                    || args_chars(&topics) + args_chars(&own_topics) >= MAX_ARGS_CHARS;
                if too_many {
                    flush(&mut topics, &mut streams, &mut plan);
                }
                topics.append(&mut own_topics);
                streams.append(&mut own_streams);
            }
            flush(&mut topics, &mut streams, &mut plan);
        }
        plan
    }

    /// Unsubscribe then subscribe the instrument's book topic: Bybit pushes a fresh
    /// snapshot (`bybit.md` §7).
    fn resubscribe(&self, conn: &PlannedConn, instrument_id: u32) -> Vec<Outbound> {
        let Some(book) = conn
            .streams
            .iter()
            .find(|s| s.instrument_id == instrument_id && s.channel == Channel::Book)
        else {
            return Vec::new();
        };
        let category = Category::of_url(&conn.url).unwrap_or(Category::Linear);
        let topic = [book.name.clone()];
        let mut messages = requests(category, Op::Unsubscribe, &topic);
        messages.extend(requests(category, Op::Subscribe, &topic));
        messages
    }

    fn simulator(&self) -> Option<&'static dyn crate::sim::SimProtocol> {
        Some(&super::BybitSim)
    }
}

/// `/v5/market/instruments-info?category=spot&limit=1000` (spot fits one page).
fn instruments_path(category: Category) -> RestPath {
    format!(
        "/v5/market/instruments-info?category={}&limit=1000",
        category.as_str()
    )
}

/// A cursor as a query value: Bybit returns it already percent-encoded
/// (`first%3D..`); anything else outside the unreserved set is encoded.
fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~%".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
