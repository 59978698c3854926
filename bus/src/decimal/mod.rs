//! Exact fixed-point decimals parsed straight from exchange text.
//!
//! A [`Fixed<SCALE>`] is an `i128` count of `10^-SCALE` units, stored as two
//! little-endian 64-bit words so records keep 8-byte alignment (Rust gives `i128`
//! 16-byte alignment). Exchange strings (`"58942.01000000"`), JSON numbers
//! (`29430.2`, Kraken), exponents in either case (`1e-8`, HTX's `9.485E-11`) and long
//! zero padding (`3080.000000000000000000`) are parsed digit by digit, never through
//! `f64`, so every value is exact or a typed [`DecimalError`]: nothing is rounded and
//! nothing wraps.
//!
//! | type      | scale | step   | range                          | holds                                  |
//! |-----------|-------|--------|--------------------------------|----------------------------------------|
//! | [`Price`] | 24    | 1e-24  | ±1.7e14 (±170141183460469.23…) | 1e-12 with 12 significant digits, 1e10 |
//! | [`Size`]  | 18    | 1e-18  | ±1.7e20                        | sizes, open interest 1e-12 … 1e15       |
//! | [`Rate`]  | 18    | 1e-18  | ±1.7e20                        | funding rates to 1e-18 (HTX `"0E-18"`)  |
//!
//! Why 128-bit fixed point rather than a per-record exponent: see the README's
//! "Numbers" section (measured before/after). Ordering, equality and hashing are
//! those of the integer, so books key on prices directly; sums and differences are
//! exact or `None`.
//!
//! The range is symmetric and excludes `i128::MAX`, which is reserved as
//! [`Fixed::UNDEF`] ("not sent by the venue"); `i128::MIN` is never produced, so
//! negation never overflows.

mod notional;
mod parse;

use std::fmt;
use std::str::FromStr;

pub use notional::{notional, Notional, NOTIONAL_SCALE};

/// An exact decimal stored as an `i128` count of `10^-SCALE` units.
///
/// The two words are the `i128`'s little-endian halves: `lo` the low 64 bits, `hi`
/// the high 64 bits (sign included). A reader without Rust computes
/// `(hi << 64 | lo) / 10^SCALE`.
#[repr(C)]
#[derive(
    Clone, Copy, Default, PartialEq, Eq, Hash, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
#[rkyv(derive(Debug, PartialEq))]
pub struct Fixed<const SCALE: u32> {
    lo: u64,
    hi: i64,
}

// SAFETY: `Fixed` is `repr(C)` with two 8-byte integer fields: no padding, every
// bit pattern valid.
unsafe impl<const SCALE: u32> bytemuck::Zeroable for Fixed<SCALE> {}
// SAFETY: as above.
unsafe impl<const SCALE: u32> bytemuck::Pod for Fixed<SCALE> {}

/// Prices: 24 decimal places.
pub type Price = Fixed<24>;
/// Sizes, quantities, open interest: 18 decimal places.
pub type Size = Fixed<18>;
/// Funding rates: 18 decimal places.
pub type Rate = Fixed<18>;

/// Why a decimal could not be parsed or computed exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("empty decimal")]
    Empty,
    #[error("invalid character {0:?} in decimal")]
    InvalidChar(char),
    #[error("malformed decimal (expected digits[.digits][e[+-]digits])")]
    Malformed,
    #[error("decimal has more than {scale} decimal places")]
    TooPrecise { scale: u32 },
    #[error("decimal is outside the range of a {scale}-place fixed-point value")]
    OutOfRange { scale: u32 },
}

/// `10^n` for `n` in `0..=38` (every power an `u128` holds).
pub(crate) const POW10: [u128; 39] = {
    let mut table = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// Largest magnitude of a value (`i128::MAX` itself is [`Fixed::UNDEF`]).
const MAX_MAGNITUDE: u128 = i128::MAX as u128 - 1;

impl<const SCALE: u32> Fixed<SCALE> {
    /// Number of decimal places.
    pub const SCALE: u32 = SCALE;
    /// `10^SCALE`: the raw value of `1`.
    pub const ONE_RAW: i128 = POW10[SCALE as usize] as i128;
    pub const ZERO: Self = Self::from_raw(0);
    /// Largest value text can parse to.
    pub const MAX: Self = Self::from_raw(i128::MAX - 1);
    pub const MIN: Self = Self::from_raw(-(i128::MAX - 1));
    /// "Not provided": a field the venue did not send (like Databento's `UNDEF_PRICE`).
    pub const UNDEF: Self = Self::from_raw(i128::MAX);

    /// From a raw count of `10^-SCALE` units (as stored in records).
    #[inline]
    pub const fn from_raw(raw: i128) -> Self {
        Self {
            lo: raw as u64,
            hi: (raw >> 64) as i64,
        }
    }

    /// The raw count of `10^-SCALE` units.
    #[inline]
    pub const fn raw(self) -> i128 {
        ((self.hi as i128) << 64) | self.lo as i128
    }

    /// A raw value if it is inside the symmetric range (never UNDEF or `i128::MIN`).
    #[inline]
    fn checked(raw: i128) -> Option<Self> {
        (raw.unsigned_abs() <= MAX_MAGNITUDE).then_some(Self::from_raw(raw))
    }

    /// A whole number.
    pub fn from_int(value: i64) -> Result<Self, DecimalError> {
        i128::from(value)
            .checked_mul(Self::ONE_RAW)
            .and_then(Self::checked)
            .ok_or(DecimalError::OutOfRange { scale: SCALE })
    }

    /// `None` for [`Fixed::UNDEF`].
    #[inline]
    pub const fn defined(self) -> Option<Self> {
        if self.raw() == i128::MAX {
            None
        } else {
            Some(self)
        }
    }

    #[inline]
    pub const fn is_zero(self) -> bool {
        self.lo == 0 && self.hi == 0
    }

    #[inline]
    pub const fn is_negative(self) -> bool {
        self.hi < 0
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.raw().checked_add(other.raw()).and_then(Self::checked)
    }

    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.raw().checked_sub(other.raw()).and_then(Self::checked)
    }

    /// Parse decimal text: `-?digits[.digits][(e|E)[+-]digits]`.
    ///
    /// Accepts what exchanges send as strings and as JSON numbers. Trailing zeros
    /// beyond `SCALE` places are fine (`"0.0000000000"`); a non-zero digit beyond
    /// `SCALE` places is [`DecimalError::TooPrecise`].
    #[inline]
    pub fn parse(text: &[u8]) -> Result<Self, DecimalError> {
        parse::parse_raw(text, SCALE).map(Self::from_raw)
    }

    /// Parse a `&str`; see [`Fixed::parse`].
    #[inline]
    pub fn parse_str(text: &str) -> Result<Self, DecimalError> {
        Self::parse(text.as_bytes())
    }

    /// Convert to another scale, exactly or not at all. [`Fixed::UNDEF`] stays UNDEF.
    pub fn rescale<const OTHER: u32>(self) -> Result<Fixed<OTHER>, DecimalError> {
        if self.defined().is_none() {
            return Ok(Fixed::UNDEF);
        }
        rescale_raw(self.raw(), SCALE, OTHER).map(Fixed::from_raw)
    }

    /// Format with exactly `places` decimal places (rounding is never done:
    /// `places` smaller than the value's own precision is an error).
    pub fn to_string_with_places(self, places: u32) -> Result<String, DecimalError> {
        if places > 38 {
            return Err(DecimalError::TooPrecise { scale: 38 });
        }
        let mut out = String::with_capacity(48);
        write_fixed(&mut out, self.raw(), SCALE, Some(places))?;
        Ok(out)
    }

    /// Lossy conversion for display and statistics only; never used on the way in.
    pub fn to_f64_lossy(self) -> f64 {
        self.raw() as f64 / Self::ONE_RAW as f64
    }
}

impl<const SCALE: u32> PartialOrd for Fixed<SCALE> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<const SCALE: u32> Ord for Fixed<SCALE> {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.raw().cmp(&other.raw())
    }
}

fn rescale_raw(raw: i128, from: u32, to: u32) -> Result<i128, DecimalError> {
    if to >= from {
        let factor = *POW10
            .get((to - from) as usize)
            .ok_or(DecimalError::OutOfRange { scale: to })?;
        raw.checked_mul(factor as i128)
            .filter(|v| v.unsigned_abs() <= MAX_MAGNITUDE)
            .ok_or(DecimalError::OutOfRange { scale: to })
    } else {
        let factor = *POW10
            .get((from - to) as usize)
            .ok_or(DecimalError::TooPrecise { scale: to })? as i128;
        if raw % factor != 0 {
            return Err(DecimalError::TooPrecise { scale: to });
        }
        Ok(raw / factor)
    }
}

/// A value's decimal digits, written by core's integer formatting (optimised even in
/// debug builds, and cheaper than dividing by `10^scale` ourselves) into a stack buffer.
struct Digits {
    buf: [u8; 48],
    len: usize,
}

impl fmt::Write for Digits {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Write `raw` with `scale` places; `places: None` is canonical (no trailing zeros).
pub(crate) fn write_fixed(
    out: &mut impl fmt::Write,
    raw: i128,
    scale: u32,
    places: Option<u32>,
) -> Result<(), DecimalError> {
    let scale = scale as usize;
    // Left-padded with zeros to at least `scale + 1` digits: "0.000…" splits like "1.5".
    let mut digits = Digits {
        buf: [b'0'; 48],
        len: 0,
    };
    fmt::Write::write_fmt(
        &mut digits,
        format_args!("{:0width$}", raw.unsigned_abs(), width = scale + 1),
    )
    .map_err(|_| DecimalError::Malformed)?;
    let text = &digits.buf[..digits.len];
    let (int_part, frac) = text.split_at(text.len() - scale);
    let significant = frac
        .iter()
        .rposition(|d| *d != b'0')
        .map_or(0, |last| last + 1);
    let width = match places {
        None => significant,
        Some(places) if places as usize >= significant => places as usize,
        Some(places) => return Err(DecimalError::TooPrecise { scale: places }),
    };
    let shown = width.min(scale);
    let padding = width - shown;
    // ASCII digits by construction.
    let int_part = std::str::from_utf8(int_part).map_err(|_| DecimalError::Malformed)?;
    let frac = std::str::from_utf8(&frac[..shown]).map_err(|_| DecimalError::Malformed)?;
    let sign = if raw < 0 { "-" } else { "" };
    let result = if width == 0 {
        write!(out, "{sign}{int_part}")
    } else {
        write!(out, "{sign}{int_part}.{frac}{:0<padding$}", "")
    };
    result.map_err(|_| DecimalError::Malformed)
}

impl<const SCALE: u32> fmt::Display for Fixed<SCALE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_fixed(f, self.raw(), SCALE, None).map_err(|_| fmt::Error)
    }
}

impl<const SCALE: u32> fmt::Debug for Fixed<SCALE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<const SCALE: u32> FromStr for Fixed<SCALE> {
    type Err = DecimalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_str(s)
    }
}

impl<const SCALE: u32> serde::Serialize for Fixed<SCALE> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de, const SCALE: u32> serde::Deserialize<'de> for Fixed<SCALE> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Accept both "1.5" and 1.5; numbers arrive as their text via serde_json's
        // arbitrary precision off, so we only take strings and integers exactly.
        struct Visitor<const S: u32>;
        impl<const S: u32> serde::de::Visitor<'_> for Visitor<S> {
            type Value = Fixed<S>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal string such as \"12.5\" or an integer")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Fixed::parse_str(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Fixed::from_int(v).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                let v = i64::try_from(v).map_err(|_| E::custom("decimal out of range"))?;
                Fixed::from_int(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor::<SCALE>)
    }
}

#[cfg(test)]
mod tests;
