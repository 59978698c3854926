//! OKX v5 (`okx`) on the venue engine: the adapter (connection plan, subscribe and
//! resubscribe messages, text `ping` keep-alive, limits, REST paths) and its
//! simulator protocol ([`sim::OkxSim`]). The wire format is `tickd_normalizer::okx`.

mod adapter;
pub mod sim;
#[cfg(test)]
mod tests;

pub use adapter::{book_channel, InstType, OkxAdapter, PING_AFTER_IDLE, REST_URL, WS_URL};
