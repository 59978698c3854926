//! Routing a frame to its message family without a full parse when the frame has
//! Binance's usual key order (`{"stream":"..","data":..}`, `{"e":"..",..}`), and a
//! lazily-parsed probe of the top-level keys when it does not.

use serde::de::IgnoredAny;
use serde::Deserialize;
use sonic_rs::LazyValue;

use super::json;
use crate::error::DecodeError;

/// Leading/trailing JSON whitespace removed.
pub(crate) fn trim(bytes: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let start = bytes.iter().position(|b| !is_ws(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ws(b))
        .map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or(&[])
}

/// A JSON string without escapes starting right at `bytes[0]` (after the opening
/// quote): returns it and the rest after the closing quote. `None` on escapes or
/// control characters, which send the frame to the slow path.
fn plain_string(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let end = bytes
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    if bytes.get(end) != Some(&b'"') {
        return None;
    }
    let text = std::str::from_utf8(bytes.get(..end)?).ok()?;
    Some((text, bytes.get(end + 1..)?))
}

/// `{"stream":"<name>","data":<body>}` in exactly that layout (compact, as Binance
/// sends it): the stream name and the body. Anything else returns `None`. The body
/// is not validated here; a body that fails to parse is retried on the slow path.
pub(crate) fn split_wrapper(frame: &[u8]) -> Option<(&str, &[u8])> {
    let rest = frame.strip_prefix(b"{\"stream\":\"")?;
    let (stream, rest) = plain_string(rest)?;
    let rest = rest.strip_prefix(b",\"data\":")?;
    let body = rest.strip_suffix(b"}")?;
    Some((stream, trim(body)))
}

/// The event type of a body that starts `{"e":"<type>"`.
pub(crate) fn leading_event_type(body: &[u8]) -> Option<&str> {
    let rest = body.strip_prefix(b"{\"e\":\"")?;
    plain_string(rest).map(|(event, _)| event)
}

/// Which shape a body without an `e` key has, judged from its first key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leading {
    /// `{"u":` — spot bookTicker.
    BookTicker,
    /// `{"lastUpdateId":` — spot partial depth (or a REST book image).
    BookImage,
}

pub(crate) fn leading_shape(body: &[u8]) -> Option<Leading> {
    if body.starts_with(b"{\"u\":") {
        Some(Leading::BookTicker)
    } else if body.starts_with(b"{\"lastUpdateId\":") {
        Some(Leading::BookImage)
    } else {
        None
    }
}

/// The top-level keys that identify a frame, values left unparsed.
#[derive(Deserialize)]
pub(crate) struct Probe<'a> {
    #[serde(borrow)]
    pub stream: Option<&'a str>,
    #[serde(borrow)]
    pub data: Option<LazyValue<'a>>,
    #[serde(borrow)]
    pub e: Option<&'a str>,
    /// Present and non-null on list/property replies (`null` reads as absent).
    #[serde(borrow)]
    pub result: Option<LazyValue<'a>>,
    #[serde(borrow)]
    pub id: Option<LazyValue<'a>>,
    pub code: Option<i64>,
    pub msg: Option<String>,
    pub method: Option<IgnoredAny>,
    #[serde(rename = "lastUpdateId")]
    pub last_update_id: Option<IgnoredAny>,
    pub u: Option<IgnoredAny>,
    pub b: Option<IgnoredAny>,
}

/// Parse the top-level keys. sonic-rs defers UTF-8 errors in skipped values and
/// builds `LazyValue` text from them unchecked, so the frame is validated first.
pub(crate) fn probe(frame: &[u8]) -> Result<Probe<'_>, DecodeError> {
    std::str::from_utf8(frame).map_err(DecodeError::json)?;
    json::sonic(frame)
}

/// The body of a `data` value as a slice of the frame.
pub(crate) fn lazy_bytes<'a>(value: &LazyValue<'a>) -> Option<&'a [u8]> {
    match value.as_raw_cow() {
        std::borrow::Cow::Borrowed(text) => Some(text.as_bytes()),
        std::borrow::Cow::Owned(_) => None,
    }
}

/// Lower-case stream symbol (`ethusdt_210625@depth20`) as the upper-case raw symbol
/// in a stack buffer, so looking it up does not allocate.
pub(crate) fn stream_symbol<'b>(stream: &str, buf: &'b mut [u8; 32]) -> Option<&'b str> {
    let symbol = stream.split('@').next()?;
    if symbol.is_empty() || symbol.len() > buf.len() {
        return None;
    }
    let out = buf.get_mut(..symbol.len())?;
    for (dst, src) in out.iter_mut().zip(symbol.bytes()) {
        *dst = src.to_ascii_uppercase();
    }
    std::str::from_utf8(out).ok()
}

/// `<sym>@depth5`, `@depth10`, `@depth20` (with an optional `@100ms`/`@500ms`):
/// streams that carry a full top-N image, not a diff.
pub(crate) fn is_partial_depth_stream(stream: &str) -> bool {
    let mut parts = stream.split('@');
    let _symbol = parts.next();
    matches!(parts.next(), Some("depth5" | "depth10" | "depth20"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_combined_wrapper() {
        let frame = br#"{"stream":"btcusdt@trade","data":{"e":"trade"}}"#;
        let (stream, body) = split_wrapper(frame).unwrap();
        assert_eq!(stream, "btcusdt@trade");
        assert_eq!(body, br#"{"e":"trade"}"#);
        assert_eq!(leading_event_type(body), Some("trade"));
        assert!(split_wrapper(br#"{"stream":"a\"b","data":{}}"#).is_none());
        assert!(split_wrapper(br#"{"data":{},"stream":"x"}"#).is_none());
        assert!(split_wrapper(br#"{"stream":"x"#).is_none());
    }

    #[test]
    fn stream_symbols_upper_case_without_allocating() {
        let mut buf = [0u8; 32];
        assert_eq!(
            stream_symbol("ethusdt_210625@depth20", &mut buf),
            Some("ETHUSDT_210625")
        );
        assert_eq!(stream_symbol("@depth", &mut buf), None);
        assert_eq!(stream_symbol(&"a".repeat(40), &mut buf), None);
        assert!(is_partial_depth_stream("ethusdt@depth20@100ms"));
        assert!(!is_partial_depth_stream("ethusdt@depth@100ms"));
        assert!(!is_partial_depth_stream("ethusdt@depth"));
    }

    #[test]
    fn trims_whitespace() {
        assert_eq!(trim(b"  {}\n"), b"{}");
        assert_eq!(trim(b"   "), b"");
    }
}
