//! Kraken spot, WebSocket v2 (`kraken`) on the venue engine: the adapter
//! (connection plan, subscribe and resubscribe messages, the `ping` keep-alive,
//! limits, REST paths) and its simulator protocol ([`sim::KrakenSim`]). The wire
//! format is `tickd_normalizer::kraken`.

mod adapter;
pub mod sim;
#[cfg(test)]
mod tests;

pub use adapter::{ws_url, KrakenAdapter, PING_AFTER_IDLE, REST_URL, WS_URL};
/// Candle lengths `ohlc` offers, minutes (`venue_bars_minutes`).
pub use tickd_normalizer::kraken::INTERVALS_MIN as OHLC_INTERVALS_MIN;
