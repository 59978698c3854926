//! What a client sends Bybit (`bybit.md` §2, §3): `{"op":"ping"}` and
//! `{"req_id":..,"op":"subscribe"|"unsubscribe","args":["orderbook.50.BTCUSDT",..]}`.
//! Written by the feed, read by the simulator: one definition for both sides.

use serde::{Deserialize, Serialize};

use crate::binance::decode::json;
use crate::error::DecodeError;

/// The `args` of one public connection must stay under this many characters in
/// total (`bybit.md` §2).
pub const MAX_ARGS_CHARS: usize = 21_000;

/// Spot accepts at most this many args per subscribe request (§2).
pub const SPOT_MAX_ARGS_PER_REQUEST: usize = 10;

/// Client frames above this size are refused before parsing.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Subscribe,
    Unsubscribe,
    Ping,
}

impl Op {
    pub const fn as_str(self) -> &'static str {
        match self {
            Op::Subscribe => "subscribe",
            Op::Unsubscribe => "unsubscribe",
            Op::Ping => "ping",
        }
    }
}

/// A client request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Echoed in the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_id: Option<String>,
    pub op: Op,
    /// Topics (`publicTrade.BTCUSDT`); none for `ping`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

impl Request {
    pub fn new(op: Op, req_id: Option<u64>, args: Vec<String>) -> Self {
        Self {
            req_id: req_id.map(|id| id.to_string()),
            op,
            args,
        }
    }

    /// The keep-alive: `{"op":"ping"}`.
    pub fn ping() -> Self {
        Self::new(Op::Ping, None, Vec::new())
    }

    /// The request as the text frame to send.
    pub fn to_text(&self) -> String {
        // A struct of strings always serializes.
        sonic_rs::to_string(self).unwrap_or_default()
    }
}

/// How many characters `args` count toward [`MAX_ARGS_CHARS`].
pub fn args_chars<S: AsRef<str>>(args: &[S]) -> usize {
    args.iter().map(|a| a.as_ref().len()).sum()
}

/// Read a client frame; anything else is a typed error.
pub fn decode_client_frame(frame: &[u8]) -> Result<Request, DecodeError> {
    if frame.len() > MAX_REQUEST_BYTES {
        return Err(DecodeError::FrameTooLarge {
            len: frame.len(),
            max: MAX_REQUEST_BYTES,
        });
    }
    json::sonic(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_match_the_samples() {
        let subscribe = Request {
            req_id: Some("test".into()),
            op: Op::Subscribe,
            args: vec![
                "orderbook.1.BTCUSDT".into(),
                "publicTrade.BTCUSDT".into(),
                "orderbook.1.ETHUSDT".into(),
            ],
        };
        // `samples/bybit/control.jsonl` line 1, byte for byte.
        assert_eq!(
            subscribe.to_text(),
            r#"{"req_id":"test","op":"subscribe","args":["orderbook.1.BTCUSDT","publicTrade.BTCUSDT","orderbook.1.ETHUSDT"]}"#
        );
        assert_eq!(Request::ping().to_text(), r#"{"op":"ping"}"#);
        let unsubscribe =
            br#"{"op":"unsubscribe","args":["publicTrade.ETHUSD"],"req_id":"customised_id"}"#;
        assert_eq!(
            decode_client_frame(unsubscribe),
            Ok(Request {
                req_id: Some("customised_id".into()),
                op: Op::Unsubscribe,
                args: vec!["publicTrade.ETHUSD".into()],
            })
        );
        assert_eq!(
            decode_client_frame(br#"{"req_id":"100001","op":"ping"}"#),
            Ok(Request {
                req_id: Some("100001".into()),
                op: Op::Ping,
                args: Vec::new(),
            })
        );
        assert_eq!(args_chars(&subscribe.args), 19 + 19 + 19);
    }

    #[test]
    fn bad_requests_are_typed_errors() {
        for bad in [
            &b"ping"[..],
            br#"{"op":"login","args":[]}"#,
            br#"{"args":["x"]}"#,
            br#"{"op":"subscribe","args":[1]}"#,
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
