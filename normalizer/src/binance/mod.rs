//! Binance spot (`binance`) and USD-M futures (`binance-usdm`).
//!
//! Wire format reference: `shared/exchanges/binance_spot.md` and
//! `binance_usdm_futures.md` (copied facts are cited in each file).

pub(crate) mod decode;
mod depth;
pub mod encode;
mod market;
mod rule;
pub mod weights;

pub use crate::engine::{BookSyncStats, SyncAction, SyncState};
pub use decode::{
    decode_exchange_info, decode_open_interest, decode_rest_depth, venue_of, BinanceDecoder,
    BinanceFrame, JsonBackend, TimeUnit, MAX_EXCHANGE_INFO_BYTES, MAX_FRAME_BYTES,
};
pub use depth::{DepthDiff, DepthSnapshot};
pub use market::BinanceMarket;
pub use rule::BinanceBookSync;
pub use weights::{depth_weight, SnapshotBudget};
