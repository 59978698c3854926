//! Exact sums of price × size: a 256-bit signed integer at scale 42.
//!
//! A [`Price`] (scale 24) times a [`Size`] (scale 18) is an integer at scale 42 of
//! up to 254 bits; bars add many of them. 256 bits hold any sum of 2 such
//! products at the types' extremes and, for real markets, of any number of trades
//! (5.7e34 units of quote currency); beyond that an operation is `None`, never a wrap.

use std::fmt;

use super::{DecimalError, Fixed, Price, Size};

/// Scale of [`Notional`] values: a price's places plus a size's.
pub const NOTIONAL_SCALE: u32 = Price::SCALE + Size::SCALE;

/// A 256-bit two's-complement integer count of `10^-42` units of quote currency,
/// stored as four little-endian 64-bit words (least significant first).
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    bytemuck::Pod,
    bytemuck::Zeroable,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(Debug, PartialEq))]
pub struct Notional {
    pub words: [u64; 4],
}

/// Exact product of a price and a size, at [`NOTIONAL_SCALE`].
#[inline]
pub fn notional(price: Price, size: Size) -> Notional {
    Notional::product(price, size)
}

type U256 = [u64; 4];

impl Notional {
    pub const ZERO: Notional = Notional { words: [0; 4] };
    /// Largest value (2^255 - 1).
    pub const MAX: Notional = Notional {
        words: [u64::MAX, u64::MAX, u64::MAX, i64::MAX as u64],
    };
    /// Most negative value that has a positive counterpart (-(2^255 - 1)).
    pub const MIN: Notional = Notional {
        words: [1, 0, 0, 1 << 63],
    };

    /// From a raw `i128` count of `10^-42` units.
    pub const fn from_i128(value: i128) -> Self {
        let fill = if value < 0 { u64::MAX } else { 0 };
        Notional {
            words: [value as u64, (value >> 64) as u64, fill, fill],
        }
    }

    /// `value × 10^places`, exactly (`places` ≤ 38): rescales an older, coarser notional.
    pub fn from_i128_scaled(value: i128, places: u32) -> Self {
        let magnitude = Notional {
            words: mul_u128(value.unsigned_abs(), super::POW10[places.min(38) as usize]),
        };
        if value < 0 {
            magnitude.negate_wrapping()
        } else {
            magnitude
        }
    }

    /// `price × size`, exactly.
    pub fn product(price: Price, size: Size) -> Self {
        let magnitude = mul_u128(price.raw().unsigned_abs(), size.raw().unsigned_abs());
        let value = Notional { words: magnitude };
        if price.is_negative() != size.is_negative() {
            value.negate_wrapping()
        } else {
            value
        }
    }

    pub const fn is_negative(&self) -> bool {
        (self.words[3] as i64) < 0
    }

    pub const fn is_zero(&self) -> bool {
        self.words[0] == 0 && self.words[1] == 0 && self.words[2] == 0 && self.words[3] == 0
    }

    fn negate_wrapping(self) -> Self {
        let mut out = [0u64; 4];
        let mut carry = true;
        for (o, w) in out.iter_mut().zip(self.words) {
            let (v, c) = (!w).overflowing_add(u64::from(carry));
            *o = v;
            carry = c;
        }
        Notional { words: out }
    }

    fn add_wrapping(self, other: Self) -> Self {
        Notional {
            words: add_u256(self.words, other.words),
        }
    }

    /// `self + other`, or `None` if the sum leaves the 256-bit range.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        let sum = self.add_wrapping(other);
        let overflow =
            self.is_negative() == other.is_negative() && sum.is_negative() != self.is_negative();
        (!overflow).then_some(sum)
    }

    /// `self + other`, clamped to [`Notional::MIN`] ..= [`Notional::MAX`] (bars clamp
    /// their volume the same way; no real market comes near 5.7e34).
    pub fn saturating_add(self, other: Self) -> Self {
        self.checked_add(other).unwrap_or(if other.is_negative() {
            Notional::MIN
        } else {
            Notional::MAX
        })
    }

    /// `self - other`, or `None` if the difference leaves the 256-bit range.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        let negated = other.negate_wrapping();
        if other.is_negative() && negated.is_negative() {
            return None; // other is the minimum: its negation does not exist
        }
        self.checked_add(negated)
    }

    fn magnitude(self) -> U256 {
        if self.is_negative() {
            self.negate_wrapping().words
        } else {
            self.words
        }
    }

    /// Volume-weighted average price: `self / volume`, truncated toward zero to the
    /// price's 24 places. `None` for a zero volume or a quotient outside `Price`.
    pub fn vwap(self, volume: Size) -> Option<Price> {
        let divisor = volume.defined()?.raw();
        if divisor == 0 {
            return None;
        }
        // scale 42 / scale 18 = scale 24, Price's.
        let quotient = div_u256_u128(self.magnitude(), divisor.unsigned_abs())?;
        let quotient = i128::try_from(quotient).ok()?;
        let negative = self.is_negative() != (divisor < 0);
        let raw = if negative { -quotient } else { quotient };
        Price::from_raw(raw).defined()
    }

    /// Lossy conversion for display and statistics only.
    pub fn to_f64_lossy(self) -> f64 {
        let m = self.magnitude();
        let value = m.iter().rev().fold(0.0f64, |acc, w| {
            acc * 18_446_744_073_709_551_616.0 + *w as f64
        }) / 10f64.powi(NOTIONAL_SCALE as i32);
        if self.is_negative() {
            -value
        } else {
            value
        }
    }

    /// Parse `-?digits[.digits]` (what [`Notional`]'s `Display` writes); trailing zeros
    /// beyond 42 places are accepted, other digits are [`DecimalError::TooPrecise`].
    pub fn parse_str(text: &str) -> Result<Self, DecimalError> {
        const SCALE: u32 = NOTIONAL_SCALE;
        let (negative, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = match body.split_once('.') {
            Some((int, frac)) if !frac.is_empty() => (int, frac),
            Some(_) => return Err(DecimalError::Malformed),
            None => (body, ""),
        };
        if int.is_empty() {
            return Err(if body.is_empty() {
                DecimalError::Empty
            } else {
                DecimalError::Malformed
            });
        }
        if let Some(bad) = int
            .chars()
            .chain(frac.chars())
            .find(|c| !c.is_ascii_digit())
        {
            return Err(DecimalError::InvalidChar(bad));
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > SCALE as usize {
            return Err(DecimalError::TooPrecise { scale: SCALE });
        }
        let padding = SCALE as usize - frac.len();
        let out_of_range = DecimalError::OutOfRange { scale: SCALE };
        let mut acc: U256 = [0; 4];
        let digits = int
            .bytes()
            .chain(frac.bytes())
            .chain(std::iter::repeat_n(b'0', padding));
        for d in digits {
            acc = mul_add_small(acc, 10, u64::from(d - b'0')).ok_or(out_of_range)?;
        }
        let value = Notional { words: acc };
        if value.is_negative() {
            return Err(out_of_range); // magnitude needs the sign bit
        }
        Ok(if negative {
            value.negate_wrapping()
        } else {
            value
        })
    }
}

impl fmt::Display for Notional {
    /// Canonical decimal text: no trailing zeros, no exponent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const CHUNK: u64 = 10_000_000_000_000_000_000; // 10^19
        let mut m = self.magnitude();
        // Base-10^19 chunks, least significant first (a u256 has at most 78 digits).
        let mut chunks = Vec::with_capacity(5);
        while m != [0; 4] || chunks.is_empty() {
            let (q, r) = div_small(m, CHUNK);
            chunks.push(r);
            m = q;
        }
        let mut digits = String::with_capacity(chunks.len() * 19 + 1);
        for (i, chunk) in chunks.iter().rev().enumerate() {
            if i == 0 {
                digits.push_str(&chunk.to_string());
            } else {
                digits.push_str(&format!("{chunk:019}"));
            }
        }
        let scale = NOTIONAL_SCALE as usize;
        if digits.len() <= scale {
            digits = format!("{}{digits}", "0".repeat(scale + 1 - digits.len()));
        }
        let (int, frac) = digits.split_at(digits.len() - scale);
        let frac = frac.trim_end_matches('0');
        let sign = if self.is_negative() { "-" } else { "" };
        if frac.is_empty() {
            write!(f, "{sign}{int}")
        } else {
            write!(f, "{sign}{int}.{frac}")
        }
    }
}

impl fmt::Debug for Notional {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<const S: u32> From<Fixed<S>> for Notional {
    /// The raw count, sign-extended (the caller knows the scale).
    fn from(value: Fixed<S>) -> Self {
        Notional::from_i128(value.raw())
    }
}

/// Full 256-bit product of two `u128`s.
fn mul_u128(a: u128, b: u128) -> U256 {
    let (a0, a1) = (a as u64 as u128, a >> 64);
    let (b0, b1) = (b as u64 as u128, b >> 64);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Each sum below stays under 2^128: at most three 64-bit terms plus a carry.
    let mid = (p00 >> 64) + (p01 as u64 as u128) + (p10 as u64 as u128);
    let high = (mid >> 64) + (p01 >> 64) + (p10 >> 64) + (p11 as u64 as u128);
    [
        p00 as u64,
        mid as u64,
        high as u64,
        ((high >> 64) + (p11 >> 64)) as u64,
    ]
}

fn add_u256(a: U256, b: U256) -> U256 {
    let mut out = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (s1, c1) = a[i].overflowing_add(b[i]);
        let (s2, c2) = s1.overflowing_add(u64::from(carry));
        out[i] = s2;
        carry = c1 || c2;
    }
    out
}

/// `a × m + add`, or `None` on overflow past 256 bits.
fn mul_add_small(a: U256, m: u64, add: u64) -> Option<U256> {
    let mut out = [0u64; 4];
    let mut carry = u128::from(add);
    for i in 0..4 {
        let v = u128::from(a[i]) * u128::from(m) + carry;
        out[i] = v as u64;
        carry = v >> 64;
    }
    (carry == 0).then_some(out)
}

/// `(a / d, a % d)` for a 64-bit divisor.
fn div_small(a: U256, d: u64) -> (U256, u64) {
    let mut q = [0u64; 4];
    let mut rem: u128 = 0;
    for i in (0..4).rev() {
        let cur = (rem << 64) | u128::from(a[i]);
        q[i] = (cur / u128::from(d)) as u64;
        rem = cur % u128::from(d);
    }
    (q, rem as u64)
}

/// `a / d` truncated, if the quotient fits an `u128`. `d` must be below 2^127.
fn div_u256_u128(a: U256, d: u128) -> Option<u128> {
    // Schoolbook binary long division: 256 steps, only for derived values (VWAP).
    let mut rem: u128 = 0;
    let mut quotient: U256 = [0; 4];
    for bit in (0..256).rev() {
        let word = a[bit / 64];
        rem = (rem << 1) | u128::from((word >> (bit % 64)) & 1);
        if rem >= d {
            rem -= d;
            quotient[bit / 64] |= 1 << (bit % 64);
        }
    }
    (quotient[2] == 0 && quotient[3] == 0)
        .then(|| u128::from(quotient[0]) | (u128::from(quotient[1]) << 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Price {
        Price::parse_str(s).unwrap()
    }

    fn q(s: &str) -> Size {
        Size::parse_str(s).unwrap()
    }

    #[test]
    fn products_are_exact() {
        let n = notional(p("58942.01"), q("0.000356"));
        assert_eq!(n.to_string(), "20.98335556");
        assert_eq!(notional(p("-1.5"), q("2")).to_string(), "-3");
        assert_eq!(
            notional(p("9.485E-11"), q("5.106999E12")).to_string(),
            "484.39885515"
        );
        assert_eq!(Notional::ZERO.to_string(), "0");
        let tiny = notional(Price::from_raw(1), Size::from_raw(1));
        assert_eq!(tiny.to_string(), format!("0.{}1", "0".repeat(41)));
    }

    #[test]
    fn extremes_multiply_and_add_without_wrapping() {
        let big = notional(Price::MAX, Size::MAX);
        assert!(!big.is_negative());
        let twice = big.checked_add(big).expect("two extreme products fit");
        assert!(twice.checked_add(twice).is_none(), "four overflow");
        let negative = notional(Price::MIN, Size::MAX);
        assert_eq!(negative.checked_add(big), Some(Notional::ZERO));
        assert_eq!(big.checked_sub(big), Some(Notional::ZERO));
        let text = big.to_string();
        assert_eq!(Notional::parse_str(&text), Ok(big));
        assert_eq!(Notional::parse_str(&negative.to_string()), Ok(negative));
    }

    #[test]
    fn parses_what_it_prints_and_rejects_the_rest() {
        for text in [
            "0",
            "1",
            "-1",
            "301.75",
            "0.000000000000000000000000000000000000000001",
        ] {
            assert_eq!(Notional::parse_str(text).unwrap().to_string(), text);
        }
        assert_eq!(Notional::parse_str("2.50").unwrap().to_string(), "2.5");
        assert!(Notional::parse_str(&format!("0.{}1", "0".repeat(42))).is_err());
        for bad in ["", "-", ".5", "5.", "1e3", "abc", "1.2.3"] {
            assert!(Notional::parse_str(bad).is_err(), "{bad}");
        }
        assert!(Notional::parse_str(&"9".repeat(40)).is_err());
    }

    #[test]
    fn vwap_divides_exactly_to_price_places() {
        let n = notional(p("100"), q("1"))
            .checked_add(notional(p("101.5"), q("2")))
            .unwrap();
        assert_eq!(n.vwap(q("3")), Some(p("101")));
        let third = notional(p("1"), q("1")).vwap(q("3")).unwrap();
        assert_eq!(third.to_string(), format!("0.{}", "3".repeat(24)));
        assert_eq!(n.vwap(Size::ZERO), None);
        assert_eq!(n.vwap(Size::UNDEF), None);
        assert_eq!(notional(p("-2"), q("1")).vwap(q("1")), Some(p("-2")));
    }

    #[test]
    fn wide_products_match_u128_where_they_fit() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..10_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let a = u128::from(rng);
            let b = u128::from(rng.rotate_left(29) >> 1);
            let words = mul_u128(a, b);
            let expected = a * b;
            assert_eq!(words, [expected as u64, (expected >> 64) as u64, 0, 0]);
        }
        // (2^128 - 1)^2 = 2^256 - 2^129 + 1
        assert_eq!(
            mul_u128(u128::MAX, u128::MAX),
            [1, 0, u64::MAX - 1, u64::MAX]
        );
    }
}
