//! tickd-feed: connections to venues.
//!
//! Venue-agnostic runtime pieces, one file per concern:
//! - [`runtime`]: one pinned OS thread per venue with a current-thread tokio runtime;
//! - [`ws`] / [`rest`] / [`endpoint`]: WebSocket and HTTP GET clients (rustls, ring);
//! - [`backoff`], [`watchdog`]: reconnect pacing and stale-stream detection;
//! - [`sequencer`], [`publisher`], [`status`], [`stats`]: what goes on the bus and
//!   what is counted.
//!
//! [`engine`] is the one venue engine (a sans-I/O core driven live or from a
//! capture); one folder per venue family implements its adapter: [`binance`] (spot
//! and USD-M). `docs/adding-a-venue.md` is the checklist for the next one.

pub mod backoff;
pub mod binance;
pub mod bybit;
pub mod capture;
pub mod coinbase;
pub mod connection;
pub mod endpoint;
pub mod engine;
pub mod events;
pub mod hop_latency;
pub mod host_pacer;
pub mod htx;
pub mod kraken;
pub mod merge;
pub mod okx;
pub mod publisher;
pub mod replay;
pub mod rest;
pub mod rest_budget;
pub mod runtime;
pub mod sequencer;
pub mod sim;
pub mod stats;
pub mod status;
pub mod venue;
pub mod watchdog;
pub mod ws;
