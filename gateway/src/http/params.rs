//! Query parameters of the HTTP API, each failure a message that says what is valid.

use std::collections::HashMap;

use tickd_bus::{Instrument, SharedRegistry, Venue};

use crate::protocol::parse_interval;

pub type Params = HashMap<String, String>;

pub fn venue(params: &Params) -> Result<Venue, String> {
    let text = params
        .get("venue")
        .ok_or("missing venue; venues: binance, binance-usdm, okx, bybit, coinbase, kraken")?;
    text.parse().map_err(|_| {
        format!(
            "unknown venue {text:?}; venues: binance, binance-usdm, okx, bybit, coinbase, kraken"
        )
    })
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
pub fn time(params: &Params, name: &str, default: u64) -> Result<u64, String> {
    let Some(text) = params.get(name) else {
        return Ok(default);
    };
    parse_time(text).ok_or_else(|| {
        format!("{name}={text:?} is not a time; use nanoseconds since the epoch or RFC 3339 like 2026-01-01T00:00:00Z")
    })
}

pub fn parse_time(text: &str) -> Option<u64> {
    if let Ok(ns) = text.parse::<u64>() {
        return Some(ns);
    }
    let parsed =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(parsed.unix_timestamp_nanos()).ok()
}

pub fn interval(params: &Params) -> Result<u32, String> {
    let text = params.get("interval").map_or("1m", String::as_str);
    parse_interval(text).ok_or_else(|| {
        format!("interval={text:?}: use 1s, 5s, 1m, 5m, 15m, 1h, 4h, 1d or seconds like 90 (1 s to 7 days)")
    })
}

pub fn limit(params: &Params, default: usize, max: usize) -> Result<usize, String> {
    match params.get("limit") {
        None => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!(
                "limit={text:?}: use a whole number from 1 to {max}"
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
    fn times_parse_both_ways() {
        assert_eq!(
            parse_time("1700000000000000000"),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z"),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("1969-12-31T00:00:00Z"), None);
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
