use super::parse::eight_digits;
use super::*;

#[test]
fn parses_exchange_strings_exactly() {
    let e24 = 10i128.pow(24);
    let e18 = 10i128.pow(18);
    assert_eq!(
        Price::parse_str("58942.01000000").unwrap().raw(),
        5_894_201 * e24 / 100
    );
    assert_eq!(
        Size::parse_str("0.00035600").unwrap().raw(),
        356 * e18 / 1_000_000
    );
    assert_eq!(
        Price::parse_str("0.00002246").unwrap().raw(),
        2246 * e24 / 100_000_000
    );
    assert_eq!(Size::parse_str("100").unwrap().raw(), 100 * e18);
    assert_eq!(Price::parse_str("-4.1").unwrap().raw(), -41 * e24 / 10);
    assert_eq!(
        Rate::parse_str("0.0001542145319804").unwrap().raw(),
        1_542_145_319_804 * 100
    );
}

/// The values the issue names: HTX meme coins, 18-place padding, `0E-18`.
#[test]
fn parses_the_extremes_venues_send() {
    assert_eq!(
        Price::parse_str("9.485E-11").unwrap().to_string(),
        "0.00000000009485"
    );
    assert_eq!(
        Size::parse_str("5.106999E12").unwrap().to_string(),
        "5106999000000"
    );
    assert_eq!(
        Size::parse_str("5.79108367147E9").unwrap().to_string(),
        "5791083671.47"
    );
    assert_eq!(
        Price::parse_str("3080.000000000000000000")
            .unwrap()
            .to_string(),
        "3080"
    );
    assert_eq!(
        Size::parse_str("3080.000000000000000000")
            .unwrap()
            .to_string(),
        "3080"
    );
    assert_eq!(Rate::parse_str("0E-18"), Ok(Rate::ZERO));
    assert_eq!(Rate::parse_str("1E-18").unwrap().raw(), 1);
    assert_eq!(
        Size::parse_str("1.3640078E7").unwrap().to_string(),
        "13640078"
    );
    // 1e-12 with 12 significant digits, and 1e10, as prices.
    let tiny = Price::parse_str("1.23456789012E-12").unwrap();
    assert_eq!(tiny.to_string(), "0.00000000000123456789012");
    assert_eq!(Price::parse_str("1e10").unwrap().to_string(), "10000000000");
    // Sizes from 1e-12 to 1e15.
    assert_eq!(Size::parse_str("1e-12").unwrap().raw(), 1_000_000);
    assert_eq!(
        Size::parse_str("999999999999999.999999999999999999")
            .unwrap()
            .to_string(),
        "999999999999999.999999999999999999"
    );
    // A nonzero digit that does not fit is still an error, never rounding.
    assert_eq!(
        Rate::parse_str("1E-19"),
        Err(DecimalError::TooPrecise { scale: 18 })
    );
    assert_eq!(
        Price::parse_str("1e-25"),
        Err(DecimalError::TooPrecise { scale: 24 })
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
    let e10 = 10i128.pow(10);
    assert_eq!(Size::parse_str("1e-8").unwrap().raw(), e10);
    assert_eq!(Size::parse_str("1E-8").unwrap().raw(), e10);
    assert_eq!(Size::parse_str("2.5e3").unwrap().to_string(), "2500");
    assert_eq!(Size::parse_str("2.5e+3").unwrap().to_string(), "2500");
    assert_eq!(Size::parse_str("1200e-2").unwrap().to_string(), "12");
    assert_eq!(Size::parse_str("0e5").unwrap().raw(), 0);
    assert_eq!(
        Size::parse_str("1e-19"),
        Err(DecimalError::TooPrecise { scale: 18 })
    );
}

#[test]
fn the_range_ends_where_i128_does() {
    assert_eq!(
        Size::MAX.to_string(),
        "170141183460469231731.687303715884105726"
    );
    assert_eq!(
        Size::parse_str("170141183460469231731.687303715884105726"),
        Ok(Size::MAX)
    );
    assert_eq!(
        Size::parse_str("170141183460469231731.687303715884105727"),
        Err(DecimalError::OutOfRange { scale: 18 })
    );
    assert_eq!(
        Size::parse_str("-170141183460469231731.687303715884105728"),
        Err(DecimalError::OutOfRange { scale: 18 })
    );
    assert_eq!(
        Price::MAX.to_string(),
        "170141183460469.231731687303715884105726"
    );
    assert_eq!(
        Price::parse_str("170141183460469.231731687303715884105726"),
        Ok(Price::MAX)
    );
    assert_eq!(
        Price::parse_str("1e15"),
        Err(DecimalError::OutOfRange { scale: 24 })
    );
}

#[test]
fn trailing_zeros_beyond_scale_are_exact() {
    assert_eq!(
        Size::parse_str("1.0000000000000000000000000").unwrap(),
        Size::from_int(1).unwrap()
    );
    assert_eq!(
        Size::parse_str("0.0000000000000000001"),
        Err(DecimalError::TooPrecise { scale: 18 })
    );
}

#[test]
fn rejects_malformed_text() {
    for bad in [
        "", "-", ".", ".5", "5.", "1..2", "1.2.3", "abc", "1e", "1e+", "+1", "1 ", " 1", "0x10",
        "1e99999", "--1", "NaN", "inf",
    ] {
        assert!(Price::parse_str(bad).is_err(), "{bad:?} should be rejected");
    }
    assert!(Price::parse(&[b'1'; 97]).is_err());
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
    assert!(tiny.rescale::<18>().is_err());
    assert_eq!(Size::UNDEF.rescale::<24>(), Ok(Price::UNDEF));
}

#[test]
fn order_and_sign_follow_the_integer() {
    let values = [
        "-1e14",
        "-1",
        "-1e-24",
        "0",
        "1e-24",
        "1",
        "18446744073709551616e-18",
        "1e14",
    ];
    let parsed: Vec<Price> = values
        .iter()
        .map(|v| Price::parse_str(v).unwrap())
        .collect();
    assert!(parsed.windows(2).all(|w| w[0] < w[1]), "{parsed:?}");
    assert!(Price::MAX < Price::UNDEF);
    assert!(parsed[0].is_negative() && !parsed[3].is_negative() && parsed[3].is_zero());
    assert_eq!(Price::MAX.checked_add(Price::from_raw(1)), None);
    assert_eq!(Price::MIN.checked_sub(Price::from_raw(1)), None);
}
