//! Fault injection: REST 429/418, sequence gaps, corrupt frames, refused and dropped
//! connections, stalls — each observable by the client and counted by the simulator.

mod sim_common;

use std::time::Duration;

use sim_common::*;
use tickd_bus::Venue;
use tickd_feed::sim::{FaultConfig, RestError, SimConfig, SimServer, SimSymbol, SkipDepth, Stall};

fn config(faults: FaultConfig) -> SimConfig {
    SimConfig {
        rate_per_sec: 3_000,
        symbols: SimSymbol::generate(Venue::Binance, 2)
            .into_iter()
            .chain(SimSymbol::generate(Venue::BinanceUsdm, 1))
            .collect(),
        faults,
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn rest_answers_429_then_418_with_retry_after() {
    let faults = FaultConfig {
        rest_error: Some(RestError {
            status: 429,
            first: 2,
            retry_after_secs: 7,
        }),
        ..Default::default()
    };
    let sim = SimServer::start(config(faults)).await.expect("start");
    let addr = sim.local_addr();
    for _ in 0..2 {
        let r = http_get(addr, "/api/v3/depth?symbol=BTCUSDT").await;
        assert_eq!(
            (r.status, r.header("retry-after").as_deref()),
            (429, Some("7"))
        );
        assert_eq!(r.json()["code"], -1003);
    }
    assert_eq!(
        http_get(addr, "/api/v3/depth?symbol=BTCUSDT").await.status,
        200
    );
    sim.market().set_faults(FaultConfig {
        rest_error: Some(RestError {
            status: 418,
            first: 0,
            retry_after_secs: 120,
        }),
        ..Default::default()
    });
    let r = http_get(addr, "/fapi/v1/depth?symbol=BTCUSDT").await;
    assert_eq!(
        (r.status, r.header("retry-after").as_deref()),
        (418, Some("120"))
    );
    assert_eq!(sim.stats().faults.rest_errors, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn skipped_depth_ranges_are_visible_to_the_client_and_recorded() {
    let faults = FaultConfig {
        skip_depth: Some(SkipDepth {
            every: 15,
            count: 3,
            symbol: None,
            max_per_connection: 2,
        }),
        ..Default::default()
    };
    let sim = SimServer::start(config(faults)).await.expect("start");
    let addr = sim.local_addr();
    // Spot: a gap is U != previous u + 1.
    let mut spot = connect(addr, "/ws/btcusdt@depth").await;
    let mut seen_gaps = Vec::new();
    let mut prev: Option<u64> = None;
    for _ in 0..2_000 {
        if seen_gaps.len() == 2 {
            break;
        }
        let ev = next_json(&mut spot).await;
        let (first, last) = (ev["U"].as_u64().unwrap(), ev["u"].as_u64().unwrap());
        if let Some(p) = prev.filter(|p| first != p + 1) {
            seen_gaps.push((p + 1, first - 1));
        }
        prev = Some(last);
    }
    // USD-M: a gap is pu != previous u; the skipped range ends at pu.
    let mut usdm = connect(addr, "/public/ws/btcusdt@depth").await;
    let mut usdm_gap_ends = Vec::new();
    let mut prev: Option<u64> = None;
    for _ in 0..2_000 {
        if usdm_gap_ends.len() == 2 {
            break;
        }
        let ev = next_json(&mut usdm).await;
        let pu = ev["pu"].as_i64().unwrap();
        if prev.is_some_and(|p| pu != p as i64) {
            usdm_gap_ends.push(pu as u64);
        }
        prev = ev["u"].as_u64();
    }
    let stats = sim.stats();
    let recorded: Vec<_> = stats
        .gaps
        .iter()
        .filter(|g| g.conn == 1)
        .map(|g| (g.first_update_id, g.last_update_id))
        .collect();
    assert_eq!(
        seen_gaps, recorded,
        "every injected spot gap seen, nothing else"
    );
    assert!(stats
        .gaps
        .iter()
        .filter(|g| g.conn == 1)
        .all(|g| g.events == 3 && g.symbol == "BTCUSDT"));
    let usdm_recorded: Vec<_> = stats
        .gaps
        .iter()
        .filter(|g| g.conn == 2)
        .map(|g| g.last_update_id)
        .collect();
    assert_eq!(usdm_gap_ends, usdm_recorded);
    assert_eq!(stats.faults.skipped_depth_events, 12);
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_truncated_and_oversized_frames_at_their_positions() {
    let faults = FaultConfig {
        malformed_every: Some(7),
        truncated_every: Some(11),
        oversized_every: Some(13),
        oversized_bytes: 100_000,
        ..Default::default()
    };
    let sim = SimServer::start(config(faults)).await.expect("start");
    let mut ws = connect(
        sim.local_addr(),
        "/ws/btcusdt@trade/btcusdt@bookTicker/btcusdt@depth",
    )
    .await;
    let (mut bad, mut big) = (0, 0);
    for n in 1..=100u32 {
        let text = next_text(&mut ws).await;
        let parsed = serde_json::from_str::<serde_json::Value>(&text);
        if n % 7 == 0 || n % 11 == 0 {
            assert!(parsed.is_err(), "frame {n} should be broken: {text}");
            bad += 1;
        } else {
            assert!(parsed.is_ok(), "frame {n} should be valid: {text}");
        }
        if n % 13 == 0 && n % 7 != 0 && n % 11 != 0 {
            assert_eq!(text.len(), 100_000);
            big += 1;
        }
    }
    let f = sim.stats().faults;
    assert!(f.malformed + f.truncated >= bad && f.oversized >= big);
    sim.shutdown().await;
}

#[tokio::test]
async fn refused_then_dropped_connections_and_trades_sent_while_up() {
    let faults = FaultConfig {
        refuse_first: 1,
        drop_after: Some(Duration::from_millis(400)),
        ..Default::default()
    };
    let sim = SimServer::start(config(faults)).await.expect("start");
    let url = format!("ws://{}/ws/ethusdt@trade", sim.local_addr());
    assert!(
        tokio_tungstenite::connect_async(url).await.is_err(),
        "first attempt refused"
    );
    let mut ws = connect(sim.local_addr(), "/ws/ethusdt@trade").await;
    let mut got = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, futures_util::StreamExt::next(&mut ws))
            .await
            .expect("drop within 5 s")
        {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                got.push(v["t"].as_u64().unwrap());
            }
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => {
                panic!("a drop sends no close frame")
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    let stats = sim.stats();
    assert_eq!((stats.faults.refused, stats.faults.drops), (1, 1));
    wait_for("the session to end", || sim.stats().connections_open == 0).await;
    let sent = sim.market().trades_sent();
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].open);
    assert_eq!(sent[0].trades.get("ETHUSDT"), Some(&got));
    assert!(got.windows(2).all(|w| w[0] < w[1]) && !got.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_stall_pauses_the_connection_which_then_resumes() {
    let faults = FaultConfig {
        stall: Some(Stall {
            after: Duration::from_millis(100),
            duration: Duration::from_millis(500),
        }),
        ..Default::default()
    };
    let sim = SimServer::start(config(faults)).await.expect("start");
    let mut ws = connect(sim.local_addr(), "/ws/btcusdt@bookTicker").await;
    wait_for("the stall", || sim.stats().faults.stalls == 1).await;
    for _ in 0..20 {
        assert!(next_json(&mut ws).await["u"].is_u64());
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn stale_snapshots_lag_the_stream() {
    let faults = FaultConfig {
        stale_snapshot_events: Some(40),
        ..Default::default()
    };
    let sim = SimServer::start(config(faults)).await.expect("start");
    let addr = sim.local_addr();
    wait_for("some history", || {
        sim.market()
            .last_update_id(Venue::Binance, "BTCUSDT")
            .is_some_and(|id| {
                sim.market()
                    .book_at(Venue::Binance, "BTCUSDT", id.saturating_sub(200))
                    .is_some()
            })
    })
    .await;
    let snap = http_get(addr, "/api/v3/depth?symbol=BTCUSDT&limit=1000")
        .await
        .json();
    let last_id = snap["lastUpdateId"].as_u64().unwrap();
    let mut ws = connect(addr, "/ws/btcusdt@depth").await;
    let first = next_json(&mut ws).await;
    assert!(
        last_id + 1 < first["U"].as_u64().unwrap(),
        "snapshot must be older than the stream start"
    );
    let truth = sim
        .market()
        .book_at(Venue::Binance, "BTCUSDT", last_id)
        .expect("in history");
    assert_eq!(truth.last_update_id, last_id);
    assert_eq!(snap["bids"].as_array().unwrap().len(), truth.bids.len());
    assert_eq!(sim.stats().faults.stale_snapshots, 1);
    sim.shutdown().await;
}
