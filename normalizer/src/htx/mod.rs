//! HTX (formerly Huobi) public market data: spot (`htx`, `btcusdt` → `BTC-USDT`),
//! USDT-margined swaps and futures (`htx-usdm`, `BTC-USDT` → `BTC-USDT-PERP`) and
//! coin-margined swaps (`htx-coinm`, `BTC-USD` → `BTC-USD-PERP`).
//!
//! Wire format reference: `shared/exchanges/htx.md` (section numbers are cited in
//! each file). Every server frame is a gzip member in a binary WebSocket frame;
//! numbers are JSON numbers in Java notation, read exactly from their text. Swap
//! sizes stay in contracts; the registry carries the contract size.
//!
//! - [`HtxDecoder`] (the engine's `FrameDecoder`): inflate ([`inflate`]), then
//!   pings (both dialects), trades, BBO, books, klines, funding, liquidations,
//!   acks and errors;
//! - [`rule`]: the sequencing rules (spot `seqNum`/`prevSeqNum` with `req`
//!   images, swap `version` + 1, whole images);
//! - [`instruments`]: symbol and contract lists, polled open interest;
//! - [`encode`]: the same frames written out, for the simulator.

pub(crate) mod decode;
pub mod encode;
pub mod inflate;
pub mod instruments;
pub mod rule;

pub use decode::{interval_secs, HtxDecoder, MAX_FRAME_BYTES};
pub use inflate::Inflater;
pub use instruments::{decode_contract_info, decode_open_interest, decode_symbols};
pub use rule::HtxRule;
