//! REST `GET /api/v3/brokerage/market/products` (`coinbase.md` §1, §5) → instrument
//! specs, and the product aliases of the public channels (§2).
//!
//! `{"products":[{"product_id":"BTC-USD","base_currency_id":"BTC",
//! "quote_currency_id":"USD","base_increment":"0.00000001","quote_increment":"0.01",
//! "price_increment":"0.01","status":"online","trading_disabled":false,
//! "product_type":"SPOT",..},..],"num_products":N}`. Spot products only: futures
//! and INTX perpetuals need contract terms tickd does not read yet.
//!
//! Aliases: on the public channels `XXX-USDC` is served as the `XXX-USD` book and
//! trades (except `USDT-USDC` and `EURC-USDC`). A configured `XXX-USDC` keeps its own
//! instrument (raw symbol `XXX-USDC`), is subscribed as `XXX-USD`
//! ([`wire_product`]), and frames naming `XXX-USD` are published under it (the
//! decoder maps the wire id to it unless `XXX-USD` is configured too).

use serde::Deserialize;
use tickd_bus::instrument::{InstrumentKind, InstrumentSpec};
use tickd_bus::{Price, Size, Venue};

use crate::binance::decode::json::{self, price, size};
use crate::error::DecodeError;

#[derive(Deserialize)]
struct Body {
    products: Option<Vec<Product>>,
}

#[derive(Deserialize)]
struct Product {
    product_id: Option<String>,
    base_currency_id: Option<String>,
    quote_currency_id: Option<String>,
    base_increment: Option<String>,
    price_increment: Option<String>,
    quote_increment: Option<String>,
    status: Option<String>,
    trading_disabled: Option<bool>,
    is_disabled: Option<bool>,
    product_type: Option<String>,
}

/// USDC quotes the public channels do not fold into USD (§2).
const UNALIASED_USDC: [&str; 2] = ["USDT-USDC", "EURC-USDC"];

/// The product id the public channels serve `raw` under: `XXX-USD` for a spot
/// `XXX-USDC` (except `USDT-USDC`, `EURC-USDC`), else `raw` itself.
pub fn wire_product(raw: &str) -> &str {
    match raw.strip_suffix('C') {
        Some(usd) if usd.ends_with("-USD") && !UNALIASED_USDC.contains(&raw) => usd,
        _ => raw,
    }
}

/// The online spot products of a products body (others are left out).
pub fn decode_products(body: &[u8]) -> Result<Vec<InstrumentSpec>, DecodeError> {
    let body: Body = json::sonic(body)?;
    let products = body
        .products
        .ok_or(DecodeError::MissingField { field: "products" })?;
    let mut specs = Vec::new();
    for p in products {
        let (Some(raw_symbol), Some(base), Some(quote)) =
            (p.product_id, p.base_currency_id, p.quote_currency_id)
        else {
            continue;
        };
        let trading = p.status.as_deref().is_none_or(|s| s == "online")
            && p.trading_disabled != Some(true)
            && p.is_disabled != Some(true)
            && p.product_type.as_deref().is_none_or(|t| t == "SPOT");
        let tick = p.price_increment.or(p.quote_increment);
        let (Some(tick), Some(step)) = (tick, p.base_increment) else {
            continue;
        };
        if !trading || base.is_empty() || quote.is_empty() {
            continue;
        }
        let tick_size: Price = price(&tick, "price_increment")?;
        let step_size: Size = size(&step, "base_increment")?;
        specs.push(InstrumentSpec {
            venue: Venue::Coinbase,
            raw_symbol,
            base,
            quote,
            kind: InstrumentKind::Spot,
            tick_size,
            step_size,
            contract: None,
        });
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usdc_products_are_served_under_usd_ids() {
        assert_eq!(wire_product("ETH-USDC"), "ETH-USD");
        assert_eq!(wire_product("BTC-USD"), "BTC-USD");
        assert_eq!(wire_product("USDT-USDC"), "USDT-USDC");
        assert_eq!(wire_product("EURC-USDC"), "EURC-USDC");
        assert_eq!(wire_product("BTC-PERP-INTX"), "BTC-PERP-INTX");
        assert_eq!(wire_product("C"), "C");
    }

    #[test]
    fn online_spot_products_with_increments() {
        let body = br#"{"products":[
          {"product_id":"BTC-USD","base_currency_id":"BTC","quote_currency_id":"USD","base_increment":"0.00000001","quote_increment":"0.01","price_increment":"0.01","status":"online","trading_disabled":false,"product_type":"SPOT","alias":"","alias_to":["BTC-USDC"]},
          {"product_id":"BTC-USDC","base_currency_id":"BTC","quote_currency_id":"USDC","base_increment":"0.00000001","quote_increment":"0.01","status":"online","product_type":"SPOT","alias":"BTC-USD"},
          {"product_id":"OLD-USD","base_currency_id":"OLD","quote_currency_id":"USD","base_increment":"1","quote_increment":"0.01","status":"delisted","product_type":"SPOT"},
          {"product_id":"BIP-20DEC30-CDE","base_currency_id":"BTC","quote_currency_id":"USD","base_increment":"1","quote_increment":"5","status":"online","product_type":"FUTURE"},
          {"product_id":"NOINC-USD","base_currency_id":"NOINC","quote_currency_id":"USD"}
        ],"num_products":5}"#;
        let specs = decode_products(body).unwrap();
        let names: Vec<_> = specs.iter().map(|s| s.raw_symbol.as_str()).collect();
        assert_eq!(names, ["BTC-USD", "BTC-USDC"]);
        assert_eq!(specs[0].normalized_symbol(), "BTC-USD");
        assert_eq!(specs[1].normalized_symbol(), "BTC-USDC");
        assert_eq!(specs[0].tick_size, Price::parse_str("0.01").unwrap());
        assert_eq!(specs[0].step_size, Size::parse_str("0.00000001").unwrap());
        assert!(decode_products(b"[]").is_err());
        assert_eq!(
            decode_products(b"{}"),
            Err(DecodeError::MissingField { field: "products" })
        );
        assert!(matches!(
            decode_products(br#"{"products":[{"product_id":"X-USD","base_currency_id":"X","quote_currency_id":"USD","base_increment":"1e","quote_increment":"0.1"}]}"#),
            Err(DecodeError::BadDecimal { .. })
        ));
    }
}
