//! tickd-normalizer: each venue's wire format, both directions, and the order book engine.
//!
//! Pure: bytes in, records out. No sockets, no clocks, no threads, so everything here
//! is tested on recorded frames and fuzzed.
//!
//! - [`binance`]: Binance spot and USD-M futures (decode, encode for the simulator,
//!   and the depth-sync procedure);
//! - [`coinbase`]: Coinbase Advanced Trade (per-connection sequence numbers);
//! - [`kraken`]: Kraken spot WebSocket v2 (checksummed books);
//! - [`okx`]: OKX v5;
//! - [`book`]: per-instrument L2 books;
//! - [`bybit`]: Bybit v5 spot, linear and inverse (decode, the `u` rule, requests);
//! - [`engine`]: the shapes a venue implements (frame decoder, book events,
//!   sequencing rule) and the one generic book sync;
//! - [`sink`]: where decoded records go;
//! - [`symbols`]: raw venue symbol → instrument id, for the hot path.

pub mod binance;
pub mod book;
pub mod bybit;
pub mod coinbase;
pub mod engine;
pub mod error;
pub mod kraken;
pub mod okx;
pub mod sink;
pub mod stats;
pub mod symbols;

pub use book::Level;
pub use sink::RecordSink;
pub use symbols::SymbolMap;
