//! Bybit v5 in the simulator ([`BybitSim`], `bybit.md` §8): WebSocket
//! `/v5/public/spot`, `/linear` and `/inverse` (a symbol exists only on its
//! category's URL, so `spot/BTCUSDT` and `linear/BTCUSDT` are two instruments),
//! `{"op":"ping"}` answered in the category's pong shape, the 10-minute idle cut-off,
//! `publicTrade` (UUID ids on derivatives, numbers on spot), `orderbook.1` (the top
//! of book), `orderbook.50/200/1000` (snapshot then deltas with contiguous `u` and a
//! rising `seq`; the whole simulated book, no depth window), `tickers` (snapshot then
//! the changed fields) and `allLiquidation` on linear and inverse, and REST
//! `/v5/market/instruments-info` (cursor pages) and `/v5/market/orderbook`;
//! `orderbook.full` on spot (the deltas alone) with REST `/v5/market/full_orderbook`. Raw
//! symbols are tickd's (`linear/BTCUSDT`, `spot/BTCUSDT`, `inverse/BTCUSD`); a
//! `-DDMMMYY` suffix makes a dated future (`linear/BTCUSDT-25DEC26`, listed as
//! `LinearFutures` delivering that day). Not simulated: the level-1 re-send after
//! 3 s, a `u == 1` restart on `orderbook.full`.

mod rest;
mod session;

use std::time::Duration;

use tickd_bus::instrument::Date;
use tickd_bus::Venue;
use tickd_normalizer::bybit::Category;

use crate::engine::adapter::{HostBudget, VenueAdapter, VenueLimits};
use crate::sim::{ConnectionRules, MarketTraits, Response, SimProtocol, SimSession, SimView};

/// The Bybit protocol of the simulator.
pub struct BybitSim;

/// Where the simulated cross sequence starts, and its step per book update.
const SEQ_BASE: u64 = 50_000_000_000;
const SEQ_STEP: u64 = 7;

impl BybitSim {
    /// `seq` of the book at market update id `id`: Bybit's cross sequence, the same
    /// on every connection and after a `u == 1` restart, rising but not contiguous.
    pub fn cross_seq(id: u64) -> u64 {
        SEQ_BASE.saturating_add(id.saturating_mul(SEQ_STEP))
    }

    /// The market update id of a `seq` [`Self::cross_seq`] wrote (the e2e checker
    /// finds the true book by it).
    pub fn market_id_of_seq(seq: u64) -> Option<u64> {
        seq.checked_sub(SEQ_BASE)
            .filter(|d| d % SEQ_STEP == 0)
            .map(|d| d / SEQ_STEP)
    }
}

/// Bybit cuts a connection without pings or data after about 10 minutes (`bybit.md` §2).
pub const IDLE_CLOSE: Duration = Duration::from_secs(600);

/// Bybit states no inbound rate for public connections; a flood is cut.
const MAX_INBOUND_PER_SEC: u32 = 100;

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// A dated future's symbol without its `-DDMMMYY` suffix, and its delivery day
/// (`BTCUSDT-25DEC26` → `BTCUSDT`, 2026-12-25).
pub(crate) fn delivery(symbol: &str) -> Option<(&str, Date)> {
    let (stem, suffix) = symbol.rsplit_once('-')?;
    if suffix.len() != 7 || !suffix.is_ascii() {
        return None;
    }
    let day: u8 = suffix[0..2].parse().ok()?;
    let month = MONTHS.iter().position(|m| *m == &suffix[2..5])? as u8 + 1;
    let year: u16 = suffix[5..7].parse().ok()?;
    Some((stem, Date::new(2000 + year, month, day).ok()?))
}

/// `category/SYMBOL` in any case → the category and the upper-case symbol.
pub(crate) fn split(raw: &str) -> Option<(Category, String)> {
    let lower = raw.to_ascii_lowercase();
    let (category, symbol) = Category::split_raw(&lower)?;
    Some((category, symbol.to_ascii_uppercase()))
}

impl SimProtocol for BybitSim {
    fn venues(&self) -> &'static [Venue] {
        &[Venue::Bybit]
    }

    /// Perpetuals: `linear/BTCUSDT`, or `inverse/BTCUSD` quoted in USD.
    fn symbol_name(&self, _venue: Venue, base: &str, quote: &str) -> String {
        let category = if quote == "USD" {
            Category::Inverse
        } else {
            Category::Linear
        };
        category.raw_symbol(&format!("{base}{quote}"))
    }

    /// `spot/BTCUSDT`, `linear/BTCUSDT`, `inverse/BTCUSD` (quotes USDT, USDC, USD),
    /// futures `linear/BTCUSDT-25DEC26`.
    fn split_symbol(&self, _venue: Venue, raw: &str) -> Option<(String, String)> {
        let (category, symbol) = split(raw)?;
        let symbol = match delivery(&symbol) {
            Some((stem, _)) if category != Category::Spot => stem.to_string(),
            Some(_) => return None,
            None => symbol,
        };
        let quote = ["USDT", "USDC", "USD"]
            .into_iter()
            .find(|q| symbol.ends_with(q))?;
        let base = symbol.strip_suffix(quote)?;
        let fits = match category {
            Category::Inverse => quote == "USD",
            Category::Linear | Category::Spot => quote != "USD",
        };
        (fits && !base.is_empty() && base.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| (base.to_string(), quote.to_string()))
    }

    /// tickd's raw names: the category in lower case, the symbol in upper case.
    fn canonical_raw(&self, _venue: Venue, raw: &str) -> String {
        split(raw).map_or_else(
            || raw.to_ascii_uppercase(),
            |(category, symbol)| category.raw_symbol(&symbol),
        )
    }

    /// `u` counts messages (one per depth event); linear and inverse are perpetuals.
    fn traits(&self, _venue: Venue, raw: &str) -> MarketTraits {
        MarketTraits {
            id_per_event: true,
            derivative: split(raw).is_some_and(|(c, _)| c != Category::Spot),
        }
    }

    /// `bybit.md` §2: 500 connects per 5 minutes per IP, the adapter's budget,
    /// enforced (a connect over it is refused with HTTP 429).
    fn host_budget(&self, venue: Venue) -> HostBudget {
        crate::bybit::BybitAdapter.host_budget(venue)
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
        let category = Category::from_name(path.strip_prefix("/v5/public/")?)?;
        Some(Box::new(session::BybitSession::new(category, sim)))
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
