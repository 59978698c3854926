//! Kraken's RFC 3339 times (`2023-10-06T17:35:55.440295Z`, `kraken.md` §5) in ns
//! since the Unix epoch. Only the UTC `Z` form Kraken sends is accepted; up to nine
//! fraction digits.

use crate::error::DecodeError;

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` → ns; absent is 0 ("not sent").
pub(crate) fn rfc3339_ns(text: Option<&str>, field: &'static str) -> Result<u64, DecodeError> {
    let Some(text) = text else {
        return Ok(0);
    };
    parse(text.as_bytes()).ok_or(DecodeError::OutOfRange { field })
}

fn parse(b: &[u8]) -> Option<u64> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0u64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1970..=2200).contains(&year)
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let rest = &b[19..];
    let (fraction, tail) = match rest.strip_prefix(b".") {
        Some(f) => {
            let n = f.iter().take_while(|d| d.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return None;
            }
            (&f[..n], &f[n..])
        }
        None => (&rest[..0], rest),
    };
    if tail != b"Z" {
        return None;
    }
    let mut nanos = 0u64;
    for i in 0..9 {
        nanos = nanos * 10 + fraction.get(i).map_or(0, |d| u64::from(d - b'0'));
    }
    let days = days_from_civil(year as i64, month as i64, day as i64);
    let secs = u64::try_from(days).ok()? * 86_400 + hour * 3600 + minute * 60 + second;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kraken_times() {
        assert_eq!(
            rfc3339_ns(Some("2023-10-06T17:35:55.440295Z"), "t"),
            Ok(1_696_613_755_440_295_000)
        );
        assert_eq!(
            rfc3339_ns(Some("2023-10-04T16:25:00.000000000Z"), "t"),
            Ok(1_696_436_700_000_000_000)
        );
        assert_eq!(rfc3339_ns(Some("1970-01-01T00:00:00Z"), "t"), Ok(0));
        assert_eq!(rfc3339_ns(None, "t"), Ok(0));
        for bad in [
            "2023-10-06 17:35:55Z",
            "2023-13-06T17:35:55Z",
            "2023-10-06T17:35:55.Z",
            "2023-10-06T17:35:55.1234567890Z",
            "2023-10-06T17:35:55+01:00",
            "",
            "2023-10-06T17:35:5xZ",
        ] {
            assert_eq!(
                rfc3339_ns(Some(bad), "t"),
                Err(DecodeError::OutOfRange { field: "t" }),
                "{bad}"
            );
        }
    }
}
