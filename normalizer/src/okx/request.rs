//! What a client sends OKX (`okx.md` §2, §3): the text `ping`, and
//! `{"id":..,"op":"subscribe"|"unsubscribe","args":[{"channel":..,"instId":..}]}`.
//! Written by the feed, read by the simulator: one definition for both sides.

use serde::{Deserialize, Serialize};

use crate::binance::decode::json;
use crate::error::DecodeError;

/// The largest request OKX accepts: all `args` of one request together ≤ 64 KB.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Subscribe,
    Unsubscribe,
}

/// One subscription argument: a channel and what it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SubArg {
    pub channel: String,
    #[serde(rename = "instId", default, skip_serializing_if = "Option::is_none")]
    pub inst_id: Option<String>,
    #[serde(rename = "instType", default, skip_serializing_if = "Option::is_none")]
    pub inst_type: Option<String>,
    #[serde(
        rename = "instFamily",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inst_family: Option<String>,
}

impl SubArg {
    /// A per-instrument channel (`books`, `trades`, ...).
    pub fn inst(channel: &str, inst_id: &str) -> Self {
        Self {
            channel: channel.into(),
            inst_id: Some(inst_id.into()),
            inst_type: None,
            inst_family: None,
        }
    }

    /// A per-instType channel (`liquidation-orders`).
    pub fn inst_type(channel: &str, inst_type: &str) -> Self {
        Self {
            channel: channel.into(),
            inst_id: None,
            inst_type: Some(inst_type.into()),
            inst_family: None,
        }
    }
}

/// A subscribe or unsubscribe request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Echoed in the replies (≤ 32 alphanumerics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub op: Op,
    pub args: Vec<SubArg>,
}

impl Request {
    pub fn new(op: Op, id: Option<u64>, args: Vec<SubArg>) -> Self {
        Self {
            id: id.map(|id| id.to_string()),
            op,
            args,
        }
    }

    /// The request as the text frame to send.
    pub fn to_text(&self) -> String {
        // A struct of strings always serializes.
        sonic_rs::to_string(self).unwrap_or_default()
    }
}

/// A client frame as the server reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// The text `ping` keep-alive (answer `pong`).
    Ping,
    Request(Request),
}

/// Read a client frame; anything else is a typed error (OKX answers `60012`).
pub fn decode_client_frame(frame: &[u8]) -> Result<ClientFrame, DecodeError> {
    if frame.len() > MAX_REQUEST_BYTES {
        return Err(DecodeError::FrameTooLarge {
            len: frame.len(),
            max: MAX_REQUEST_BYTES,
        });
    }
    if frame == b"ping" {
        return Ok(ClientFrame::Ping);
    }
    let request: Request = json::sonic(frame)?;
    if request
        .id
        .as_ref()
        .is_some_and(|id| id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(DecodeError::OutOfRange { field: "id" });
    }
    Ok(ClientFrame::Request(request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_match_the_sample() {
        let request = Request::new(
            Op::Subscribe,
            None,
            vec![
                SubArg::inst("books", "BTC-JPY"),
                SubArg::inst("books", "ETH-JPY"),
            ],
        );
        // `samples/okx/control.jsonl` line 1, byte for byte.
        assert_eq!(
            request.to_text(),
            r#"{"op":"subscribe","args":[{"channel":"books","instId":"BTC-JPY"},{"channel":"books","instId":"ETH-JPY"}]}"#
        );
        let with_id = Request::new(
            Op::Unsubscribe,
            Some(7),
            vec![SubArg::inst_type("liquidation-orders", "SWAP")],
        );
        assert_eq!(
            decode_client_frame(with_id.to_text().as_bytes()),
            Ok(ClientFrame::Request(with_id))
        );
        assert_eq!(decode_client_frame(b"ping"), Ok(ClientFrame::Ping));
    }

    #[test]
    fn bad_requests_are_typed_errors() {
        for bad in [
            &b"pong"[..],
            br#"{"op":"login","args":[]}"#,
            br#"{"op":"subscribe"}"#,
            br#"{"op":"subscribe","args":[{"instId":"X"}]}"#,
            br#"{"id":"not-alnum","op":"subscribe","args":[]}"#,
        ] {
            assert!(
                decode_client_frame(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let huge = vec![b' '; MAX_REQUEST_BYTES + 1];
        assert!(matches!(
            decode_client_frame(&huge),
            Err(DecodeError::FrameTooLarge { .. })
        ));
    }
}
