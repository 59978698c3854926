//! `tickd sim`: a loopback exchange that speaks each venue's real protocol —
//! WebSocket streams with control messages, limits, keep-alives and lifetimes, and the
//! REST snapshot endpoints — fed by one synthetic market with true books or a capture
//! replay, with faults injected on request. The venue-specific part is a small
//! [`SimProtocol`] each venue implements in its own folder (Binance:
//! `feed/src/binance/sim/`, OKX: `feed/src/okx/sim/`, Kraken:
//! `feed/src/kraken/sim/`), found through the adapter
//! registry; see `docs/adding-a-venue.md`. Tests drive it in-process:
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
mod faults;
mod gaps;
mod generator;
mod market;
mod per_ip;
mod protocol;
mod replay;
mod rest;
mod server;
mod session;
mod state;

pub use config::{ConnectionRules, ReplayPace, SendTimeUnit, SimConfig, SimSource, SimSymbol};
pub use faults::FaultCounters;
pub use faults::{FaultConfig, FaultCounts, RestError, SkipDepth, Stall};
pub(crate) use market::apply as apply_levels;
pub use market::{EventKind, RecentTrade, SimEvent};
pub use protocol::{
    now_ns, protocol_for, protocols, FrameKind, Frames, Inbound, MarketTraits, Response, SessionCx,
    SimProtocol, SimSession, SimView,
};
pub use replay::ReplayFrame;
pub use replay::{load_capture, CaptureEntry};
pub use rest::query_param;
pub use server::SimServer;
pub use state::{ConnTrades, GapRecord, SimMarketHandle, SimStats};

use tickd_bus::Venue;

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
    #[error("symbol {1}: {0} has no simulator protocol (see docs/adding-a-venue.md)")]
    Venue(Venue, String),
}
