//! The two JSON parsers behind the decoder, and the small field helpers every
//! message family uses. Which parser handles which message kind is chosen from
//! `benches/benches/decode_binance.rs` (see `benches/BENCHMARKS-decode.md`).

use serde::de::{Deserialize, DeserializeSeed};
use simd_json::{Buffers, Tape};
use tickd_bus::{Price, Rate, Size};

use super::TimeUnit;
use crate::error::DecodeError;

/// A JSON parser the decoder can use for a message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonBackend {
    /// sonic-rs typed `from_slice`, reading the frame in place.
    Sonic,
    /// simd-json's serde deserializer over a reused tape. It rewrites its input, so
    /// the frame is first copied into a reused buffer (part of its measured cost).
    SimdJson,
}

/// Reused simd-json state: the padded copy of the frame, stage-1 buffers and the tape.
pub(crate) struct SimdScratch {
    input: Vec<u8>,
    buffers: Buffers,
    tape: Option<Tape<'static>>,
}

impl Default for SimdScratch {
    fn default() -> Self {
        Self {
            input: Vec::with_capacity(4096),
            buffers: Buffers::with_max_depth(4096, MAX_JSON_DEPTH),
            tape: Some(Tape::null().reset()),
        }
    }
}

/// Deepest nesting accepted. Binance frames nest 4 levels (wrapper, event, level
/// array, pair), exchangeInfo 5. sonic-rs skips ignored values recursively with no
/// limit (about 40 kB of stack per level in debug builds: 48 levels overflow a 2 MiB
/// thread), so deeper input is refused up front; simd-json gets the same limit.
pub const MAX_JSON_DEPTH: usize = 16;

/// Reject input nested deeper than [`MAX_JSON_DEPTH`] before sonic-rs sees it.
/// The common case (fewer opening brackets than the limit, in any context) is one
/// vectorized count; only bracket-heavy input (big books) is scanned exactly.
pub(crate) fn check_depth(bytes: &[u8]) -> Result<(), DecodeError> {
    let opens = bytes.iter().filter(|&&b| b == b'[' || b == b'{').count();
    if opens <= MAX_JSON_DEPTH {
        return Ok(());
    }
    let too_deep = DecodeError::NestingTooDeep {
        max: MAX_JSON_DEPTH,
    };
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(too_deep);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// sonic-rs `from_slice` behind the depth check.
pub(crate) fn sonic<'s, T: Deserialize<'s>>(bytes: &'s [u8]) -> Result<T, DecodeError> {
    check_depth(bytes)?;
    sonic_rs::from_slice(bytes).map_err(DecodeError::json)
}

/// Parse `bytes` into `T` (which may borrow from the input) with `backend`.
pub(crate) fn parse<'s, T: Deserialize<'s>>(
    backend: JsonBackend,
    bytes: &'s [u8],
    simd: &'s mut SimdScratch,
) -> Result<T, DecodeError> {
    parse_seed(backend, bytes, simd, std::marker::PhantomData::<T>)
}

/// Parse `bytes` through a stateful seed (one that fills reused level buffers).
pub(crate) fn parse_seed<'s, S: DeserializeSeed<'s>>(
    backend: JsonBackend,
    bytes: &'s [u8],
    simd: &'s mut SimdScratch,
    seed: S,
) -> Result<S::Value, DecodeError> {
    match backend {
        JsonBackend::Sonic => {
            check_depth(bytes)?;
            let mut de = sonic_rs::Deserializer::from_slice(bytes);
            let value = seed.deserialize(&mut de).map_err(DecodeError::json)?;
            de.end().map_err(DecodeError::json)?;
            Ok(value)
        }
        JsonBackend::SimdJson => {
            let SimdScratch {
                input,
                buffers,
                tape,
            } = simd;
            input.clear();
            input.extend_from_slice(bytes);
            input.resize(bytes.len() + simd_json::INPUT_PADDING, 0);
            let mut local: Tape<'s> = tape.take().unwrap_or_else(|| Tape::null().reset()).reset();
            let filled =
                simd_json::fill_tape_padded(input.as_mut_slice(), bytes.len(), buffers, &mut local);
            if let Err(err) = filled {
                *tape = Some(local.reset());
                return Err(DecodeError::json(err));
            }
            let mut de = simd_json::Deserializer::from_tape(local);
            let value = seed.deserialize(&mut de);
            *tape = Some(de.into_tape().reset());
            value.map_err(DecodeError::json)
        }
    }
}

/// A required field.
#[inline]
pub(crate) fn req<T>(value: Option<T>, field: &'static str) -> Result<T, DecodeError> {
    value.ok_or(DecodeError::MissingField { field })
}

#[inline]
pub(crate) fn price(text: &str, field: &'static str) -> Result<Price, DecodeError> {
    DecodeError::decimal(field, Price::parse(text.as_bytes()))
}

#[inline]
pub(crate) fn size(text: &str, field: &'static str) -> Result<Size, DecodeError> {
    DecodeError::decimal(field, Size::parse(text.as_bytes()))
}

/// A funding rate; Binance sends `""` for contracts without funding.
#[inline]
pub(crate) fn rate_or_undef(text: Option<&str>, field: &'static str) -> Result<Rate, DecodeError> {
    match text {
        None | Some("") => Ok(Rate::UNDEF),
        Some(text) => DecodeError::decimal(field, Rate::parse(text.as_bytes())),
    }
}

/// An optional price: absent or `""` is `UNDEF`.
#[inline]
pub(crate) fn price_or_undef(
    text: Option<&str>,
    field: &'static str,
) -> Result<Price, DecodeError> {
    match text {
        None | Some("") => Ok(Price::UNDEF),
        Some(text) => price(text, field),
    }
}

/// A venue time (ms or µs per connection) in ns; a missing time is 0.
#[inline]
pub(crate) fn time_ns(
    value: Option<u64>,
    unit: TimeUnit,
    field: &'static str,
) -> Result<u64, DecodeError> {
    let Some(value) = value else { return Ok(0) };
    let factor = match unit {
        TimeUnit::Millis => 1_000_000,
        TimeUnit::Micros => 1_000,
    };
    value
        .checked_mul(factor)
        .ok_or(DecodeError::OutOfRange { field })
}
