//! The synthetic market's streams agree with its REST snapshots and its true books.

mod sim_common;

use std::collections::BTreeMap;

use serde_json::Value;
use sim_common::*;
use tickd_bus::{Price, Size, Venue};
use tickd_feed::sim::{SendTimeUnit, SimConfig, SimServer, SimSymbol};
use tickd_normalizer::Level;

fn config(rate: u32) -> SimConfig {
    SimConfig {
        rate_per_sec: rate,
        symbols: SimSymbol::generate(Venue::Binance, 2)
            .into_iter()
            .chain(SimSymbol::generate(Venue::BinanceUsdm, 2))
            .collect(),
        ..SimConfig::default()
    }
}

#[derive(Default)]
struct ClientBook {
    bids: BTreeMap<Price, Size>,
    asks: BTreeMap<Price, Size>,
}

fn levels(v: &Value) -> Vec<Level> {
    v.as_array()
        .expect("levels array")
        .iter()
        .map(|pair| {
            let p = pair[0]
                .as_str()
                .expect("price string")
                .parse()
                .expect("price");
            let s = pair[1]
                .as_str()
                .expect("size string")
                .parse()
                .expect("size");
            Level::new(p, s)
        })
        .collect()
}

impl ClientBook {
    fn apply(&mut self, event: &Value) {
        for (side, key) in [(&mut self.bids, "b"), (&mut self.asks, "a")] {
            for l in levels(&event[key]) {
                if l.size.is_zero() {
                    side.remove(&l.price);
                } else {
                    side.insert(l.price, l.size);
                }
            }
        }
    }

    fn from_snapshot(body: &Value) -> Self {
        let side = |key: &str| {
            levels(&body[key])
                .into_iter()
                .map(|l| (l.price, l.size))
                .collect()
        };
        ClientBook {
            bids: side("bids"),
            asks: side("asks"),
        }
    }

    fn sides(&self) -> (Vec<Level>, Vec<Level>) {
        (
            self.bids
                .iter()
                .rev()
                .map(|(p, s)| Level::new(*p, *s))
                .collect(),
            self.asks.iter().map(|(p, s)| Level::new(*p, *s)).collect(),
        )
    }
}

fn id(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// Binance's documented procedure; then every applied event must leave the client's
/// book equal to the simulator's true book at that update id.
/// Returns how many applied events overlapped the book (`U <= book_id`) and the most
/// levels one event carried.
async fn sync_and_compare(
    cfg: SimConfig,
    venue: Venue,
    ws_path: &str,
    rest_path: &str,
) -> ((usize, usize), SimServer) {
    let sim = SimServer::start(cfg).await.expect("start");
    let addr = sim.local_addr();
    let mut ws = connect(addr, ws_path).await;
    let first = next_json(&mut ws).await;
    let snap = http_get(addr, &format!("{rest_path}?symbol=BTCUSDT&limit=1000")).await;
    assert_eq!(snap.status, 200, "{}", snap.body);
    let snap = snap.json();
    let last_id = id(&snap, "lastUpdateId");
    assert!(
        last_id >= id(&first, "U"),
        "snapshot older than the stream start"
    );
    let mut book = ClientBook::from_snapshot(&snap);
    let mut book_id = last_id;
    let mut applied = 0;
    let mut prev_u: Option<u64> = None;
    let mut pending = Some(first);
    let mut overlaps = 0;
    let mut max_levels = 0;
    while applied < 300 {
        let ev = match pending.take() {
            Some(ev) => ev,
            None => next_json(&mut ws).await,
        };
        assert_eq!(ev["e"], "depthUpdate");
        let (big_u, u) = (id(&ev, "U"), id(&ev, "u"));
        if venue == Venue::Binance {
            if u <= book_id {
                continue;
            }
            assert!(big_u <= book_id + 1, "gap: U={big_u} after {book_id}");
            if applied > 0 && big_u <= book_id {
                overlaps += 1;
            }
        } else {
            if u < last_id {
                continue;
            }
            match prev_u {
                None => {
                    assert!(big_u <= last_id && last_id <= u || ev["pu"].as_u64() == Some(last_id))
                }
                Some(p) => assert_eq!(
                    ev["pu"].as_i64(),
                    Some(p as i64),
                    "pu must link to the previous u"
                ),
            }
            prev_u = Some(u);
        }
        book.apply(&ev);
        max_levels = max_levels.max(levels(&ev["b"]).len() + levels(&ev["a"]).len());
        book_id = u;
        applied += 1;
        let truth = sim
            .market()
            .book_at(venue, "BTCUSDT", u)
            .expect("id in history");
        assert_eq!(truth.last_update_id, u);
        assert_eq!(
            book.sides(),
            (truth.bids, truth.asks),
            "book differs at u={u}"
        );
    }
    ((overlaps, max_levels), sim)
}

#[tokio::test]
async fn spot_snapshot_plus_diffs_equals_the_true_book() {
    let ((overlaps, max_levels), sim) = sync_and_compare(
        config(4_000),
        Venue::Binance,
        "/ws/btcusdt@depth",
        "/api/v3/depth",
    )
    .await;
    assert_eq!(overlaps, 0);
    assert!(max_levels <= 6, "one change per event: {max_levels}");
    sim.shutdown().await;
}

#[tokio::test]
async fn usdm_snapshot_plus_diffs_equals_the_true_book() {
    let path = "/public/ws/btcusdt@depth@100ms";
    let (_, sim) =
        sync_and_compare(config(4_000), Venue::BinanceUsdm, path, "/fapi/v1/depth").await;
    sim.shutdown().await;
}

#[tokio::test]
async fn batched_depth_events_still_rebuild_the_true_book() {
    for (venue, ws_path, rest_path) in [
        (Venue::Binance, "/ws/btcusdt@depth@100ms", "/api/v3/depth"),
        (
            Venue::BinanceUsdm,
            "/public/ws/btcusdt@depth@100ms",
            "/fapi/v1/depth",
        ),
    ] {
        let mut cfg = config(20_000);
        cfg.depth_interval = Some(std::time::Duration::from_millis(5));
        let ((_, max_levels), sim) = sync_and_compare(cfg, venue, ws_path, rest_path).await;
        assert!(
            max_levels > 6,
            "events must batch many changes: {max_levels}"
        );
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn overlapping_ranges_and_unknown_deletes_keep_the_book_right() {
    let mut cfg = config(4_000);
    cfg.faults.overlap_every = Some(5);
    cfg.faults.unknown_delete_every = Some(7);
    let ((overlaps, _), sim) =
        sync_and_compare(cfg, Venue::Binance, "/ws/btcusdt@depth", "/api/v3/depth").await;
    let faults = sim.stats().faults;
    assert!(
        overlaps > 0 && faults.overlaps > 0 && faults.unknown_deletes > 0,
        "{overlaps} {faults:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn rest_snapshot_limits_exchange_info_and_open_interest() {
    let sim = SimServer::start(config(100)).await.expect("start");
    let addr = sim.local_addr();
    let snap = http_get(addr, "/api/v3/depth?symbol=ETHUSDT&limit=5")
        .await
        .json();
    assert_eq!(snap["bids"].as_array().map(Vec::len), Some(5));
    let fut = http_get(addr, "/fapi/v1/depth?symbol=BTCUSDT&limit=5")
        .await
        .json();
    assert!(fut["E"].as_u64().is_some() && fut["T"].as_u64().is_some());
    let bad = http_get(addr, "/fapi/v1/depth?symbol=BTCUSDT&limit=7").await;
    assert_eq!(
        (bad.status, bad.json()["code"].as_i64()),
        (400, Some(-1100))
    );
    let bad = http_get(addr, "/api/v3/depth?symbol=NOPE").await;
    assert_eq!(
        (bad.status, bad.json()["code"].as_i64()),
        (400, Some(-1121))
    );
    let info = http_get(addr, "/api/v3/exchangeInfo").await.json();
    let names: Vec<_> = info["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["symbol"].clone())
        .collect();
    assert_eq!(names, ["BTCUSDT", "ETHUSDT"]);
    assert_eq!(info["symbols"][0]["baseAsset"], "BTC");
    let info = http_get(addr, "/fapi/v1/exchangeInfo").await.json();
    assert_eq!(info["symbols"][1]["contractType"], "PERPETUAL");
    let oi = http_get(addr, "/fapi/v1/openInterest?symbol=ETHUSDT")
        .await
        .json();
    assert_eq!(oi["symbol"], "ETHUSDT");
    assert!(oi["openInterest"].as_str().unwrap().parse::<Size>().is_ok());
    assert_eq!(http_get(addr, "/api/v3/nothing").await.status, 404);
    sim.shutdown().await;
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[tokio::test]
async fn send_time_is_stamped_in_event_time() {
    let mut cfg = config(2_000);
    cfg.send_time_unit = Some(SendTimeUnit::Nanos);
    let sim = SimServer::start(cfg).await.expect("start");
    let mut ws = connect(
        sim.local_addr(),
        "/stream?streams=btcusdt@trade/btcusdt@bookTicker",
    )
    .await;
    for _ in 0..20 {
        let before = now_ns();
        let frame = next_json(&mut ws).await;
        let after = now_ns();
        let e = frame["data"]["E"]
            .as_u64()
            .expect("E present, also on spot bookTicker");
        assert!(
            e <= after && e + 5_000_000_000 >= before,
            "E={e} not a send time in ns"
        );
        if frame["stream"] == "btcusdt@trade" {
            // T stays the match time in ms.
            assert!(frame["data"]["T"].as_u64().unwrap() < after / 100_000);
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn time_unit_microsecond_switches_time_fields() {
    let sim = SimServer::start(config(2_000)).await.expect("start");
    let mut ws = connect(sim.local_addr(), "/ws/btcusdt@trade?timeUnit=MICROSECOND").await;
    let frame = next_json(&mut ws).await;
    let t = frame["T"].as_u64().unwrap();
    let now_us = now_ns() / 1_000;
    assert!(t <= now_us && t + 10_000_000 > now_us, "T={t} is not in µs");
    sim.shutdown().await;
}
