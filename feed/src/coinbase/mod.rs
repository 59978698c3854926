//! Coinbase Advanced Trade (`coinbase`) on the venue engine: the adapter
//! (connection plan, one subscribe message per channel, `heartbeats` on every
//! connection, the batched resubscription after a connection's sequence jumped,
//! limits, REST paths) and its simulator protocol (`sim/`). The wire format is
//! `tickd_normalizer::coinbase`.

mod adapter;
mod sim;
#[cfg(test)]
mod tests;

pub use adapter::{
    CoinbaseAdapter, CANDLE_MINUTES, PRODUCTS_PATH, REST_URL, SUBSCRIBE_DEADLINE, WS_URL,
};
pub use sim::CoinbaseSim;
