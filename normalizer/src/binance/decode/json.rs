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
            buffers: Buffers::new(4096),
            tape: Some(Tape::null().reset()),
        }
    }
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
