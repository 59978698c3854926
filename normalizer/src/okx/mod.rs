//! OKX v5 public market data (`okx`): spot (`BTC-USDT`), perpetual swaps
//! (`BTC-USDT-SWAP` → `BTC-USDT-PERP`, inverse `BTC-USD-SWAP` → `BTC-USD-PERP`) and dated
//! futures (`BTC-USDT-261225` → `BTC-USDT-20261225`).
//!
//! Wire format reference: `shared/exchanges/okx.md` (section numbers are cited in each
//! file). Sizes stay in the venue's unit: contracts for swaps and futures; the
//! instrument registry carries the contract value to convert them.
//!
//! - [`OkxDecoder`] (the engine's `FrameDecoder`): WebSocket text frames (every public channel tickd uses, acks,
//!   errors, notices, `pong`) → records and book events;
//! - [`rule`]: the engine's sequencing rule for OKX (`seqId`/`prevSeqId`, pushed
//!   snapshots with a REST splice fallback, the checksum): the generic book sync
//!   keeps OKX books with it;
//! - [`checksum`]: the CRC32 over the top 25 levels, verified whenever it is nonzero;
//! - [`instruments`]: `/api/v5/public/instruments` and `/api/v5/market/books` bodies;
//! - [`encode`]: the same frames written out, for the simulator;
//! - [`request`]: what a client sends (`ping`, subscribe/unsubscribe), both ways.

pub mod checksum;
mod decode;
pub mod encode;
mod frame;
pub mod instruments;
pub mod request;
pub mod rule;

pub use decode::{OkxDecoder, MAX_FRAME_BYTES};
pub use frame::{BookChannel, OkxBook, OkxFrame, NOTICE_SERVICE_UPGRADE};
pub use instruments::{decode_instruments, decode_rest_books};
pub use rule::{OkxBookSync, OkxRule};
