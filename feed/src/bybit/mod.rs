//! Bybit v5 (`bybit`) on the venue engine: the adapter (one connection per category
//! URL, more when the args pass 21,000 characters; spot subscribes in requests of
//! 10 args; `{"op":"ping"}` keep-alive; a gap resubscribes that one book; opaque
//! trade ids). The wire format is `tickd_normalizer::bybit`.

mod adapter;
mod sim;
#[cfg(test)]
mod tests;

pub use adapter::{book_depth, BybitAdapter, PING_AFTER_IDLE, REST_URL, WS_URL};
pub use sim::BybitSim;
