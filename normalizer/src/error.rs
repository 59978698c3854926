//! Why a venue frame could not be decoded. Every variant says what was wrong and
//! where; [`DecodeError::kind`] is the label the decode counters use.

use std::fmt;

use tickd_bus::DecimalError;

/// A frame (or REST body) that did not decode. Hostile or broken input lands here,
/// never in a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    FrameTooLarge { len: usize, max: usize },
    #[error("malformed JSON: {detail}")]
    MalformedJson { detail: String },
    #[error("JSON nested deeper than {max} levels")]
    NestingTooDeep { max: usize },
    #[error("missing field {field:?}")]
    MissingField { field: &'static str },
    #[error("bad decimal in field {field:?}: {error}")]
    BadDecimal {
        field: &'static str,
        error: DecimalError,
    },
    #[error("field {field:?} is out of range")]
    OutOfRange { field: &'static str },
    #[error("unknown event type {event}")]
    UnknownEvent { event: ShortText },
    #[error("unknown message shape (no event type, control reply or book image)")]
    UnknownMessage,
    #[error("unknown symbol {symbol}")]
    UnknownSymbol { symbol: ShortText },
    #[error("binary frame of {len} bytes on a venue that sends only text")]
    UnexpectedBinary { len: usize },
    /// A compressed frame (HTX gzip) that does not inflate: bad header, bad
    /// deflate data, a truncated member, a checksum or length mismatch.
    #[error("bad compressed frame: {detail}")]
    BadCompression { detail: &'static str },
    /// A compressed frame that inflates past the configured limit (a gzip bomb):
    /// inflating stops there, memory stays bounded.
    #[error("compressed frame inflates past the {max}-byte limit")]
    InflateLimit { max: usize },
}

/// The kind of a [`DecodeError`], for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodeErrorKind {
    FrameTooLarge,
    MalformedJson,
    NestingTooDeep,
    MissingField,
    BadDecimal,
    OutOfRange,
    UnknownEvent,
    UnknownMessage,
    UnknownSymbol,
    UnexpectedBinary,
    BadCompression,
    InflateLimit,
}

impl DecodeErrorKind {
    pub const ALL: [DecodeErrorKind; 12] = [
        DecodeErrorKind::FrameTooLarge,
        DecodeErrorKind::MalformedJson,
        DecodeErrorKind::NestingTooDeep,
        DecodeErrorKind::MissingField,
        DecodeErrorKind::BadDecimal,
        DecodeErrorKind::OutOfRange,
        DecodeErrorKind::UnknownEvent,
        DecodeErrorKind::UnknownMessage,
        DecodeErrorKind::UnknownSymbol,
        DecodeErrorKind::UnexpectedBinary,
        DecodeErrorKind::BadCompression,
        DecodeErrorKind::InflateLimit,
    ];
    pub const COUNT: usize = Self::ALL.len();

    /// Label for metrics and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            DecodeErrorKind::FrameTooLarge => "frame_too_large",
            DecodeErrorKind::MalformedJson => "malformed_json",
            DecodeErrorKind::NestingTooDeep => "nesting_too_deep",
            DecodeErrorKind::MissingField => "missing_field",
            DecodeErrorKind::BadDecimal => "bad_decimal",
            DecodeErrorKind::OutOfRange => "out_of_range",
            DecodeErrorKind::UnknownEvent => "unknown_event",
            DecodeErrorKind::UnknownMessage => "unknown_message",
            DecodeErrorKind::UnknownSymbol => "unknown_symbol",
            DecodeErrorKind::UnexpectedBinary => "unexpected_binary",
            DecodeErrorKind::BadCompression => "bad_compression",
            DecodeErrorKind::InflateLimit => "inflate_limit",
        }
    }

    /// Position in [`Self::ALL`] (for per-kind counter arrays).
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl DecodeError {
    pub fn kind(&self) -> DecodeErrorKind {
        match self {
            DecodeError::FrameTooLarge { .. } => DecodeErrorKind::FrameTooLarge,
            DecodeError::MalformedJson { .. } => DecodeErrorKind::MalformedJson,
            DecodeError::NestingTooDeep { .. } => DecodeErrorKind::NestingTooDeep,
            DecodeError::MissingField { .. } => DecodeErrorKind::MissingField,
            DecodeError::BadDecimal { .. } => DecodeErrorKind::BadDecimal,
            DecodeError::OutOfRange { .. } => DecodeErrorKind::OutOfRange,
            DecodeError::UnknownEvent { .. } => DecodeErrorKind::UnknownEvent,
            DecodeError::UnknownMessage => DecodeErrorKind::UnknownMessage,
            DecodeError::UnknownSymbol { .. } => DecodeErrorKind::UnknownSymbol,
            DecodeError::UnexpectedBinary { .. } => DecodeErrorKind::UnexpectedBinary,
            DecodeError::BadCompression { .. } => DecodeErrorKind::BadCompression,
            DecodeError::InflateLimit { .. } => DecodeErrorKind::InflateLimit,
        }
    }

    pub(crate) fn json(err: impl fmt::Display) -> Self {
        DecodeError::MalformedJson {
            detail: err.to_string(),
        }
    }

    /// Parse `text` as a decimal, naming `field` on failure.
    pub(crate) fn decimal<T>(
        field: &'static str,
        parsed: Result<T, DecimalError>,
    ) -> Result<T, Self> {
        parsed.map_err(|error| DecodeError::BadDecimal { field, error })
    }
}

/// A short piece of text from the wire (an event type, a symbol), kept inline so an
/// error does not allocate. Longer text is cut at 31 bytes (on a char boundary).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShortText {
    len: u8,
    bytes: [u8; 31],
}

impl ShortText {
    pub fn new(text: &str) -> Self {
        let mut end = text.len().min(31);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; 31];
        bytes[..end].copy_from_slice(&text.as_bytes()[..end]);
        Self {
            len: end as u8,
            bytes,
        }
    }

    pub fn as_str(&self) -> &str {
        // Built from a &str cut on a char boundary, so always valid.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Debug for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_cuts_on_char_boundary() {
        let long = "é".repeat(40);
        let cut = ShortText::new(&long);
        assert_eq!(cut.as_str().len(), 30);
        assert_eq!(ShortText::new("kline").as_str(), "kline");
    }

    #[test]
    fn display_names_the_field() {
        let err = DecodeError::BadDecimal {
            field: "p",
            error: DecimalError::Malformed,
        };
        assert!(err.to_string().contains("\"p\""), "{err}");
        assert_eq!(err.kind(), DecodeErrorKind::BadDecimal);
        for (i, kind) in DecodeErrorKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }
}
