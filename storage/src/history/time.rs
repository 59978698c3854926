//! Times and intervals as users type them (CLI and HTTP share these parsers).
//!
//! Times: RFC 3339 (`2026-01-01T00:00:00Z`, any offset, up to ns precision), a date
//! (`2026-01-01`, midnight UTC) or an integer of nanoseconds since the Unix epoch.
//! Intervals: a whole number of seconds with a unit, `1s 5s 1m 15m 1h 4h 1d`, or a bare
//! number of seconds.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};

/// The forms [`parse_time`] accepts, for error messages.
pub const TIME_FORMS: &str = "RFC 3339 (2026-01-01T00:00:00Z), a date (2026-01-01, \
     midnight UTC) or nanoseconds since the Unix epoch (1767225600000000000)";

/// The forms [`parse_interval`] accepts, for error messages.
pub const INTERVAL_FORMS: &str =
    "a whole number of seconds with a unit s, m, h or d (1s, 5s, 1m, 15m, 1h, 4h, 1d, 90s) \
     or a bare number of seconds";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("invalid time {0:?}: expected {TIME_FORMS}")]
    Time(String),
    #[error("time {0:?} is before 1970-01-01 or after 2554: not representable in ns")]
    OutOfRange(String),
    #[error("invalid interval {0:?}: expected {INTERVAL_FORMS}")]
    Interval(String),
}

/// Parse a time as users type it into ns since the Unix epoch.
pub fn parse_time(text: &str) -> Result<u64, TimeError> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map_err(|_| TimeError::OutOfRange(text.into()));
    }
    let at = if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        at
    } else {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = Date::parse(text, &format).map_err(|_| TimeError::Time(text.into()))?;
        date.with_time(Time::MIDNIGHT).assume_utc()
    };
    u64::try_from(at.unix_timestamp_nanos()).map_err(|_| TimeError::OutOfRange(text.into()))
}

/// RFC 3339 in UTC: `2026-01-01T00:00:00Z`, with the fraction only when there is one.
pub fn format_time(ns: u64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns)) {
        Ok(at) => at.format(&Rfc3339).unwrap_or_else(|_| ns.to_string()),
        Err(_) => ns.to_string(),
    }
}

/// Parse an interval (`1m`, `4h`, `90`) into whole seconds, at least 1.
pub fn parse_interval(text: &str) -> Result<u32, TimeError> {
    let bad = || TimeError::Interval(text.into());
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => t.split_at(at),
        None => (t, "s"),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let secs = n.checked_mul(scale).ok_or_else(bad)?;
    if secs == 0 {
        return Err(bad());
    }
    u32::try_from(secs).map_err(|_| bad())
}

/// `90` → `1m30s`-free names: the shortest exact unit (`1m`, `4h`, `90s`).
pub fn format_interval(secs: u32) -> String {
    match secs {
        0 => "0s".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN1: u64 = 1_767_225_600_000_000_000;

    #[test]
    fn times_in_every_form() {
        assert_eq!(parse_time("2026-01-01T00:00:00Z"), Ok(JAN1));
        assert_eq!(parse_time("2026-01-01"), Ok(JAN1));
        assert_eq!(parse_time("1767225600000000000"), Ok(JAN1));
        assert_eq!(parse_time("2026-01-01T01:00:00+01:00"), Ok(JAN1));
        assert_eq!(parse_time("2026-01-01T00:00:00.000000001Z"), Ok(JAN1 + 1));
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-01-01T25:00:00Z",
            "-5",
            "1.5",
        ] {
            let err = parse_time(bad).unwrap_err().to_string();
            assert!(
                err.contains("RFC 3339") || err.contains("representable"),
                "{err}"
            );
        }
        assert!(matches!(
            parse_time("1969-12-31"),
            Err(TimeError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_time("99999999999999999999"),
            Err(TimeError::OutOfRange(_))
        ));
    }

    #[test]
    fn formatting_round_trips() {
        assert_eq!(format_time(JAN1), "2026-01-01T00:00:00Z");
        assert_eq!(parse_time(&format_time(JAN1 + 1_500)), Ok(JAN1 + 1_500));
    }

    #[test]
    fn intervals() {
        for (text, secs) in [
            ("1s", 1),
            ("5s", 5),
            ("1m", 60),
            ("15m", 900),
            ("4h", 14_400),
        ] {
            assert_eq!(parse_interval(text), Ok(secs));
            assert_eq!(format_interval(secs), text);
        }
        assert_eq!(parse_interval("1d"), Ok(86_400));
        assert_eq!(parse_interval("90"), Ok(90));
        assert_eq!(format_interval(90), "90s");
        for bad in ["0s", "m", "1w", "1.5m", "", "99999999999d"] {
            assert!(
                parse_interval(bad).unwrap_err().to_string().contains("1m"),
                "{bad}"
            );
        }
    }
}
