//! HTX values: JSON numbers in Java notation read exactly from their token text
//! (Kraken's reader, `htx.md` §5), the same values as strings where HTX sends
//! strings (notification topics, `req` replies), millisecond times, and book
//! levels `[[price, size], ..]` (or `null`) into reused buffers.

use sonic_rs::{JsonValueTrait, LazyValue};
use tickd_bus::Fixed;

use crate::book::Level;
use crate::error::DecodeError;
use crate::kraken::decode::number;
use crate::okx::decode::fields::for_each;

/// An exact decimal from a number token (`1.3640078E7`) or a string (`"0E-18"`).
#[inline]
pub(crate) fn decimal<const S: u32>(
    value: &LazyValue<'_>,
    field: &'static str,
) -> Result<Fixed<S>, DecodeError> {
    match value.as_str() {
        Some(text) => DecodeError::decimal(field, Fixed::<S>::parse(text.as_bytes())),
        None => number::decimal(value, field),
    }
}

/// A required decimal.
#[inline]
pub(crate) fn req_decimal<const S: u32>(
    value: &Option<LazyValue<'_>>,
    field: &'static str,
) -> Result<Fixed<S>, DecodeError> {
    decimal(
        value.as_ref().ok_or(DecodeError::MissingField { field })?,
        field,
    )
}

/// An optional decimal: absent, `null` or `"null"` is `absent`.
#[inline]
pub(crate) fn decimal_or<const S: u32>(
    value: &Option<LazyValue<'_>>,
    absent: Fixed<S>,
    field: &'static str,
) -> Result<Fixed<S>, DecodeError> {
    match value {
        None => Ok(absent),
        Some(v) if v.is_null() || v.as_str() == Some("null") || v.as_str() == Some("") => {
            Ok(absent)
        }
        Some(v) => decimal(v, field),
    }
}

/// An unsigned integer given as a number or a digit string (`"1790135110000"`).
pub(crate) fn uint(value: &LazyValue<'_>, field: &'static str) -> Result<u64, DecodeError> {
    let text = value.as_str().unwrap_or_else(|| value.as_raw_str());
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecodeError::OutOfRange { field });
    }
    text.parse().map_err(|_| DecodeError::OutOfRange { field })
}

/// Milliseconds (number or string) in ns; absent is 0 ("not sent").
pub(crate) fn ms_ns(
    value: &Option<LazyValue<'_>>,
    field: &'static str,
) -> Result<u64, DecodeError> {
    match value {
        None => Ok(0),
        Some(v) if v.is_null() => Ok(0),
        Some(v) => uint(v, field)?
            .checked_mul(1_000_000)
            .ok_or(DecodeError::OutOfRange { field }),
    }
}

/// `[[price, size], ..]` into `out` (cleared first); `null` or absent is no level.
pub(crate) fn levels(
    value: &Option<LazyValue<'_>>,
    out: &mut Vec<Level>,
    field: &'static str,
) -> Result<(), DecodeError> {
    out.clear();
    let Some(value) = value else { return Ok(()) };
    if value.is_null() {
        return Ok(());
    }
    for_each(
        value.as_raw_str().as_bytes(),
        |(price, size): (LazyValue<'_>, LazyValue<'_>)| {
            out.push(Level::new(decimal(&price, field)?, decimal(&size, field)?));
            Ok(())
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::{Price, Rate, Size};

    fn lazy(text: &str) -> LazyValue<'_> {
        sonic_rs::from_str(text).unwrap()
    }

    #[test]
    fn java_numbers_and_strings_are_exact() {
        let p: Price = decimal(&lazy("9.485E-11"), "p").unwrap();
        assert_eq!(p.to_string(), "0.00000000009485");
        let s: Size = decimal(&lazy("5.106999E12"), "s").unwrap();
        assert_eq!(s.to_string(), "5106999000000");
        let s: Size = decimal(&lazy("3080.000000000000000000"), "s").unwrap();
        assert_eq!(s, Size::from_int(3080).unwrap());
        let r: Rate = decimal(&lazy("\"0E-18\""), "r").unwrap();
        assert_eq!(r, Rate::ZERO);
        assert!(decimal::<18>(&lazy("\"abc\""), "r").is_err());
        assert!(decimal::<18>(&lazy("true"), "r").is_err());
        assert_eq!(
            decimal_or(&Some(lazy("null")), Rate::UNDEF, "r"),
            Ok(Rate::UNDEF)
        );
        assert_eq!(
            decimal_or(&Some(lazy("\"null\"")), Rate::UNDEF, "r"),
            Ok(Rate::UNDEF)
        );
    }

    #[test]
    fn integers_and_levels() {
        assert_eq!(uint(&lazy("\"1790135110000\""), "t"), Ok(1_790_135_110_000));
        assert_eq!(uint(&lazy("12"), "t"), Ok(12));
        for bad in ["-1", "1.5", "1E3", "123140716701236887569077664"] {
            assert!(uint(&lazy(bad), "t").is_err(), "{bad}");
        }
        let mut out = Vec::new();
        levels(
            &Some(lazy("[[9.485E-11,3.24127967841632E12],[1,0.0]]")),
            &mut out,
            "l",
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        levels(&Some(lazy("null")), &mut out, "l").unwrap();
        assert!(out.is_empty());
        assert!(levels(&Some(lazy("[[1,2,3]]")), &mut out, "l").is_err());
        assert!(levels(&Some(lazy("[[1]]")), &mut out, "l").is_err());
        assert!(levels(&Some(lazy("{}")), &mut out, "l").is_err());
    }
}
