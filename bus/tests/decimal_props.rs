//! Property tests for the exact decimal parser and formatter.
//!
//! The reference below is written independently of `decimal.rs`: it works on the
//! digit string with `u128` arithmetic and decides the expected outcome (value,
//! too precise, out of range, malformed) from the components of the text.

mod support;

use proptest::prelude::*;
use tickd_bus::{DecimalError, Fixed, Price, Rate, Size};

/// What the reference says a piece of text must parse to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Raw(i128),
    TooPrecise,
    OutOfRange,
    /// Not in the grammar (or longer than the parser's 96-byte limit).
    Syntax,
}

/// The parts of a decimal in the grammar `-?digits[.digits][(e|E)[+-]digits]`.
#[derive(Debug, Clone)]
struct Parts {
    negative: bool,
    int: String,
    frac: Option<String>,
    /// (marker `e`/`E`, sign `""`/`"+"`/`"-"`, digits)
    exp: Option<(char, &'static str, String)>,
}

impl Parts {
    fn text(&self) -> String {
        let mut out = String::new();
        if self.negative {
            out.push('-');
        }
        out.push_str(&self.int);
        if let Some(frac) = &self.frac {
            out.push('.');
            out.push_str(frac);
        }
        if let Some((marker, sign, digits)) = &self.exp {
            out.push(*marker);
            out.push_str(sign);
            out.push_str(digits);
        }
        out
    }
}

/// Split text into [`Parts`], or `None` if it is not in the grammar.
fn recognize(text: &str) -> Option<Parts> {
    fn digits(s: &str) -> (&str, &str) {
        let end = s.bytes().take_while(u8::is_ascii_digit).count();
        s.split_at(end)
    }
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, rest) = digits(rest);
    if int.is_empty() {
        return None;
    }
    let (frac, rest) = match rest.strip_prefix('.') {
        Some(after) => {
            let (frac, rest) = digits(after);
            if frac.is_empty() {
                return None;
            }
            (Some(frac.to_string()), rest)
        }
        None => (None, rest),
    };
    let exp = match rest.chars().next() {
        None => None,
        Some(marker @ ('e' | 'E')) => {
            let after = &rest[1..];
            let (sign, after) = if let Some(a) = after.strip_prefix('+') {
                ("+", a)
            } else if let Some(a) = after.strip_prefix('-') {
                ("-", a)
            } else {
                ("", after)
            };
            let (exp_digits, rest) = digits(after);
            if exp_digits.is_empty() || !rest.is_empty() {
                return None;
            }
            Some((marker, sign, exp_digits.to_string()))
        }
        Some(_) => return None,
    };
    Some(Parts {
        negative,
        int: int.to_string(),
        frac,
        exp,
    })
}

/// The exact outcome for `parts` at `scale`, computed on the digit string.
fn reference(parts: &Parts, scale: u32) -> Expected {
    if parts.text().len() > 96 {
        return Expected::Syntax;
    }
    let frac = parts.frac.as_deref().unwrap_or("");
    // Exponents beyond a million are equivalent to a million for any input <= 96 bytes.
    let exponent: i64 = match &parts.exp {
        None => 0,
        Some((_, sign, digits)) => {
            let trimmed = digits.trim_start_matches('0');
            let magnitude = if trimmed.len() > 7 {
                1_000_000
            } else {
                trimmed.parse::<i64>().unwrap_or(0).min(1_000_000)
            };
            if *sign == "-" {
                -magnitude
            } else {
                magnitude
            }
        }
    };
    let all = format!("{}{}", parts.int, frac);
    let significant = all.trim_start_matches('0');
    let trimmed = significant.trim_end_matches('0');
    if trimmed.is_empty() {
        return Expected::Raw(0);
    }
    let trailing = (significant.len() - trimmed.len()) as i64;
    // value = trimmed * 10^power, and trimmed does not end in zero.
    let power = exponent - frac.len() as i64 + trailing;
    let shift = power + i64::from(scale);
    if shift < 0 {
        return Expected::TooPrecise;
    }
    if trimmed.len() as i64 + shift > 39 {
        return Expected::OutOfRange;
    }
    // Overflowing an u128 means far beyond the range.
    let magnitude = trimmed
        .bytes()
        .try_fold(0u128, |m, digit| {
            m.checked_mul(10)?.checked_add(u128::from(digit - b'0'))
        })
        .and_then(|m| m.checked_mul(10u128.checked_pow(shift as u32)?));
    let Some(magnitude) = magnitude.filter(|m| *m < i128::MAX as u128) else {
        return Expected::OutOfRange;
    };
    let raw = magnitude as i128;
    Expected::Raw(if parts.negative { -raw } else { raw })
}

fn outcome<const S: u32>(text: &str) -> Expected {
    match Fixed::<S>::parse_str(text) {
        Ok(value) => Expected::Raw(value.raw()),
        Err(DecimalError::TooPrecise { scale }) => {
            assert_eq!(scale, S, "{text:?}: error names the wrong scale");
            Expected::TooPrecise
        }
        Err(DecimalError::OutOfRange { scale }) => {
            assert_eq!(scale, S, "{text:?}: error names the wrong scale");
            Expected::OutOfRange
        }
        Err(DecimalError::Empty) => {
            assert!(text.is_empty() || text == "-", "{text:?} is not empty");
            Expected::Syntax
        }
        Err(DecimalError::InvalidChar(c)) => {
            assert!(
                text.contains(c) || !text.is_ascii(),
                "{text:?} does not contain {c:?}"
            );
            Expected::Syntax
        }
        Err(DecimalError::Malformed) => Expected::Syntax,
    }
}

/// Check text against the reference at every scale tickd uses.
fn check_all_scales(text: &str) {
    let expected = |scale| match recognize(text) {
        Some(parts) => reference(&parts, scale),
        None => Expected::Syntax,
    };
    assert_eq!(outcome::<24>(text), expected(24), "Price {text:?}");
    assert_eq!(outcome::<18>(text), expected(18), "Size and Rate {text:?}");
    // A small scale too, where 38-digit texts run out of range at the integer end.
    assert_eq!(outcome::<2>(text), expected(2), "scale 2 {text:?}");
}

/// Canonical text round-trips, and so does the fixed-places form.
fn round_trip<const S: u32>(raw: i128) {
    let value = Fixed::<S>::from_raw(raw);
    let text = value.to_string();
    assert_eq!(Fixed::<S>::parse_str(&text), Ok(value), "{text}");
    assert!(
        !text.contains('.') || !text.ends_with('0'),
        "{text} is not canonical"
    );
    let padded = value.to_string_with_places(S).unwrap();
    assert_eq!(Fixed::<S>::parse_str(&padded), Ok(value), "{padded}");
    let parts = recognize(&text).expect("formatted text is in the grammar");
    assert_eq!(reference(&parts, S), Expected::Raw(raw), "{text}");
}

/// The same value written with exponent `exp`: mantissa digits shifted accordingly,
/// plus `extra_zeros` trailing fraction zeros.
fn exponent_form(
    raw: i128,
    scale: u32,
    exp: i32,
    upper: bool,
    plus: bool,
    extra_zeros: usize,
) -> String {
    let digits = raw.unsigned_abs().to_string();
    // value = digits * 10^-scale = mantissa * 10^exp, so the mantissa has
    // (scale + exp) fraction digits.
    let frac_len = i64::from(scale) + i64::from(exp);
    let mut mantissa = if frac_len <= 0 {
        format!("{digits}{}", "0".repeat((-frac_len) as usize))
    } else {
        let frac_len = frac_len as usize;
        let padded = format!("{digits:0>width$}", width = frac_len + 1);
        let (int, frac) = padded.split_at(padded.len() - frac_len);
        format!("{int}.{frac}")
    };
    if extra_zeros > 0 {
        if !mantissa.contains('.') {
            mantissa.push('.');
        }
        mantissa.push_str(&"0".repeat(extra_zeros));
    }
    let sign = if raw < 0 { "-" } else { "" };
    let marker = if upper { 'E' } else { 'e' };
    let exp_sign = if exp >= 0 && plus { "+" } else { "" };
    format!("{sign}{mantissa}{marker}{exp_sign}{exp}")
}

fn exponent_forms_equal_plain<const S: u32>(
    raw: i128,
    exp: i32,
    upper: bool,
    plus: bool,
    zeros: usize,
) {
    let value = Fixed::<S>::from_raw(raw);
    let text = exponent_form(raw, S, exp, upper, plus, zeros);
    assert_eq!(Fixed::<S>::parse_str(&text), Ok(value), "{text} vs {value}");
}

/// Raw values across the whole range, with the edges weighted in.
fn any_raw() -> impl Strategy<Value = i128> {
    let max = i128::MAX - 1;
    prop_oneof![
        4 => -max..=max,
        2 => i128::from(i64::MIN)..=i128::from(i64::MAX),
        1 => -1_000_000i128..=1_000_000,
        1 => prop::sample::select(vec![0, 1, -1, max, -max, max - 1, -max + 1, 10, -10]),
        1 => (0u32..39, -9i128..=9).prop_map(|(p, d)| 10i128.pow(p).saturating_mul(d).clamp(-(i128::MAX - 1), i128::MAX - 1)),
    ]
}

fn digit_string(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::string::string_regex("[0-9]{1,6}").unwrap(),
        2 => proptest::string::string_regex(&format!("[0-9]{{1,{max}}}")).unwrap(),
        1 => proptest::string::string_regex(&format!("0{{0,5}}[1-9][0-9]{{0,{max}}}0{{0,8}}")).unwrap(),
    ]
}

/// Texts in the grammar, from tiny to far out of range and far too precise.
fn grammar_parts() -> impl Strategy<Value = Parts> {
    (
        any::<bool>(),
        digit_string(30),
        prop::option::of(digit_string(30)),
        prop::option::of((
            prop::sample::select(vec!['e', 'E']),
            prop::sample::select(vec!["", "+", "-"]),
            prop_oneof![
                3 => proptest::string::string_regex("[0-9]{1,2}").unwrap(),
                1 => proptest::string::string_regex("0{0,4}[0-9]{1,7}").unwrap(),
            ],
        )),
    )
        .prop_map(|(negative, int, frac, exp)| Parts {
            negative,
            int,
            frac,
            exp,
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 4096,
        // Integration tests have no lib.rs next to them for regression files.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn format_then_parse_is_identity(raw in any_raw()) {
        round_trip::<24>(raw);
        round_trip::<18>(raw);
    }

    #[test]
    fn exponent_forms_parse_to_the_plain_value(
        raw in any_raw(),
        exp in -30i32..=30,
        upper in any::<bool>(),
        plus in any::<bool>(),
        zeros in 0usize..4,
    ) {
        exponent_forms_equal_plain::<24>(raw, exp, upper, plus, zeros);
        exponent_forms_equal_plain::<18>(raw, exp, upper, plus, zeros);
    }

    #[test]
    fn grammar_texts_match_the_reference(parts in grammar_parts()) {
        check_all_scales(&parts.text());
    }

    #[test]
    fn random_texts_never_panic_and_match_the_reference(text in "[-+0-9.eE x]{0,30}") {
        check_all_scales(&text);
    }

    /// Long digit runs with one odd byte somewhere: exercises the 8-digits-at-once path.
    #[test]
    fn digit_runs_with_a_stray_byte_match_the_reference(
        text in "-?[0-9]{0,20}[./:0-9\u{80}-\u{ff}]?[0-9]{0,20}"
    ) {
        check_all_scales(&text);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..110)) {
        let results = [
            Price::parse(&bytes).map(|v| v.raw()),
            Size::parse(&bytes).map(|v| v.raw()),
            Rate::parse(&bytes).map(|v| v.raw()),
        ];
        // Whatever parses is inside the symmetric range: never UNDEF, never i128::MIN.
        for raw in results.into_iter().flatten() {
            prop_assert!(raw.unsigned_abs() < i128::MAX as u128);
        }
        if let Ok(text) = std::str::from_utf8(&bytes) {
            check_all_scales(text);
        }
    }
}

#[test]
fn edges_of_the_range() {
    fn edges<const S: u32>() {
        for value in [Fixed::<S>::MIN, Fixed::<S>::MAX, Fixed::<S>::ZERO] {
            round_trip::<S>(value.raw());
        }
        // UNDEF is a marker, not a value: its digits are out of range as text.
        let undef_text = Fixed::<S>::UNDEF.to_string();
        assert_eq!(
            Fixed::<S>::parse_str(&undef_text),
            Err(DecimalError::OutOfRange { scale: S })
        );
        let below_min = Fixed::<S>::from_raw(i128::MIN + 1).to_string();
        assert_eq!(
            Fixed::<S>::parse_str(&below_min),
            Err(DecimalError::OutOfRange { scale: S })
        );
        let min_text = Fixed::<S>::from_raw(i128::MIN).to_string();
        assert_eq!(
            Fixed::<S>::parse_str(&min_text),
            Err(DecimalError::OutOfRange { scale: S })
        );
        assert_eq!(Fixed::<S>::UNDEF.defined(), None);
        assert_eq!(Fixed::<S>::MAX.defined(), Some(Fixed::<S>::MAX));
    }
    edges::<24>();
    edges::<18>();
    edges::<2>();
    assert_eq!(
        Price::MAX.to_string(),
        "170141183460469.231731687303715884105726"
    );
    assert_eq!(
        Rate::MIN.to_string(),
        "-170141183460469231731.687303715884105726"
    );
}

/// Exponents with many digits are well-formed numbers: huge positive ones are out
/// of range, huge negative ones too precise, and any exponent of zero is zero.
#[test]
fn long_exponents_get_the_right_error_kind() {
    assert_eq!(
        Size::parse_str("1e99999"),
        Err(DecimalError::OutOfRange { scale: 18 })
    );
    assert_eq!(
        Size::parse_str("1e-99999"),
        Err(DecimalError::TooPrecise { scale: 18 })
    );
    assert_eq!(Size::parse_str("1e-000018"), Ok(Size::from_raw(1)));
    assert_eq!(Size::parse_str("0e99999999"), Ok(Size::ZERO));
    assert_eq!(Price::parse_str("2.5E+00003"), Price::parse_str("2500"));
}

#[test]
fn reference_agrees_on_known_values() {
    let check = |text: &str, scale: u32, expected: Expected| {
        let parts = recognize(text).unwrap();
        assert_eq!(reference(&parts, scale), expected, "{text}");
    };
    check("58942.01000000", 9, Expected::Raw(58_942_010_000_000));
    check("1e-8", 8, Expected::Raw(1));
    check("1e-9", 8, Expected::TooPrecise);
    check(
        "50000000000.12345678",
        8,
        Expected::Raw(5_000_000_000_012_345_678),
    );
    check("1e15", 24, Expected::OutOfRange);
    check("1e14", 24, Expected::Raw(10i128.pow(38)));
    check("-0.000", 9, Expected::Raw(0));
    assert!(recognize("1.").is_none());
    assert!(recognize(".5").is_none());
    assert!(recognize("1e").is_none());
    assert!(recognize("+1").is_none());
}

/// The reference value of a grammar text at `scale`, if it is one.
fn reference_raw(parts: &Parts, scale: u32) -> Option<i128> {
    match reference(parts, scale) {
        Expected::Raw(raw) => Some(raw),
        _ => None,
    }
}

/// `a × b` for non-negative decimal integers given as digit strings (schoolbook).
fn multiply_digits(a: &str, b: &str) -> String {
    let a: Vec<u32> = a.bytes().rev().map(|d| u32::from(d - b'0')).collect();
    let b: Vec<u32> = b.bytes().rev().map(|d| u32::from(d - b'0')).collect();
    let mut out = vec![0u32; a.len() + b.len()];
    for (i, x) in a.iter().enumerate() {
        let mut carry = 0;
        for (j, y) in b.iter().enumerate() {
            let v = out[i + j] + x * y + carry;
            out[i + j] = v % 10;
            carry = v / 10;
        }
        out[i + b.len()] += carry;
    }
    let text: String = out
        .iter()
        .rev()
        .map(|d| char::from(b'0' + *d as u8))
        .collect();
    match text.trim_start_matches('0') {
        "" => "0".into(),
        t => t.into(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2048,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// What books and bars do with numbers: order, add, subtract, multiply a price by
    /// a size. Each matches the reference's exact values, or is a typed overflow.
    #[test]
    fn order_and_arithmetic_follow_the_decimal_values(a in grammar_parts(), b in grammar_parts()) {
        fn check<const S: u32>(a: &Parts, b: &Parts) {
            let (Some(ra), Some(rb)) = (reference_raw(a, S), reference_raw(b, S)) else {
                return;
            };
            let (x, y) = (Fixed::<S>::parse_str(&a.text()).unwrap(), Fixed::<S>::parse_str(&b.text()).unwrap());
            assert_eq!(x.cmp(&y), ra.cmp(&rb), "{} vs {}", a.text(), b.text());
            let in_range = |v: i128| v.unsigned_abs() < i128::MAX as u128;
            let sum = ra.checked_add(rb).filter(|v| in_range(*v));
            assert_eq!(x.checked_add(y).map(|v| v.raw()), sum, "{} + {}", a.text(), b.text());
            let difference = ra.checked_sub(rb).filter(|v| in_range(*v));
            assert_eq!(x.checked_sub(y).map(|v| v.raw()), difference);
        }
        check::<24>(&a, &b);
        check::<18>(&a, &b);
        if let (Some(p), Some(s)) = (reference_raw(&a, 24), reference_raw(&b, 18)) {
            let price = Price::parse_str(&a.text()).unwrap();
            let size = Size::parse_str(&b.text()).unwrap();
            let digits = multiply_digits(&p.unsigned_abs().to_string(), &s.unsigned_abs().to_string());
            let sign = if (p < 0) != (s < 0) { "-" } else { "" };
            let expected = support::canonical(&format!("{sign}{digits}e-42"));
            prop_assert_eq!(tickd_bus::decimal::notional(price, size).to_string(), expected);
        }
    }
}
