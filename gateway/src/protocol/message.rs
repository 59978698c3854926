//! Control messages: JSON objects, one per WebSocket text frame, or one per line on a
//! QUIC control stream.

use serde::{Deserialize, Serialize};

/// Sent in `hello`; bumped on any incompatible change (2: record layout 2 in binary
/// frames, and `hello` names the record layout).
pub const PROTOCOL_VERSION: u32 = 2;

/// A server `hello` without `records` is from before record layouts had versions: 1.
fn layout_1() -> u16 {
    1
}

/// Why a client cannot talk to a server that sent this `hello`.
pub fn check_hello(message: &ServerMessage) -> Result<(), String> {
    match message {
        ServerMessage::Hello { records, .. } if *records != tickd_bus::record::RECORD_VERSION => {
            Err(format!(
                "server sends record layout {records}; this client reads layout {} only \
                 (upgrade whichever side is older)",
                tickd_bus::record::RECORD_VERSION
            ))
        }
        _ => Ok(()),
    }
}

/// How data is encoded on a connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Text frames, one `data` object per record, prices as decimal strings.
    #[default]
    Json,
    /// Binary frames holding the records' own bytes, several per frame.
    Binary,
}

/// What the server does when a subscriber's queue is full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlowPolicy {
    /// Keep only the latest state: bbo keeps the newest quote; book drops the queued
    /// deltas and sends a fresh snapshot image; other channels drop with a gap notice.
    #[default]
    Conflate,
    /// Drop what doesn't fit and send a gap notice with the exact count.
    Drop,
    /// Close the connection with a reason.
    Disconnect,
}

/// Client → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Optional first message: choose the encoding and authenticate (QUIC has no URL,
    /// so this is how a QUIC client does both).
    Hello {
        #[serde(default)]
        id: Option<u64>,
        #[serde(default)]
        encoding: Option<Encoding>,
        #[serde(default)]
        api_key: Option<String>,
    },
    Subscribe {
        #[serde(default)]
        id: Option<u64>,
        streams: Vec<String>,
        #[serde(default)]
        policy: Option<SlowPolicy>,
        /// Replay from this time (RFC 3339 or ns since the epoch) out of the journal,
        /// then continue live with no gap or duplicate at the seam.
        #[serde(default)]
        from: Option<TimeSpec>,
    },
    Unsubscribe {
        #[serde(default)]
        id: Option<u64>,
        streams: Vec<String>,
    },
    /// List this connection's subscriptions.
    List {
        #[serde(default)]
        id: Option<u64>,
    },
    Ping {
        #[serde(default)]
        id: Option<u64>,
    },
}

impl ClientMessage {
    pub fn id(&self) -> Option<u64> {
        match self {
            ClientMessage::Hello { id, .. }
            | ClientMessage::Subscribe { id, .. }
            | ClientMessage::Unsubscribe { id, .. }
            | ClientMessage::List { id }
            | ClientMessage::Ping { id } => *id,
        }
    }
}

/// A time on the wire: nanoseconds since the epoch, or an RFC 3339 string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimeSpec {
    Nanos(u64),
    Text(String),
}

/// Server → client (control and JSON data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First message on every connection.
    Hello {
        server: String,
        protocol: u32,
        /// Record layout of binary frames (`tickd_bus::record::RECORD_VERSION`).
        #[serde(default = "layout_1")]
        records: u16,
        encoding: Encoding,
        heartbeat_ms: u64,
    },
    /// A request succeeded; `streams` lists what a subscribe's patterns resolved to.
    Ack {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<u64>,
        op: String,
        #[serde(default)]
        streams: Vec<String>,
    },
    Error {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<u64>,
        code: ErrorCode,
        message: String,
    },
    Subscriptions {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<u64>,
        streams: Vec<String>,
    },
    Pong {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<u64>,
    },
    /// Sent when nothing else was sent for `heartbeat_ms`.
    Heartbeat { ts: u64 },
    /// `lost` records on `stream` were not delivered to this subscriber; the stream's
    /// sequence numbers jump by the same amount.
    Gap {
        stream: String,
        lost: u64,
        reason: String,
    },
    /// The server is closing the connection; `reason` says why.
    Closing { reason: String },
}

/// Error codes, stable for programs to match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or not a JSON object.
    BadJson,
    /// `op` missing or not one of hello, subscribe, unsubscribe, list, ping.
    UnknownOp,
    /// A field is missing, of the wrong type, or unknown.
    BadRequest,
    BadPattern,
    UnknownChannel,
    UnknownVenue,
    /// The pattern matches no stream the server has.
    NoSuchStream,
    TooManySubscriptions,
    TooManyPendingRequests,
    FrameTooLarge,
    RateLimited,
    Unauthorized,
    BadTime,
    /// Binary frames are not accepted from clients.
    UnexpectedBinary,
    Internal,
}

impl ServerMessage {
    pub fn error(id: Option<u64>, code: ErrorCode, message: impl Into<String>) -> Self {
        ServerMessage::Error {
            id,
            code,
            message: message.into(),
        }
    }

    pub fn to_json(&self) -> String {
        // Serializing these plain enums cannot fail.
        serde_json::to_string(self)
            .unwrap_or_else(|_| r#"{"type":"error","code":"internal","message":"encode"}"#.into())
    }
}

/// Parse one client message, mapping every failure to the error to send back.
/// The `id` of a control message, read without the rest (for a refusal that must
/// still name the request it refuses).
pub fn request_id(text: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: Option<u64>,
    }
    serde_json::from_slice::<Id>(text).ok()?.id
}

pub fn parse_client_message(
    text: &[u8],
) -> Result<ClientMessage, (Option<u64>, ErrorCode, String)> {
    let value: serde_json::Value = serde_json::from_slice(text)
        .map_err(|e| (None, ErrorCode::BadJson, format!("not valid JSON: {e}")))?;
    let object = value.as_object().ok_or((
        None,
        ErrorCode::BadJson,
        "expected a JSON object like {\"op\":\"ping\"}".to_string(),
    ))?;
    let id = object.get("id").and_then(serde_json::Value::as_u64);
    match object.get("op").and_then(serde_json::Value::as_str) {
        Some("hello" | "subscribe" | "unsubscribe" | "list" | "ping") => {}
        Some(op) => {
            return Err((
                id,
                ErrorCode::UnknownOp,
                format!("unknown op {op:?}; ops: hello, subscribe, unsubscribe, list, ping"),
            ))
        }
        None => {
            return Err((
                id,
                ErrorCode::UnknownOp,
                "missing \"op\"; ops: hello, subscribe, unsubscribe, list, ping".to_string(),
            ))
        }
    }
    serde_json::from_value(value).map_err(|e| (id, ErrorCode::BadRequest, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_client_messages() {
        let msg = parse_client_message(
            br#"{"op":"subscribe","id":7,"streams":["trades.binance.*"],"policy":"drop"}"#,
        )
        .unwrap();
        assert_eq!(
            msg,
            ClientMessage::Subscribe {
                id: Some(7),
                streams: vec!["trades.binance.*".into()],
                policy: Some(SlowPolicy::Drop),
                from: None
            }
        );
        let msg = parse_client_message(
            br#"{"op":"subscribe","streams":["book.okx.BTC-USDT"],"from":"2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert!(matches!(
            msg,
            ClientMessage::Subscribe {
                from: Some(TimeSpec::Text(_)),
                ..
            }
        ));
        assert_eq!(
            parse_client_message(br#"{"op":"ping"}"#).unwrap(),
            ClientMessage::Ping { id: None }
        );
    }

    #[test]
    fn every_bad_message_gets_a_code_and_the_request_id() {
        let cases: [(&[u8], ErrorCode, Option<u64>); 7] = [
            (b"not json", ErrorCode::BadJson, None),
            (b"[1,2]", ErrorCode::BadJson, None),
            (br#"{"id":3}"#, ErrorCode::UnknownOp, Some(3)),
            (br#"{"op":"launch","id":4}"#, ErrorCode::UnknownOp, Some(4)),
            (
                br#"{"op":"subscribe","id":5}"#,
                ErrorCode::BadRequest,
                Some(5),
            ),
            (
                br#"{"op":"subscribe","id":6,"streams":"x"}"#,
                ErrorCode::BadRequest,
                Some(6),
            ),
            (
                br#"{"op":"ping","id":8,"extra":true}"#,
                ErrorCode::BadRequest,
                Some(8),
            ),
        ];
        for (text, code, id) in cases {
            let (got_id, got_code, message) = parse_client_message(text).unwrap_err();
            assert_eq!(
                (got_id, got_code),
                (id, code),
                "{}",
                String::from_utf8_lossy(text)
            );
            assert!(!message.is_empty());
        }
    }

    #[test]
    fn server_messages_are_tagged_json() {
        let ack = ServerMessage::Ack {
            id: Some(1),
            op: "subscribe".into(),
            streams: vec!["trades.binance.BTC-USDT".into()],
        };
        assert_eq!(
            ack.to_json(),
            r#"{"type":"ack","id":1,"op":"subscribe","streams":["trades.binance.BTC-USDT"]}"#
        );
        let err = ServerMessage::error(None, ErrorCode::TooManySubscriptions, "limit 1000");
        assert_eq!(
            err.to_json(),
            r#"{"type":"error","code":"too_many_subscriptions","message":"limit 1000"}"#
        );
        let back: ServerMessage = serde_json::from_str(&err.to_json()).unwrap();
        assert_eq!(back, err);
    }
}
