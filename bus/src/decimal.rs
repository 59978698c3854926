//! Exact fixed-point decimals parsed straight from exchange text.
//!
//! A [`Fixed<SCALE>`] is an `i64` count of `10^-SCALE` units. Exchange strings
//! (`"58942.01000000"`), JSON numbers (`29430.2`, Kraken) and exponents (`1e-8`)
//! are parsed digit by digit, never through `f64`, so every value is exact or a
//! typed [`DecimalError`]: nothing is rounded and nothing wraps.
//!
//! | type      | scale | step   | range                          | holds                          |
//! |-----------|-------|--------|--------------------------------|--------------------------------|
//! | [`Price`] | 9     | 1e-9   | ±9,223,372,036.854775807       | prices, as Databento does      |
//! | [`Size`]  | 8     | 1e-8   | ±92,233,720,368.54775807       | sizes ≥ 5e10 with 8 decimals   |
//! | [`Rate`]  | 16    | 1e-16  | ±922.3372036854775807          | funding rates (OKX sends 16 dp)|
//!
//! The range is symmetric and excludes `i64::MAX`, which is reserved as [`Fixed::UNDEF`]
//! ("not sent by the venue"); `i64::MIN` is never produced, so negation never overflows.

use std::fmt;
use std::str::FromStr;

/// An exact decimal stored as an `i64` count of `10^-SCALE` units.
#[repr(transparent)]
#[derive(
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(Debug, PartialEq))]
pub struct Fixed<const SCALE: u32>(i64);

// SAFETY: `Fixed` is a `repr(transparent)` wrapper around an `i64`: no padding,
// every bit pattern valid.
unsafe impl<const SCALE: u32> bytemuck::Zeroable for Fixed<SCALE> {}
// SAFETY: as above.
unsafe impl<const SCALE: u32> bytemuck::Pod for Fixed<SCALE> {}

/// Prices: 9 decimal places.
pub type Price = Fixed<9>;
/// Sizes, quantities, open interest: 8 decimal places.
pub type Size = Fixed<8>;
/// Funding rates: 16 decimal places.
pub type Rate = Fixed<16>;

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

const POW10: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// Longest input we look at. Longer text is hostile or broken, not a price.
const MAX_LEN: usize = 64;

/// Exponents saturate here: far beyond any scale or digit count, far below overflow.
const MAX_EXPONENT: i32 = 100_000;

impl<const SCALE: u32> Fixed<SCALE> {
    /// Number of decimal places.
    pub const SCALE: u32 = SCALE;
    /// `10^SCALE`: the raw value of `1`.
    pub const ONE_RAW: i64 = POW10[SCALE as usize] as i64;
    pub const ZERO: Self = Self(0);
    /// Largest value text can parse to.
    pub const MAX: Self = Self(i64::MAX - 1);
    pub const MIN: Self = Self(-(i64::MAX - 1));
    /// "Not provided": a field the venue did not send (like Databento's `UNDEF_PRICE`).
    pub const UNDEF: Self = Self(i64::MAX);

    /// From a raw count of `10^-SCALE` units (as stored in records).
    #[inline]
    pub const fn from_raw(raw: i64) -> Self {
        Self(raw)
    }

    /// The raw count of `10^-SCALE` units.
    #[inline]
    pub const fn raw(self) -> i64 {
        self.0
    }

    /// A whole number.
    pub fn from_int(value: i64) -> Result<Self, DecimalError> {
        value
            .checked_mul(Self::ONE_RAW)
            .filter(|v| v.unsigned_abs() < i64::MAX as u64)
            .map(Self)
            .ok_or(DecimalError::OutOfRange { scale: SCALE })
    }

    /// `None` for [`Fixed::UNDEF`].
    #[inline]
    pub const fn defined(self) -> Option<Self> {
        if self.0 == i64::MAX {
            None
        } else {
            Some(self)
        }
    }

    #[inline]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    #[inline]
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0
            .checked_add(other.0)
            .filter(|v| v.unsigned_abs() < i64::MAX as u64)
            .map(Self)
    }

    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0
            .checked_sub(other.0)
            .filter(|v| v.unsigned_abs() < i64::MAX as u64)
            .map(Self)
    }

    /// Parse decimal text: `-?digits[.digits][(e|E)[+-]digits]`.
    ///
    /// Accepts what exchanges send as strings and as JSON numbers. Trailing zeros
    /// beyond `SCALE` places are fine (`"0.0000000000"`); a non-zero digit beyond
    /// `SCALE` places is [`DecimalError::TooPrecise`].
    #[inline]
    pub fn parse(text: &[u8]) -> Result<Self, DecimalError> {
        parse_raw(text, SCALE).map(Self)
    }

    /// Parse a `&str`; see [`Fixed::parse`].
    #[inline]
    pub fn parse_str(text: &str) -> Result<Self, DecimalError> {
        Self::parse(text.as_bytes())
    }

    /// Convert to another scale, exactly or not at all.
    pub fn rescale<const OTHER: u32>(self) -> Result<Fixed<OTHER>, DecimalError> {
        rescale_raw(self.0, SCALE, OTHER).map(Fixed)
    }

    /// Format with exactly `places` decimal places (rounding is never done:
    /// `places` smaller than the value's own precision is an error).
    pub fn to_string_with_places(self, places: u32) -> Result<String, DecimalError> {
        if places > 19 {
            return Err(DecimalError::TooPrecise { scale: 19 });
        }
        let mut out = String::with_capacity(24);
        write_fixed(&mut out, self.0, SCALE, Some(places))?;
        Ok(out)
    }

    /// Lossy conversion for display and statistics only; never used on the way in.
    pub fn to_f64_lossy(self) -> f64 {
        self.0 as f64 / Self::ONE_RAW as f64
    }
}

/// Exact product of a price and a size: `raw = price.raw * size.raw`, scale 17.
/// Used for notional / VWAP in bars, where the sum of many products must stay exact.
#[inline]
pub fn notional(price: Price, size: Size) -> i128 {
    i128::from(price.raw()) * i128::from(size.raw())
}

/// Scale of [`notional`] values.
pub const NOTIONAL_SCALE: u32 = Price::SCALE + Size::SCALE;

/// Format an `i128` value with `scale` decimal places canonically (no trailing zeros).
pub fn format_i128(value: i128, scale: u32) -> String {
    let negative = value < 0;
    let magnitude = value.unsigned_abs();
    let divisor = 10u128.pow(scale);
    let int_part = magnitude / divisor;
    let mut frac = magnitude % divisor;
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&int_part.to_string());
    if frac != 0 {
        let mut width = scale;
        while frac.is_multiple_of(10) {
            frac /= 10;
            width -= 1;
        }
        out.push('.');
        out.push_str(&format!("{frac:0width$}", width = width as usize));
    }
    out
}

fn rescale_raw(raw: i64, from: u32, to: u32) -> Result<i64, DecimalError> {
    if to >= from {
        let factor = *POW10
            .get((to - from) as usize)
            .ok_or(DecimalError::OutOfRange { scale: to })?;
        raw.checked_mul(factor as i64)
            .filter(|v| v.unsigned_abs() < i64::MAX as u64)
            .ok_or(DecimalError::OutOfRange { scale: to })
    } else {
        let factor = POW10[(from - to) as usize] as i64;
        if raw % factor != 0 {
            return Err(DecimalError::TooPrecise { scale: to });
        }
        Ok(raw / factor)
    }
}

/// The parser behind every `Fixed` type.
#[inline]
fn parse_raw(text: &[u8], scale: u32) -> Result<i64, DecimalError> {
    match parse_plain(text, scale) {
        Some(raw) => Ok(raw),
        None => parse_general(text, scale),
    }
}

/// One pass over what exchanges almost always send: `-?digits[.digits]` with at most
/// 19 digits and at most `scale` fraction digits, so the digits fit a `u64` without
/// overflow checks. `None` hands anything else (exponents, errors, edge cases) to
/// [`parse_general`], which decides it exactly.
#[inline]
fn parse_plain(text: &[u8], scale: u32) -> Option<i64> {
    let (negative, body) = match text.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, text),
    };
    let mut acc: u64 = 0;
    let int_end = digit_run(body, 0, &mut acc);
    let int_len = int_end;
    let mut i = int_end;
    let mut frac_len = 0;
    if body.get(i) == Some(&b'.') {
        let frac_end = digit_run(body, i + 1, &mut acc);
        frac_len = frac_end - (i + 1);
        i = frac_end;
        if frac_len == 0 {
            return None;
        }
    }
    if int_len == 0 || i != body.len() || int_len + frac_len > 19 || frac_len > scale as usize {
        return None;
    }
    let magnitude = acc.checked_mul(POW10[scale as usize - frac_len])?;
    if magnitude >= i64::MAX as u64 {
        return None;
    }
    let value = magnitude as i64;
    Some(if negative { -value } else { value })
}

/// Consume the digits of `body` from `start`, appending them to `acc` (wrapping: the
/// caller rejects more than 19 digits), and return where the run ends. Eight digits
/// at a time where possible: most exchange fractions are exactly 8 digits.
#[inline(always)]
fn digit_run(body: &[u8], start: usize, acc: &mut u64) -> usize {
    let mut i = start;
    while let Some(chunk) = body.get(i..i + 8) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        match eight_digits(bytes) {
            Some(value) => {
                *acc = acc.wrapping_mul(100_000_000).wrapping_add(value);
                i += 8;
            }
            None => break,
        }
    }
    while let Some(&c) = body.get(i) {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        *acc = acc.wrapping_mul(10).wrapping_add(u64::from(digit));
        i += 1;
    }
    i
}

/// The value of eight ASCII digits (first byte most significant), or `None` if any
/// byte is not a digit. SWAR as in simdjson / fast_float (Lemire).
#[inline(always)]
fn eight_digits(bytes: [u8; 8]) -> Option<u64> {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let chunk = u64::from_le_bytes(bytes);
    let digits = chunk.wrapping_sub(0x3030_3030_3030_3030);
    // The lowest non-digit byte sets its high bit in one of these (bytes below it are
    // digits, so no borrow or carry reaches it): below '0' or >= 0xBA in `digits`,
    // ':' ..= 0xB9 in `above` ('9' + 0x46 = 0x7F is the largest byte that stays clear).
    let above = chunk.wrapping_add(0x4646_4646_4646_4646);
    if (digits | above) & HIGH_BITS != 0 {
        return None;
    }
    let pairs = digits.wrapping_mul(10).wrapping_add(digits >> 8);
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let value = (pairs & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((pairs >> 16) & MASK).wrapping_mul(MUL2))
        >> 32;
    Some(value)
}

/// Every form of the grammar, with exact error kinds.
fn parse_general(text: &[u8], scale: u32) -> Result<i64, DecimalError> {
    if text.is_empty() {
        return Err(DecimalError::Empty);
    }
    if text.len() > MAX_LEN {
        return Err(DecimalError::Malformed);
    }
    let (negative, body) = match text[0] {
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    // Split into integer digits, fraction digits and an optional exponent.
    let mut int_end = 0;
    while int_end < body.len() && body[int_end].is_ascii_digit() {
        int_end += 1;
    }
    let int_digits = &body[..int_end];
    let mut rest = &body[int_end..];
    let mut frac_digits: &[u8] = &[];
    if let Some((&b'.', after)) = rest.split_first() {
        let mut frac_end = 0;
        while frac_end < after.len() && after[frac_end].is_ascii_digit() {
            frac_end += 1;
        }
        frac_digits = &after[..frac_end];
        rest = &after[frac_end..];
        if frac_digits.is_empty() {
            return Err(DecimalError::Malformed);
        }
    }
    if int_digits.is_empty() {
        return Err(match body.first() {
            None => DecimalError::Empty,
            Some(c) if !c.is_ascii_digit() && *c != b'.' => DecimalError::InvalidChar(*c as char),
            _ => DecimalError::Malformed,
        });
    }
    let exponent = match rest.split_first() {
        None => 0i32,
        Some((b'e' | b'E', exp)) => parse_exponent(exp)?,
        Some((c, _)) => return Err(DecimalError::InvalidChar(*c as char)),
    };

    // Fast path: no exponent and no more fraction digits than the scale.
    if exponent == 0 && frac_digits.len() <= scale as usize {
        let mut acc: u64 = 0;
        for &d in int_digits {
            acc = acc
                .checked_mul(10)
                .and_then(|a| a.checked_add(u64::from(d - b'0')))
                .ok_or(DecimalError::OutOfRange { scale })?;
        }
        for &d in frac_digits {
            acc = acc
                .checked_mul(10)
                .and_then(|a| a.checked_add(u64::from(d - b'0')))
                .ok_or(DecimalError::OutOfRange { scale })?;
        }
        let shift = scale as usize - frac_digits.len();
        let value = acc
            .checked_mul(POW10[shift])
            .ok_or(DecimalError::OutOfRange { scale })?;
        return finish(value, negative, scale);
    }
    slow_path(int_digits, frac_digits, exponent, negative, scale)
}

fn parse_exponent(text: &[u8]) -> Result<i32, DecimalError> {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return Err(DecimalError::Malformed);
    }
    // Any number of exponent digits is well-formed (`1e-000008`, `1e99999`): saturate
    // instead of rejecting, so a huge exponent is OutOfRange / TooPrecise (or zero for
    // a zero mantissa) like any other value that does not fit, not "malformed".
    let mut value: i32 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(DecimalError::InvalidChar(d as char));
        }
        value = (value * 10 + i32::from(d - b'0')).min(MAX_EXPONENT);
    }
    Ok(if negative { -value } else { value })
}

/// General case: exponent present or extra fraction digits (which must be zeros).
fn slow_path(
    int_digits: &[u8],
    frac_digits: &[u8],
    exponent: i32,
    negative: bool,
    scale: u32,
) -> Result<i64, DecimalError> {
    // The digits as one string d_1..d_n with value D * 10^(exponent - frac_len),
    // walked in place (no allocation: exponent forms arrive on the hot path too).
    let digits = || int_digits.iter().chain(frac_digits.iter()).copied();
    let total = int_digits.len() + frac_digits.len();
    let leading_zeros = digits().take_while(|d| *d == b'0').count();
    if leading_zeros == total {
        return Ok(0);
    }
    let trailing_zeros = digits().rev().take_while(|d| *d == b'0').count();
    let significant = digits()
        .skip(leading_zeros)
        .take(total - leading_zeros - trailing_zeros);
    let significant_len = total - leading_zeros - trailing_zeros;
    // value = S * 10^power where S is `significant` as an integer.
    let power = i64::from(exponent) - frac_digits.len() as i64 + trailing_zeros as i64;
    let shift = power + i64::from(scale);
    if shift < 0 {
        return Err(DecimalError::TooPrecise { scale });
    }
    if significant_len as i64 + shift > 19 {
        return Err(DecimalError::OutOfRange { scale });
    }
    // At most 19 digits: fits a u64 without overflow.
    let acc = significant.fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    let value = acc
        .checked_mul(POW10[shift as usize])
        .ok_or(DecimalError::OutOfRange { scale })?;
    finish(value, negative, scale)
}

#[inline]
fn finish(magnitude: u64, negative: bool, scale: u32) -> Result<i64, DecimalError> {
    if magnitude >= i64::MAX as u64 {
        return Err(DecimalError::OutOfRange { scale });
    }
    let value = magnitude as i64;
    Ok(if negative { -value } else { value })
}

/// Write `raw` with `scale` places; `places: None` is canonical (no trailing zeros).
fn write_fixed(
    out: &mut impl fmt::Write,
    raw: i64,
    scale: u32,
    places: Option<u32>,
) -> Result<(), DecimalError> {
    let one = POW10[scale as usize];
    let magnitude = raw.unsigned_abs();
    let int_part = magnitude / one;
    let mut frac = magnitude % one;
    let mut width = scale;
    match places {
        None => {
            if frac != 0 {
                while frac.is_multiple_of(10) {
                    frac /= 10;
                    width -= 1;
                }
            } else {
                width = 0;
            }
        }
        Some(places) if places >= scale => {
            frac *= POW10[(places - scale) as usize];
            width = places;
        }
        Some(places) => {
            let drop = POW10[(scale - places) as usize];
            if !frac.is_multiple_of(drop) {
                return Err(DecimalError::TooPrecise { scale: places });
            }
            frac /= drop;
            width = places;
        }
    }
    let sign = if raw < 0 { "-" } else { "" };
    let result = if width == 0 {
        write!(out, "{sign}{int_part}")
    } else {
        write!(
            out,
            "{sign}{int_part}.{frac:0width$}",
            width = width as usize
        )
    };
    result.map_err(|_| DecimalError::Malformed)
}

impl<const SCALE: u32> fmt::Display for Fixed<SCALE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_fixed(f, self.0, SCALE, None).map_err(|_| fmt::Error)
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
mod tests {
    use super::*;

    #[test]
    fn parses_exchange_strings_exactly() {
        assert_eq!(
            Price::parse_str("58942.01000000").unwrap().raw(),
            58_942_010_000_000
        );
        assert_eq!(Size::parse_str("0.00035600").unwrap().raw(), 35_600);
        assert_eq!(Price::parse_str("0.00002246").unwrap().raw(), 22_460);
        assert_eq!(Size::parse_str("100").unwrap().raw(), 10_000_000_000);
        assert_eq!(Price::parse_str("-4.1").unwrap().raw(), -4_100_000_000);
        assert_eq!(
            Rate::parse_str("0.0001542145319804").unwrap().raw(),
            1_542_145_319_804
        );
    }

    #[test]
    fn eight_digits_at_once() {
        assert_eq!(eight_digits(*b"01000000"), Some(1_000_000));
        assert_eq!(eight_digits(*b"12345678"), Some(12_345_678));
        assert_eq!(eight_digits(*b"99999999"), Some(99_999_999));
        assert_eq!(eight_digits(*b"00000000"), Some(0));
        for bad in [
            *b"1234567.",
            *b"/2345678",
            *b"1234:678",
            *b"1234567\xb0",
            *b"\x801234567",
        ] {
            assert_eq!(eight_digits(bad), None, "{bad:?}");
        }
        // Every single non-digit byte in every position is caught.
        for position in 0..8 {
            for byte in (0u8..=255).filter(|b| !b.is_ascii_digit()) {
                let mut bytes = *b"55555555";
                bytes[position] = byte;
                assert_eq!(eight_digits(bytes), None, "{bytes:?}");
            }
        }
    }

    #[test]
    fn parses_exponents() {
        assert_eq!(Size::parse_str("1e-8").unwrap().raw(), 1);
        assert_eq!(Size::parse_str("1E-8").unwrap().raw(), 1);
        assert_eq!(Size::parse_str("2.5e3").unwrap().raw(), 250_000_000_000);
        assert_eq!(Size::parse_str("2.5e+3").unwrap().raw(), 250_000_000_000);
        assert_eq!(Size::parse_str("1200e-2").unwrap().raw(), 1_200_000_000);
        assert_eq!(Size::parse_str("0e5").unwrap().raw(), 0);
        assert_eq!(
            Size::parse_str("1e-9"),
            Err(DecimalError::TooPrecise { scale: 8 })
        );
    }

    #[test]
    fn large_sizes_fit() {
        let size = Size::parse_str("50000000000.12345678").unwrap();
        assert_eq!(size.to_string(), "50000000000.12345678");
        assert_eq!(Size::MAX.to_string(), "92233720368.54775806");
        assert_eq!(Size::parse_str("92233720368.54775806"), Ok(Size::MAX));
        assert_eq!(
            Size::parse_str("92233720368.54775807"),
            Err(DecimalError::OutOfRange { scale: 8 })
        );
        assert_eq!(
            Size::parse_str("92233720368.54775808"),
            Err(DecimalError::OutOfRange { scale: 8 })
        );
        assert_eq!(
            Size::parse_str("-92233720368.54775808"),
            Err(DecimalError::OutOfRange { scale: 8 })
        );
    }

    #[test]
    fn trailing_zeros_beyond_scale_are_exact() {
        assert_eq!(
            Size::parse_str("1.0000000000000").unwrap().raw(),
            100_000_000
        );
        assert_eq!(
            Size::parse_str("0.000000001"),
            Err(DecimalError::TooPrecise { scale: 8 })
        );
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "", "-", ".", ".5", "5.", "1..2", "1.2.3", "abc", "1e", "1e+", "+1", "1 ", " 1",
            "0x10", "1e99999", "--1", "NaN", "inf",
        ] {
            assert!(Price::parse_str(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Price::parse(&[b'1'; 65]).is_err());
    }

    #[test]
    fn formats_canonically() {
        assert_eq!(
            Price::parse_str("58942.01000000").unwrap().to_string(),
            "58942.01"
        );
        assert_eq!(Price::parse_str("100.000").unwrap().to_string(), "100");
        assert_eq!(Price::parse_str("-0.5").unwrap().to_string(), "-0.5");
        assert_eq!(Price::parse_str("-0").unwrap().to_string(), "0");
        assert_eq!(Price::ZERO.to_string(), "0");
    }

    #[test]
    fn formats_with_fixed_places() {
        let p = Price::parse_str("29430.2").unwrap();
        assert_eq!(p.to_string_with_places(1).unwrap(), "29430.2");
        assert_eq!(p.to_string_with_places(4).unwrap(), "29430.2000");
        assert!(p.to_string_with_places(0).is_err());
    }

    #[test]
    fn rescales_exactly() {
        let s = Size::parse_str("1.5").unwrap();
        let p: Price = s.rescale().unwrap();
        assert_eq!(p.to_string(), "1.5");
        let tiny = Price::from_raw(1);
        assert!(tiny.rescale::<8>().is_err());
    }

    #[test]
    fn notional_is_exact() {
        let n = notional(
            Price::parse_str("58942.01").unwrap(),
            Size::parse_str("0.000356").unwrap(),
        );
        assert_eq!(format_i128(n, NOTIONAL_SCALE), "20.98335556");
    }
}
