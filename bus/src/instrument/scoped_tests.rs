//! Venue-scoped ids and adopting another node's instruments (scale-out over NATS).

use super::tests::spec;
use super::*;
use crate::venue::Venue;

#[test]
fn two_nodes_with_different_venues_never_share_an_id() {
    let mut a = InstrumentRegistry::new();
    a.scope_ids_by_venue();
    let mut b = InstrumentRegistry::new();
    b.scope_ids_by_venue();
    let spot = a
        .upsert(spec(
            Venue::Binance,
            "BTCUSDT",
            "BTC",
            "USDT",
            InstrumentKind::Spot,
        ))
        .unwrap();
    let perp = b
        .upsert(spec(
            Venue::BinanceUsdm,
            "BTCUSDT",
            "BTC",
            "USDT",
            InstrumentKind::Perpetual,
        ))
        .unwrap();
    assert_eq!(spot, (1 << VENUE_ID_SHIFT) + 1);
    assert_eq!(perp, (2 << VENUE_ID_SHIFT) + 1);
    let eth = a
        .upsert(spec(
            Venue::Binance,
            "ETHUSDT",
            "ETH",
            "USDT",
            InstrumentKind::Spot,
        ))
        .unwrap();
    assert_eq!(eth, spot + 1);
    assert!(venue_id_range(Venue::Binance).contains(&eth));
    assert!(a.ids_outside_venue_ranges(&[Venue::Binance]).is_empty());

    // An edge node adopts both registries with their ids.
    let mut edge = InstrumentRegistry::new();
    for i in a.iter().chain(b.iter()) {
        edge.adopt(i.clone()).unwrap();
    }
    assert_eq!(edge.len(), 3);
    assert_eq!(edge.get(perp).unwrap().symbol, "BTC-USDT-PERP");
    assert_eq!(edge.resolve(Venue::Binance, "eth-usdt").unwrap().id, eth);
    // Adopting again is an update, not an error.
    edge.adopt(a.get(spot).unwrap().clone()).unwrap();
}

#[test]
fn adopt_refuses_to_repoint_an_id_or_a_name() {
    let mut edge = InstrumentRegistry::new();
    let btc = Instrument {
        id: 7,
        symbol: "BTC-USDT".into(),
        spec: spec(
            Venue::Binance,
            "BTCUSDT",
            "BTC",
            "USDT",
            InstrumentKind::Spot,
        ),
    };
    edge.adopt(btc.clone()).unwrap();
    let other = Instrument {
        id: 7,
        symbol: "ETH-USDT".into(),
        spec: spec(
            Venue::Binance,
            "ETHUSDT",
            "ETH",
            "USDT",
            InstrumentKind::Spot,
        ),
    };
    assert!(edge.adopt(other).is_err());
    let renumbered = Instrument { id: 8, ..btc };
    assert!(edge.adopt(renumbered).is_err());
    let zero = Instrument {
        id: 0,
        symbol: "ETH-USDT".into(),
        spec: spec(
            Venue::Binance,
            "ETHUSDT",
            "ETH",
            "USDT",
            InstrumentKind::Spot,
        ),
    };
    assert!(edge.adopt(zero).is_err());
}

#[test]
fn unscoped_ids_are_reported() {
    let mut old = InstrumentRegistry::new();
    old.upsert(spec(
        Venue::Binance,
        "BTCUSDT",
        "BTC",
        "USDT",
        InstrumentKind::Spot,
    ))
    .unwrap();
    old.scope_ids_by_venue();
    let new = old
        .upsert(spec(
            Venue::Binance,
            "ETHUSDT",
            "ETH",
            "USDT",
            InstrumentKind::Spot,
        ))
        .unwrap();
    assert_eq!(new, (1 << VENUE_ID_SHIFT) + 1);
    let outside = old.ids_outside_venue_ranges(&[Venue::Binance]);
    assert_eq!(outside.len(), 1);
    assert_eq!(outside[0].id, 1);
    assert!(old.ids_outside_venue_ranges(&[Venue::Okx]).is_empty());
}
