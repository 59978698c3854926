//! Control messages, their replies and error codes, the inbound message limit, and
//! per-connection delivery of only the subscribed streams.

mod sim_common;

use std::time::Duration;

use sim_common::*;
use tickd_bus::Venue;
use tickd_feed::sim::{SimConfig, SimServer, SimSymbol};

fn config() -> SimConfig {
    SimConfig {
        rate_per_sec: 2_000,
        symbols: SimSymbol::generate(Venue::Binance, 2)
            .into_iter()
            .chain(SimSymbol::generate(Venue::BinanceUsdm, 2))
            .collect(),
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn subscribe_list_unsubscribe_and_errors() {
    let sim = SimServer::start(config()).await.expect("start");
    let mut ws = connect(sim.local_addr(), "/ws").await;
    send(
        &mut ws,
        r#"{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth"],"id":1}"#,
    )
    .await;
    assert_eq!(
        next_reply(&mut ws).await,
        serde_json::json!({"result": null, "id": 1})
    );
    send(
        &mut ws,
        r#"{"method":"UNSUBSCRIBE","params":["btcusdt@depth"],"id":312}"#,
    )
    .await;
    assert_eq!(
        next_reply(&mut ws).await,
        serde_json::json!({"result": null, "id": 312})
    );
    // Space control messages out: 5 per second is the budget.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    send(&mut ws, r#"{"method":"LIST_SUBSCRIPTIONS","id":"q3"}"#).await;
    assert_eq!(
        next_reply(&mut ws).await,
        serde_json::json!({"result": ["btcusdt@aggTrade"], "id": "q3"})
    );
    send(
        &mut ws,
        r#"{"method":"GET_PROPERTY","params":["combined"],"id":2}"#,
    )
    .await;
    assert_eq!(
        next_reply(&mut ws).await,
        serde_json::json!({"result": false, "id": 2})
    );
    send(
        &mut ws,
        r#"{"method":"SET_PROPERTY","params":["combined",true],"id":5}"#,
    )
    .await;
    assert_eq!(
        next_reply(&mut ws).await,
        serde_json::json!({"result": null, "id": 5})
    );
    // Now data frames come wrapped, and only for the remaining subscription.
    for _ in 0..20 {
        let v = next_json(&mut ws).await;
        if v.get("id").is_none() {
            assert_eq!(v["stream"], "btcusdt@aggTrade", "{v}");
            assert_eq!(v["data"]["e"], "aggTrade");
        }
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cases = [
        ("{not json", 3),
        (r#"{"method":"SUBSCRIBE","params":["btcusdt@trade"]}"#, 2),
        (r#"{"method":"FROB","id":7}"#, 2),
        (
            r#"{"method":"SET_PROPERTY","params":["nope",true],"id":8}"#,
            0,
        ),
        (
            r#"{"method":"SET_PROPERTY","params":["combined","yes"],"id":9}"#,
            1,
        ),
    ];
    for (req, code) in cases {
        send(&mut ws, req).await;
        let reply = next_reply(&mut ws).await;
        assert_eq!(reply["code"].as_i64(), Some(code), "{req} -> {reply}");
        assert!(reply["msg"].is_string());
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn sixth_control_message_within_a_second_closes() {
    let sim = SimServer::start(config()).await.expect("start");
    let mut ws = connect(sim.local_addr(), "/ws").await;
    for i in 0..6 {
        send(
            &mut ws,
            &format!(r#"{{"method":"LIST_SUBSCRIPTIONS","id":{i}}}"#),
        )
        .await;
    }
    // Five replies, then the close.
    for i in 0..5 {
        assert_eq!(next_reply(&mut ws).await["id"], i);
    }
    assert_eq!(until_closed(&mut ws).await, Some(1008));
    assert_eq!(sim.stats().rate_limit_closes, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn usdm_paths_route_streams_and_market_streams_are_silent_on_public() {
    let sim = SimServer::start(config()).await.expect("start");
    let addr = sim.local_addr();
    let mut public = connect(
        addr,
        "/public/stream?streams=btcusdt@bookTicker/btcusdt@aggTrade",
    )
    .await;
    let mut market = connect(addr, "/market/ws/btcusdt@aggTrade").await;
    for _ in 0..30 {
        let v = next_json(&mut public).await;
        assert_eq!(
            v["stream"], "btcusdt@bookTicker",
            "a /market stream leaked onto /public: {v}"
        );
        assert_eq!(v["data"]["e"], "bookTicker");
    }
    let v = next_json(&mut market).await;
    assert_eq!((v["e"].as_str(), v.get("M")), (Some("aggTrade"), None));
    send(&mut public, r#"{"method":"LIST_SUBSCRIPTIONS","id":1}"#).await;
    let list = next_reply(&mut public).await;
    assert_eq!(
        list["result"],
        serde_json::json!(["btcusdt@bookTicker", "btcusdt@aggTrade"])
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_get_404() {
    let sim = SimServer::start(config()).await.expect("start");
    let url = format!("ws://{}/nowhere", sim.local_addr());
    let err = tokio_tungstenite::connect_async(url)
        .await
        .expect_err("must be refused");
    assert!(err.to_string().contains("404"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn usdm_market_path_carries_mark_price_and_throttled_liquidations() {
    let mut cfg = config();
    cfg.rate_per_sec = 8_000;
    let sim = SimServer::start(cfg).await.expect("start");
    let mut ws = connect(
        sim.local_addr(),
        "/market/stream?streams=btcusdt@markPrice@1s/btcusdt@forceOrder",
    )
    .await;
    let (mut mark, mut force) = (None, Vec::new());
    while mark.is_none() || force.len() < 2 {
        let v = next_json(&mut ws).await;
        match v["stream"].as_str() {
            Some("btcusdt@markPrice@1s") => mark = Some(v["data"].clone()),
            Some("btcusdt@forceOrder") => force.push(v["data"].clone()),
            other => panic!("unexpected stream {other:?}"),
        }
    }
    let mark = mark.unwrap();
    assert_eq!(
        (mark["e"].as_str(), mark["s"].as_str()),
        (Some("markPriceUpdate"), Some("BTCUSDT"))
    );
    assert!(mark["r"].as_str().is_some() && mark["T"].as_u64().unwrap() % 3_600_000 == 0);
    assert_eq!(force[0]["o"]["s"], "BTCUSDT");
    // At most one liquidation per symbol per second.
    let (t0, t1) = (
        force[0]["E"].as_u64().unwrap(),
        force[1]["E"].as_u64().unwrap(),
    );
    assert!(
        t1 >= t0 + 1_000,
        "liquidations {t0} and {t1} less than 1 s apart"
    );
    sim.shutdown().await;
}
