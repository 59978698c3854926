//! REST `GET /0/public/AssetPairs` (`kraken.md` §4) → instrument specs.
//!
//! `{"error":[],"result":{"XXBTZUSD":{"wsname":"XBT/USD","pair_decimals":1,
//! "lot_decimals":8,"status":"online",..},..}}`. The raw symbol is the v2 name:
//! `wsname` with Kraken's legacy codes renamed (`XBT` → `BTC`, `XDG` → `DOGE`), so
//! `BTC/USD` (normalized `BTC-USD`). Each pair's precision is kept in the registry
//! as the tick and step sizes `10^-pair_decimals` and `10^-lot_decimals`: the book
//! checksum formats levels with exactly those places ([`precision_of`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use tickd_bus::instrument::{InstrumentKind, InstrumentSpec};
use tickd_bus::{Fixed, Price, Size, Venue};

use super::checksum::Precision;
use crate::binance::decode::json;
use crate::error::DecodeError;

/// Most decimal places a Kraken pair uses for prices or quantities.
const MAX_PLACES: u8 = 18;

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    error: Vec<String>,
    result: Option<BTreeMap<String, Pair>>,
}

#[derive(Deserialize)]
struct Pair {
    wsname: Option<String>,
    pair_decimals: Option<u8>,
    lot_decimals: Option<u8>,
    status: Option<String>,
}

/// Kraken's legacy asset codes and their v2 names.
fn v2_code(code: &str) -> &str {
    match code {
        "XBT" => "BTC",
        "XDG" => "DOGE",
        other => other,
    }
}

/// The v2 symbol of a `wsname` (`XBT/USD` → `BTC/USD`), and its base and quote.
pub fn v2_symbol(wsname: &str) -> Option<(String, String, String)> {
    let (base, quote) = wsname.split_once('/')?;
    if base.is_empty() || quote.is_empty() || quote.contains('/') {
        return None;
    }
    let (base, quote) = (v2_code(base), v2_code(quote));
    Some((
        format!("{base}/{quote}"),
        base.to_string(),
        quote.to_string(),
    ))
}

/// `10^-places`.
fn unit<const S: u32>(places: u8) -> Fixed<S> {
    Fixed::from_raw(10i128.pow(S - u32::from(places).min(S)))
}

/// The trading pairs of an AssetPairs body (pairs not `online`, or without a
/// `wsname` or precision, are left out).
pub fn decode_asset_pairs(body: &[u8]) -> Result<Vec<InstrumentSpec>, DecodeError> {
    let body: Body = json::sonic(body)?;
    if let Some(first) = body.error.first() {
        return Err(DecodeError::UnknownEvent {
            event: crate::error::ShortText::new(first),
        });
    }
    let pairs = body
        .result
        .ok_or(DecodeError::MissingField { field: "result" })?;
    let mut specs = Vec::new();
    for pair in pairs.into_values() {
        let (Some(wsname), Some(price), Some(qty)) =
            (pair.wsname, pair.pair_decimals, pair.lot_decimals)
        else {
            continue;
        };
        if pair.status.as_deref().is_some_and(|s| s != "online")
            || price > MAX_PLACES
            || qty > MAX_PLACES
        {
            continue;
        }
        let Some((raw_symbol, base, quote)) = v2_symbol(&wsname) else {
            continue;
        };
        specs.push(InstrumentSpec {
            venue: Venue::Kraken,
            raw_symbol,
            base,
            quote,
            kind: InstrumentKind::Spot,
            tick_size: unit::<{ Price::SCALE }>(price),
            step_size: unit::<{ Size::SCALE }>(qty),
            contract: None,
        });
    }
    Ok(specs)
}

/// Decimal places of a step (`0.1` → 1, `0.00000001` → 8, `1` → 0).
fn places<const S: u32>(step: Fixed<S>) -> u8 {
    let mut raw = step.raw().unsigned_abs();
    if raw == 0 {
        return 0;
    }
    let mut zeros = 0;
    while raw.is_multiple_of(10) && zeros < S {
        raw /= 10;
        zeros += 1;
    }
    (S - zeros) as u8
}

/// A pair's checksum precision from its registered tick and step sizes.
pub fn precision_of(spec: &InstrumentSpec) -> Precision {
    Precision {
        price: places(spec.tick_size),
        qty: places(spec.step_size),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_pairs_to_v2_symbols_with_precision() {
        let body = br#"{"error":[],"result":{
          "XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","base":"XXBT","quote":"ZUSD","pair_decimals":1,"lot_decimals":8,"tick_size":"0.1","status":"online"},
          "XETHZEUR":{"altname":"ETHEUR","wsname":"ETH/EUR","pair_decimals":2,"lot_decimals":8,"status":"online"},
          "XDGUSD":{"altname":"XDGUSD","wsname":"XDG/USD","pair_decimals":7,"lot_decimals":8,"status":"online"},
          "OLDUSD":{"wsname":"OLD/USD","pair_decimals":2,"lot_decimals":8,"status":"delisted"},
          "NOWS":{"pair_decimals":2,"lot_decimals":8}
        }}"#;
        let specs = decode_asset_pairs(body).unwrap();
        let names: Vec<_> = specs.iter().map(|s| s.raw_symbol.as_str()).collect();
        assert_eq!(names, ["DOGE/USD", "ETH/EUR", "BTC/USD"]);
        let btc = specs.iter().find(|s| s.raw_symbol == "BTC/USD").unwrap();
        assert_eq!(btc.normalized_symbol(), "BTC-USD");
        assert_eq!(btc.tick_size, Price::parse_str("0.1").unwrap());
        assert_eq!(btc.step_size, Size::parse_str("0.00000001").unwrap());
        assert_eq!(precision_of(btc), Precision { price: 1, qty: 8 });
        assert_eq!(places(Price::parse_str("1").unwrap()), 0);
        assert!(matches!(
            decode_asset_pairs(br#"{"error":["EGeneral:Invalid arguments"]}"#),
            Err(DecodeError::UnknownEvent { .. })
        ));
        assert!(decode_asset_pairs(b"[]").is_err());
    }
}
