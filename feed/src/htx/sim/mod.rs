//! HTX in the simulator ([`HtxSim`], `htx.md` §8): spot `/ws` and `/feed`,
//! `/linear-swap-ws`, `/swap-ws` and the two notification sockets, all under the
//! `/htx` prefix (Binance's simulator serves `/ws`); gzip binary frames; the
//! server's ping with a pong deadline; `sub`/`unsub`/`req` with HTX's replies and
//! error strings; REST symbol and contract lists and open interest.

mod rest;
mod session;

use std::time::Duration;

use tickd_bus::Venue;

use self::session::{HtxSession, Socket};
use crate::engine::adapter::VenueLimits;
use crate::sim::{ConnectionRules, MarketTraits, Response, SimProtocol, SimSession, SimView};

/// The HTX protocol of the simulator.
pub struct HtxSim;

/// Where the simulator serves HTX's WebSocket paths (`ws://host/htx/ws`, ...).
pub const WS_PREFIX: &str = "/htx";

/// HTX pings every 5 s (`htx.md` §2).
pub const PING_INTERVAL: Duration = Duration::from_secs(5);
/// Spot closes after two missed pings, swaps after about four.
pub const SPOT_PONG_DEADLINE: Duration = Duration::from_secs(10);
pub const SWAP_PONG_DEADLINE: Duration = Duration::from_secs(20);

impl SimProtocol for HtxSim {
    fn venues(&self) -> &'static [Venue] {
        &[Venue::Htx, Venue::HtxUsdm, Venue::HtxCoinm]
    }

    /// `btcusdt`, `BTC-USDT`, coin-M `BTC-USD`.
    fn symbol_name(&self, venue: Venue, base: &str, quote: &str) -> String {
        match venue {
            Venue::Htx => format!("{base}{quote}").to_ascii_lowercase(),
            Venue::HtxCoinm => format!("{base}-USD"),
            _ => format!("{base}-{quote}"),
        }
    }

    /// Swaps `BASE-QUOTE`; spot by a known quote suffix (`btcusdt`).
    fn split_symbol(&self, venue: Venue, raw: &str) -> Option<(String, String)> {
        let raw = raw.to_ascii_uppercase();
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        let (base, quote) = if venue == Venue::Htx {
            ["USDT", "USDC", "BTC", "ETH", "HT"]
                .iter()
                .find_map(|q| raw.strip_suffix(q).map(|b| (b.to_string(), q.to_string())))?
        } else {
            let (b, q) = raw.split_once('-')?;
            (b.to_string(), q.to_string())
        };
        (ok(&base) && ok(&quote)).then_some((base, quote))
    }

    /// Spot names are lower case (`btcusdt`), contract codes upper case.
    fn canonical_raw(&self, venue: Venue, raw: &str) -> String {
        if venue == Venue::Htx {
            raw.to_ascii_lowercase()
        } else {
            raw.to_ascii_uppercase()
        }
    }

    /// Swaps get mark prices (funding) and liquidations.
    fn traits(&self, venue: Venue, _raw: &str) -> MarketTraits {
        MarketTraits {
            id_per_event: false,
            derivative: venue != Venue::Htx,
        }
    }

    fn rules(&self, venue: Venue, limits: &VenueLimits) -> ConnectionRules {
        ConnectionRules {
            ping_interval: Some(PING_INTERVAL),
            pong_timeout: if venue == Venue::Htx {
                SPOT_PONG_DEADLINE
            } else {
                SWAP_PONG_DEADLINE
            },
            idle_close: None,
            // Requests are paced by the venue's limits; a flood is cut.
            max_inbound_per_sec: limits.messages_per_second * 5,
            max_streams: limits.streams_per_connection,
        }
    }

    fn open(&self, target: &str, sim: &SimView<'_>) -> Option<Box<dyn SimSession>> {
        let path = target.split_once('?').map_or(target, |(p, _)| p);
        let (venue, socket) = match path.strip_prefix(WS_PREFIX)? {
            "/ws" => (Venue::Htx, Socket::Market),
            "/feed" => (Venue::Htx, Socket::Feed),
            "/linear-swap-ws" => (Venue::HtxUsdm, Socket::Market),
            "/linear-swap-notification" => (Venue::HtxUsdm, Socket::Notification),
            "/swap-ws" => (Venue::HtxCoinm, Socket::Market),
            "/swap-notification" => (Venue::HtxCoinm, Socket::Notification),
            _ => return None,
        };
        Some(Box::new(HtxSession::new(venue, socket, sim)))
    }

    fn ws_prefix(&self, _venue: Venue) -> &'static str {
        WS_PREFIX
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
