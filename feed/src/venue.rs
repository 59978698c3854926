//! The venue boundary: what one venue's feed is told ([`VenueSettings`]), what it
//! gets to work with ([`VenueContext`]), and the trait it implements ([`VenueFeed`]).
//!
//! A venue folder (e.g. `binance/`) turns settings into a connection plan and
//! subscribe messages, decodes frames with its normalizer module, and drives its
//! books; the shared pieces ([`crate::connection`], [`crate::merge`],
//! [`crate::rest_budget`], [`crate::watchdog`], [`crate::publisher`]) do the rest.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tickd_bus::channel::Channel;
use tickd_bus::instrument::SharedRegistry;
use tickd_bus::ring::Producer;
use tickd_bus::Venue;

use crate::publisher::Publisher;
use crate::runtime::{spawn_venue_thread, RuntimeError, Shutdown};
use crate::stats::{SharedStats, VenueStats};

/// One venue's settings, venue-independent (the binary maps its config onto this).
#[derive(Debug, Clone)]
pub struct VenueSettings {
    pub venue: Venue,
    /// WebSocket base, e.g. `wss://stream.binance.com:9443` or `ws://127.0.0.1:9000`.
    pub ws_url: String,
    /// REST base, e.g. `https://api.binance.com`.
    pub rest_url: String,
    /// What the user typed (`BTC-USDT`, `BTC-USDT-PERP` or raw `BTCUSDT`).
    pub symbols: Vec<String>,
    pub channels: Vec<Channel>,
    /// Pin the venue thread to this core.
    pub core: Option<usize>,
    /// Levels per side of REST book snapshots.
    pub book_depth: u32,
    /// Streams per connection (≤ the venue's limit).
    pub streams_per_connection: usize,
    /// REST snapshot requests per minute (within the venue's weight budget).
    pub snapshot_requests_per_minute: u32,
    /// No data on a connection for this long → reconnect.
    pub stale_after: Duration,
    /// Per-channel silence thresholds (quiet symbols' trades may be silent for long).
    pub stale_after_per_channel: HashMap<Channel, Duration>,
    /// Open-interest polling period (venues without an OI stream).
    pub oi_poll: Duration,
    /// Rotate connections (with overlap) before this age.
    pub max_connection_age: Duration,
    /// Time unit requested on the wire, where the venue offers a choice (`ms` or `us`).
    pub time_unit_micros: bool,
    /// Reconnect backoff: first step and cap.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Depth events buffered per instrument while waiting for a snapshot.
    pub max_buffered_events: usize,
    /// Longest a rotation may overlap before the old connection is closed anyway.
    pub max_overlap: Duration,
    /// When recording (`tickd record`): raw frames and REST bodies go here too.
    pub tap: Option<crate::capture::FrameTap>,
    /// Subscribe/unsubscribe messages one connection may send an hour, in place of
    /// the venue's own limit (OKX 480); `None`: the venue's.
    pub subscribe_ops_per_hour: Option<u32>,
    /// Exchange candles of this many minutes, subscribed as their own channel and
    /// published as venue bars (Kraken `ohlc`, Coinbase `candles` at 5); `None`: not
    /// subscribed.
    pub venue_bars_minutes: Option<u32>,
    /// Subscribe the venue's whole-image book channel instead of its incremental
    /// stream, where it has one (HTX `depth.step0`): every push a SNAPSHOT.
    pub book_images: bool,
    /// Books from the venue's full-depth channel seeded over REST, where it has one
    /// for the symbol (Bybit spot `orderbook.full`); the others keep their book.
    pub full_book: bool,
    /// The most bytes a compressed frame may inflate to (HTX); `None`: the decoder's
    /// default.
    pub inflate_limit: Option<usize>,
}

impl VenueSettings {
    /// Defaults for `venue` against the given endpoints; callers override fields.
    pub fn new(venue: Venue, ws_url: &str, rest_url: &str) -> Self {
        Self {
            venue,
            ws_url: ws_url.trim_end_matches('/').to_string(),
            rest_url: rest_url.trim_end_matches('/').to_string(),
            symbols: Vec::new(),
            channels: vec![Channel::Trades, Channel::Bbo, Channel::Book],
            core: None,
            book_depth: 1000,
            streams_per_connection: 200,
            snapshot_requests_per_minute: 60,
            stale_after: Duration::from_secs(30),
            stale_after_per_channel: HashMap::new(),
            oi_poll: Duration::from_secs(30),
            max_connection_age: Duration::from_secs(23 * 3600),
            time_unit_micros: false,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(60),
            max_buffered_events: 10_000,
            max_overlap: Duration::from_secs(30),
            tap: None,
            subscribe_ops_per_hour: None,
            venue_bars_minutes: None,
            book_images: false,
            full_book: false,
            inflate_limit: None,
        }
    }

    /// The silence threshold of a channel's streams (0: not watched per stream).
    pub fn stale_after_for(&self, channel: Channel) -> Duration {
        self.stale_after_per_channel
            .get(&channel)
            .copied()
            .unwrap_or(Duration::ZERO)
    }
}

/// Everything a venue feed runs with, on its own thread.
pub struct VenueContext {
    pub settings: VenueSettings,
    pub publisher: Publisher,
    pub registry: SharedRegistry,
    pub shutdown: Shutdown,
}

impl VenueContext {
    pub fn stats(&self) -> &SharedStats {
        self.publisher.stats()
    }
}

/// Why a venue feed stopped.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{venue}: {message}")]
    Config { venue: Venue, message: String },
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

pub type FeedFuture = Pin<Box<dyn Future<Output = Result<(), FeedError>>>>;

/// A venue's feed. `run` is called once on the venue's thread (inside a
/// current-thread runtime and a `LocalSet`, so it may spawn `!Send` tasks) and
/// returns when `ctx.shutdown` fires or the configuration is unusable.
pub trait VenueFeed: Send + 'static {
    fn venue(&self) -> Venue;
    fn run(self: Box<Self>, ctx: VenueContext) -> FeedFuture;
}

/// A running venue thread.
pub struct VenueHandle {
    pub venue: Venue,
    pub stats: SharedStats,
    pub thread: std::thread::JoinHandle<Result<Result<(), FeedError>, RuntimeError>>,
}

impl VenueHandle {
    /// Wait for the thread (after triggering shutdown).
    pub fn join(self) -> Result<(), FeedError> {
        match self.thread.join() {
            Ok(Ok(result)) => result,
            Ok(Err(runtime)) => Err(FeedError::Runtime(runtime)),
            Err(_) => Err(FeedError::Config {
                venue: self.venue,
                message: "venue thread panicked".into(),
            }),
        }
    }
}

/// Start `feed` on its own (optionally pinned) thread, publishing into `producer`.
pub fn spawn_venue(
    feed: Box<dyn VenueFeed>,
    settings: VenueSettings,
    producer: Producer,
    registry: SharedRegistry,
    shutdown: Shutdown,
) -> Result<VenueHandle, FeedError> {
    let venue = feed.venue();
    let stats = VenueStats::new(venue);
    let publisher = Publisher::new(producer, stats.clone());
    let core = settings.core;
    let thread = spawn_venue_thread(format!("feed-{venue}"), core, move |_pinning| {
        let run = feed.run(VenueContext {
            settings,
            publisher,
            registry,
            shutdown,
        });
        async move {
            let result = run.await;
            // Said when it happens, not only when the thread is joined at shutdown.
            if let Err(err) = &result {
                tracing::error!("feed stopped: {err}");
            }
            result
        }
    })?;
    Ok(VenueHandle {
        venue,
        stats,
        thread,
    })
}
