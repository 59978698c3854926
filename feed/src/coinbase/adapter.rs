//! Coinbase Advanced Trade on the venue engine (`docs/exchanges/coinbase.md`):
//! public channels without authentication, one subscribe message per channel with
//! a list of products, `heartbeats` subscribed on every connection (quiet channels
//! are closed otherwise, §2) and read as the connection's liveness, books pushed
//! after each subscription (snapshot then absolute updates, no per-product ids, no
//! checksum), and `sequence_num` per connection across all channels: the engine
//! checks it and a jump resyncs every book of that connection with one
//! unsubscribe + subscribe of its products ([`VenueAdapter::resubscribe_books`]).
//!
//! Channels: trades → `market_trades` (opaque trade ids: deduplicated by recent
//! ids, so the snapshot batch a resubscription or reconnect brings is not published
//! twice), bbo → `ticker`, book → `level2`; with `venue_bars_minutes = 5`, `candles`
//! (Coinbase's own 5-minute candles, published as venue bars; no watched stream). A configured `XXX-USDC` is subscribed
//! under the `XXX-USD` id the public channels serve it as (§2).

use std::time::Duration;

use tickd_bus::{Channel, Venue};
use tickd_normalizer::coinbase::{encode, wire_product, CoinbaseDecoder, CoinbaseRule, TradeSide};
use tickd_normalizer::engine::TradeIds;
use tickd_normalizer::SymbolMap;

use crate::capture::request_target;
use crate::engine::adapter::{
    HostBudget, Keepalive, Outbound, PlannedConn, RateLimit, RestPath, RestTarget, StreamSub,
    VenueAdapter, VenueLimits,
};
use crate::venue::VenueSettings;

/// Coinbase Advanced Trade.
#[derive(Debug, Clone, Copy, Default)]
pub struct CoinbaseAdapter;

const VENUES: &[Venue] = &[Venue::Coinbase];

/// Production endpoints (`coinbase.md` §1).
pub const WS_URL: &str = "wss://advanced-trade-ws.coinbase.com";
pub const REST_URL: &str = "https://api.coinbase.com";

/// The public product list (§1, §5).
pub const PRODUCTS_PATH: &str = "/api/v3/brokerage/market/products";

/// A connection that has not subscribed this long after connecting is closed by
/// the venue; the plan's few messages go out well within it (the simulator
/// enforces it).
pub const SUBSCRIBE_DEADLINE: Duration = Duration::from_secs(5);

/// The only candle length of the `candles` channel (`venue_bars_minutes`).
pub const CANDLE_MINUTES: [u32; 1] = [tickd_normalizer::coinbase::CANDLE_INTERVAL_S / 60];

/// Products a connection carries at most: the common sizing in practice (§2: a
/// liquid product's level2 snapshot is several MB, one frame).
pub const PRODUCTS_PER_CONNECTION: usize = 30;

/// The subscribe name of a tickd channel (`None`: no such public stream).
fn coinbase_channel(channel: Channel) -> Option<&'static str> {
    match channel {
        Channel::Trades => Some("market_trades"),
        Channel::Bbo => Some("ticker"),
        Channel::Book => Some("level2"),
        Channel::Funding | Channel::Liquidations | Channel::Oi => None,
    }
}

/// The products a connection subscribes, as the channels name them (aliases
/// folded, each once, in the plan's order).
fn wire_products<'a>(raws: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for raw in raws {
        let wire = wire_product(raw);
        if !out.contains(&wire) {
            out.push(wire);
        }
    }
    out
}

fn text(kind: &str, channel: &str, products: &[&str]) -> Outbound {
    Outbound::Text(encode::request(kind, channel, products))
}

impl VenueAdapter for CoinbaseAdapter {
    type Decoder = CoinbaseDecoder;
    type Rule = CoinbaseRule;

    fn venues(&self) -> &'static [Venue] {
        VENUES
    }

    /// §2: 8 new connections and 8 unauthenticated messages a second per IP; no
    /// stated stream limit (tickd's default 200 is accepted; the plan keeps to
    /// [`PRODUCTS_PER_CONNECTION`]); no stated connection lifetime (tickd rotates
    /// daily); public REST 10 requests a second.
    fn limits(&self, _venue: Venue) -> VenueLimits {
        VenueLimits {
            streams_per_connection: 200,
            messages_per_second: 8,
            connection_lifetime: Duration::from_secs(24 * 3600),
            rest_weight_per_minute: 600,
            connections_per_second: 8,
        }
    }

    /// §2: the 8 connects and 8 messages a second are per IP, over all
    /// connections.
    fn host_budget(&self, venue: Venue) -> HostBudget {
        let limits = self.limits(venue);
        HostBudget {
            connects: Some(RateLimit::per_second(limits.connections_per_second)),
            messages: Some(RateLimit::per_second(limits.messages_per_second)),
        }
    }

    /// `candles`: Coinbase's 5-minute candles only.
    fn venue_bar_minutes(&self, _venue: Venue) -> &'static [u32] {
        &CANDLE_MINUTES
    }

    fn default_urls(&self, _venue: Venue) -> (&'static str, &'static str) {
        (WS_URL, REST_URL)
    }

    /// Trade ids are strings (§7.2) with no stated order: deduplicated by recent
    /// ids, which also drops the snapshot batch's repeats after a reconnect.
    fn trade_ids(&self, _venue: Venue) -> TradeIds {
        TradeIds::Opaque
    }

    /// No client ping exists (§2): `heartbeats`, one a second on every connection,
    /// is the liveness signal; tungstenite answers protocol pings.
    fn keepalive(&self, _venue: Venue) -> Keepalive {
        Keepalive::None
    }

    fn decoder(
        &self,
        _venue: Venue,
        symbols: SymbolMap,
        _settings: &VenueSettings,
    ) -> CoinbaseDecoder {
        CoinbaseDecoder::new(symbols, TradeSide::Taker)
    }

    fn rule(&self, _venue: Venue, _instrument_id: u32) -> CoinbaseRule {
        CoinbaseRule
    }

    fn instruments_path(&self, _venue: Venue) -> RestPath {
        PRODUCTS_PATH.into()
    }

    /// Books come only on the stream (§8 rule 5): never fetched.
    fn snapshot_path(&self, _venue: Venue, _raw_symbol: &str, _depth: u32) -> RestPath {
        String::new()
    }

    /// Coinbase sends the whole book whatever the configured depth.
    fn snapshot_weight(&self, _venue: Venue, _depth: u32) -> Result<u32, String> {
        Ok(1)
    }

    fn classify_rest(&self, _venue: Venue, url: &str) -> Option<RestTarget> {
        let (path, _) = request_target(url);
        path.ends_with(PRODUCTS_PATH)
            .then_some(RestTarget::Instruments)
    }

    /// The first `product_id` of the first event (of a book event, or of its
    /// first trade, ticker or candle).
    fn peek_symbol(&self, _market: u8, frame: &[u8]) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Item {
            product_id: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Event {
            product_id: Option<String>,
            trades: Option<Vec<Item>>,
            tickers: Option<Vec<Item>>,
            candles: Option<Vec<Item>>,
        }
        #[derive(serde::Deserialize)]
        struct Peek {
            events: Option<Vec<Event>>,
        }
        let peek: Peek = serde_json::from_slice(frame).ok()?;
        let event = peek.events?.into_iter().next()?;
        let first = |items: Option<Vec<Item>>| items?.into_iter().next()?.product_id;
        event
            .product_id
            .or_else(|| first(event.trades))
            .or_else(|| first(event.tickers))
            .or_else(|| first(event.candles))
            .filter(|s| !s.is_empty())
    }

    /// Products in groups that fit `streams_per_connection` (and at most
    /// [`PRODUCTS_PER_CONNECTION`]), one connection per group: `heartbeats` first, then one message per channel for the group.
    fn plan(
        &self,
        _venue: Venue,
        instruments: &[(u32, String)],
        settings: &VenueSettings,
    ) -> Vec<PlannedConn> {
        let channels: Vec<(Channel, &'static str)> = settings
            .channels
            .iter()
            .filter_map(|&c| Some((c, coinbase_channel(c)?)))
            .collect();
        let limit = self.limits(Venue::Coinbase).streams_per_connection;
        let candles = settings.venue_bars_minutes.is_some();
        let per_product = channels.len() + usize::from(candles);
        let per_conn = (settings.streams_per_connection.min(limit) / per_product.max(1))
            .clamp(1, PRODUCTS_PER_CONNECTION);
        instruments
            .chunks(per_conn)
            .map(|group| {
                let products = wire_products(group.iter().map(|(_, s)| s.as_str()));
                let mut subscribe = vec![text("subscribe", "heartbeats", &[])];
                let mut streams = Vec::new();
                for &(channel, name) in &channels {
                    subscribe.push(text("subscribe", name, &products));
                    for (id, symbol) in group {
                        streams.push(StreamSub {
                            name: format!("{name}:{}", wire_product(symbol)),
                            instrument_id: *id,
                            channel,
                        });
                    }
                }
                if candles {
                    subscribe.push(text("subscribe", "candles", &products));
                }
                PlannedConn {
                    url: settings.ws_url.clone(),
                    streams,
                    subscribe,
                }
            })
            .collect()
    }

    fn simulator(&self) -> Option<&'static dyn crate::sim::SimProtocol> {
        Some(&super::sim::CoinbaseSim)
    }

    /// Unsubscribe then subscribe the product's `level2`: Coinbase pushes a fresh
    /// snapshot (§8 rule 5).
    fn resubscribe(&self, conn: &PlannedConn, instrument_id: u32) -> Vec<Outbound> {
        self.resubscribe_books(conn, &[instrument_id])
    }

    /// One `level2` unsubscribe and one subscribe for all of `instrument_ids`.
    fn resubscribe_books(&self, conn: &PlannedConn, instrument_ids: &[u32]) -> Vec<Outbound> {
        let products = wire_products(
            conn.streams
                .iter()
                .filter(|s| s.channel == Channel::Book && instrument_ids.contains(&s.instrument_id))
                .filter_map(|s| s.name.strip_prefix("level2:")),
        );
        if products.is_empty() {
            return Vec::new();
        }
        vec![
            text("unsubscribe", "level2", &products),
            text("subscribe", "level2", &products),
        ]
    }
}
