//! The end-to-end latency harness behind `tickd-bench` (`scripts/bench.sh`).
//!
//! Everything runs in one process over 127.0.0.1: the exchange simulator stamps each
//! book event's `E` with its send time (µs); the Binance feed decodes it into records
//! (`ts_event` = send time, `ts_recv` = frame read); the harness's bus consumer and
//! the gateway's subscribers record latency per hop in hdrhistograms. The machine's
//! floor, a plain TCP ping-pong of the same message size, runs first in the same
//! invocation, so every result also reads as a ratio to it.

pub mod compare;
pub mod floor;
pub mod hist;
pub mod nats;
pub mod procstat;
pub mod report;
pub mod scenario;
pub mod subscribers;
pub mod sweep;
