//! Coinbase Advanced Trade in the simulator ([`CoinbaseSim`], `coinbase.md` §9): the
//! WebSocket at the bare root (as `wss://advanced-trade-ws.coinbase.com`), one
//! subscribe message per channel (`heartbeats`, `level2`, `market_trades`, `ticker`,
//! `candles`: each product's open 5-minute candle from the trades, every second),
//! the `subscriptions` reply listing all of the connection's subscriptions, the
//! level2 images of one subscribe in one frame (an event per product), one
//! `sequence_num` per connection on every frame it sends (a skipped-sequence fault
//! consumes a number without sending the frame: a lost message), `heartbeats` every
//! second, the close of a connection that has not subscribed within 5 s, the per-IP
//! limits of 8 new connections and 8 client messages a second, and REST
//! `/api/v3/brokerage/market/products`. Spot products (`BTC-USD`) only;
//! `ticker_batch` is not simulated.

mod rest;
mod session;

use std::time::Duration;

use tickd_bus::Venue;

use crate::engine::adapter::{HostBudget, VenueAdapter, VenueLimits};
use crate::sim::{ConnectionRules, Response, SimProtocol, SimSession, SimView};

/// The Coinbase protocol of the simulator.
pub struct CoinbaseSim;

impl SimProtocol for CoinbaseSim {
    fn venues(&self) -> &'static [Venue] {
        &[Venue::Coinbase]
    }

    fn symbol_name(&self, _venue: Venue, base: &str, quote: &str) -> String {
        format!("{base}-{quote}")
    }

    /// `BTC-USD`.
    fn split_symbol(&self, _venue: Venue, raw: &str) -> Option<(String, String)> {
        let (base, quote) = raw.split_once('-')?;
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        (ok(base) && ok(quote)).then(|| (base.to_string(), quote.to_string()))
    }

    /// No server ping and no idle cut-off (`heartbeats` keeps a connection busy);
    /// 8 client messages a second on one connection (and per IP: [`Self::host_budget`]).
    fn rules(&self, _venue: Venue, limits: &VenueLimits) -> ConnectionRules {
        ConnectionRules {
            ping_interval: None,
            pong_timeout: Duration::from_secs(60),
            idle_close: None,
            max_inbound_per_sec: limits.messages_per_second,
            max_streams: limits.streams_per_connection,
        }
    }

    /// §2: 8 new connections and 8 client messages a second per IP, over all of
    /// its connections: the adapter's budget, enforced.
    fn host_budget(&self, venue: Venue) -> HostBudget {
        crate::coinbase::CoinbaseAdapter.host_budget(venue)
    }

    /// The bare root only: Coinbase's endpoint has no path.
    fn open(&self, target: &str, sim: &SimView<'_>) -> Option<Box<dyn SimSession>> {
        let path = target.split_once('?').map_or(target, |(p, _)| p);
        if !(path.is_empty() || path == "/") {
            return None;
        }
        Some(Box::new(session::CoinbaseSession::new(sim)))
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
