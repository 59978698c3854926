//! `tickd sim`: a loopback Binance (spot and USD-M futures) that speaks the real
//! protocols — WebSocket streams with control messages, limits, pings and lifetimes,
//! and the REST snapshot endpoints — fed by a synthetic market or a capture replay,
//! with faults injected on request. Tests drive it in-process:
//!
//! ```no_run
//! # async fn demo() -> Result<(), tickd_feed::sim::SimError> {
//! use tickd_feed::sim::{SimConfig, SimServer};
//! let sim = SimServer::start(SimConfig::default()).await?;
//! let url = format!("ws://{}/ws/btcusdt@depth", sim.local_addr());
//! # let _ = url;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod config;
mod control;
mod faults;
mod frames;
mod gaps;
mod generator;
mod market;
mod replay;
mod reshape;
mod rest;
mod routes;
mod server;
mod session;
mod state;

pub use config::{ConnectionRules, ReplayPace, SendTimeUnit, SimConfig, SimSource, SimSymbol};
pub use faults::{FaultConfig, FaultCounts, RestError, SkipDepth, Stall};
pub use market::{EventKind, SimEvent};
pub use replay::{load_capture, CaptureEntry};
pub use server::SimServer;
pub use state::{ConnTrades, GapRecord, SimMarketHandle, SimStats};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("capture file {path}: {source}")]
    Capture {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("capture file {path} line {line}: {msg}")]
    CaptureLine {
        path: std::path::PathBuf,
        line: usize,
        msg: String,
    },
    #[error("symbol {0} is not on binance or binance-usdm")]
    Venue(String),
}
