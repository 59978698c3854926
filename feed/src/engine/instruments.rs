//! A venue's instrument list into the registry, and the configured symbols resolved
//! to ids.

use tickd_bus::instrument::{InstrumentRegistry, InstrumentSpec};
use tickd_bus::Venue;

/// Whether `spec` is what the user meant by `wanted` (raw `BTCUSDT` or `BTC-USDT[-PERP]`).
fn matches(spec: &InstrumentSpec, wanted: &str) -> bool {
    let wanted = wanted.trim();
    spec.raw_symbol.eq_ignore_ascii_case(wanted)
        || spec.normalized_symbol().eq_ignore_ascii_case(wanted)
}

/// Upsert the configured symbols found in `specs`; returns `(id, raw symbol)` per
/// symbol, and the symbols not found. A registry with a file is saved at once when it
/// grew: before the first record with a new id is published, so a server killed early
/// still leaves a journal whose instruments can be named.
pub fn register(
    registry: &mut InstrumentRegistry,
    specs: Vec<InstrumentSpec>,
    wanted: &[String],
) -> (Vec<(u32, String)>, Vec<String>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    let before = registry.len();
    for w in wanted {
        match specs.iter().find(|s| matches(s, w)) {
            Some(spec) => match registry.upsert(spec.clone()) {
                Ok(id) => found.push((id, spec.raw_symbol.clone())),
                Err(err) => {
                    tracing::warn!(symbol = %w, error = %err, "instrument rejected by the registry");
                    missing.push(w.clone());
                }
            },
            None => missing.push(w.clone()),
        }
    }
    if registry.len() > before && registry.path().is_some() {
        if let Err(err) = registry.save() {
            tracing::warn!(error = %err, "cannot save the instrument registry");
        }
    }
    (found, missing)
}

/// The configured symbols already in the registry (used when exchangeInfo cannot be
/// fetched but a saved registry knows them).
pub fn from_registry(
    registry: &InstrumentRegistry,
    venue: Venue,
    wanted: &[String],
) -> Option<Vec<(u32, String)>> {
    wanted
        .iter()
        .map(|w| {
            registry
                .resolve(venue, w)
                .or_else(|| registry.by_raw(venue, &w.to_ascii_uppercase()))
                .map(|i| (i.id, i.spec.raw_symbol.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::instrument::InstrumentKind;
    use tickd_normalizer::binance::{decode_exchange_info, BinanceMarket};

    const BODY: &str = r#"{"timezone":"UTC","symbols":[
      {"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","contractType":"PERPETUAL",
       "filters":[{"filterType":"PRICE_FILTER","tickSize":"0.10"},{"filterType":"LOT_SIZE","stepSize":"0.001"}]},
      {"symbol":"BTCUSDT_261225","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","contractType":"CURRENT_QUARTER","deliveryDate":1798185600000,
       "filters":[{"filterType":"PRICE_FILTER","tickSize":"0.10"},{"filterType":"LOT_SIZE","stepSize":"0.001"}]},
      {"symbol":"OLDUSDT","status":"BREAK","baseAsset":"OLD","quoteAsset":"USDT","contractType":"PERPETUAL","filters":[]},
      {"symbol":"WEIRD","status":"TRADING"}
    ]}"#;

    #[test]
    fn parses_trading_instruments_and_registers_the_wanted_ones() {
        let specs = decode_exchange_info(BinanceMarket::UsdmFutures, BODY.as_bytes()).unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].kind, InstrumentKind::Perpetual);
        assert_eq!(specs[1].normalized_symbol(), "BTC-USDT-20261225");
        let mut reg = InstrumentRegistry::new();
        let wanted = vec![
            "BTC-USDT-PERP".to_string(),
            "btcusdt_261225".into(),
            "NOPE".into(),
        ];
        let (found, missing) = register(&mut reg, specs, &wanted);
        assert_eq!(
            found.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["BTCUSDT", "BTCUSDT_261225"]
        );
        assert_eq!(missing, ["NOPE"]);
        let again = from_registry(&reg, Venue::BinanceUsdm, &wanted[..2]).unwrap();
        assert_eq!(again, found);
        assert!(from_registry(&reg, Venue::BinanceUsdm, &wanted).is_none());
    }

    #[test]
    fn a_registry_with_a_file_is_saved_as_soon_as_it_grows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("instruments.json");
        let mut reg = InstrumentRegistry::open(&path).unwrap();
        let specs = decode_exchange_info(BinanceMarket::UsdmFutures, BODY.as_bytes()).unwrap();
        let (found, _) = register(&mut reg, specs, &["BTC-USDT-PERP".to_string()]);
        // Nothing else saves it: a server killed now must still have the file.
        let saved = InstrumentRegistry::open(&path).unwrap();
        assert_eq!(saved.len(), 1);
        assert_eq!(
            saved.by_raw(Venue::BinanceUsdm, "BTCUSDT").map(|i| i.id),
            Some(found[0].0)
        );
    }
}
