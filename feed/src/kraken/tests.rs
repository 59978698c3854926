//! The Kraken adapter's plan, messages and REST mapping.

use tickd_bus::instrument::{InstrumentKind, InstrumentSpec};
use tickd_bus::{Channel, Price, Size, Venue};
use tickd_normalizer::engine::{FrameDecoder, TradeIds};
use tickd_normalizer::kraken::{KrakenRule, Precision};

use super::adapter::KrakenAdapter;
use crate::engine::adapter::{Keepalive, Outbound, RestTarget, VenueAdapter};
use crate::venue::VenueSettings;

fn settings(channels: &[Channel], depth: u32) -> VenueSettings {
    let mut s = VenueSettings::new(Venue::Kraken, "ws://127.0.0.1:1/v2", "http://127.0.0.1:1");
    s.channels = channels.to_vec();
    s.book_depth = depth;
    s
}

fn text(message: &Outbound) -> serde_json::Value {
    let Outbound::Text(text) = message else {
        panic!("binary")
    };
    serde_json::from_str(text).unwrap()
}

fn instruments() -> Vec<(u32, String)> {
    vec![(1, "BTC/USD".to_string()), (2, "ETH/EUR".to_string())]
}

#[test]
fn one_request_per_channel_with_depth_and_bbo_trigger() {
    let all = [
        Channel::Trades,
        Channel::Bbo,
        Channel::Book,
        Channel::Funding,
        Channel::Oi,
    ];
    let plan = KrakenAdapter.plan(Venue::Kraken, &instruments(), &settings(&all, 25));
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].url, "ws://127.0.0.1:1/v2");
    let requests: Vec<serde_json::Value> = plan[0].subscribe.iter().map(text).collect();
    assert_eq!(requests.len(), 3, "spot has no funding or open interest");
    let channels: Vec<&str> = requests
        .iter()
        .map(|r| r["params"]["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["trade", "ticker", "book"]);
    for r in &requests {
        assert_eq!(r["method"], "subscribe");
        assert_eq!(
            r["params"]["symbol"],
            serde_json::json!(["BTC/USD", "ETH/EUR"])
        );
        assert!(r["req_id"].as_u64().is_some());
    }
    assert_eq!(requests[1]["params"]["event_trigger"], "bbo");
    assert_eq!(requests[2]["params"]["depth"], 25);
    assert!(requests[0]["params"].get("depth").is_none());
    let names: Vec<&str> = plan[0].streams.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "trade:BTC/USD",
            "trade:ETH/EUR",
            "ticker:BTC/USD",
            "ticker:ETH/EUR",
            "book:25:BTC/USD",
            "book:25:ETH/EUR"
        ]
    );
}

#[test]
fn pairs_are_split_across_connections_by_stream_count() {
    let many: Vec<(u32, String)> = (1..=10).map(|i| (i, format!("C{i}/USD"))).collect();
    let mut s = settings(&[Channel::Trades, Channel::Book], 10);
    s.streams_per_connection = 8;
    let plan = KrakenAdapter.plan(Venue::Kraken, &many, &s);
    assert_eq!(plan.len(), 3);
    assert!(plan.iter().all(|c| c.streams.len() <= 8));
    assert_eq!(plan.iter().map(|c| c.streams.len()).sum::<usize>(), 20);
}

#[test]
fn resubscribe_is_unsubscribe_then_subscribe_of_that_one_book() {
    let plan = KrakenAdapter.plan(
        Venue::Kraken,
        &instruments(),
        &settings(&[Channel::Book], 100),
    );
    let messages: Vec<serde_json::Value> = KrakenAdapter
        .resubscribe(&plan[0], 2)
        .iter()
        .map(text)
        .collect();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["method"], "unsubscribe");
    assert_eq!(messages[1]["method"], "subscribe");
    for m in &messages {
        assert_eq!(m["params"]["channel"], "book");
        assert_eq!(m["params"]["symbol"], serde_json::json!(["ETH/EUR"]));
        assert_eq!(m["params"]["depth"], 100);
    }
    assert!(KrakenAdapter.resubscribe(&plan[0], 9).is_empty());
}

#[test]
fn keepalive_limits_rest_and_peek() {
    let Keepalive::Idle { message, .. } = KrakenAdapter.keepalive(Venue::Kraken) else {
        panic!()
    };
    assert_eq!(text(&message)["method"], "ping");
    assert_eq!(KrakenAdapter.trade_ids(Venue::Kraken), TradeIds::Contiguous);
    assert!(KrakenAdapter.snapshot_weight(Venue::Kraken, 25).is_ok());
    assert!(KrakenAdapter.snapshot_weight(Venue::Kraken, 20).is_err());
    assert_eq!(
        KrakenAdapter.instruments_path(Venue::Kraken),
        "/0/public/AssetPairs"
    );
    assert_eq!(
        KrakenAdapter.classify_rest(Venue::Kraken, "https://api.kraken.com/0/public/AssetPairs"),
        Some(RestTarget::Instruments)
    );
    assert_eq!(
        KrakenAdapter.classify_rest(Venue::Kraken, "https://api.kraken.com/0/public/Depth"),
        None
    );
    let book = r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1}]}"#;
    assert_eq!(
        KrakenAdapter.peek_symbol(0, book.as_bytes()).as_deref(),
        Some("BTC/USD")
    );
    let ack = r#"{"method":"subscribe","result":{"channel":"book","depth":10,"symbol":"ETH/EUR"},"success":true}"#;
    assert_eq!(
        KrakenAdapter.peek_symbol(0, ack.as_bytes()).as_deref(),
        Some("ETH/EUR")
    );
    assert_eq!(
        KrakenAdapter.peek_symbol(0, br#"{"channel":"heartbeat"}"#),
        None
    );
    let (ws, rest) = KrakenAdapter.default_urls(Venue::Kraken);
    assert_eq!(
        (ws, rest),
        ("wss://ws.kraken.com/v2", "https://api.kraken.com")
    );
}

/// A book's rule carries the pair's precision (from the registry, through the
/// decoder) and the depth Kraken acknowledged.
#[test]
fn book_rules_read_precision_and_acked_depth() {
    let s = settings(&[Channel::Book], 25);
    let symbols = instruments()
        .into_iter()
        .map(|(id, raw)| (raw, id))
        .collect();
    let mut decoder = KrakenAdapter.decoder(Venue::Kraken, symbols, &s);
    let spec = InstrumentSpec {
        venue: Venue::Kraken,
        raw_symbol: "BTC/USD".into(),
        base: "BTC".into(),
        quote: "USD".into(),
        kind: InstrumentKind::Spot,
        tick_size: Price::parse_str("0.1").unwrap(),
        step_size: Size::parse_str("0.00000001").unwrap(),
        contract: None,
    };
    decoder.learn_instrument(1, &spec);
    assert_eq!(
        KrakenAdapter.book_rule(Venue::Kraken, 1, &decoder),
        KrakenRule {
            precision: Some(Precision { price: 1, qty: 8 }),
            depth: 25
        }
    );
    let ack = r#"{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,"symbol":"ETH/EUR"},"success":true}"#;
    let mut sink = Vec::new();
    decoder
        .decode(
            tickd_normalizer::engine::Frame::Text(ack.as_bytes()),
            0,
            &mut sink,
        )
        .unwrap();
    assert_eq!(
        KrakenAdapter.book_rule(Venue::Kraken, 2, &decoder),
        KrakenRule {
            precision: None,
            depth: 10
        }
    );
}

/// A bare URL (the simulator, `tickd demo`) gets Kraken's `/v2`; a path is kept.
#[test]
fn bare_urls_get_the_v2_path() {
    assert_eq!(
        super::ws_url("ws://127.0.0.1:9100"),
        "ws://127.0.0.1:9100/v2"
    );
    assert_eq!(
        super::ws_url("ws://127.0.0.1:9100/"),
        "ws://127.0.0.1:9100/v2"
    );
    assert_eq!(
        super::ws_url("wss://ws.kraken.com/v2"),
        "wss://ws.kraken.com/v2"
    );
    let plan = KrakenAdapter.plan(
        Venue::Kraken,
        &instruments(),
        &VenueSettings::new(Venue::Kraken, "ws://127.0.0.1:9", "http://127.0.0.1:9"),
    );
    assert_eq!(plan[0].url, "ws://127.0.0.1:9/v2");
}

/// `venue_bars_minutes` adds one `ohlc` request at that interval; no stream is
/// watched for it.
#[test]
fn venue_bars_subscribe_ohlc_at_the_interval() {
    let mut s = settings(&[Channel::Trades], 10);
    let plain = KrakenAdapter.plan(Venue::Kraken, &instruments(), &s);
    assert_eq!(plain[0].subscribe.len(), 1);
    s.venue_bars_minutes = Some(5);
    let plan = KrakenAdapter.plan(Venue::Kraken, &instruments(), &s);
    let requests: Vec<serde_json::Value> = plan[0].subscribe.iter().map(text).collect();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1]["params"]["channel"], "ohlc");
    assert_eq!(requests[1]["params"]["interval"], 5);
    assert!(requests[1]["params"].get("depth").is_none());
    assert_eq!(
        requests[1]["params"]["symbol"],
        serde_json::json!(["BTC/USD", "ETH/EUR"])
    );
    assert_eq!(plan[0].streams.len(), 2, "trades only");
}
