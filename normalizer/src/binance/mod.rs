//! Binance spot (`binance`) and USD-M futures (`binance-usdm`).
//!
//! Wire format reference: `shared/exchanges/binance_spot.md` and
//! `binance_usdm_futures.md` (copied facts are cited in each file).

mod depth;

pub use depth::{DepthDiff, DepthSnapshot};
