//! The seam between the one simulator and each venue's protocol.
//!
//! The simulator owns everything venues share: the synthetic market with true books
//! ([`super::market`]), fault injection (drops, stalls, skipped sequence ids, frame
//! corruption, refused connections, REST 429/418), the accept loop, the per-connection
//! loop (lifetime, inbound message limit, server pings or the idle cut-off, delivery
//! of market events) and the test-facing handles. A venue family implements
//! [`SimProtocol`] (paths, REST endpoints, default connection rules) and
//! [`SimSession`] (one connection: subscribe handling and acks, frame encoding, its
//! keep-alive replies) in its own folder (`feed/src/<venue>/sim/`), and returns the
//! protocol from `VenueAdapter::simulator`; the simulator finds it in the adapter
//! registry.

use std::sync::atomic::Ordering::Relaxed;

use parking_lot::{Mutex, MutexGuard, RwLockReadGuard};
use tickd_bus::Venue;

use super::config::{ConnectionRules, SimSymbol};
use super::faults::{FaultConfig, FaultCounters};
use super::gaps::GapInjector;
use super::market::{Market, SimEvent};
use super::replay::ReplayFrame;
use super::state::{ConnTrades, Shared};
use crate::engine::adapter::VenueLimits;

/// Wall-clock now, ns since the Unix epoch (event and send times).
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A REST answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub retry_after: Option<u32>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn ok(body: Vec<u8>) -> Self {
        Self {
            status: 200,
            retry_after: None,
            body,
        }
    }

    pub fn status(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            retry_after: None,
            body,
        }
    }
}

/// How the synthetic market treats one instrument of a venue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarketTraits {
    /// One book update id per depth event (Bybit's `u`), not one per changed level.
    pub id_per_event: bool,
    /// A perpetual: mark price / funding and liquidation events are generated for it
    /// (USD-M symbols always get them).
    pub derivative: bool,
}

/// A venue family's side of the simulator (static, one instance per family).
pub trait SimProtocol: Send + Sync + 'static {
    /// The venues it serves (each must also be fed by the adapter that returns it).
    fn venues(&self) -> &'static [Venue];
    /// The raw symbol of a generated instrument (`BTCUSDT`, `BTC-USDT`).
    fn symbol_name(&self, venue: Venue, base: &str, quote: &str) -> String;
    /// `(base, quote)` of a raw symbol given on the command line, if it is well formed.
    fn split_symbol(&self, venue: Venue, raw: &str) -> Option<(String, String)>;
    /// A raw symbol given on the command line as the venue's raw names are written
    /// (`btcusdt` → `BTCUSDT`; Bybit keeps `spot/BTCUSDT`).
    fn canonical_raw(&self, _venue: Venue, raw: &str) -> String {
        raw.to_ascii_uppercase()
    }
    /// How the market treats the instrument `raw` (by default: an update id per
    /// changed level, no mark price or liquidation events).
    fn traits(&self, _venue: Venue, _raw: &str) -> MarketTraits {
        MarketTraits::default()
    }
    /// Default connection rules of `venue`: the adapter's `limits` (streams per
    /// connection, inbound messages per second) and the venue's keep-alive.
    fn rules(&self, venue: Venue, limits: &VenueLimits) -> ConnectionRules;
    /// The per-host budget `venue` enforces per client IP over all connections (as
    /// its adapter declares it: Coinbase's connects and messages a second); none by
    /// default.
    fn host_budget(&self, _venue: Venue) -> crate::engine::adapter::HostBudget {
        crate::engine::adapter::HostBudget::NONE
    }
    /// The session for a WebSocket upgrade to `target` (path and query), or `None`
    /// when the path is not one of this protocol's (another protocol may claim it; so
    /// claim only paths that are unmistakably yours).
    fn open(&self, target: &str, sim: &SimView<'_>) -> Option<Box<dyn SimSession>>;
    /// Whether a REST path is one of this protocol's endpoints.
    fn owns_rest(&self, path: &str) -> bool;
    /// A GET on one of this protocol's paths (`query` without the `?`).
    fn rest(&self, path: &str, query: &str, sim: &SimView<'_>) -> Response;
    /// The venue's rate-limit answer (`status` 429 or 418) body.
    fn rest_limited(&self, status: u16) -> Vec<u8>;
    /// A captured frame of `venue` as the simulator replays it (the subscriptions it
    /// belongs to and the text to send), or `None` when it cannot be replayed.
    fn replay_frame(&self, _venue: Venue, _data: &str) -> Option<ReplayFrame> {
        None
    }
    /// A path prefix under which this protocol serves `venue`'s WebSocket paths
    /// (`tickd demo` points the venue's `ws_url` at `ws://addr{prefix}`): for a
    /// venue whose paths another protocol already serves (HTX `/ws`, Binance's).
    fn ws_prefix(&self, _venue: Venue) -> &'static str {
        ""
    }
}

/// What a session answers an inbound message with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    Continue,
    /// Close with this code and reason (after sending what was queued).
    Close(u16, &'static str),
    /// The answer to the session's own ping ([`SimSession::app_ping`]): the pong
    /// deadline is met.
    Pong,
}

/// One WebSocket connection of a venue, driven by the simulator's connection loop.
/// Every method appends what to send to `out`; nothing here does I/O.
pub trait SimSession: Send {
    fn venue(&self) -> Venue;
    /// Right after the upgrade (Binance subscribes the streams named in the URL).
    fn start(&mut self, _cx: &mut SessionCx<'_>, _out: &mut Frames) {}
    /// A text or binary message from the client.
    fn on_message(&mut self, msg: &[u8], cx: &mut SessionCx<'_>, out: &mut Frames) -> Inbound;
    /// A market event. Depth events the connection carries go through
    /// [`SessionCx::skip_depth`] (the skipped-sequence fault); trades sent go to
    /// [`SessionCx::record_trade`].
    fn on_market(&mut self, ev: &SimEvent, cx: &mut SessionCx<'_>, out: &mut Frames);
    /// A frame of a replayed capture.
    fn on_replay(&mut self, _frame: &ReplayFrame, _cx: &mut SessionCx<'_>, _out: &mut Frames) {}
    /// The venue's own ping (HTX `{"ping":n}`), written into `out` in place of a
    /// WebSocket ping when the rules' ping interval is due; its answer is
    /// [`Inbound::Pong`], and a missing answer closes the connection at the pong
    /// deadline. `false` (the default): the loop sends a WebSocket ping.
    fn app_ping(&mut self, _seq: u64, _cx: &mut SessionCx<'_>, _out: &mut Frames) -> bool {
        false
    }
    /// Frames go out as binary WebSocket messages (HTX: gzip the session wrote);
    /// text otherwise. The corruption faults apply to the bytes as sent.
    fn binary(&self) -> bool {
        false
    }
    /// How often [`SimSession::on_tick`] runs (`None`: never): the venue's timed
    /// frames (Coinbase `heartbeats` every second) and deadlines (its 5 s to
    /// subscribe).
    fn tick_interval(&self) -> Option<std::time::Duration> {
        None
    }
    /// Every [`SimSession::tick_interval`].
    fn on_tick(&mut self, _cx: &mut SessionCx<'_>, _out: &mut Frames) -> Inbound {
        Inbound::Continue
    }
    /// The venue's "going away" notice (Binance `serverShutdown`, OKX `64008`).
    fn shutdown_notice(&mut self, _cx: &mut SessionCx<'_>, _out: &mut Frames) {}
    /// How long the connection may be quiet before [`SimSession::heartbeat`] is
    /// called (Kraken: 1 s); `None`: the venue sends no liveness message of its own.
    fn heartbeat_every(&self) -> Option<std::time::Duration> {
        None
    }
    /// The venue's liveness message on a quiet connection (Kraken `heartbeat`, once
    /// subscribed). A stall fault stops it with everything else.
    fn heartbeat(&mut self, _cx: &mut SessionCx<'_>, _out: &mut Frames) {}
}

/// What a protocol may read of the simulator.
pub struct SimView<'a> {
    pub(crate) shared: &'a Shared,
}

impl SimView<'_> {
    /// Every simulated instrument, in market order (`SimEvent::sym` indexes it).
    pub fn symbols(&self) -> &[SimSymbol] {
        &self.shared.symbols
    }

    /// The index of `venue`'s raw symbol (any case).
    pub fn symbol_index(&self, venue: Venue, raw: &str) -> Option<u32> {
        self.shared
            .symbol_index
            .get(&(venue, raw.to_ascii_lowercase()))
            .copied()
    }

    /// The true market (short critical sections: the generator waits on it).
    pub fn market(&self) -> MutexGuard<'_, Market> {
        self.shared.market.lock()
    }

    pub fn faults(&self) -> RwLockReadGuard<'_, FaultConfig> {
        self.shared.faults.read()
    }

    pub fn fault_counters(&self) -> &FaultCounters {
        &self.shared.fault_counters
    }

    pub fn config(&self) -> &super::SimConfig {
        &self.shared.config
    }

    /// The recorded body for this request, when replaying a capture.
    pub fn replayed_rest(&self, target: &str) -> Option<String> {
        if self.shared.rest_replay.is_empty() {
            return None;
        }
        self.shared.rest_replay.answer(target)
    }
}

/// A session's handle on the simulator.
pub struct SessionCx<'a> {
    pub view: SimView<'a>,
    pub conn: u64,
    pub(crate) gaps: &'a mut GapInjector,
    pub(crate) record: &'a Mutex<ConnTrades>,
}

impl SessionCx<'_> {
    /// The skipped-sequence fault: true when this depth event is dropped on this
    /// connection (recorded as a gap for tests). Call it only for depth events the
    /// connection carries.
    pub fn skip_depth(&mut self, ev: &SimEvent) -> bool {
        self.gaps.skip(ev, self.view.shared)
    }

    /// Remember a trade id sent on this connection (`SimMarketHandle::trades_sent`).
    pub fn record_trade(&self, sym: u32, trade_id: u64) {
        let cap = self.view.shared.config.trade_record_cap;
        if cap == 0 {
            return;
        }
        if let Some(name) = self.view.shared.symbols.get(sym as usize) {
            let mut rec = self.record.lock();
            let ids = rec.trades.entry(name.raw.clone()).or_default();
            if ids.len() < cap {
                ids.push(trade_id);
            }
        }
    }

    /// For venues whose book messages carry no sequence id (Kraken): the stamp a
    /// book message carried (its event time, ns, unique per symbol on the
    /// connection) and the true update id it brings the client's book to, so a test
    /// finds the truth from the record's `ts_event`
    /// (`SimMarketHandle::book_update_at_stamp`).
    pub fn record_book_stamp(&self, sym: u32, stamp_ns: u64, update_id: u64) {
        let cap = self.view.shared.config.trade_record_cap;
        if let Some(name) = self.view.shared.symbols.get(sym as usize) {
            let mut rec = self.record.lock();
            let stamps = rec.book_stamps.entry(name.raw.clone()).or_default();
            if stamps.len() < cap {
                stamps.insert(stamp_ns, update_id);
            }
        }
    }

    /// The first subscription of the run starts a capture replay.
    pub fn subscribed(&self) {
        let shared = self.view.shared;
        if !shared.subscribed_once.swap(true, Relaxed) {
            shared.first_subscribe.notify_one();
        }
    }
}

/// Whether a frame is market data (subject to the corruption faults) or a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    Data,
    Reply,
}

/// Frames to send, in order; buffers are reused across calls.
#[derive(Default)]
pub struct Frames {
    bufs: Vec<(FrameKind, Vec<u8>)>,
    len: usize,
}

impl Frames {
    /// A new, empty frame of `kind` to write into.
    pub fn push(&mut self, kind: FrameKind) -> &mut Vec<u8> {
        if self.len == self.bufs.len() {
            self.bufs.push((kind, Vec::with_capacity(1024)));
        }
        let slot = &mut self.bufs[self.len];
        self.len += 1;
        slot.0 = kind;
        slot.1.clear();
        &mut slot.1
    }

    /// A market-data frame.
    pub fn data(&mut self) -> &mut Vec<u8> {
        self.push(FrameKind::Data)
    }

    /// A reply to the client (ack, error, pong).
    pub fn reply(&mut self) -> &mut Vec<u8> {
        self.push(FrameKind::Reply)
    }

    /// Drop the last frame (an encoder that decided to send nothing after all).
    pub fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut (FrameKind, Vec<u8>)> {
        if i < self.len {
            self.bufs.get_mut(i)
        } else {
            None
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (FrameKind, &[u8])> {
        self.bufs[..self.len]
            .iter()
            .map(|(k, b)| (*k, b.as_slice()))
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }
}

/// The simulator protocol of `venue`, from the adapter registry.
pub fn protocol_for(venue: Venue) -> Option<&'static dyn SimProtocol> {
    crate::engine::registry::adapter(venue)?.simulator()
}

/// Every registered simulator protocol, once each, in registry order.
pub fn protocols() -> Vec<&'static dyn SimProtocol> {
    crate::engine::registry::ADAPTERS
        .iter()
        .filter_map(|a| a.simulator())
        .collect()
}
