//! tickd-gateway: serves the bus to subscribers.
//!
//! - [`protocol`]: the subscriber protocol (`docs/protocol.md`): stream names and
//!   patterns, control messages, and the JSON and binary encodings of records.
//! - [`fanout`]: the router from the bus to per-subscription bounded queues with
//!   slow-subscriber policies, and the books behind snapshot-on-subscribe.
//! - [`server`]: WebSocket (+ HTTP) and QUIC servers, TLS, API keys and limits.
//! - [`http`]: history, instruments, status, metrics and health endpoints.
//! - [`client`]: the Rust client used by `tickd tail` and the tests.

pub mod client;
pub mod config;
pub mod fanout;
pub mod http;
pub mod metrics;
pub mod protocol;
pub mod server;

pub use config::{ApiKeyConfig, GatewayConfig, KeyLimits, TlsFiles};
pub use server::{Gateway, GatewayError, GatewayHandle};
