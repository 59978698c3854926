//! Bybit v5 public market data (`bybit`): spot (`BTCUSDT` → `BTC-USDT`), linear
//! perpetuals and futures (`BTCUSDT` → `BTC-USDT-PERP`, `BTCPERP` → `BTC-USDC-PERP`,
//! `BTC-26DEC25` → `BTC-USDT-20251226`) and inverse contracts (`BTCUSD` →
//! `BTC-USD-PERP`, `BTCUSDZ25` → `BTC-USD-20251226`).
//!
//! Wire format reference: `shared/exchanges/bybit.md` (section numbers are cited in
//! each file). Bybit serves each category on its own URL and reuses raw symbols
//! across them (`BTCUSDT` is the spot pair on `/v5/public/spot` and the perpetual on
//! `/v5/public/linear`), so tickd's raw symbol is the category and the symbol
//! (`spot/BTCUSDT`, `linear/BTCUSDT`, [`Category::raw_symbol`]) and the decoder is
//! told which category a frame's connection serves (`FrameDecoder::set_market`).
//!
//! - [`BybitDecoder`] (the engine's `FrameDecoder`): `publicTrade`, `orderbook.N`
//!   (book events; `orderbook.1` is the best bid/offer), `tickers` (snapshot + deltas
//!   merged into full state before mark/index/funding and open-interest records),
//!   `allLiquidation` (and the older `liquidation`), `kline` (venue bars), pongs,
//!   subscribe acks and failures;
//! - [`rule`]: the engine's sequencing rules (`u` contiguous, pushed snapshots,
//!   `u == 1` after a service restart replaces the book; spot `orderbook.full`
//!   deltas spliced onto a REST image by `seq`);
//! - [`instruments`]: `/v5/market/instruments-info` pages (cursor) and
//!   `/v5/market/orderbook` / `full_orderbook` bodies;
//! - [`request`]: what a client sends (`ping`, subscribe/unsubscribe), both ways;
//! - [`ticker`]: the merged ticker state.

mod category;
mod decode;
pub mod encode;
pub mod instruments;
pub mod request;
pub mod rule;
pub mod ticker;

pub use category::Category;
pub use decode::{
    kline_interval_name, kline_interval_secs, BybitDecoder, KLINE_INTERVALS, MAX_FRAME_BYTES,
};
pub use instruments::{decode_instruments, decode_rest_book, next_page_cursor};
pub use rule::{BybitBookSync, BybitRule};
