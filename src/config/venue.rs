//! `[venues.<name>]`: one exchange connection set. The table key is the venue name
//! (`binance`, `binance-usdm`, `okx`, `bybit`, `coinbase`, `kraken`).
//!
//! Symbols are checked for syntax and duplicates only: there is no instrument list offline,
//! so a well-formed but unlisted symbol is reported by the feed when the venue rejects it.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use tickd_bus::Venue;

pub use super::channel::{Channel, TimeUnit};
use super::checks;
use super::error::{join, ConfigErrors};

/// One venue's connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// Connect to this venue (default true). Disabled venues are still checked.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// WebSocket base URL, `ws://` or `wss://`, without query parameters (required).
    #[serde(default)]
    pub ws_url: String,
    /// REST base URL for book snapshots and polling, `http://` or `https://` (required).
    #[serde(default)]
    pub rest_url: String,
    /// Instruments: normalized (`BTC-USDT`, `BTC-USDT-PERP`) or raw venue symbols (`BTCUSDT`).
    #[serde(default)]
    pub symbols: Vec<String>,
    /// Channels to subscribe for every symbol (default trades, bbo, book).
    #[serde(default = "default_channels")]
    pub channels: Vec<Channel>,
    /// Pin this venue's feed thread to this core id (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core: Option<usize>,
    /// Levels requested in the REST book snapshot (binance: 5..=5000;
    /// binance-usdm: 5, 10, 20, 50, 100, 500, 1000; kraken: 10, 25, 100, 500, 1000;
    /// bybit: 1, 50, 200, 1000).
    #[serde(default = "default_book_depth")]
    pub book_depth: u32,
    /// Streams multiplexed on one WebSocket (binance ≤ 1024, binance-usdm ≤ 200).
    #[serde(default = "default_streams_per_connection")]
    pub streams_per_connection: u32,
    /// Budget for REST snapshot requests (resyncs are queued beyond it).
    #[serde(default = "default_snapshot_rpm")]
    pub snapshot_requests_per_minute: u32,
    /// A channel with no message for this long is reported stale and resubscribed.
    #[serde(default = "default_stale_after_secs")]
    pub stale_after_secs: u64,
    /// Per-channel override of `stale_after_secs`, e.g. `{ book = 10 }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stale_after_secs_per_channel: BTreeMap<Channel, u64>,
    /// Open interest REST poll period (binance-usdm only; other venues stream it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oi_poll_secs: Option<u64>,
    /// Replace each connection after this long, before the venue's 24 h cut-off.
    #[serde(default = "default_max_connection_age_secs")]
    pub max_connection_age_secs: u64,
    /// Time unit the venue sends (`us` only on binance spot).
    #[serde(default)]
    pub time_unit: TimeUnit,
    /// Exchange candles of this many minutes as venue bars, where they are a channel
    /// of their own (kraken `ohlc`: 1, 5, 15, 30, 60, 240, 1440, 10080, 21600; htx,
    /// htx-usdm, htx-coinm `kline`: 1, 5, 15, 30, 60, 240, 1440, 10080).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue_bars_minutes: Option<u32>,
    /// Books from the venue's whole-image channel instead of its incremental
    /// stream, each push a SNAPSHOT record (htx, htx-usdm, htx-coinm: `depth.step0`,
    /// 150 levels a side every 100 ms at most; default false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub book_images: bool,
    /// Books from the venue's full-depth channel, a delta stream spliced onto a REST
    /// image (bybit: `orderbook.full` from `/v5/market/full_orderbook`, up to 10,000
    /// levels a side; spot symbols only, so every symbol listed must be spot; default
    /// false). `book_depth` is then unused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full_book: bool,
    /// Where frames are compressed (htx, htx-usdm, htx-coinm: gzip), the most bytes one
    /// frame may inflate to; past it the frame is a counted decode error
    /// (`inflate_limit`), not an unbounded allocation. Default 1048576 (1 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inflate_limit_bytes: Option<u64>,
}

fn yes() -> bool {
    true
}
fn default_channels() -> Vec<Channel> {
    vec![Channel::Trades, Channel::Bbo, Channel::Book]
}
fn default_book_depth() -> u32 {
    1000
}
fn default_streams_per_connection() -> u32 {
    200
}
fn default_snapshot_rpm() -> u32 {
    60
}
fn default_stale_after_secs() -> u64 {
    30
}
fn default_max_connection_age_secs() -> u64 {
    82_800
}

/// Default open interest poll period on binance-usdm.
pub const DEFAULT_OI_POLL_SECS: u64 = 10;

impl Default for VenueConfig {
    /// The serde defaults, with empty URLs and symbols (which `validate` rejects when enabled).
    fn default() -> Self {
        VenueConfig {
            enabled: true,
            ws_url: String::new(),
            rest_url: String::new(),
            symbols: Vec::new(),
            channels: default_channels(),
            core: None,
            book_depth: default_book_depth(),
            streams_per_connection: default_streams_per_connection(),
            snapshot_requests_per_minute: default_snapshot_rpm(),
            stale_after_secs: default_stale_after_secs(),
            stale_after_secs_per_channel: BTreeMap::new(),
            oi_poll_secs: None,
            max_connection_age_secs: default_max_connection_age_secs(),
            time_unit: TimeUnit::Ms,
            venue_bars_minutes: None,
            book_images: false,
            full_book: false,
            inflate_limit_bytes: None,
        }
    }
}

impl VenueConfig {
    /// Open interest poll period on binance-usdm: `oi_poll_secs` or the default.
    pub fn oi_poll_secs_or_default(&self) -> u64 {
        self.oi_poll_secs.unwrap_or(DEFAULT_OI_POLL_SECS)
    }

    /// Staleness limit for `channel`, honouring the per-channel override.
    pub fn stale_after_secs_for(&self, channel: Channel) -> u64 {
        self.stale_after_secs_per_channel
            .get(&channel)
            .copied()
            .unwrap_or(self.stale_after_secs)
    }

    /// Checks this venue's fields; `path` is `venues.<name>`, `cores` the machine's core count.
    pub fn validate(&self, venue: Venue, path: &str, cores: usize, errs: &mut ConfigErrors) {
        checks::url(
            errs,
            &join(path, "ws_url"),
            &self.ws_url,
            &["ws", "wss"],
            "wss://stream.binance.com:9443",
        );
        checks::url(
            errs,
            &join(path, "rest_url"),
            &self.rest_url,
            &["http", "https"],
            "https://api.binance.com",
        );
        self.validate_symbols(venue, path, errs);
        self.validate_channels(venue, path, errs);
        if let Some(core) = self.core {
            checks::core_id(errs, &join(path, "core"), core, cores);
        }
        self.validate_limits(venue, path, errs);
    }

    fn validate_symbols(&self, venue: Venue, path: &str, errs: &mut ConfigErrors) {
        if self.enabled && self.symbols.is_empty() {
            errs.push(
                join(path, "symbols"),
                "no symbols for an enabled venue",
                "list at least one, e.g. symbols = [\"BTC-USDT\"], or set enabled = false",
            );
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, symbol) in self.symbols.iter().enumerate() {
            let at = format!("{path}.symbols[{i}]");
            if let Err(problem) = checks::symbol_syntax(symbol) {
                errs.push(
                    at,
                    problem,
                    "use letters, digits and - / _, e.g. \"BTC-USDT\" or \"BTCUSDT\"",
                );
                continue;
            }
            let perp_is_bare = venue == Venue::BinanceUsdm;
            if let Some(first) = seen.insert(checks::symbol_identity(symbol, perp_is_bare), i) {
                // Name the earlier spelling, not its index: indices may shift when
                // elements with type errors were dropped before these rules ran.
                errs.push(
                    at,
                    format!(
                        "{symbol:?} is the same instrument as {:?}, listed earlier",
                        self.symbols[first]
                    ),
                    "list each instrument once",
                );
                continue;
            }
            let upper = symbol.to_ascii_uppercase();
            if venue == Venue::Binance && upper.ends_with("-PERP") {
                errs.push(
                    at,
                    format!("{symbol:?} is a perpetual but binance is the spot venue"),
                    "put it under [venues.binance-usdm]",
                );
            } else if venue == Venue::BinanceUsdm && upper.matches('-').count() == 1 {
                errs.push(
                    at,
                    format!("{symbol:?} is a spot symbol but binance-usdm lists futures"),
                    format!(
                        "use \"{upper}-PERP\" or the raw \"{}\"",
                        upper.replace('-', "")
                    ),
                );
            }
        }
    }

    fn validate_channels(&self, venue: Venue, path: &str, errs: &mut ConfigErrors) {
        let supported = Channel::supported_by(venue);
        if self.enabled && self.channels.is_empty() {
            errs.push(
                join(path, "channels"),
                "no channels",
                format!("use some of: {}", Channel::list(supported)),
            );
        }
        for (i, channel) in self.channels.iter().enumerate() {
            let at = format!("{path}.channels[{i}]");
            if !supported.contains(channel) {
                errs.push(
                    at,
                    format!("channel \"{channel}\" is not offered by {venue}"),
                    format!("use one of: {}", Channel::list(supported)),
                );
            } else if self.channels[..i].contains(channel) {
                errs.push(
                    at,
                    format!("channel \"{channel}\" is listed twice"),
                    "list each channel once",
                );
            }
        }
        for (channel, secs) in &self.stale_after_secs_per_channel {
            let at = format!("{path}.stale_after_secs_per_channel.{channel}");
            if !self.channels.contains(channel) {
                errs.push(
                    &at,
                    format!("override for channel \"{channel}\", which is not subscribed"),
                    "add it to channels or remove the override",
                );
            }
            checks::in_range(errs, &at, *secs, 1, 86_400);
        }
    }

    fn validate_limits(&self, venue: Venue, path: &str, errs: &mut ConfigErrors) {
        let depth = u64::from(self.book_depth);
        let depth_path = join(path, "book_depth");
        match venue {
            Venue::Binance => checks::in_range(errs, &depth_path, depth, 5, 5000),
            Venue::BinanceUsdm => {
                one_of(errs, &depth_path, depth, &[5, 10, 20, 50, 100, 500, 1000])
            }
            Venue::Kraken => one_of(errs, &depth_path, depth, &[10, 25, 100, 500, 1000]),
            Venue::Bybit => one_of(errs, &depth_path, depth, &[1, 50, 200, 1000]),
            Venue::Okx | Venue::Coinbase => checks::in_range(errs, &depth_path, depth, 1, 5000),
            // HTX: the nearest stream depth at or above it: spot `mbp.5/20/150/400`, swaps
            // `size_20`/`size_150` (deeper asks get the deepest).
            Venue::Htx | Venue::HtxUsdm | Venue::HtxCoinm => {
                checks::in_range(errs, &depth_path, depth, 1, 5000)
            }
        }
        // The venue's own limit, from its adapter (one definition for config, feed
        // and simulator); venues without a feed yet get a generous bound.
        let max_streams = tickd_feed::engine::registry::adapter(venue)
            .map_or(1024, |a| a.limits(venue).streams_per_connection as u64);
        checks::in_range(
            errs,
            &join(path, "streams_per_connection"),
            self.streams_per_connection.into(),
            1,
            max_streams,
        );
        checks::in_range(
            errs,
            &join(path, "snapshot_requests_per_minute"),
            self.snapshot_requests_per_minute.into(),
            1,
            1200,
        );
        checks::in_range(
            errs,
            &join(path, "stale_after_secs"),
            self.stale_after_secs,
            1,
            86_400,
        );
        // Binance (and the others) close connections at 24 h; rotate before that.
        checks::in_range(
            errs,
            &join(path, "max_connection_age_secs"),
            self.max_connection_age_secs,
            60,
            86_399,
        );
        let adapter = tickd_feed::engine::registry::adapter(venue);
        let bar_minutes = adapter.map_or(&[][..], |a| a.venue_bar_minutes(venue));
        match self.venue_bars_minutes {
            Some(minutes) if !bar_minutes.is_empty() => one_of(
                errs,
                &join(path, "venue_bars_minutes"),
                minutes.into(),
                &bar_minutes
                    .iter()
                    .copied()
                    .map(u64::from)
                    .collect::<Vec<_>>(),
            ),
            Some(_) => errs.push(
                join(path, "venue_bars_minutes"),
                format!(
                    "{venue} has no candle channel of its own (kraken's ohlc and htx's kline do, and bybit's)"
                ),
                "remove venue_bars_minutes",
            ),
            None => {}
        }
        if let Some(bytes) = self.inflate_limit_bytes {
            if adapter.is_some_and(|a| a.compressed_frames(venue)) {
                checks::in_range(
                    errs,
                    &join(path, "inflate_limit_bytes"),
                    bytes,
                    64 << 10,
                    256 << 20,
                );
            } else {
                errs.push(
                    join(path, "inflate_limit_bytes"),
                    format!("{venue} sends uncompressed frames (htx's are gzip)"),
                    "remove inflate_limit_bytes",
                );
            }
        }
        if self.book_images && !adapter.is_some_and(|a| a.offers_book_images(venue)) {
            errs.push(
                join(path, "book_images"),
                format!("{venue} has no whole-image book channel (htx's depth.step0 is one)"),
                "remove book_images",
            );
        }
        if self.full_book {
            let without: Vec<&str> = self
                .symbols
                .iter()
                .filter(|s| !adapter.is_some_and(|a| a.offers_full_book(venue, s)))
                .map(String::as_str)
                .collect();
            // The symbols that have one get it; the others keep their depth-limited
            // book. Set where no symbol can use it, it is a mistake.
            if without.len() == self.symbols.len() {
                errs.push(
                    join(path, "full_book"),
                    format!(
                        "{venue} has no full-depth book for {} (bybit's orderbook.full is spot only)",
                        without.join(", ")
                    ),
                    "remove full_book, or list a symbol that has one (a bybit spot pair)",
                );
            }
        }
        match (venue, self.oi_poll_secs) {
            // The venues whose open interest is polled over REST.
            (Venue::BinanceUsdm | Venue::HtxUsdm | Venue::HtxCoinm, Some(secs)) => {
                checks::in_range(errs, &join(path, "oi_poll_secs"), secs, 1, 3600)
            }
            (_, Some(_)) => errs.push(
                join(path, "oi_poll_secs"),
                format!("{venue} does not poll open interest (only binance-usdm, htx-usdm and htx-coinm do)"),
                "remove oi_poll_secs",
            ),
            _ => {}
        }
        if self.time_unit == TimeUnit::Us && venue != Venue::Binance {
            errs.push(
                join(path, "time_unit"),
                format!("{venue} only sends milliseconds"),
                "use time_unit = \"ms\" (\"us\" is binance spot only)",
            );
        }
    }
}

fn one_of(errs: &mut ConfigErrors, path: &str, value: u64, allowed: &[u64]) {
    if !allowed.contains(&value) {
        let list = allowed
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        errs.push(
            path,
            format!("{value} is not a depth this venue serves"),
            format!("use one of: {list}"),
        );
    }
}
