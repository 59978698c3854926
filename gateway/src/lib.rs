//! tickd-gateway: serves the bus to subscribers.
//!
//! - [`protocol`]: the subscriber protocol (`docs/protocol.md`): stream names and
//!   patterns, control messages, and the JSON and binary encodings of records.

pub mod protocol;
