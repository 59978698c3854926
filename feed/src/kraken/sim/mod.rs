//! Kraken spot v2 in the simulator ([`KrakenSim`], `kraken.md` §8): WebSocket `/v2`
//! with `status` on connect, per-symbol subscribe/unsubscribe acks and errors, the
//! `ping` method, `heartbeat` once a second on a quiet subscribed connection, `book`
//! (a snapshot then updates at the subscribed depth, numbers printed minimally, each
//! with the CRC32 of the top 10 levels a side at the pair's precision), `trade`,
//! `ticker` (top of book), `ohlc` (1-minute candles built from the trades sent), and
//! REST `/0/public/AssetPairs`.

mod book;
mod rest;
mod session;

use tickd_bus::Venue;

use crate::engine::adapter::VenueLimits;
use crate::sim::{ConnectionRules, Response, SimProtocol, SimSession, SimView};

/// The Kraken protocol of the simulator.
pub struct KrakenSim;

/// The v2 WebSocket path (`kraken.md` §1).
pub const WS_PATH: &str = "/v2";

/// `kraken.md` §2 gives no number for inbound messages; a client flooding faster
/// than this is cut (tickd paces 5 a second).
const MAX_INBOUND_PER_SEC: u32 = 50;

impl SimProtocol for KrakenSim {
    fn venues(&self) -> &'static [Venue] {
        &[Venue::Kraken]
    }

    fn symbol_name(&self, _venue: Venue, base: &str, quote: &str) -> String {
        format!("{base}/{quote}")
    }

    /// `BTC/USD`.
    fn split_symbol(&self, _venue: Venue, raw: &str) -> Option<(String, String)> {
        let (base, quote) = raw.split_once('/')?;
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        (ok(base) && ok(quote)).then(|| (base.to_string(), quote.to_string()))
    }

    /// No server pings and no idle cut-off: the server sends `heartbeat`, the client
    /// may send `ping`.
    fn rules(&self, _venue: Venue, limits: &VenueLimits) -> ConnectionRules {
        ConnectionRules {
            ping_interval: None,
            pong_timeout: std::time::Duration::from_secs(60),
            idle_close: None,
            max_inbound_per_sec: MAX_INBOUND_PER_SEC,
            max_streams: limits.streams_per_connection,
        }
    }

    fn open(&self, target: &str, sim: &SimView<'_>) -> Option<Box<dyn SimSession>> {
        let path = target.split_once('?').map_or(target, |(p, _)| p);
        (path == WS_PATH).then(|| Box::new(session::KrakenSession::new(sim)) as Box<dyn SimSession>)
    }

    fn owns_rest(&self, path: &str) -> bool {
        rest::owns(path)
    }

    fn rest(&self, path: &str, query: &str, sim: &SimView<'_>) -> Response {
        rest::handle(path, query, sim)
    }

    fn rest_limited(&self, _status: u16) -> Vec<u8> {
        rest::limited()
    }
}
