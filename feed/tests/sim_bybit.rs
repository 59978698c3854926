//! The simulator's Bybit protocol on the wire: the category URLs, the pong shapes,
//! one reply per request (failures with `ret_msg`: a topic the category does not
//! serve, an unknown symbol, more than 10 args on spot), book snapshots then deltas
//! with contiguous `u` that rebuild the true book, REST instruments in cursor pages,
//! and the idle cut-off.

mod sim_common;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use sim_common::*;
use tickd_bus::{Price, Size, Venue};
use tickd_feed::sim::{SimConfig, SimServer, SimSymbol};

fn config() -> SimConfig {
    let symbols = [
        "spot/BTCUSDT",
        "linear/BTCUSDT",
        "linear/ETHUSDT",
        "linear/SOLUSDT",
    ]
    .iter()
    .enumerate()
    .map(|(i, raw)| SimSymbol::from_raw(Venue::Bybit, raw, i).expect("bybit symbol"))
    .collect();
    SimConfig {
        rate_per_sec: 2_000,
        symbols,
        ..SimConfig::default()
    }
}

/// The next reply (a frame with `op`), skipping market data.
async fn next_op(ws: &mut Ws) -> Value {
    for _ in 0..100_000 {
        let v = next_json(ws).await;
        if v.get("op").is_some() {
            return v;
        }
    }
    panic!("no reply within 100000 frames");
}

type Side = BTreeMap<Price, Size>;

fn apply(side: &mut Side, levels: &Value) {
    for l in levels.as_array().expect("levels") {
        let p: Price = l[0].as_str().expect("px").parse().expect("price");
        let s: Size = l[1].as_str().expect("sz").parse().expect("size");
        if s.is_zero() {
            side.remove(&p);
        } else {
            side.insert(p, s);
        }
    }
}

#[test]
fn raw_names_keep_the_category_lower_case() {
    let s = SimSymbol::from_raw(Venue::Bybit, "LINEAR/btcusdt", 0).expect("linear");
    assert_eq!(
        (s.raw.as_str(), s.base.as_str(), s.quote.as_str()),
        ("linear/BTCUSDT", "BTC", "USDT")
    );
    assert!(s.traits.derivative && s.traits.id_per_event);
    let spot = SimSymbol::from_raw(Venue::Bybit, "spot/ETHUSDC", 0).expect("spot");
    assert!(!spot.traits.derivative);
    assert!(SimSymbol::from_raw(Venue::Bybit, "inverse/BTCUSDT", 0).is_none());
    assert!(SimSymbol::from_raw(Venue::Bybit, "BTCUSDT", 0).is_none());
    let generated = SimSymbol::generate(Venue::Bybit, 1);
    assert_eq!(generated[0].raw, "linear/BTCUSDT");
}

#[tokio::test]
async fn pongs_replies_and_failures_by_category() {
    let sim = SimServer::start(config()).await.expect("start");
    let addr = sim.local_addr();
    let mut spot = connect(addr, "/v5/public/spot").await;
    send(&mut spot, r#"{"op":"ping"}"#).await;
    let pong = next_op(&mut spot).await;
    assert_eq!(
        (pong["ret_msg"].as_str(), pong["op"].as_str()),
        (Some("pong"), Some("ping"))
    );
    assert!(
        pong.get("req_id").is_none(),
        "spot's pong has no req_id: {pong}"
    );
    send(
        &mut spot,
        r#"{"req_id":"a","op":"subscribe","args":["publicTrade.BTCUSDT"]}"#,
    )
    .await;
    let ack = next_op(&mut spot).await;
    assert_eq!(ack["success"], true);
    assert_eq!(ack["ret_msg"], "subscribe", "spot names the op: {ack}");
    assert_eq!(ack["req_id"], "a");
    // Spot has no tickers topic here (tickd reads them on derivatives only), and
    // ETHUSDT is not a simulated spot pair.
    for topic in [
        "tickers.BTCUSDT",
        "publicTrade.ETHUSDT",
        "orderbook.7.BTCUSDT",
    ] {
        send(
            &mut spot,
            &format!(r#"{{"op":"subscribe","args":["{topic}"]}}"#),
        )
        .await;
        let nack = next_op(&mut spot).await;
        assert_eq!(nack["success"], false, "{topic}: {nack}");
        assert!(
            nack["ret_msg"].as_str().unwrap_or("").contains(topic),
            "{nack}"
        );
    }
    let eleven: Vec<String> = (0..11)
        .map(|_| "\"publicTrade.BTCUSDT\"".to_string())
        .collect();
    send(
        &mut spot,
        &format!(r#"{{"op":"subscribe","args":[{}]}}"#, eleven.join(",")),
    )
    .await;
    let nack = next_op(&mut spot).await;
    assert_eq!(nack["success"], false);
    assert_eq!(nack["ret_msg"], "args size >10");
    send(&mut spot, "hello").await;
    assert_eq!(next_op(&mut spot).await["success"], false, "not JSON");

    let mut linear = connect(addr, "/v5/public/linear").await;
    send(&mut linear, r#"{"req_id":"7","op":"ping"}"#).await;
    let pong = next_op(&mut linear).await;
    assert_eq!(
        (pong["ret_msg"].as_str(), pong["req_id"].as_str()),
        (Some("pong"), Some("7"))
    );
    send(
        &mut linear,
        r#"{"op":"subscribe","args":["tickers.BTCUSDT","allLiquidation.ETHUSDT"]}"#,
    )
    .await;
    let ack = next_op(&mut linear).await;
    assert_eq!(
        (ack["success"].as_bool(), ack["ret_msg"].as_str()),
        (Some(true), Some(""))
    );
    // Tickers: a full snapshot first (mark prices come once a second).
    let ticker = loop {
        let msg = next_json(&mut linear).await;
        if msg["topic"] != "allLiquidation.ETHUSDT" {
            break msg;
        }
    };
    assert_eq!(ticker["topic"], "tickers.BTCUSDT");
    assert_eq!(ticker["type"], "snapshot");
    for key in [
        "markPrice",
        "indexPrice",
        "fundingRate",
        "nextFundingTime",
        "openInterest",
    ] {
        assert!(ticker["data"].get(key).is_some(), "{key} in {ticker}");
    }
    send(
        &mut linear,
        r#"{"op":"unsubscribe","args":["tickers.BTCUSDT"]}"#,
    )
    .await;
    let ack = next_op(&mut linear).await;
    assert_eq!(
        (ack["success"].as_bool(), ack["op"].as_str()),
        (Some(true), Some("unsubscribe"))
    );
    assert!(
        connect_fails(addr, "/v5/public/option").await,
        "no option URL"
    );
    sim.shutdown().await;
}

async fn connect_fails(addr: std::net::SocketAddr, path: &str) -> bool {
    let url = format!("ws://{addr}{path}");
    tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .expect("connect timed out")
        .is_err()
}

#[tokio::test]
async fn book_snapshot_then_contiguous_deltas_rebuild_the_true_book() {
    let sim = SimServer::start(config()).await.expect("start");
    let market = sim.market();
    let mut ws = connect(sim.local_addr(), "/v5/public/linear").await;
    send(
        &mut ws,
        r#"{"op":"subscribe","args":["orderbook.50.ETHUSDT","publicTrade.ETHUSDT"]}"#,
    )
    .await;
    assert_eq!(next_op(&mut ws).await["success"], true);
    let (mut bids, mut asks) = (Side::new(), Side::new());
    let (mut last_u, mut last_seq, mut deltas, mut trades) = (None::<u64>, 0u64, 0, 0);
    while deltas < 200 {
        let msg = next_json(&mut ws).await;
        let topic = msg["topic"].as_str().expect("topic");
        if topic == "publicTrade.ETHUSDT" {
            let id = msg["data"][0]["i"].as_str().expect("trade id");
            assert_eq!(id.len(), 36, "a UUID on linear: {id}");
            trades += 1;
            continue;
        }
        assert_eq!(topic, "orderbook.50.ETHUSDT");
        let data = &msg["data"];
        let u = data["u"].as_u64().expect("u");
        let seq = data["seq"].as_u64().expect("seq");
        assert!(seq > last_seq, "seq rises");
        last_seq = seq;
        match (msg["type"].as_str(), last_u) {
            (Some("snapshot"), None) => {}
            (Some("delta"), Some(prev)) => {
                assert_eq!(u, prev + 1, "u is contiguous");
                deltas += 1;
            }
            other => panic!("unexpected {other:?}: {msg}"),
        }
        last_u = Some(u);
        apply(&mut bids, &data["b"]);
        apply(&mut asks, &data["a"]);
        let truth = market
            .book_at(Venue::Bybit, "linear/ETHUSDT", u)
            .expect("u is the market's update id");
        let ours: Vec<_> = bids.iter().rev().map(|(p, s)| (*p, *s)).collect();
        let true_bids: Vec<_> = truth.bids.iter().map(|l| (l.price, l.size)).collect();
        assert_eq!(ours, true_bids, "bids at u={u}");
        let ours: Vec<_> = asks.iter().map(|(p, s)| (*p, *s)).collect();
        let true_asks: Vec<_> = truth.asks.iter().map(|l| (l.price, l.size)).collect();
        assert_eq!(ours, true_asks, "asks at u={u}");
    }
    assert!(trades > 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn instruments_in_cursor_pages_and_rest_errors() {
    let sim = SimServer::start(config()).await.expect("start");
    let addr = sim.local_addr();
    let mut symbols = Vec::new();
    let mut target = "/v5/market/instruments-info?category=linear&limit=2".to_string();
    for page in 0.. {
        assert!(page < 3, "pagination ends");
        let body = http_get(addr, &target).await.json();
        assert_eq!(body["retCode"], 0, "{body}");
        for i in body["result"]["list"].as_array().expect("list") {
            assert_eq!(i["contractType"], "LinearPerpetual");
            symbols.push(i["symbol"].as_str().expect("symbol").to_string());
        }
        let cursor = body["result"]["nextPageCursor"].as_str().expect("cursor");
        if cursor.is_empty() {
            break;
        }
        target = format!("/v5/market/instruments-info?category=linear&limit=2&cursor={cursor}");
    }
    assert_eq!(symbols, ["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
    let spot = http_get(addr, "/v5/market/instruments-info?category=spot&limit=1000")
        .await
        .json();
    assert_eq!(spot["result"]["list"][0]["symbol"], "BTCUSDT");
    assert_eq!(spot["result"]["nextPageCursor"], "");
    let bad = http_get(addr, "/v5/market/instruments-info?category=option")
        .await
        .json();
    assert_ne!(bad["retCode"], 0);
    let book = http_get(
        addr,
        "/v5/market/orderbook?category=spot&symbol=BTCUSDT&limit=50",
    )
    .await
    .json();
    assert_eq!(book["retCode"], 0);
    assert!(book["result"]["u"].as_u64().is_some() && book["result"]["b"][0].is_array());
    // The simulated book holds about 25 levels a side (`book_depth` 50), under 50.
    let asks = book["result"]["a"].as_array().map_or(0, Vec::len);
    assert!((1..=50).contains(&asks), "{asks} asks");
    let top = http_get(
        addr,
        "/v5/market/orderbook?category=linear&symbol=ETHUSDT&limit=1",
    )
    .await
    .json();
    assert_eq!(top["result"]["b"].as_array().map(Vec::len), Some(1));
    let none = http_get(addr, "/v5/market/orderbook?category=inverse&symbol=ETHUSDT")
        .await
        .json();
    assert_ne!(none["retCode"], 0, "not an inverse symbol");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_connection_without_pings_is_cut_when_idle() {
    let mut config = config();
    config.rate_per_sec = 0;
    config.rules_mut(Venue::Bybit).idle_close = Some(Duration::from_millis(300));
    let sim = SimServer::start(config).await.expect("start");
    let mut quiet = connect(sim.local_addr(), "/v5/public/spot").await;
    let mut pinging = connect(sim.local_addr(), "/v5/public/linear").await;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        send(&mut pinging, r#"{"op":"ping"}"#).await;
        assert_eq!(next_op(&mut pinging).await["ret_msg"], "pong");
    }
    until_closed(&mut quiet).await;
    assert!(sim.stats().idle_closes >= 1);
    sim.shutdown().await;
}

/// Bybit allows 500 connects per 5 minutes per IP, over every category URL: the
/// simulator accepts exactly 500 of 510 quick upgrades (each closed at once) and
/// refuses the other 10 with HTTP 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sim_refuses_connects_past_500_in_5_minutes() {
    let sim = SimServer::start(config()).await.expect("start");
    let addr = sim.local_addr();
    let paths = ["/v5/public/spot", "/v5/public/linear", "/v5/public/inverse"];
    let mut accepted = 0;
    for i in 0..510 {
        if !connect_fails(addr, paths[i % paths.len()]).await {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 500);
    assert_eq!(sim.stats().ip_connects_refused, 10);
    sim.shutdown().await;
}
