//! Query parameters of the HTTP API, each failure a message that says what is valid.

use std::collections::HashMap;

use tickd_bus::{Instrument, SharedRegistry, Venue};

use crate::protocol::parse_interval;

pub type Params = HashMap<String, String>;

pub fn venue(params: &Params) -> Result<Venue, String> {
    let text = params
        .get("venue")
        .ok_or_else(|| format!("missing venue; venues: {}", Venue::names()))?;
    text.parse()
        .map_err(|_| format!("unknown venue {text:?}; venues: {}", Venue::names()))
}

pub fn instrument(
    params: &Params,
    registry: &SharedRegistry,
) -> Result<(Venue, Instrument), String> {
    let venue = venue(params)?;
    let symbol = params
        .get("symbol")
        .ok_or("missing symbol, e.g. symbol=BTC-USDT (or the venue's own BTCUSDT)")?;
    let registry = registry
        .read()
        .map_err(|_| "registry unavailable".to_string())?;
    let instrument = registry.resolve(venue, symbol).cloned().ok_or_else(|| {
        format!("unknown symbol {symbol:?} on {venue}; see GET /v1/instruments?venue={venue}")
    })?;
    Ok((venue, instrument))
}

/// A time: nanoseconds since the epoch, or RFC 3339 (`2026-01-01T00:00:00Z`).
/// A time parameter, in the forms the CLI takes too (one parser for both).
pub fn time(params: &Params, name: &str, default: u64) -> Result<u64, String> {
    let Some(text) = params.get(name) else {
        return Ok(default);
    };
    tickd_storage::history::time::parse_time(text).map_err(|e| format!("{name}: {e}"))
}

pub fn interval(params: &Params) -> Result<u32, String> {
    let text = params.get("interval").map_or("1m", String::as_str);
    parse_interval(text).ok_or_else(|| {
        format!("interval={text:?}: use 1s, 5s, 1m, 5m, 15m, 1h, 4h, 1d or seconds like 90 (1 s to 7 days)")
    })
}

pub fn limit(params: &Params, default: usize, max: usize) -> Result<usize, String> {
    count(params, "limit", default, max)
}

/// A whole-number parameter `name` from 1 to `max`.
pub fn count(params: &Params, name: &str, default: usize, max: usize) -> Result<usize, String> {
    match params.get(name) {
        None => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!(
                "{name}={text:?}: use a whole number from 1 to {max}"
            )),
        },
    }
}

/// `json` (default) or `csv`.
pub fn csv(params: &Params) -> Result<bool, String> {
    match params.get("format").map(String::as_str) {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(format!("format={other:?}: use format=json or format=csv")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_take_ns_rfc3339_and_dates() {
        let at = |text: &str| time(&[("from".to_string(), text.to_string())].into(), "from", 0);
        assert_eq!(at("1700000000000000000"), Ok(1_700_000_000_000_000_000));
        assert_eq!(at("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000_000_000));
        assert_eq!(at("2023-11-14"), Ok(1_699_920_000_000_000_000));
        assert!(at("yesterday").unwrap_err().starts_with("from: "));
        assert!(at("1969-12-31T00:00:00Z").is_err());
        assert_eq!(time(&Params::new(), "from", 7), Ok(7));
    }

    #[test]
    fn bad_values_say_what_is_valid() {
        let p: Params = [("interval".to_string(), "7x".to_string())].into();
        assert!(interval(&p).unwrap_err().contains("1m"));
        let p: Params = [("limit".to_string(), "0".to_string())].into();
        assert!(limit(&p, 10, 100).unwrap_err().contains("1 to 100"));
        let p: Params = [("format".to_string(), "xml".to_string())].into();
        assert!(csv(&p).unwrap_err().contains("csv"));
    }
}
