//! The parser behind every `Fixed` type: text to an exact `i128` at a scale.

use super::{DecimalError, MAX_MAGNITUDE, POW10};

/// Longest input we look at. Longer text is hostile or broken, not a price.
const MAX_LEN: usize = 96;

/// Most digits whose value always fits an `u128` (10^38 < 2^128).
const MAX_DIGITS: usize = 38;

/// Exponents saturate here: far beyond any scale or digit count, far below overflow.
const MAX_EXPONENT: i32 = 100_000;

#[inline]
pub(super) fn parse_raw(text: &[u8], scale: u32) -> Result<i128, DecimalError> {
    match parse_plain(text, scale) {
        Some(raw) => Ok(raw),
        None => parse_general(text, scale),
    }
}

/// One pass over what exchanges almost always send: `-?digits[.digits]` with at most
/// 38 digits and at most `scale` fraction digits (HTX's 18-place padding included),
/// so the digits fit an `u128` without overflow checks. `None` hands anything else
/// (exponents, errors, edge cases) to [`parse_general`], which decides it exactly.
#[inline]
fn parse_plain(text: &[u8], scale: u32) -> Option<i128> {
    let (negative, body) = match text.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, text),
    };
    let mut acc = Digits::default();
    let int_len = digit_run(body, 0, &mut acc);
    let mut i = int_len;
    let mut frac_len = 0;
    if body.get(i) == Some(&b'.') {
        let frac_end = digit_run(body, i + 1, &mut acc);
        frac_len = frac_end - (i + 1);
        i = frac_end;
        if frac_len == 0 {
            return None;
        }
    }
    if int_len == 0
        || i != body.len()
        || int_len + frac_len > MAX_DIGITS
        || frac_len > scale as usize
    {
        return None;
    }
    let magnitude = acc
        .value()
        .checked_mul(*POW10.get(scale as usize - frac_len)?)?;
    if magnitude > MAX_MAGNITUDE {
        return None;
    }
    let value = magnitude as i128;
    Some(if negative { -value } else { value })
}

/// Digits accumulated in an `u64` while they fit (19 digits: every price and size
/// most venues send), spilling into an `u128` only for longer runs.
#[derive(Default)]
struct Digits {
    small: u64,
    /// Digits in `small`.
    count: usize,
    /// `Some` once more than 19 digits were seen: the whole value so far.
    wide: Option<u128>,
}

impl Digits {
    #[inline(always)]
    fn push(&mut self, value: u64, digits: usize) {
        match &mut self.wide {
            Some(wide) => {
                *wide = wide
                    .wrapping_mul(POW10[digits])
                    .wrapping_add(u128::from(value))
            }
            None if self.count + digits <= 19 => {
                self.small = self.small * POW10[digits] as u64 + value;
                self.count += digits;
            }
            None => {
                // Wrapping: the caller rejects more than 38 digits before using this.
                self.wide = Some(
                    u128::from(self.small)
                        .wrapping_mul(POW10[digits])
                        .wrapping_add(u128::from(value)),
                );
            }
        }
    }

    #[inline(always)]
    fn value(&self) -> u128 {
        self.wide.unwrap_or(u128::from(self.small))
    }
}

/// Consume the digits of `body` from `start` into `acc` and return where the run
/// ends. Eight digits at a time where possible: most exchange fractions are exactly 8
/// digits. Runs longer than 38 digits leave `acc` meaningless; the caller rejects them.
#[inline(always)]
fn digit_run(body: &[u8], start: usize, acc: &mut Digits) -> usize {
    let mut i = start;
    while let Some(chunk) = body.get(i..i + 8) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        match eight_digits(bytes) {
            Some(value) => {
                acc.push(value, 8);
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
        acc.push(u64::from(digit), 1);
        i += 1;
    }
    i
}

/// The value of eight ASCII digits (first byte most significant), or `None` if any
/// byte is not a digit. SWAR as in simdjson / fast_float (Lemire).
#[inline(always)]
pub(super) fn eight_digits(bytes: [u8; 8]) -> Option<u64> {
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
fn parse_general(text: &[u8], scale: u32) -> Result<i128, DecimalError> {
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
    let int_end = body.iter().take_while(|c| c.is_ascii_digit()).count();
    let int_digits = &body[..int_end];
    let mut rest = &body[int_end..];
    let mut frac_digits: &[u8] = &[];
    if let Some((&b'.', after)) = rest.split_first() {
        let frac_end = after.iter().take_while(|c| c.is_ascii_digit()).count();
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
    exact_value(int_digits, frac_digits, exponent, negative, scale)
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

/// The value of `int.frac × 10^exponent` at `scale`, from the significant digits only
/// (leading and trailing zeros never count against precision or range).
fn exact_value(
    int_digits: &[u8],
    frac_digits: &[u8],
    exponent: i32,
    negative: bool,
    scale: u32,
) -> Result<i128, DecimalError> {
    // The digits as one string d_1..d_n with value D * 10^(exponent - frac_len),
    // walked in place (no allocation: exponent forms arrive on the hot path too).
    let digits = || int_digits.iter().chain(frac_digits.iter()).copied();
    let total = int_digits.len() + frac_digits.len();
    let leading_zeros = digits().take_while(|d| *d == b'0').count();
    if leading_zeros == total {
        return Ok(0);
    }
    let trailing_zeros = digits().rev().take_while(|d| *d == b'0').count();
    let significant_len = total - leading_zeros - trailing_zeros;
    let mut significant = digits().skip(leading_zeros).take(significant_len);
    // value = S * 10^power where S is `significant` as an integer.
    let power = i64::from(exponent) - frac_digits.len() as i64 + trailing_zeros as i64;
    let shift = power + i64::from(scale);
    if shift < 0 {
        return Err(DecimalError::TooPrecise { scale });
    }
    // 40 digits or more are at least 10^39, beyond any i128.
    if significant_len as i64 + shift > 39 {
        return Err(DecimalError::OutOfRange { scale });
    }
    let magnitude = significant
        .try_fold(0u128, |acc, d| {
            acc.checked_mul(10)?.checked_add(u128::from(d - b'0'))
        })
        .zip(POW10.get(shift as usize))
        .and_then(|(acc, factor)| acc.checked_mul(*factor))
        .filter(|m| *m <= MAX_MAGNITUDE)
        .ok_or(DecimalError::OutOfRange { scale })?;
    let value = magnitude as i128;
    Ok(if negative { -value } else { value })
}
