//! What a simulator run looks like: symbols, rate, source, limits, faults.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tickd_bus::{Price, Size, Venue};

use super::faults::FaultConfig;
use super::protocol::{protocol_for, MarketTraits};
use crate::engine::registry;

/// One synthetic instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimSymbol {
    /// A venue with a simulator protocol.
    pub venue: Venue,
    /// Raw upper-case symbol as the venue writes it, e.g. `BTCUSDT`, `BTC-USDT`.
    pub raw: String,
    pub base: String,
    pub quote: String,
    /// Starting mid price.
    pub start_price: Price,
    pub tick_size: Price,
    pub lot_size: Size,
    /// From the venue's simulator protocol (`SimProtocol::traits`).
    pub traits: MarketTraits,
}

impl SimSymbol {
    /// `BASE`/`QUOTE` on `venue` (its raw name from the venue's simulator protocol),
    /// starting at `start_price` with tick 0.01 and lot 0.001.
    pub fn new(venue: Venue, base: &str, quote: &str, start_price: Price) -> Self {
        let (base, quote) = (base.to_ascii_uppercase(), quote.to_ascii_uppercase());
        let protocol = protocol_for(venue);
        let raw = protocol.map_or_else(
            || format!("{base}{quote}"),
            |p| p.symbol_name(venue, &base, &quote),
        );
        let traits = protocol.map_or_else(MarketTraits::default, |p| p.traits(venue, &raw));
        Self {
            traits,
            venue,
            raw,
            base,
            quote,
            start_price,
            tick_size: Price::from_raw(Price::ONE_RAW / 100),
            lot_size: Size::from_raw(Size::ONE_RAW / 1000),
        }
    }

    /// `count` symbols on `venue`: BTC, ETH, SOL, BNB, then SYM4, ... against USDT.
    pub fn generate(venue: Venue, count: usize) -> Vec<SimSymbol> {
        (0..count)
            .map(|i| {
                let base = KNOWN_BASES
                    .get(i)
                    .map_or_else(|| format!("SYM{i}"), |(b, _)| b.to_string());
                SimSymbol::new(venue, &base, "USDT", start_price_for(&base, i))
            })
            .collect()
    }

    /// A raw symbol such as `ETHBTC` or `BTC-USDT-SWAP`, split into base and quote by
    /// the venue's simulator protocol; the raw name is kept as given, in the venue's
    /// case (`SimProtocol::canonical_raw`).
    pub fn from_raw(venue: Venue, raw: &str, index: usize) -> Option<SimSymbol> {
        let protocol = protocol_for(venue)?;
        let raw = protocol.canonical_raw(venue, raw);
        let (base, quote) = protocol.split_symbol(venue, &raw)?;
        Some(SimSymbol {
            traits: protocol.traits(venue, &raw),
            raw,
            ..SimSymbol::new(venue, &base, &quote, start_price_for(&base, index))
        })
    }
}

const KNOWN_BASES: [(&str, i64); 4] = [("BTC", 60_000), ("ETH", 3_000), ("SOL", 150), ("BNB", 600)];

fn start_price_for(base: &str, index: usize) -> Price {
    let whole = KNOWN_BASES
        .iter()
        .find(|(b, _)| *b == base)
        .map_or(10 + index as i64, |(_, p)| *p);
    Price::from_raw(i128::from(whole).saturating_mul(Price::ONE_RAW))
}

/// Pace of a capture replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplayPace {
    /// Keep the recorded gaps between frames (`ts_recv` differences).
    Recorded,
    /// A fixed number of frames per second.
    Rate(u32),
    /// As fast as the sockets take them.
    Max,
}

/// Where market data comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum SimSource {
    /// Random-walk books and trades, consistent with each other and with REST.
    Synthetic,
    /// Frames of a capture file (JSON Lines, optionally `.zst`); starts when the first
    /// stream is subscribed; with `repeat` it starts over at the end.
    Replay {
        path: PathBuf,
        pace: ReplayPace,
        repeat: bool,
    },
}

/// Where the send time goes: into each event's `E`, in this unit (instead of ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendTimeUnit {
    Micros,
    Nanos,
}

/// One venue's connection rules. The defaults come from the venue's adapter limits
/// and its simulator protocol ([`ConnectionRules::of`]); tests tighten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionRules {
    /// The server pings this often and closes a client whose pong is `pong_timeout`
    /// late (Binance); `None`: the server does not ping (OKX).
    pub ping_interval: Option<Duration>,
    pub pong_timeout: Duration,
    /// Close a connection nothing was sent on for this long (OKX: 30 s, so a quiet
    /// connection lives only while the client pings and gets its `pong`).
    pub idle_close: Option<Duration>,
    /// Inbound messages (text, ping, pong) allowed per second; one more closes.
    pub max_inbound_per_sec: u32,
    pub max_streams: usize,
}

impl ConnectionRules {
    /// `venue`'s defaults: its adapter's limits through its simulator protocol.
    pub fn of(venue: Venue) -> ConnectionRules {
        match (registry::adapter(venue), protocol_for(venue)) {
            (Some(adapter), Some(protocol)) => protocol.rules(venue, &adapter.limits(venue)),
            _ => ConnectionRules {
                ping_interval: None,
                pong_timeout: Duration::from_secs(60),
                idle_close: None,
                max_inbound_per_sec: 5,
                max_streams: 1,
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Port 0 picks an ephemeral port; see `SimServer::local_addr`.
    pub listen: SocketAddr,
    pub symbols: Vec<SimSymbol>,
    /// Synthetic market steps per second over all symbols. A step is a book change
    /// (one depthUpdate, plus a bookTicker when the top moved) or a trade (trade/aggTrade,
    /// its depthUpdate and bookTicker).
    pub rate_per_sec: u32,
    pub seed: u64,
    pub source: SimSource,
    pub faults: FaultConfig,
    pub max_connection_lifetime: Duration,
    /// Send `serverShutdown` just before closing a connection at its lifetime.
    pub shutdown_notice_at_lifetime: bool,
    pub send_time_unit: Option<SendTimeUnit>,
    /// Per-venue rules in place of [`ConnectionRules::of`] (see [`SimConfig::rules_mut`]).
    pub rules: HashMap<Venue, ConnectionRules>,
    /// `None`: one depthUpdate per book change. `Some(d)`: one per symbol every `d`,
    /// holding every change since the last (as Binance's 100 ms / 1000 ms streams do).
    pub depth_interval: Option<Duration>,
    /// Book digests kept per symbol for `book_at`.
    pub history_len: usize,
    /// Venue candles (Bybit `kline`) close after this long instead of their
    /// interval, so a test sees confirmed candles within seconds; `None`: the interval.
    pub candle_period: Option<Duration>,
    /// Levels per side the synthetic book holds.
    pub book_depth: usize,
    /// Events queued per connection before a slow one is dropped.
    pub queue_len: usize,
    /// Cap on trade ids recorded per connection and symbol (`SimMarketHandle::trades_sent`).
    pub trade_record_cap: usize,
    /// Synthetic source: pause the market while the slowest connection is over half a
    /// queue behind (paused steps count as `events_behind`), so a slow client is held
    /// back instead of dropped. For tests that measure something other than speed on a
    /// machine of unknown speed; a real venue drops slow clients (the default).
    pub wait_for_slowest: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            symbols: SimSymbol::generate(Venue::Binance, 2)
                .into_iter()
                .chain(SimSymbol::generate(Venue::BinanceUsdm, 2))
                .collect(),
            rate_per_sec: 1_000,
            seed: 1,
            source: SimSource::Synthetic,
            faults: FaultConfig::default(),
            max_connection_lifetime: Duration::from_secs(24 * 3600),
            shutdown_notice_at_lifetime: false,
            send_time_unit: None,
            rules: HashMap::new(),
            depth_interval: None,
            history_len: 4096,
            candle_period: None,
            book_depth: 50,
            queue_len: 65_536,
            trade_record_cap: 1_000_000,
            wait_for_slowest: false,
        }
    }
}

impl SimConfig {
    /// The rules `venue`'s connections follow.
    pub fn rules(&self, venue: Venue) -> ConnectionRules {
        self.rules
            .get(&venue)
            .copied()
            .unwrap_or_else(|| ConnectionRules::of(venue))
    }

    /// `venue`'s rules to change, starting from its defaults.
    pub fn rules_mut(&mut self, venue: Venue) -> &mut ConnectionRules {
        self.rules
            .entry(venue)
            .or_insert_with(|| ConnectionRules::of(venue))
    }
}
