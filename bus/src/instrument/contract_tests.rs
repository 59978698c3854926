//! Contract terms: validated on upsert, kept through the registry file, updated in place.

use super::tests::{size, spec};
use super::*;
use crate::venue::Venue;

fn inverse_perp() -> InstrumentSpec {
    InstrumentSpec {
        contract: Some(ContractSpec {
            value: size("100"),
            value_currency: "usd".into(),
            kind: ContractType::Inverse,
            settle_currency: "btc".into(),
        }),
        ..spec(
            Venue::Okx,
            "BTC-USD-SWAP",
            "BTC",
            "USD",
            InstrumentKind::Perpetual,
        )
    }
}

#[test]
fn contract_terms_round_trip_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(REGISTRY_FILE_NAME);
    let mut registry = InstrumentRegistry::open(&path).unwrap();
    let id = registry.upsert(inverse_perp()).unwrap();
    let spot = registry
        .upsert(spec(
            Venue::Okx,
            "BTC-USDT",
            "BTC",
            "USDT",
            InstrumentKind::Spot,
        ))
        .unwrap();
    registry.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(r#""contract_type": "inverse""#), "{text}");
    let reopened = InstrumentRegistry::open(&path).unwrap();
    let perp = reopened.get(id).unwrap();
    assert_eq!(perp.symbol, "BTC-USD-PERP");
    let contract = perp.spec.contract.as_ref().unwrap();
    assert_eq!(contract.value, size("100"));
    assert_eq!(
        (
            contract.value_currency.as_str(),
            contract.settle_currency.as_str()
        ),
        ("USD", "BTC"),
        "currency codes are upper-cased"
    );
    assert_eq!(reopened.get(spot).unwrap().spec.contract, None);
    let json = serde_json::to_value(perp).unwrap();
    assert_eq!(json["contract"]["value"], "100");
    assert!(serde_json::to_value(reopened.get(spot).unwrap())
        .unwrap()
        .get("contract")
        .is_none());
}

#[test]
fn bad_contract_terms_are_refused() {
    let mut registry = InstrumentRegistry::new();
    let mut zero = inverse_perp();
    zero.contract.as_mut().unwrap().value = size("0");
    let mut bad_ccy = inverse_perp();
    bad_ccy.contract.as_mut().unwrap().settle_currency = "B-TC".into();
    let mut spot = spec(Venue::Okx, "BTC-USDT", "BTC", "USDT", InstrumentKind::Spot);
    spot.contract = inverse_perp().contract;
    for (bad, needle) in [
        (zero, "contract value"),
        (bad_ccy, "settle currency"),
        (spot, "spot"),
    ] {
        let err = registry.upsert(bad).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
    assert!(registry.is_empty());
}

#[test]
fn new_contract_terms_update_in_place() {
    let mut registry = InstrumentRegistry::new();
    let id = registry.upsert(inverse_perp()).unwrap();
    let mut changed = inverse_perp();
    changed.contract.as_mut().unwrap().value = size("10");
    assert_eq!(registry.upsert(changed).unwrap(), id);
    assert_eq!(
        registry
            .get(id)
            .unwrap()
            .spec
            .contract
            .as_ref()
            .unwrap()
            .value,
        size("10")
    );
}
