//! The simulator's OKX protocol on the wire: the text ping, per-arg acks and error
//! codes, book snapshots and updates whose checksums verify and whose `prevSeqId`
//! chain holds, the REST instrument list and book, and the 30 s idle cut-off.

mod sim_common;

use std::time::Duration;

use serde_json::Value;
use sim_common::*;
use tickd_bus::{Price, Size, Venue};
use tickd_feed::sim::{FaultConfig, SimConfig, SimServer, SimSymbol};
use tickd_normalizer::okx::checksum;
use tickd_normalizer::Level;

fn config() -> SimConfig {
    let mut symbols = SimSymbol::generate(Venue::Okx, 2);
    symbols.push(SimSymbol::from_raw(Venue::Okx, "BTC-USDT-SWAP", 2).expect("swap"));
    SimConfig {
        rate_per_sec: 2_000,
        symbols,
        ..SimConfig::default()
    }
}

fn levels(v: &Value) -> Vec<Level> {
    v.as_array()
        .expect("levels")
        .iter()
        .map(|l| {
            let p: Price = l[0].as_str().expect("px").parse().expect("price");
            let s: Size = l[1].as_str().expect("sz").parse().expect("size");
            Level::new(p, s)
        })
        .collect()
}

fn apply(side: &mut std::collections::BTreeMap<Price, Size>, levels: &[Level]) {
    for l in levels {
        if l.size.is_zero() {
            side.remove(&l.price);
        } else {
            side.insert(l.price, l.size);
        }
    }
}

#[tokio::test]
async fn ping_acks_errors_and_books_that_verify() {
    let sim = SimServer::start(config()).await.expect("start");
    let addr = sim.local_addr();
    let mut ws = connect(addr, "/ws/v5/public").await;
    send(&mut ws, "ping").await;
    assert_eq!(next_text(&mut ws).await, "pong");
    send(
        &mut ws,
        r#"{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},{"channel":"trades-all","instId":"BTC-USDT"},{"channel":"books","instId":"NOPE-USDT"}]}"#,
    )
    .await;
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["event"], "subscribe");
    assert_eq!(ack["arg"]["channel"], "books");
    // The image follows its ack.
    let snapshot = next_json(&mut ws).await;
    assert_eq!(snapshot["action"], "snapshot");
    assert_eq!(snapshot["data"][0]["prevSeqId"], -1);
    // trades-all lives on /ws/v5/business; an unknown instrument: 60018 both.
    for _ in 0..2 {
        let err = next_reply(&mut ws).await;
        assert_eq!(err["event"], "error");
        assert_eq!(err["code"], "60018");
    }
    let (mut bids, mut asks) = (Default::default(), Default::default());
    apply(&mut bids, &levels(&snapshot["data"][0]["bids"]));
    apply(&mut asks, &levels(&snapshot["data"][0]["asks"]));
    let verify = |bids: &std::collections::BTreeMap<Price, Size>,
                  asks: &std::collections::BTreeMap<Price, Size>,
                  expected: &Value| {
        let sum = checksum::of_levels(
            bids.iter().rev().map(|(p, s)| Level::new(*p, *s)),
            asks.iter().map(|(p, s)| Level::new(*p, *s)),
        );
        assert_eq!(Some(i64::from(sum)), expected.as_i64(), "checksum");
    };
    verify(&bids, &asks, &snapshot["data"][0]["checksum"]);
    let mut last = snapshot["data"][0]["seqId"].as_u64().expect("seqId");
    let mut updates = 0;
    while updates < 30 {
        let msg = next_json(&mut ws).await;
        if msg["arg"]["channel"] != "books" {
            continue;
        }
        assert_eq!(msg["action"], "update");
        let d = &msg["data"][0];
        assert_eq!(d["prevSeqId"].as_u64(), Some(last), "prevSeqId links");
        apply(&mut bids, &levels(&d["bids"]));
        apply(&mut asks, &levels(&d["asks"]));
        verify(&bids, &asks, &d["checksum"]);
        last = d["seqId"].as_u64().expect("seqId");
        updates += 1;
    }
    // The business URL carries trades-all.
    let mut business = connect(addr, "/ws/v5/business").await;
    send(
        &mut business,
        r#"{"op":"subscribe","args":[{"channel":"trades-all","instId":"ETH-USDT"}]}"#,
    )
    .await;
    assert_eq!(next_json(&mut business).await["event"], "subscribe");
    let trade = next_json(&mut business).await;
    assert_eq!(trade["arg"]["channel"], "trades-all");
    assert_eq!(trade["data"][0]["instId"], "ETH-USDT");
    sim.shutdown().await;
}

#[tokio::test]
async fn rest_instruments_and_books_and_the_bad_checksum_fault() {
    let mut cfg = config();
    cfg.faults = FaultConfig {
        bad_checksum_every: Some(5),
        ..FaultConfig::default()
    };
    let sim = SimServer::start(cfg).await.expect("start");
    let addr = sim.local_addr();
    let spot = http_get(addr, "/api/v5/public/instruments?instType=SPOT").await;
    assert_eq!(spot.status, 200);
    let ids: Vec<String> = spot.json()["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|i| i["instId"].as_str().expect("instId").to_string())
        .collect();
    assert_eq!(ids, ["BTC-USDT", "ETH-USDT"]);
    let swaps = http_get(addr, "/api/v5/public/instruments?instType=SWAP").await;
    let swap = &swaps.json()["data"][0];
    assert_eq!(
        (
            swap["instId"].as_str(),
            swap["ctVal"].as_str(),
            swap["ctType"].as_str()
        ),
        (Some("BTC-USDT-SWAP"), Some("0.01"), Some("linear"))
    );
    let books = http_get(addr, "/api/v5/market/books?instId=BTC-USDT&sz=5").await;
    let data = &books.json()["data"][0];
    assert_eq!(data["bids"].as_array().map(Vec::len), Some(5));
    assert!(data["seqId"].as_u64().is_some());
    assert_eq!(
        http_get(addr, "/api/v5/market/books?instId=NOPE&sz=5")
            .await
            .json()["code"],
        "51001"
    );
    // Every 5th update's checksum is wrong.
    let mut ws = connect(addr, "/ws/v5/public").await;
    send(
        &mut ws,
        r#"{"op":"subscribe","args":[{"channel":"books","instId":"ETH-USDT"}]}"#,
    )
    .await;
    next_json(&mut ws).await;
    next_json(&mut ws).await;
    for _ in 0..10 {
        next_json(&mut ws).await;
    }
    assert!(sim.stats().faults.bad_checksums >= 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_quiet_connection_lives_on_pings_and_is_cut_without_them() {
    let mut cfg = config();
    cfg.rate_per_sec = 0;
    cfg.rules_mut(Venue::Okx).idle_close = Some(Duration::from_millis(600));
    let sim = SimServer::start(cfg).await.expect("start");
    let addr = sim.local_addr();
    let mut pinging = connect(addr, "/ws/v5/public").await;
    let mut silent = connect(addr, "/ws/v5/public").await;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        send(&mut pinging, "ping").await;
        assert_eq!(next_text(&mut pinging).await, "pong");
    }
    // 1.5 s without a ping: cut with OKX's 4004.
    assert_eq!(until_closed(&mut silent).await, Some(4004));
    assert_eq!(sim.stats().idle_closes, 1);
    sim.shutdown().await;
}
