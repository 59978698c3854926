//! Kraken spot, WebSocket v2 (`kraken`): `BTC/USD` → `BTC-USD` (Kraken's `XBT` is `BTC`).
//!
//! Wire format reference: `shared/exchanges/kraken.md` (section numbers are cited in
//! each file). Prices and quantities arrive as JSON numbers; every one is read from
//! its token text into an exact decimal, never through `f64`.
//!
//! - [`KrakenDecoder`] (the engine's `FrameDecoder`): `book`, `trade`, `ticker`
//!   (→ best bid/offer), `ohlc` (→ venue bars), `heartbeat`, `status`, subscribe
//!   acks and errors, `pong`;
//! - [`rule`]: the engine's sequencing rule (no ids: every update continues; the
//!   checksum guards; truncation to the subscribed depth; resubscribe on a failure);
//! - [`checksum`]: the CRC32 over the top 10 asks and bids at the pair's precision;
//! - [`instruments`]: REST `AssetPairs` → specs, precision kept as tick/step sizes;
//! - [`encode`]: the same frames written out, for the simulator.

pub mod checksum;
pub(crate) mod decode;
pub mod encode;
pub mod instruments;
pub mod request;
pub mod rule;

pub use checksum::Precision;
pub use decode::{system_reason, KrakenDecoder, INTERVALS_MIN, MAX_FRAME_BYTES};
pub use instruments::{decode_asset_pairs, precision_of, v2_symbol};
pub use rule::{KrakenBookSync, KrakenRule, DEPTHS};
