//! The prologue of a JSON text frame, the same for every venue whose frames are one
//! JSON object with its payload left for later (Coinbase, Kraken, Bybit): a size limit,
//! surrounding whitespace trimmed, UTF-8 checked, the envelope parsed; and the debug
//! log of a rejected frame with its kind.

use serde::Deserialize;

use crate::binance::decode::json;
use crate::binance::decode::route::trim;
use crate::error::DecodeError;

/// `frame` trimmed, and its envelope `E` (whose payload fields are `LazyValue`s
/// borrowing the frame); a frame over `max_bytes` is refused before any parsing.
pub(crate) fn envelope<'a, E: Deserialize<'a>>(
    frame: &'a [u8],
    max_bytes: usize,
) -> Result<(&'a [u8], E), DecodeError> {
    if frame.len() > max_bytes {
        return Err(DecodeError::FrameTooLarge {
            len: frame.len(),
            max: max_bytes,
        });
    }
    let frame = trim(frame);
    // sonic-rs builds `LazyValue` text from skipped bytes unchecked: validate first.
    std::str::from_utf8(frame).map_err(DecodeError::json)?;
    Ok((frame, json::sonic(frame)?))
}

/// `result`, with a rejection logged at debug level as `venue`'s, with its kind.
pub(crate) fn logged<T>(
    venue: &'static str,
    result: Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    if let Err(err) = &result {
        tracing::debug!(venue, kind = err.kind().as_str(), error = %err, "frame rejected");
    }
    result
}
