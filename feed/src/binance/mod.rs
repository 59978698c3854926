//! Binance spot (`binance`) and USD-M futures (`binance-usdm`) on the venue engine.
//!
//! - [`adapter`]: [`BinanceAdapter`], the engine's [`crate::engine::adapter::VenueAdapter`];
//! - [`streams`]: stream names, routed paths, connection plan, SUBSCRIBE batching;
//! - [`sim`]: the venue's protocol in the simulator ([`BinanceSim`]).

mod adapter;
pub mod sim;
pub mod streams;

use std::time::Duration;

use tickd_bus::Venue;
use tickd_normalizer::binance::BinanceMarket;

pub use adapter::BinanceAdapter;
pub use sim::BinanceSim;

/// The market a Binance venue is.
pub fn market_of(venue: Venue) -> Option<BinanceMarket> {
    match venue {
        Venue::Binance => Some(BinanceMarket::Spot),
        Venue::BinanceUsdm => Some(BinanceMarket::UsdmFutures),
        _ => None,
    }
}

/// Default endpoints of a market.
pub fn default_urls(market: BinanceMarket) -> (&'static str, &'static str) {
    match market {
        BinanceMarket::Spot => ("wss://stream.binance.com:9443", "https://api.binance.com"),
        BinanceMarket::UsdmFutures => ("wss://fstream.binance.com", "https://fapi.binance.com"),
    }
}

/// A sensible stale threshold for the connection as a whole.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(30);
