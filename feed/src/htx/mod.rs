//! HTX (`htx`, `htx-usdm`, `htx-coinm`) on the venue engine: the adapter
//! (connection plan over the market and second sockets, `sub`/`req`/`unsub`
//! messages, limits, REST paths) and its simulator protocol ([`sim::HtxSim`]). The
//! wire format is `tickd_normalizer::htx`.

mod adapter;
pub mod sim;
#[cfg(test)]
mod tests;

pub use adapter::{
    base_url, book_depth, book_topic, kline_topic, notify_sub, paths, req, req_id, sub, unsub,
    HtxAdapter, Paths, COINM_WS_URL, KLINE_MINUTES, SPOT_DEPTHS, SPOT_REST_URL, SPOT_WS_URL,
    SWAP_DEPTHS, SWAP_REST_URL, USDM_WS_URL,
};
