//! One line of a capture file.

use serde::{Deserialize, Serialize};

/// What a line holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureKind {
    /// A WebSocket data frame, as received.
    Ws,
    /// A REST response body the feed used (snapshot, instrument list, open interest).
    Rest,
    /// The recorder dropped frames (its queue was full): `data` is how many.
    Loss,
    /// A connection opened (`url`, `conn`); `data` is the reason's name.
    Connect,
    /// A connection closed; `data` is the reason's name.
    Disconnect,
}

/// One frame or response, owned (what readers yield).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureLine {
    /// When the frame left the socket (ns since the Unix epoch).
    pub ts_recv: u64,
    /// The venue name users type (`binance`, `binance-usdm`, ...).
    pub venue: String,
    /// The feed's connection id (0 for REST).
    #[serde(default)]
    pub conn: u64,
    pub kind: CaptureKind,
    /// The connection's or request's URL.
    #[serde(default)]
    pub url: String,
    /// The raw text (absent for a binary frame).
    #[serde(default)]
    pub data: String,
    /// A binary frame, exactly as received, base64 (standard alphabet, padded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_b64: Option<String>,
}

/// The same fields, borrowed (what the writer serializes without copying).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CaptureLineRef<'a> {
    pub ts_recv: u64,
    pub venue: &'a str,
    pub conn: u64,
    pub kind: CaptureKind,
    pub url: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub data: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_b64: Option<&'a str>,
}

impl CaptureLine {
    pub fn as_ref(&self) -> CaptureLineRef<'_> {
        CaptureLineRef {
            ts_recv: self.ts_recv,
            venue: &self.venue,
            conn: self.conn,
            kind: self.kind,
            url: &self.url,
            data: &self.data,
            data_b64: self.data_b64.as_deref(),
        }
    }

    /// The frame's bytes and whether it was binary; `None` for base64 that does not
    /// decode.
    pub fn frame(&self) -> Option<(std::borrow::Cow<'_, [u8]>, bool)> {
        use base64::Engine as _;
        match &self.data_b64 {
            Some(b64) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .ok()
                .map(|bytes| (bytes.into(), true)),
            None => Some((self.data.as_bytes().into(), false)),
        }
    }
}

/// The path and the upper-cased `symbol=` query value of a REST URL (absolute or
/// just the request target), to match recorded bodies to requests.
pub fn request_target(url: &str) -> (&str, String) {
    let target = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let symbol = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("symbol="))
        .unwrap_or("")
        .to_ascii_uppercase();
    (path, symbol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_shape_round_trips() {
        let text = r#"{"ts_recv":17,"venue":"binance","conn":2,"kind":"ws","url":"ws://h/stream","data":"{\"e\":\"trade\"}"}"#;
        let line: CaptureLine = serde_json::from_str(text).unwrap();
        assert_eq!(line.kind, CaptureKind::Ws);
        assert_eq!(line.data, r#"{"e":"trade"}"#);
        assert_eq!(serde_json::to_string(&line.as_ref()).unwrap(), text);
        let rest: CaptureLine =
            serde_json::from_str(r#"{"ts_recv":1,"venue":"binance","kind":"rest","data":"{}"}"#)
                .unwrap();
        assert_eq!((rest.conn, rest.url.as_str()), (0, ""));
        assert!(serde_json::from_str::<CaptureLine>(
            r#"{"ts_recv":1,"venue":"binance","kind":"fax","data":""}"#
        )
        .is_err());
    }

    #[test]
    fn request_targets() {
        let (path, symbol) =
            request_target("https://api.binance.com/api/v3/depth?symbol=btcusdt&limit=5");
        assert_eq!((path, symbol.as_str()), ("/api/v3/depth", "BTCUSDT"));
        assert_eq!(
            request_target("/fapi/v1/exchangeInfo").0,
            "/fapi/v1/exchangeInfo"
        );
        assert_eq!(request_target("http://h:1").0, "");
    }
}
