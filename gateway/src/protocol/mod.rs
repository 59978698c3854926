//! The subscriber protocol, the same over WebSocket and QUIC. Written up for users in
//! `docs/protocol.md`; this module is its one implementation, used by the servers and
//! by the client library alike.

pub mod binary;
pub mod json;
mod message;
mod pattern;
mod stream;

pub use message::{
    check_hello, parse_client_message, request_id, ClientMessage, Encoding, ErrorCode,
    ServerMessage, SlowPolicy, TimeSpec, PROTOCOL_VERSION,
};
pub use pattern::{Pattern, PatternError};
pub use stream::{format_interval, parse_interval, StreamChannel, StreamKey};
