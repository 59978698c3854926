//! State shared by the accept loop, sessions, the generator and the test-facing handles.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tickd_bus::Venue;
use tickd_normalizer::binance::DepthSnapshot;
use tokio::sync::{broadcast, watch, Notify};

use super::config::{SimConfig, SimSymbol};
use super::faults::{FaultConfig, FaultCounters, FaultCounts};
use super::market::{Market, SimEvent};
use super::replay::{ReplayFrame, RestReplay};

/// What the market side hands every session.
#[derive(Debug)]
pub(crate) enum Outbound {
    Market(SimEvent),
    Replay(ReplayFrame),
    /// Send `serverShutdown` (the connection stays open).
    ShutdownNotice,
    /// Drop the connection without a close frame (every one at once: a storm).
    Drop,
}

/// Depth events the sim dropped on purpose on one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapRecord {
    pub conn: u64,
    pub venue: Venue,
    pub symbol: String,
    /// `U` of the first skipped event and `u` of the last one.
    pub first_update_id: u64,
    pub last_update_id: u64,
    pub events: u32,
}

/// Trade ids a connection was sent, per raw symbol, in send order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnTrades {
    pub conn: u64,
    pub venue: Option<Venue>,
    pub open: bool,
    pub trades: BTreeMap<String, Vec<u64>>,
    /// Per raw symbol, book message stamp → true update id (venues whose book
    /// messages carry no sequence id: `SessionCx::record_book_stamp`).
    pub book_stamps: BTreeMap<String, BTreeMap<u64, u64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    pub connections_accepted: u64,
    pub connections_open: u64,
    pub frames_sent: u64,
    pub events_generated: u64,
    /// Events the generator skipped because it could not keep up with the rate (or,
    /// with `wait_for_slowest`, held back for a lagging connection).
    pub events_behind: u64,
    pub rate_limit_closes: u64,
    /// Upgrades refused (429) over the venue's per-IP connection limit.
    pub ip_connects_refused: u64,
    /// Connections closed for a message over the venue's per-IP message limit.
    pub ip_rate_limit_closes: u64,
    /// Connections the venue session closed on its own clock (Coinbase: not
    /// subscribed within 5 s).
    pub session_closes: u64,
    pub pong_timeout_closes: u64,
    /// Connections closed because nothing was sent on them for the idle limit (a
    /// client that stopped its keep-alive).
    pub idle_closes: u64,
    pub lifetime_closes: u64,
    /// Connections closed because they fell a whole queue behind.
    pub slow_closes: u64,
    pub rest_requests: u64,
    pub replay_frames: u64,
    pub replay_finished: bool,
    pub faults: FaultCounts,
    pub gaps: Vec<GapRecord>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub accepted: AtomicU64,
    pub open: AtomicU64,
    pub frames_sent: AtomicU64,
    pub events_generated: AtomicU64,
    pub events_behind: AtomicU64,
    pub rate_limit_closes: AtomicU64,
    pub ip_connects_refused: AtomicU64,
    pub ip_rate_limit_closes: AtomicU64,
    pub session_closes: AtomicU64,
    pub pong_timeout_closes: AtomicU64,
    pub idle_closes: AtomicU64,
    pub lifetime_closes: AtomicU64,
    pub slow_closes: AtomicU64,
    pub rest_requests: AtomicU64,
    pub replay_frames: AtomicU64,
    pub replay_finished: AtomicBool,
}

/// Everything the simulator's tasks share (venue protocols read it through
/// [`super::protocol::SimView`]).
pub struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) faults: RwLock<FaultConfig>,
    pub(crate) market: Mutex<Market>,
    /// The symbols, in `market.books` order.
    pub(crate) symbols: Vec<SimSymbol>,
    /// `(venue, lower-case raw symbol)` → index into `market.books`.
    pub(crate) symbol_index: HashMap<(Venue, String), u32>,
    /// Every venue protocol, for REST and WebSocket routing.
    pub(crate) protocols: Vec<&'static dyn super::protocol::SimProtocol>,
    pub(crate) tx: broadcast::Sender<Arc<Outbound>>,
    pub(crate) counters: Counters,
    /// Per-IP connect and message counts (venues that limit per IP).
    pub(crate) per_ip: super::per_ip::IpLimiter,
    pub(crate) fault_counters: FaultCounters,
    pub(crate) gaps: Mutex<Vec<GapRecord>>,
    pub(crate) conns: Mutex<Vec<Arc<Mutex<ConnTrades>>>>,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) rest_replay: RestReplay,
    /// Wakes the replay task at the first subscription.
    pub(crate) first_subscribe: Notify,
    pub(crate) subscribed_once: AtomicBool,
}

impl Shared {
    pub fn stats(&self) -> SimStats {
        let c = &self.counters;
        SimStats {
            connections_accepted: c.accepted.load(Relaxed),
            connections_open: c.open.load(Relaxed),
            frames_sent: c.frames_sent.load(Relaxed),
            events_generated: c.events_generated.load(Relaxed),
            events_behind: c.events_behind.load(Relaxed),
            rate_limit_closes: c.rate_limit_closes.load(Relaxed),
            ip_connects_refused: c.ip_connects_refused.load(Relaxed),
            ip_rate_limit_closes: c.ip_rate_limit_closes.load(Relaxed),
            session_closes: c.session_closes.load(Relaxed),
            pong_timeout_closes: c.pong_timeout_closes.load(Relaxed),
            idle_closes: c.idle_closes.load(Relaxed),
            lifetime_closes: c.lifetime_closes.load(Relaxed),
            slow_closes: c.slow_closes.load(Relaxed),
            rest_requests: c.rest_requests.load(Relaxed),
            replay_frames: c.replay_frames.load(Relaxed),
            replay_finished: c.replay_finished.load(Relaxed),
            faults: self.fault_counters.snapshot(),
            gaps: self.gaps.lock().clone(),
        }
    }
}

/// The simulator's true market, for tests to compare against.
#[derive(Clone)]
pub struct SimMarketHandle {
    pub(crate) shared: Arc<Shared>,
}

impl SimMarketHandle {
    /// The true book right after the last event with `u <= update_id`, all levels, best
    /// first; `None` for unknown symbols or ids outside the kept history.
    pub fn book_at(&self, venue: Venue, raw_symbol: &str, update_id: u64) -> Option<DepthSnapshot> {
        self.shared
            .market
            .lock()
            .find(venue, raw_symbol)?
            .book_at(update_id)
    }

    /// The current true book, `limit` levels per side.
    pub fn snapshot(&self, venue: Venue, raw_symbol: &str, limit: usize) -> Option<DepthSnapshot> {
        Some(
            self.shared
                .market
                .lock()
                .find(venue, raw_symbol)?
                .snapshot(limit),
        )
    }

    pub fn last_update_id(&self, venue: Venue, raw_symbol: &str) -> Option<u64> {
        Some(
            self.shared
                .market
                .lock()
                .find(venue, raw_symbol)?
                .last_update_id(),
        )
    }

    /// The true update id of the book message stamped `stamp_ns` for `raw_symbol`
    /// (newest connection first), for venues without sequence ids (Kraken).
    pub fn book_update_at_stamp(&self, raw_symbol: &str, stamp_ns: u64) -> Option<u64> {
        self.shared.conns.lock().iter().rev().find_map(|c| {
            c.lock()
                .book_stamps
                .get(raw_symbol)
                .and_then(|s| s.get(&stamp_ns).copied())
        })
    }

    /// Per connection (in accept order), the trade ids it was sent while it was up.
    pub fn trades_sent(&self) -> Vec<ConnTrades> {
        self.shared
            .conns
            .lock()
            .iter()
            .map(|c| c.lock().clone())
            .collect()
    }

    /// Replace the fault settings; open connections pick them up on their next frame.
    pub fn set_faults(&self, faults: FaultConfig) {
        *self.shared.faults.write() = faults;
    }
}
