//! Registry tests: lookups, aliases, symbols, upserts, concurrency (persistence in
//! `persist_tests.rs`), and the helpers both use.

use super::*;
use crate::decimal::{Price, Size};
use crate::venue::Venue;

pub(super) fn price(text: &str) -> Price {
    Price::parse_str(text).unwrap()
}

pub(super) fn size(text: &str) -> Size {
    Size::parse_str(text).unwrap()
}

pub(super) fn date(y: u16, m: u8, d: u8) -> Date {
    Date::new(y, m, d).unwrap()
}

pub(super) fn spec(
    venue: Venue,
    raw: &str,
    base: &str,
    quote: &str,
    kind: InstrumentKind,
) -> InstrumentSpec {
    InstrumentSpec {
        venue,
        raw_symbol: raw.to_string(),
        base: base.to_string(),
        quote: quote.to_string(),
        kind,
        tick_size: price("0.01"),
        step_size: size("0.00001"),
        contract: None,
    }
}

/// One instrument of each kind, on the venues that list them.
pub(super) fn sample_specs() -> Vec<InstrumentSpec> {
    vec![
        spec(
            Venue::Binance,
            "BTCUSDT",
            "BTC",
            "USDT",
            InstrumentKind::Spot,
        ),
        spec(
            Venue::BinanceUsdm,
            "BTCUSDT",
            "BTC",
            "USDT",
            InstrumentKind::Perpetual,
        ),
        spec(
            Venue::Okx,
            "BTC-USDT-SWAP",
            "btc",
            "usdt",
            InstrumentKind::Perpetual,
        ),
        spec(
            Venue::Okx,
            "BTC-USDT-261225",
            "BTC",
            "USDT",
            InstrumentKind::Future {
                expiry: date(2026, 12, 25),
            },
        ),
        spec(
            Venue::Okx,
            "BTC-USD-261225-100000-C",
            "BTC",
            "USD",
            InstrumentKind::Option {
                expiry: date(2026, 12, 25),
                strike: price("100000"),
                right: OptionRight::Call,
            },
        ),
        spec(Venue::Kraken, "BTC/USD", "BTC", "USD", InstrumentKind::Spot),
    ]
}

pub(super) fn filled() -> InstrumentRegistry {
    let mut registry = InstrumentRegistry::new();
    for s in sample_specs() {
        registry.upsert(s).unwrap();
    }
    registry
}

#[test]
fn normalized_symbols_for_every_kind() {
    let symbols: Vec<String> = sample_specs()
        .iter()
        .map(|s| s.normalized_symbol())
        .collect();
    assert_eq!(
        symbols,
        [
            "BTC-USDT",
            "BTC-USDT-PERP",
            "BTC-USDT-PERP",
            "BTC-USDT-20261225",
            "BTC-USD-20261225-100000-C",
            "BTC-USD"
        ]
    );
    let put = InstrumentKind::Option {
        expiry: date(2027, 3, 5),
        strike: price("0.25"),
        right: OptionRight::Put,
    };
    assert_eq!(
        spec(Venue::Okx, "X", "eth", "btc", put).normalized_symbol(),
        "ETH-BTC-20270305-0.25-P"
    );
}

#[test]
fn dates_are_validated() {
    assert!(Date::new(2026, 2, 30).is_err());
    assert!(Date::new(2026, 2, 29).is_err());
    assert!(Date::new(2028, 2, 29).is_ok());
    assert!(Date::new(1900, 2, 29).is_err());
    assert!(Date::new(2000, 2, 29).is_ok());
    assert!(Date::new(2026, 13, 1).is_err());
    assert!(Date::new(2026, 4, 31).is_err());
    assert!(Date::new(2026, 1, 0).is_err());
    assert_eq!(Date::parse("20261225").unwrap(), date(2026, 12, 25));
    assert_eq!(Date::parse("2026-12-25").unwrap(), date(2026, 12, 25));
    for bad in [
        "20260230",
        "2026-02-30",
        "2026122",
        "2026/12/25",
        "abcdefgh",
        "+2026125",
        "",
    ] {
        assert!(Date::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(date(2026, 1, 5).to_string(), "2026-01-05");
    // A hand-built invalid date cannot get into the registry.
    let mut registry = InstrumentRegistry::new();
    let bad = InstrumentKind::Future {
        expiry: Date {
            year: 2026,
            month: 2,
            day: 30,
        },
    };
    let err = registry
        .upsert(spec(Venue::Okx, "BTC-USDT-260230", "BTC", "USDT", bad))
        .unwrap_err();
    assert!(matches!(err, RegistryError::InvalidSpec { .. }), "{err}");
}

#[test]
fn lookups_both_ways() {
    let registry = filled();
    assert_eq!(registry.len(), 6);
    let ids: Vec<u32> = registry.iter().map(|i| i.id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6], "ids start at 1; 0 is reserved");
    assert!(registry.get(0).is_none());
    for instrument in registry.iter() {
        let by_raw = registry
            .by_raw(instrument.spec.venue, &instrument.spec.raw_symbol)
            .unwrap();
        assert_eq!(by_raw.id, instrument.id);
        assert_eq!(registry.get(instrument.id).unwrap(), instrument);
    }
    let perp = registry.by_raw(Venue::BinanceUsdm, "BTCUSDT").unwrap();
    assert_eq!(perp.symbol, "BTC-USDT-PERP");
    assert_eq!(perp.spec.kind, InstrumentKind::Perpetual);
    // Same raw symbol on another venue is another instrument.
    assert_ne!(
        registry.by_raw(Venue::Binance, "BTCUSDT").unwrap().id,
        perp.id
    );
    assert!(
        registry.by_raw(Venue::Binance, "btcusdt").is_none(),
        "by_raw is exact"
    );
    assert!(registry.by_raw(Venue::Bybit, "BTCUSDT").is_none());
    let okx: Vec<&str> = registry
        .venue_instruments(Venue::Okx)
        .map(|i| i.symbol.as_str())
        .collect();
    assert_eq!(
        okx,
        [
            "BTC-USDT-PERP",
            "BTC-USDT-20261225",
            "BTC-USD-20261225-100000-C"
        ]
    );
}

#[test]
fn resolves_normalized_names_and_raw_aliases_case_insensitively() {
    let registry = filled();
    let id_of = |venue, text| registry.resolve(venue, text).map(|i| i.id);
    let okx_perp = registry.by_raw(Venue::Okx, "BTC-USDT-SWAP").unwrap().id;
    assert_eq!(id_of(Venue::Okx, "BTC-USDT-PERP"), Some(okx_perp));
    assert_eq!(id_of(Venue::Okx, "btc-usdt-perp"), Some(okx_perp));
    assert_eq!(id_of(Venue::Okx, "BTC-USDT-SWAP"), Some(okx_perp));
    assert_eq!(id_of(Venue::Okx, "btc-usdt-swap"), Some(okx_perp));
    let kraken = registry.by_raw(Venue::Kraken, "BTC/USD").unwrap().id;
    assert_eq!(id_of(Venue::Kraken, "btc/usd"), Some(kraken));
    assert_eq!(id_of(Venue::Kraken, "BTC-USD"), Some(kraken));
    assert_eq!(
        id_of(Venue::Binance, "btcusdt"),
        registry.by_raw(Venue::Binance, "BTCUSDT").map(|i| i.id)
    );
    assert_eq!(id_of(Venue::Okx, "BTC-USD-20261225-100000-c"), Some(5));
    assert_eq!(
        id_of(Venue::Okx, "BTC-USDT"),
        None,
        "no OKX spot registered"
    );
    assert_eq!(id_of(Venue::Coinbase, "BTC-USD"), None);
    assert_eq!(id_of(Venue::Okx, ""), None);
}

#[test]
fn upsert_keeps_ids_and_updates_tick_and_step() {
    let mut registry = filled();
    let mut changed = sample_specs()[1].clone();
    changed.tick_size = price("0.1");
    changed.step_size = size("0.001");
    assert_eq!(registry.upsert(changed).unwrap(), 2);
    let perp = registry.get(2).unwrap();
    assert_eq!(
        (
            perp.spec.tick_size.to_string(),
            perp.spec.step_size.to_string()
        ),
        ("0.1".into(), "0.001".into())
    );
    assert_eq!(registry.len(), 6);
    let new = spec(
        Venue::Bybit,
        "ETHUSDT",
        "ETH",
        "USDT",
        InstrumentKind::Perpetual,
    );
    assert_eq!(registry.upsert(new).unwrap(), 7);
}

#[test]
fn refuses_identity_changes_conflicts_and_bad_specs() {
    let mut registry = filled();
    let relisted = spec(
        Venue::BinanceUsdm,
        "BTCUSDT",
        "BTC",
        "USDT",
        InstrumentKind::Future {
            expiry: date(2026, 6, 26),
        },
    );
    let err = registry.upsert(relisted).unwrap_err();
    assert!(
        matches!(err, RegistryError::SpecChanged { id: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("BTC-USDT-20260626"), "{err}");
    // A second OKX raw symbol that normalizes to an existing name.
    let clash = spec(
        Venue::Okx,
        "BTC-USDT-SWAP2",
        "BTC",
        "USDT",
        InstrumentKind::Perpetual,
    );
    let err = registry.upsert(clash).unwrap_err();
    assert!(
        matches!(err, RegistryError::SymbolConflict { existing_id: 3, .. }),
        "{err}"
    );
    let mut bad = spec(Venue::Okx, "ETH-USDT", "ETH", "USDT", InstrumentKind::Spot);
    bad.tick_size = Price::ZERO;
    assert!(matches!(
        registry.upsert(bad).unwrap_err(),
        RegistryError::InvalidSpec { .. }
    ));
    for (raw, base) in [
        ("", "ETH"),
        ("ETH USDT", "ETH"),
        ("ETHUSDT", "ET-H"),
        ("ETHUSDT", ""),
    ] {
        let err = registry
            .upsert(spec(Venue::Okx, raw, base, "USDT", InstrumentKind::Spot))
            .unwrap_err();
        assert!(
            matches!(err, RegistryError::InvalidSpec { .. }),
            "{raw:?} {base:?}: {err}"
        );
    }
    assert_eq!(registry.len(), 6, "failed upserts add nothing");
    // A failed upsert did not burn an id.
    let ok = spec(Venue::Okx, "ETH-USDT", "ETH", "USDT", InstrumentKind::Spot);
    assert_eq!(registry.upsert(ok).unwrap(), 7);
}

#[test]
fn concurrent_readers_share_the_registry() {
    let shared: SharedRegistry = filled().into_shared();
    // Each reader keeps resolving while a writer registers "its" coin, and stops
    // once it sees it (bounded, so a lost write fails instead of hanging).
    let readers: Vec<_> = (0..4)
        .map(|n| {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let raw = format!("COIN{n}USDT");
                for _ in 0..1_000_000 {
                    {
                        let registry = shared.read().unwrap();
                        assert_eq!(registry.resolve(Venue::Okx, "BTC-USDT-PERP").unwrap().id, 3);
                        if let Some(found) = registry.by_raw(Venue::Bybit, &raw) {
                            assert_eq!(
                                registry.resolve(Venue::Bybit, &found.symbol).unwrap().id,
                                found.id
                            );
                            return true;
                        }
                    }
                    std::thread::yield_now();
                }
                false
            })
        })
        .collect();
    for n in 0..4 {
        let s = spec(
            Venue::Bybit,
            &format!("COIN{n}USDT"),
            &format!("COIN{n}"),
            "USDT",
            InstrumentKind::Perpetual,
        );
        shared.write().unwrap().upsert(s).unwrap();
    }
    for reader in readers {
        assert!(reader.join().unwrap(), "a reader never saw its instrument");
    }
    let registry = shared.read().unwrap();
    assert_eq!(registry.len(), 10);
    assert_eq!(registry.venue_instruments(Venue::Bybit).count(), 4);
}
