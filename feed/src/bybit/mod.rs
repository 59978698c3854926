//! Bybit v5 (`bybit`) on the venue engine: the adapter (one connection per category
//! URL, more when the args pass 21,000 characters; spot subscribes in requests of
//! 10 args; `{"op":"ping"}` every 20 s; 500 connects per 5 minutes; a gap resubscribes that one book; opaque
//! trade ids). The wire format is `tickd_normalizer::bybit`.

mod adapter;
mod sim;
#[cfg(test)]
mod tests;

pub use adapter::{BybitAdapter, CONNECTS_PER_WINDOW, PING_EVERY, REST_URL, WS_URL};
pub use sim::BybitSim;
/// The `kline` candle lengths (minutes, topic name): `venue_bars_minutes` is one.
pub use tickd_normalizer::bybit::KLINE_INTERVALS;
