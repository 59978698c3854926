//! The Coinbase adapter's plan, messages and REST mapping.

use tickd_bus::{Channel, Venue};
use tickd_normalizer::engine::TradeIds;

use super::adapter::{CoinbaseAdapter, PRODUCTS_PATH};
use crate::engine::adapter::{Keepalive, Outbound, RestTarget, VenueAdapter};
use crate::venue::VenueSettings;

fn settings(channels: &[Channel]) -> VenueSettings {
    let mut s = VenueSettings::new(Venue::Coinbase, "ws://127.0.0.1:1", "http://127.0.0.1:1");
    s.channels = channels.to_vec();
    s
}

fn json(message: &Outbound) -> serde_json::Value {
    let Outbound::Text(text) = message else {
        panic!("binary")
    };
    serde_json::from_str(text).unwrap()
}

fn instruments() -> Vec<(u32, String)> {
    vec![(1, "BTC-USD".to_string()), (2, "ETH-USDC".to_string())]
}

#[test]
fn heartbeats_then_one_message_per_channel_with_usd_wire_ids() {
    let all = [
        Channel::Trades,
        Channel::Bbo,
        Channel::Book,
        Channel::Funding,
        Channel::Oi,
    ];
    let plan = CoinbaseAdapter.plan(Venue::Coinbase, &instruments(), &settings(&all));
    assert_eq!(plan.len(), 1);
    let requests: Vec<serde_json::Value> = plan[0].subscribe.iter().map(json).collect();
    assert_eq!(
        requests[0],
        serde_json::json!({"type":"subscribe","channel":"heartbeats"})
    );
    let channels: Vec<&str> = requests
        .iter()
        .map(|r| r["channel"].as_str().unwrap())
        .collect();
    assert_eq!(
        channels,
        ["heartbeats", "market_trades", "ticker", "level2"]
    );
    for r in &requests[1..] {
        assert_eq!(r["type"], "subscribe");
        assert_eq!(r["product_ids"], serde_json::json!(["BTC-USD", "ETH-USD"]));
    }
    let names: Vec<&str> = plan[0].streams.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "market_trades:BTC-USD",
            "market_trades:ETH-USD",
            "ticker:BTC-USD",
            "ticker:ETH-USD",
            "level2:BTC-USD",
            "level2:ETH-USD"
        ]
    );
    // The subscribe deadline: the whole plan goes out in well under 5 s at the
    // paced rate.
    let limits = CoinbaseAdapter.limits(Venue::Coinbase);
    let sending = limits.control_interval() * plan[0].subscribe.len() as u32;
    assert!(sending < super::SUBSCRIBE_DEADLINE / 4, "{sending:?}");
}

#[test]
fn products_are_split_across_connections_each_with_heartbeats() {
    let many: Vec<(u32, String)> = (1..=70).map(|i| (i, format!("C{i}-USD"))).collect();
    let plan = CoinbaseAdapter.plan(
        Venue::Coinbase,
        &many,
        &settings(&[Channel::Trades, Channel::Bbo, Channel::Book]),
    );
    assert_eq!(plan.len(), 3, "30 products a connection");
    for conn in &plan {
        assert_eq!(json(&conn.subscribe[0])["channel"], "heartbeats");
        assert!(conn.streams.len() <= 3 * super::adapter::PRODUCTS_PER_CONNECTION);
    }
}

#[test]
fn a_connection_gap_resubscribes_its_books_in_one_pair_of_messages() {
    let plan = CoinbaseAdapter.plan(
        Venue::Coinbase,
        &instruments(),
        &settings(&[Channel::Trades, Channel::Book]),
    );
    let messages: Vec<serde_json::Value> = CoinbaseAdapter
        .resubscribe_books(&plan[0], &[1, 2])
        .iter()
        .map(json)
        .collect();
    assert_eq!(
        messages,
        [
            serde_json::json!({"type":"unsubscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"level2"}),
            serde_json::json!({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"level2"}),
        ]
    );
    let one: Vec<serde_json::Value> = CoinbaseAdapter
        .resubscribe(&plan[0], 2)
        .iter()
        .map(json)
        .collect();
    assert_eq!(one[1]["product_ids"], serde_json::json!(["ETH-USD"]));
    assert!(CoinbaseAdapter.resubscribe(&plan[0], 99).is_empty());
}

#[test]
fn rest_paths_keepalive_trade_ids_and_peek() {
    let a = CoinbaseAdapter;
    let v = Venue::Coinbase;
    assert_eq!(a.instruments_path(v), PRODUCTS_PATH);
    assert_eq!(
        a.classify_rest(
            v,
            "https://api.coinbase.com/api/v3/brokerage/market/products"
        ),
        Some(RestTarget::Instruments)
    );
    assert_eq!(a.classify_rest(v, "https://api.coinbase.com/other"), None);
    assert_eq!(a.keepalive(v), Keepalive::None);
    assert_eq!(a.trade_ids(v), TradeIds::Opaque);
    let limits = a.limits(v);
    assert_eq!(
        (limits.messages_per_second, limits.connections_per_second),
        (8, 8)
    );
    for (frame, symbol) in [
        (
            r#"{"channel":"l2_data","events":[{"type":"snapshot","product_id":"BTC-USD","updates":[]}]}"#,
            Some("BTC-USD"),
        ),
        (
            r#"{"channel":"market_trades","events":[{"type":"update","trades":[{"product_id":"ETH-USD"}]}]}"#,
            Some("ETH-USD"),
        ),
        (
            r#"{"channel":"ticker","events":[{"type":"update","tickers":[{"product_id":"SOL-USD"}]}]}"#,
            Some("SOL-USD"),
        ),
        (
            r#"{"channel":"candles","events":[{"type":"update","candles":[{"product_id":"ADA-USD"}]}]}"#,
            Some("ADA-USD"),
        ),
        (
            r#"{"channel":"heartbeats","events":[{"heartbeat_counter":1}]}"#,
            None,
        ),
        ("not json", None),
    ] {
        assert_eq!(
            a.peek_symbol(0, frame.as_bytes()).as_deref(),
            symbol,
            "{frame}"
        );
    }
}

#[test]
fn venue_bars_subscribe_candles_last_without_a_watched_stream() {
    let mut s = settings(&[Channel::Trades, Channel::Book]);
    s.venue_bars_minutes = Some(5);
    let plan = CoinbaseAdapter.plan(Venue::Coinbase, &instruments(), &s);
    let last = json(plan[0].subscribe.last().expect("messages"));
    assert_eq!(
        last,
        serde_json::json!({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"candles"})
    );
    assert_eq!(plan[0].subscribe.len(), 4);
    assert!(plan[0]
        .streams
        .iter()
        .all(|st| !st.name.starts_with("candles")));
    // Candles take a share of the streams a connection carries.
    s.streams_per_connection = 3;
    assert_eq!(
        CoinbaseAdapter
            .plan(Venue::Coinbase, &instruments(), &s)
            .len(),
        2
    );
    s.venue_bars_minutes = None;
    let plan = CoinbaseAdapter.plan(Venue::Coinbase, &instruments(), &s);
    assert!(plan[0]
        .subscribe
        .iter()
        .all(|m| json(m)["channel"] != "candles"));
}
