//! What a venue family implements to run on the engine: [`VenueAdapter`].
//!
//! Everything venue-specific that is not wire format (that is the normalizer's
//! [`FrameDecoder`] and [`SequenceRule`]) lives here: limits, endpoints, the
//! connection plan, subscribe messages, keep-alive dialect, trade-id kind, and how a
//! captured REST URL maps back to what was asked.

use std::time::Duration;

use tickd_bus::{Channel, Venue};
use tickd_normalizer::engine::{FrameDecoder, SequenceRule, TradeIds};
use tickd_normalizer::SymbolMap;

use crate::venue::VenueSettings;

/// A venue's limits, defined once: config validation, the feed and the simulator
/// all read them from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenueLimits {
    /// Streams (channel × instrument) one connection may carry.
    pub streams_per_connection: usize,
    /// Control messages (subscribe, ping, ...) the venue accepts per second on one
    /// connection.
    pub messages_per_second: u32,
    /// The venue closes a connection after this long.
    pub connection_lifetime: Duration,
    /// REST request weight allowed per minute (per IP).
    pub rest_weight_per_minute: u32,
    /// Connections the venue lets one IP open per second (0: no stated limit).
    pub connections_per_second: u32,
}

impl VenueLimits {
    /// Spacing of control messages: the venue's budget with a fifth left for
    /// pongs and keep-alives.
    pub fn control_interval(&self) -> Duration {
        let per_second = (u64::from(self.messages_per_second) * 4 / 5).max(1);
        Duration::from_nanos(1_000_000_000 / per_second)
    }
}

/// At most `max` in any `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    pub max: u32,
    pub per: Duration,
}

impl RateLimit {
    pub const fn per_second(max: u32) -> Self {
        Self {
            max,
            per: Duration::from_secs(1),
        }
    }
}

/// What a venue counts per client host (IP) over all of its connections, first
/// connects and reconnects alike: connect attempts (Bybit 500 per 5 minutes,
/// Coinbase 8 a second) and control messages (Coinbase 8 a second). `None`: not
/// counted. Kept by one [`crate::host_pacer::HostPacer`] per host; the simulator
/// enforces it for a protocol that declares it ([`crate::sim::SimProtocol::host_budget`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostBudget {
    pub connects: Option<RateLimit>,
    pub messages: Option<RateLimit>,
}

impl HostBudget {
    pub const NONE: HostBudget = HostBudget {
        connects: None,
        messages: None,
    };
}

/// A message written on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    Text(String),
    Binary(Vec<u8>),
}

/// How a connection is kept alive beyond WebSocket pings (which tungstenite
/// answers by itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keepalive {
    /// Nothing to send (Binance: the server pings, tungstenite pongs).
    None,
    /// Send `message` when nothing was received for `idle` (OKX `"ping"` < 30 s).
    Idle { idle: Duration, message: Outbound },
    /// Send `message` every `every`, whether data flows or not (Bybit
    /// `{"op":"ping"}` every 20 s).
    Every { every: Duration, message: Outbound },
}

/// One stream a connection carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSub {
    /// The venue's name for it (watchdog messages, subscription lists).
    pub name: String,
    pub instrument_id: u32,
    pub channel: Channel,
}

/// One connection of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedConn {
    pub url: String,
    pub streams: Vec<StreamSub>,
    /// Sent after every (re)connect, in order, paced by the venue's limits.
    pub subscribe: Vec<Outbound>,
}

/// A REST request the feed makes, as `path?query` after the configured REST base.
pub type RestPath = String;

/// What a captured REST URL was (replay maps bodies back to requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestTarget {
    Instruments,
    /// A book snapshot of this raw symbol.
    BookSnapshot(String),
    /// A polled open interest of this raw symbol.
    OpenInterest(String),
}

/// A venue family (Binance spot + USD-M is one). Static dispatch: the engine is
/// generic over it, so the hot path has no virtual calls.
pub trait VenueAdapter: Copy + Send + Sync + 'static {
    type Decoder: FrameDecoder + Send;
    type Rule: SequenceRule + Clone + Send;

    /// The venues this adapter feeds.
    fn venues(&self) -> &'static [Venue];
    fn limits(&self, venue: Venue) -> VenueLimits;
    /// Production `(ws, rest)` endpoints.
    fn default_urls(&self, venue: Venue) -> (&'static str, &'static str);
    fn trade_ids(&self, venue: Venue) -> TradeIds;
    fn keepalive(&self, venue: Venue) -> Keepalive;

    fn decoder(&self, venue: Venue, symbols: SymbolMap, settings: &VenueSettings) -> Self::Decoder;
    /// A connection's URL says how it decodes (Binance spot `timeUnit=MICROSECOND`):
    /// replay reads it from the capture.
    fn configure_from_url(&self, _decoder: &mut Self::Decoder, _url: &str) {}
    /// Which of the venue's markets a connection to `url` serves, for venues whose
    /// frames do not say and whose symbols repeat across markets (Bybit: one URL per
    /// category). The engine hands it to the decoder before each of the
    /// connection's frames (`FrameDecoder::set_market`); 0 for the others.
    fn market_of_url(&self, _venue: Venue, _url: &str) -> u8 {
        0
    }
    fn rule(&self, venue: Venue, instrument_id: u32) -> Self::Rule;
    /// The rule of one book, from what the decoder knows of the instrument (Kraken:
    /// the pair's precision and the acknowledged depth). Defaults to [`Self::rule`].
    fn book_rule(&self, venue: Venue, instrument_id: u32, _decoder: &Self::Decoder) -> Self::Rule {
        self.rule(venue, instrument_id)
    }

    fn instruments_path(&self, venue: Venue) -> RestPath;
    /// Every instrument-list request, for venues that list one market per request
    /// (OKX `instType=SPOT|SWAP|FUTURES`); the lists are joined.
    fn instruments_paths(&self, venue: Venue) -> Vec<RestPath> {
        vec![self.instruments_path(venue)]
    }
    /// The next page of an instrument list whose page at `path` returned `body`,
    /// for venues that paginate it (Bybit `cursor`); `None` on the last page.
    fn next_instruments_path(&self, _venue: Venue, _path: &str, _body: &[u8]) -> Option<RestPath> {
        None
    }
    fn snapshot_path(&self, venue: Venue, raw_symbol: &str, depth: u32) -> RestPath;
    /// REST weight of one snapshot at `depth` (an error for a depth the venue refuses).
    fn snapshot_weight(&self, venue: Venue, depth: u32) -> Result<u32, String>;
    /// Open interest by polling, for venues without a stream for it.
    fn open_interest_path(&self, _venue: Venue, _raw_symbol: &str) -> Option<RestPath> {
        None
    }
    /// What a captured REST URL asked for.
    fn classify_rest(&self, venue: Venue, url: &str) -> Option<RestTarget>;
    /// The raw symbol a frame is about, for replay to register it from a captured
    /// instrument list the first time it appears (may parse slowly). `market` is
    /// [`VenueAdapter::market_of_url`] of the frame's connection.
    fn peek_symbol(&self, market: u8, frame: &[u8]) -> Option<String>;

    fn plan(
        &self,
        venue: Venue,
        instruments: &[(u32, String)],
        settings: &VenueSettings,
    ) -> Vec<PlannedConn>;
    /// Messages that make the venue send a fresh image of one instrument's book on
    /// an open connection (unsubscribe + subscribe); empty for REST-snapshot venues.
    fn resubscribe(&self, _conn: &PlannedConn, _instrument_id: u32) -> Vec<Outbound> {
        Vec::new()
    }
    /// The venue pushes whole book images on a channel of its own (HTX
    /// `depth.step0`): with `book_images` set, [`Self::plan`] subscribes that in
    /// place of the incremental stream, and each push is a SNAPSHOT record.
    fn offers_book_images(&self, _venue: Venue) -> bool {
        false
    }
    /// The venue has a full-depth book channel for this configured symbol whose
    /// stream carries no image (Bybit spot `orderbook.full`, seeded from REST
    /// `full_orderbook`): with `full_book` set, [`Self::plan`] subscribes it in
    /// place of the depth-limited book, [`Self::book_rule`] splices it onto
    /// [`Self::snapshot_path`]'s image. A config error for any other symbol.
    fn offers_full_book(&self, _venue: Venue, _symbol: &str) -> bool {
        false
    }
    /// The venue compresses its frames (HTX: gzip), so `inflate_limit_bytes` applies:
    /// a frame that inflates past it is rejected (a gzip bomb), memory stays bounded.
    fn compressed_frames(&self, _venue: Venue) -> bool {
        false
    }
    /// The candle lengths (minutes) the venue streams as a channel of its own, for
    /// `venue_bars_minutes` (Kraken `ohlc`, HTX `kline`); empty: none.
    fn venue_bar_minutes(&self, _venue: Venue) -> &'static [u32] {
        &[]
    }
    /// How long a book may wait for an image that comes on the stream (pushed on
    /// subscribe, or answering a request) before it is asked for again: the frame
    /// that carried it may have been lost. `None` (the default): wait.
    fn image_timeout(&self, _venue: Venue) -> Option<Duration> {
        None
    }
    /// A refused request that only hit the venue's request rate and should be sent
    /// again after a backoff (HTX spot `req`: `429 too many request`): the
    /// instrument whose book image it asked for. `None` (the default): a real
    /// rejection, published as a rejected-subscription status.
    fn throttled_book_request(
        &self,
        _venue: Venue,
        _id: Option<u64>,
        _code: i64,
        _msg: &str,
    ) -> Option<u32> {
        None
    }
    /// Messages that bring fresh images of several books of one connection at
    /// once (its per-connection sequence jumped, so all of them resync). Defaults
    /// to [`Self::resubscribe`] for each; a venue that takes a list of products in
    /// one message (Coinbase) sends one unsubscribe and one subscribe.
    fn resubscribe_books(&self, conn: &PlannedConn, instrument_ids: &[u32]) -> Vec<Outbound> {
        instrument_ids
            .iter()
            .flat_map(|id| self.resubscribe(conn, *id))
            .collect()
    }
    /// The venue's per-host budget ([`HostBudget`]), shared by every connection of
    /// this process to the same host: each connect attempt, the first and every one
    /// after the reconnect backoff, waits for a connect slot and reserves slots for
    /// its subscribe messages with it ([`crate::host_pacer::HostPacer`]). None by
    /// default. The `connections_per_second` of [`VenueLimits`] paces nothing by
    /// itself (Bybit, Kraken and OKX state one; their end-to-end timings assume
    /// unpaced reconnects, and Bybit declares only its 500 per 5 minutes here).
    fn host_budget(&self, _venue: Venue) -> HostBudget {
        HostBudget::NONE
    }
    /// Subscribe/unsubscribe messages the venue accepts on one connection an hour
    /// (OKX: 480); past it the connection is replaced, since a new one has a fresh
    /// budget. `None`: no such limit.
    fn subscribe_ops_per_hour(&self, _venue: Venue) -> Option<u32> {
        None
    }
    /// The venue's protocol in the simulator (`tickd sim`, `tickd demo`, the end-to-end
    /// tests); `None` until the venue has one.
    fn simulator(&self) -> Option<&'static dyn crate::sim::SimProtocol> {
        None
    }
}
