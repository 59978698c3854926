//! Server pings with a pong deadline, the connection lifetime, `serverShutdown`.

mod sim_common;

use std::time::Duration;

use futures_util::StreamExt;
use sim_common::*;
use tickd_bus::Venue;
use tickd_feed::sim::{ConnectionRules, SimConfig, SimServer, SimSymbol};
use tokio_tungstenite::tungstenite::Message;

fn config() -> SimConfig {
    SimConfig {
        rate_per_sec: 500,
        symbols: SimSymbol::generate(Venue::Binance, 1),
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn pings_must_be_answered_or_the_connection_closes() {
    let mut cfg = config();
    cfg.rules.insert(
        Venue::Binance,
        ConnectionRules {
            ping_interval: Some(Duration::from_millis(300)),
            pong_timeout: Duration::from_millis(1500),
            ..ConnectionRules::of(Venue::Binance)
        },
    );
    let sim = SimServer::start(cfg).await.expect("start");
    let addr = sim.local_addr();
    let mut silent = connect(addr, "/ws").await;
    let mut polite = connect(addr, "/ws").await;
    // The polite client reads, so tungstenite answers every ping with its payload.
    let mut pings = 0;
    while pings < 4 {
        match tokio::time::timeout(WAIT, polite.next())
            .await
            .expect("ping within 5 s")
        {
            Some(Ok(Message::Ping(p))) => {
                assert_eq!(p.len(), 8);
                pings += 1;
            }
            Some(Ok(_)) => {}
            other => panic!("polite client lost its connection: {other:?}"),
        }
    }
    // The silent one never reads, so never pongs: the server gives up on it.
    wait_for("the pong timeout", || sim.stats().pong_timeout_closes >= 1).await;
    assert_eq!(until_closed(&mut silent).await, Some(1008));
    assert_eq!(
        sim.stats().pong_timeout_closes,
        1,
        "the polite client must stay"
    );
    send(&mut polite, r#"{"method":"LIST_SUBSCRIPTIONS","id":1}"#).await;
    assert_eq!(next_reply(&mut polite).await["id"], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn lifetime_ends_with_a_shutdown_notice_and_a_close() {
    let mut cfg = config();
    cfg.max_connection_lifetime = Duration::from_millis(500);
    cfg.shutdown_notice_at_lifetime = true;
    let sim = SimServer::start(cfg).await.expect("start");
    let mut ws = connect(sim.local_addr(), "/stream?streams=btcusdt@trade").await;
    let notice = loop {
        let v = next_json(&mut ws).await;
        if v["stream"] != "btcusdt@trade" {
            break v;
        }
    };
    assert_eq!(notice["stream"], "!serverShutdown");
    assert_eq!(notice["data"]["e"], "serverShutdown");
    assert!(notice["data"]["E"].as_u64().is_some());
    assert_eq!(until_closed(&mut ws).await, Some(1000));
    assert_eq!(sim.stats().lifetime_closes, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn announced_and_real_shutdowns_send_the_notice() {
    let sim = SimServer::start(config()).await.expect("start");
    let mut ws = connect(sim.local_addr(), "/ws").await;
    wait_for("the connection to register", || {
        sim.stats().connections_open == 1
    })
    .await;
    sim.announce_shutdown();
    let v = next_json(&mut ws).await;
    assert_eq!(v["e"], "serverShutdown");
    send(&mut ws, r#"{"method":"LIST_SUBSCRIPTIONS","id":1}"#).await;
    assert_eq!(next_reply(&mut ws).await["result"], serde_json::json!([]));
    let stop = tokio::spawn(sim.shutdown());
    assert_eq!(next_json(&mut ws).await["e"], "serverShutdown");
    assert_eq!(until_closed(&mut ws).await, Some(1001));
    stop.await.expect("shutdown task");
}
