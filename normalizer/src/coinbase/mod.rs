//! Coinbase Advanced Trade (`coinbase`): public market data on
//! `wss://advanced-trade-ws.coinbase.com`, products `BTC-USD`, `ETH-USDC` (already
//! the project's `BASE-QUOTE` form).
//!
//! Wire format reference: `shared/exchanges/coinbase.md` (section numbers are cited
//! in each file). Prices and sizes are decimal strings read exactly; times are
//! RFC 3339 with up to nine fraction digits, read exactly into ns.
//!
//! - [`CoinbaseDecoder`] (the engine's `FrameDecoder`): `l2_data` (the `level2`
//!   channel: snapshot then updates, absolute sizes), `market_trades`, `ticker` and
//!   `ticker_batch` (→ best bid/offer), `candles` (→ venue bars), `heartbeats`,
//!   `subscriptions` and error replies. Every frame's `sequence_num` and every
//!   heartbeat's counter are reported to the sink as per-connection counters
//!   ([`crate::engine::ConnCounter`]): the feed checks their continuity per
//!   connection and resyncs that connection's books on a jump;
//! - [`rule`]: the engine's sequencing rule (no per-product ids: images come with a
//!   (re)subscription, updates continue);
//! - [`products`]: REST `/api/v3/brokerage/market/products` → specs, and the
//!   `-USDC` → `-USD` product aliases of the public channels (§2);
//! - [`encode`]: the same frames written out, for the simulator and tests.

mod decode;
pub mod encode;
pub mod products;
pub mod rule;

pub use decode::{CoinbaseDecoder, TradeSide, CANDLE_INTERVAL_S, MAX_FRAME_BYTES};
pub use products::{decode_products, wire_product};
pub use rule::{CoinbaseBookSync, CoinbaseRule};
