//! OKX v5 in the simulator ([`OkxSim`], `okx.md` §8): WebSocket `/ws/v5/public` and
//! `/ws/v5/business`, the text `ping` keep-alive with the 30 s idle cut-off, `books`
//! with checksums that verify (or without the initial snapshot, for the REST splice),
//! `trades`, `trades-all`, `bbo-tbt`, and REST `/api/v5/public/instruments` and
//! `/api/v5/market/books`. Spot (`BTC-USDT`) and swaps (`BTC-USDT-SWAP`, inverse
//! `BTC-USD-SWAP`) are simulated; funding, mark price, open interest, liquidations
//! and dated futures are not.

mod rest;
mod session;

use std::time::Duration;

use tickd_bus::Venue;

use crate::engine::adapter::{VenueAdapter, VenueLimits};
use crate::sim::{ConnectionRules, Response, SimProtocol, SimSession, SimView};

/// The OKX protocol of the simulator.
pub struct OkxSim;

/// OKX closes a connection nothing was pushed on for 30 s (`okx.md` §2).
pub const IDLE_CLOSE: Duration = Duration::from_secs(30);

/// OKX states no per-second limit for public connections (480 subscribe ops an hour
/// instead); a client flooding faster than this is cut.
const MAX_INBOUND_PER_SEC: u32 = 100;

impl SimProtocol for OkxSim {
    fn venues(&self) -> &'static [Venue] {
        &[Venue::Okx]
    }

    fn symbol_name(&self, _venue: Venue, base: &str, quote: &str) -> String {
        format!("{base}-{quote}")
    }

    /// `BTC-USDT`, `BTC-USDT-SWAP`, `BTC-USD-SWAP`.
    fn split_symbol(&self, _venue: Venue, raw: &str) -> Option<(String, String)> {
        let mut parts = raw.split('-');
        let (base, quote) = (parts.next()?, parts.next()?);
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        let kind_ok = match parts.next() {
            None => true,
            Some(kind) => kind == "SWAP" && parts.next().is_none(),
        };
        (ok(base) && ok(quote) && kind_ok).then(|| (base.to_string(), quote.to_string()))
    }

    /// `okx.md` §2: 3 new connections a second per IP, the adapter's budget,
    /// enforced (a connect over it is refused with HTTP 429).
    fn host_budget(&self, venue: Venue) -> crate::engine::adapter::HostBudget {
        crate::okx::OkxAdapter.host_budget(venue)
    }

    fn rules(&self, _venue: Venue, limits: &VenueLimits) -> ConnectionRules {
        ConnectionRules {
            ping_interval: None,
            pong_timeout: Duration::from_secs(60),
            idle_close: Some(IDLE_CLOSE),
            max_inbound_per_sec: MAX_INBOUND_PER_SEC,
            max_streams: limits.streams_per_connection,
        }
    }

    fn open(&self, target: &str, sim: &SimView<'_>) -> Option<Box<dyn SimSession>> {
        let path = target.split_once('?').map_or(target, |(p, _)| p);
        let url = match path {
            "/ws/v5/public" => session::Url::Public,
            "/ws/v5/business" => session::Url::Business,
            _ => return None,
        };
        Some(Box::new(session::OkxSession::new(url, sim)))
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
