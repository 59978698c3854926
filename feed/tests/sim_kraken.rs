//! The simulator's Kraken v2 protocol on the wire, read by tickd's own Kraken
//! decoder: `status` on connect, `ping`/`pong`, one ack or error per symbol, book
//! snapshots and updates that, applied in order and truncated to the subscribed
//! depth, equal the true book and carry checksums that verify; trades, tickers,
//! 1-minute candles, heartbeats on a quiet connection, REST AssetPairs, and the
//! bad-checksum fault.

mod sim_common;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use sim_common::*;
use tickd_bus::{Price, RecordBuf, Size, Venue};
use tickd_feed::sim::{FaultConfig, SimConfig, SimServer, SimSymbol};
use tickd_normalizer::engine::VenueEvent;
use tickd_normalizer::kraken::{
    checksum, decode_asset_pairs, precision_of, KrakenDecoder, Precision,
};
use tickd_normalizer::{Level, SymbolMap};

const PAIRS: [&str; 2] = ["BTC/USD", "ETH/EUR"];

fn config(faults: FaultConfig) -> SimConfig {
    SimConfig {
        symbols: PAIRS
            .iter()
            .enumerate()
            .map(|(i, raw)| SimSymbol::from_raw(Venue::Kraken, raw, i).expect("kraken pair"))
            .collect(),
        rate_per_sec: 2_000,
        faults,
        ..SimConfig::default()
    }
}

fn decoder() -> KrakenDecoder {
    let mut symbols = SymbolMap::new();
    for (i, raw) in PAIRS.iter().enumerate() {
        symbols.insert(raw, i as u32 + 1);
    }
    KrakenDecoder::new(symbols, 10)
}

/// A side as the client keeps it: entries applied in order, then truncated.
#[derive(Default)]
struct Book {
    bids: BTreeMap<Price, Size>,
    asks: BTreeMap<Price, Size>,
}

impl Book {
    fn apply(&mut self, snapshot: bool, bids: &[Level], asks: &[Level], depth: usize) {
        if snapshot {
            self.bids.clear();
            self.asks.clear();
        }
        for (side, levels) in [(&mut self.bids, bids), (&mut self.asks, asks)] {
            for l in levels {
                if l.size.is_zero() {
                    side.remove(&l.price);
                } else {
                    side.insert(l.price, l.size);
                }
            }
        }
        while self.bids.len() > depth {
            let worst = *self.bids.keys().next().expect("bid");
            self.bids.remove(&worst);
        }
        while self.asks.len() > depth {
            let worst = *self.asks.keys().next_back().expect("ask");
            self.asks.remove(&worst);
        }
    }

    fn bids(&self) -> Vec<Level> {
        self.bids
            .iter()
            .rev()
            .map(|(p, s)| Level::new(*p, *s))
            .collect()
    }

    fn asks(&self) -> Vec<Level> {
        self.asks.iter().map(|(p, s)| Level::new(*p, *s)).collect()
    }
}

/// The frames of `ws` until `n` book messages of `symbol` were checked: each against
/// its checksum and against the true book at the update it was stamped with.
/// Returns how many checksums failed (the fault) and how many repeated a price.
async fn check_books(
    ws: &mut Ws,
    sim: &SimServer,
    symbol: &str,
    depth: usize,
    n: usize,
) -> (usize, usize) {
    let market = sim.market();
    let precision = Precision { price: 2, qty: 3 };
    let mut dec = decoder();
    let mut sink: Vec<RecordBuf> = Vec::new();
    let mut book = Book::default();
    let (mut checked, mut bad, mut repeats) = (0, 0, 0);
    while checked < n {
        let text = next_text(ws).await;
        let event = dec
            .decode_text(text.as_bytes(), 0, &mut sink)
            .expect("decodes");
        let VenueEvent::Book(ev) = event else {
            continue;
        };
        if ev.instrument_id != 1 + PAIRS.iter().position(|p| *p == symbol).expect("pair") as u32 {
            continue;
        }
        let mut seen = std::collections::HashSet::new();
        repeats += usize::from(!ev.bids.iter().all(|l| seen.insert(l.price)));
        book.apply(ev.snapshot, ev.bids, ev.asks, depth);
        let sum = checksum::of_levels(book.asks(), book.bids(), precision);
        if Some(sum) != ev.checksum {
            bad += 1;
            continue;
        }
        let update = market
            .book_update_at_stamp(symbol, ev.ts_event)
            .expect("the stamp was recorded");
        let truth = market
            .book_at(Venue::Kraken, symbol, update)
            .expect("in history");
        let cut = |levels: Vec<Level>| levels.into_iter().take(depth).collect::<Vec<_>>();
        assert_eq!(
            book.bids(),
            cut(truth.bids),
            "bids after {checked} messages"
        );
        assert_eq!(
            book.asks(),
            cut(truth.asks),
            "asks after {checked} messages"
        );
        checked += 1;
    }
    (bad, repeats)
}

fn request(method: &str, channel: &str, symbols: &[&str], extra: &str, req_id: u64) -> String {
    let list: Vec<String> = symbols.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        r#"{{"method":"{method}","params":{{"channel":"{channel}","symbol":[{}]{extra}}},"req_id":{req_id}}}"#,
        list.join(",")
    )
}

/// The next reply to a request (skipping market data and heartbeats).
async fn reply(ws: &mut Ws) -> Value {
    for _ in 0..100_000 {
        let v = next_json(ws).await;
        if v.get("method").is_some() || v.get("error").is_some() {
            return v;
        }
    }
    panic!("no reply");
}

#[tokio::test]
async fn status_ping_acks_errors_and_books_equal_to_the_truncated_truth() {
    let sim = SimServer::start(config(FaultConfig::default()))
        .await
        .expect("start");
    let addr = sim.local_addr();
    let mut ws = connect(addr, "/v2").await;
    let status = next_json(&mut ws).await;
    assert_eq!(status["channel"], "status");
    assert_eq!(status["data"][0]["system"], "online");
    send(&mut ws, r#"{"method":"ping","req_id":42}"#).await;
    let pong = next_json(&mut ws).await;
    assert_eq!(
        (pong["method"].as_str(), pong["req_id"].as_u64()),
        (Some("pong"), Some(42))
    );
    // Depth 10 of a 25+ level book: truncation and levels coming back into the window.
    send(
        &mut ws,
        &request(
            "subscribe",
            "book",
            &["BTC/USD", "NOPE/USD"],
            r#","depth":10"#,
            1,
        ),
    )
    .await;
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["success"], true);
    assert_eq!(ack["result"]["symbol"], "BTC/USD");
    assert_eq!(ack["result"]["depth"], 10);
    assert_eq!(ack["req_id"], 1);
    let (bad, repeats) = check_books(&mut ws, &sim, "BTC/USD", 10, 300).await;
    assert_eq!(bad, 0);
    assert!(
        repeats >= 1,
        "some update repeats a price (applied in order)"
    );
    // Depth 20 is not one Kraken offers; a second subscription is refused.
    send(
        &mut ws,
        &request("subscribe", "book", &["BTC/USD"], r#","depth":20"#, 2),
    )
    .await;
    let err = reply(&mut ws).await;
    assert_eq!(
        (err["success"].as_bool(), err["req_id"].as_u64()),
        (Some(false), Some(2))
    );
    assert!(
        err["error"].as_str().expect("error").contains("depth"),
        "{err}"
    );
    send(
        &mut ws,
        &request("subscribe", "book", &["BTC/USD"], r#","depth":10"#, 3),
    )
    .await;
    let err = reply(&mut ws).await;
    assert_eq!(err["error"], "Already subscribed");
    // Unsubscribe, then subscribe again at depth 25: a fresh snapshot.
    send(
        &mut ws,
        &request("unsubscribe", "book", &["BTC/USD"], r#","depth":10"#, 4),
    )
    .await;
    let ack = reply(&mut ws).await;
    assert_eq!(
        (ack["method"].as_str(), ack["success"].as_bool()),
        (Some("unsubscribe"), Some(true))
    );
    send(
        &mut ws,
        &request("subscribe", "book", &["ETH/EUR"], r#","depth":25"#, 5),
    )
    .await;
    assert_eq!(reply(&mut ws).await["result"]["depth"], 25);
    let (bad, _) = check_books(&mut ws, &sim, "ETH/EUR", 25, 200).await;
    assert_eq!(bad, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_pair_and_channel_errors_name_the_symbol() {
    let sim = SimServer::start(config(FaultConfig::default()))
        .await
        .expect("start");
    let mut ws = connect(sim.local_addr(), "/v2").await;
    let _status = next_json(&mut ws).await;
    send(
        &mut ws,
        &request("subscribe", "trade", &["NOPE/USD", "BTC/USD"], "", 7),
    )
    .await;
    let err = reply(&mut ws).await;
    assert_eq!(
        (err["success"].as_bool(), err["symbol"].as_str()),
        (Some(false), Some("NOPE/USD"))
    );
    assert_eq!(err["req_id"], 7);
    let ack = reply(&mut ws).await;
    assert_eq!(
        (ack["success"].as_bool(), ack["result"]["symbol"].as_str()),
        (Some(true), Some("BTC/USD"))
    );
    send(
        &mut ws,
        &request("subscribe", "level3", &["BTC/USD"], "", 8),
    )
    .await;
    assert_eq!(reply(&mut ws).await["success"], false);
    send(&mut ws, "{not json").await;
    assert_eq!(reply(&mut ws).await["success"], false);
    send(
        &mut ws,
        &request("unsubscribe", "ticker", &["BTC/USD"], "", 9),
    )
    .await;
    assert_eq!(reply(&mut ws).await["error"], "Subscription Not Found");
    sim.shutdown().await;
}

#[tokio::test]
async fn trades_tickers_and_candles_decode() {
    let sim = SimServer::start(config(FaultConfig::default()))
        .await
        .expect("start");
    let mut ws = connect(sim.local_addr(), "/v2").await;
    let _status = next_json(&mut ws).await;
    for (i, (channel, extra)) in [
        ("trade", ""),
        ("ticker", r#","event_trigger":"bbo""#),
        ("ohlc", r#","interval":1"#),
    ]
    .iter()
    .enumerate()
    {
        send(
            &mut ws,
            &request("subscribe", channel, &["ETH/EUR"], extra, i as u64),
        )
        .await;
    }
    let mut dec = decoder();
    let mut sink: Vec<RecordBuf> = Vec::new();
    let (mut trades, mut tickers, mut candles) = (0, 0, 0);
    let mut volume = Size::ZERO;
    for _ in 0..20_000 {
        if trades >= 20 && tickers >= 20 && candles >= 20 {
            break;
        }
        let text = next_text(&mut ws).await;
        let v: Value = serde_json::from_str(&text).expect("json");
        dec.decode_text(text.as_bytes(), 0, &mut sink)
            .expect("every frame decodes");
        match v["channel"].as_str() {
            Some("trade") => {
                trades += 1;
                let qty: Size = v["data"][0]["qty"].to_string().parse().expect("qty");
                volume = Size::from_raw(volume.raw() + qty.raw());
            }
            Some("ticker") => tickers += 1,
            Some("ohlc") => {
                candles += 1;
                let c = v["data"][0].clone();
                assert_eq!(c["interval"], 1);
                let (o, h, l, cl) = (&c["open"], &c["high"], &c["low"], &c["close"]);
                let p = |x: &Value| x.to_string().parse::<Price>().expect("price");
                assert!(
                    p(h) >= p(o) && p(h) >= p(cl) && p(l) <= p(o) && p(l) <= p(cl),
                    "{c}"
                );
                if c["trades"] == 1 {
                    volume = c["volume"].to_string().parse().expect("volume");
                }
                let sent: Size = c["volume"].to_string().parse().expect("volume");
                assert_eq!(sent, volume, "the candle's volume is the trades' sum");
            }
            _ => {}
        }
    }
    assert!(
        trades >= 20 && tickers >= 20 && candles >= 20,
        "{trades} {tickers} {candles}"
    );
    assert!(
        sink.len() >= 40,
        "trades and tickers are records: {}",
        sink.len()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn heartbeats_on_a_quiet_subscribed_connection() {
    let mut cfg = config(FaultConfig::default());
    cfg.rate_per_sec = 0;
    let sim = SimServer::start(cfg).await.expect("start");
    let mut ws = connect(sim.local_addr(), "/v2").await;
    let _status = next_json(&mut ws).await;
    // Nothing before a subscription.
    let quiet = tokio::time::timeout(Duration::from_millis(1500), next_text(&mut ws)).await;
    assert!(
        quiet.is_err(),
        "no heartbeat before a subscription: {quiet:?}"
    );
    send(&mut ws, &request("subscribe", "trade", &["BTC/USD"], "", 1)).await;
    assert_eq!(reply(&mut ws).await["success"], true);
    let start = tokio::time::Instant::now();
    for _ in 0..2 {
        assert_eq!(next_json(&mut ws).await["channel"], "heartbeat");
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1800) && took < Duration::from_millis(3500),
        "{took:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn rest_asset_pairs_and_the_bad_checksum_fault() {
    let faults = FaultConfig {
        bad_checksum_every: Some(5),
        ..FaultConfig::default()
    };
    let sim = SimServer::start(config(faults)).await.expect("start");
    let addr = sim.local_addr();
    let pairs = http_get(addr, "/0/public/AssetPairs").await;
    assert_eq!(pairs.status, 200);
    assert!(
        pairs.body.contains(r#""wsname":"XBT/USD""#),
        "{}",
        pairs.body
    );
    let specs = decode_asset_pairs(pairs.body.as_bytes()).expect("AssetPairs decodes");
    let btc = specs
        .iter()
        .find(|s| s.raw_symbol == "BTC/USD")
        .expect("BTC/USD");
    assert_eq!(precision_of(btc), Precision { price: 2, qty: 3 });
    assert_eq!(specs.len(), 2);
    let mut ws = connect(addr, "/v2").await;
    let _status = next_json(&mut ws).await;
    send(
        &mut ws,
        &request("subscribe", "book", &["BTC/USD"], r#","depth":10"#, 1),
    )
    .await;
    let _ack = next_json(&mut ws).await;
    let (bad, _) = check_books(&mut ws, &sim, "BTC/USD", 10, 40).await;
    assert!(bad >= 5, "{bad} bad checksums");
    assert!(sim.stats().faults.bad_checksums >= 5);
    sim.shutdown().await;
}
