//! The HTTP API against a real journal with known trades: bars (JSON and CSV), trades,
//! bad parameters, instruments, status, metrics and health.

mod common;

use common::*;
use serde_json::Value;
use tickd_bus::record::TradeMsg;
use tickd_bus::{Price, RecordBuf, RecordHeader, Size, Venue};
use tickd_storage::journal::{Journal, JournalConfig};

/// 2026-01-01T00:00:00Z.
const JAN1: u64 = 1_767_225_600_000_000_000;
const SEC: u64 = 1_000_000_000;

fn trade(id: u32, ts: u64, price: &str, size: &str) -> RecordBuf {
    RecordBuf::new(&TradeMsg {
        hd: RecordHeader::new::<TradeMsg>(Venue::Binance, id, ts, ts + 1_000),
        price: Price::parse_str(price).unwrap(),
        size: Size::parse_str(size).unwrap(),
        trade_id: ts,
        trade_id_hi: 0,
        side: 2,
        _reserved: [0; 7],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bars_and_trades_from_a_journal_with_known_trades() {
    let dir = tempfile::tempdir().unwrap();
    // The registry ids match the fixture's: BTC-USDT on binance is the first one.
    let btc = 1;
    // Minute 0: 100.5 x1, 102 x0.5, 99.25 x2, 101 x1  → O 100.5 H 102 L 99.25 C 101 V 4.5
    // Minute 1: 103 x0.1                              → O=H=L=C 103 V 0.1
    // Minute 3: 98 x3, 97.5 x1                        → O 98 H 98 L 97.5 C 97.5 V 4
    let trades = [
        (0, "100.5", "1"),
        (10, "102", "0.5"),
        (20, "99.25", "2"),
        (59, "101", "1"),
        (60, "103", "0.1"),
        (185, "98", "3"),
        (190, "97.5", "1"),
    ];
    {
        let (mut journal, _) = Journal::open(JournalConfig::new(dir.path())).unwrap();
        for (s, price, size) in trades {
            journal
                .append(&trade(btc, JAN1 + s * SEC, price, size))
                .unwrap();
        }
        journal.close().unwrap();
    }
    let f = start_with_journal(test_config(), Some(dir.path().to_path_buf())).await;
    assert_eq!(f.id(Venue::Binance, "BTC-USDT"), btc);
    let addr = f.gateway.local_addr();
    let range = format!("from={JAN1}&to={}", JAN1 + 3_600 * SEC);

    let (status, body) = http_get(
        addr,
        &format!("/v1/bars?venue=binance&symbol=BTC-USDT&interval=1m&{range}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    let bars: Vec<Vec<String>> = json["bars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            ["open", "high", "low", "close", "volume"]
                .iter()
                .map(|k| b[k].as_str().unwrap().to_string())
                .chain([b["trade_count"].to_string(), b["start_ns"].to_string()])
                .collect()
        })
        .collect();
    let want = |o: &str, h: &str, l: &str, c: &str, v: &str, n: u32, minute: u64| -> Vec<String> {
        [o, h, l, c, v]
            .iter()
            .map(|s| s.to_string())
            .chain([n.to_string(), (JAN1 + minute * 60 * SEC).to_string()])
            .collect()
    };
    assert_eq!(
        bars,
        vec![
            want("100.5", "102", "99.25", "101", "4.5", 4, 0),
            want("103", "103", "103", "103", "0.1", 1, 1),
            want("98", "98", "97.5", "97.5", "4", 2, 3),
        ]
    );
    // Long closed: final; the volume-weighted price is exact to the price's places.
    assert_eq!(json["bars"][0]["partial"], false);
    assert_eq!(json["bars"][1]["vwap"], "103");
    // Notional is exact: 100.5 + 51 + 198.5 + 101 = 451.
    assert_eq!(
        json["bars"][0]["notional"]
            .as_str()
            .unwrap()
            .trim_end_matches('0')
            .trim_end_matches('.'),
        "451"
    );

    // The same as CSV, by the venue's own symbol, over a 5-minute interval.
    let (status, csv) = http_get(
        addr,
        &format!("/v1/bars?venue=binance&symbol=BTCUSDT&interval=5m&format=csv&{range}"),
    )
    .await;
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], tickd_storage::bars::CSV_HEADER);
    assert_eq!(lines.len(), 2, "{csv}");
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(
        &row[1..8],
        &[
            "2026-01-01T00:00:00Z",
            "5m",
            "100.5",
            "103",
            "97.5",
            "97.5",
            "8.6"
        ]
    );
    assert_eq!(&row[10..], &["7", "false"]);

    // Trades, JSON and CSV, limited.
    let (status, body) = http_get(
        addr,
        &format!("/v1/trades?venue=binance&symbol=BTC-USDT&limit=3&{range}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    let prices: Vec<&str> = json["trades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["price"].as_str().unwrap())
        .collect();
    assert_eq!(prices, ["100.5", "102", "99.25"]);
    assert_eq!(json["trades"][0]["side"], "sell");
    // A full page says so, and links the next; following the links gives every trade
    // once, then a last page with no link.
    assert_eq!(json["partial"], true);
    let mut pages = vec![prices.iter().map(|p| p.to_string()).collect::<Vec<_>>()];
    let mut next = json["next"].as_str().map(str::to_string);
    while let Some(link) = next {
        assert!(
            link.contains("limit=3") && link.contains("cursor="),
            "{link}"
        );
        let (status, body) = http_get(addr, &link).await;
        assert_eq!(status, 200, "{link}: {body}");
        let page: Value = serde_json::from_str(&body).unwrap();
        pages.push(
            page["trades"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["price"].as_str().unwrap().to_string())
                .collect(),
        );
        assert_eq!(page["partial"], page["next"].is_string());
        next = page["next"].as_str().map(str::to_string);
        assert!(pages.len() <= trades.len(), "links never end");
    }
    let all: Vec<String> = pages.concat();
    let want: Vec<String> = trades.iter().map(|(_, p, _)| p.to_string()).collect();
    assert_eq!(all, want, "pages: {pages:?}");
    assert_eq!(pages.len(), 3, "3 + 3 + 1");
    let (_, csv) = http_get(
        addr,
        &format!("/v1/trades?venue=binance&symbol=BTC-USDT&format=csv&{range}"),
    )
    .await;
    assert_eq!(csv.lines().count(), 1 + trades.len());
    assert!(
        !csv.contains("# next"),
        "a complete answer has no link: {csv}"
    );
    let (_, csv) = http_get(
        addr,
        &format!("/v1/trades?venue=binance&symbol=BTC-USDT&format=csv&limit=5&{range}"),
    )
    .await;
    let link = csv
        .lines()
        .last()
        .unwrap()
        .strip_prefix("# next: ")
        .unwrap();
    let (_, rest) = http_get(addr, link).await;
    assert_eq!(
        csv.lines().count() - 2 + rest.lines().count() - 1,
        trades.len(),
        "{csv}{rest}"
    );

    // Bad parameters: 400 with what is valid.
    for (path, hint) in [
        ("/v1/bars?venue=binance&symbol=BTC-USDT&interval=7x", "1m"),
        ("/v1/bars?venue=ftx&symbol=BTC-USDT", "binance-usdm"),
        ("/v1/bars?venue=binance&symbol=DOGE-USDT", "/v1/instruments"),
        ("/v1/bars?venue=binance", "symbol"),
        (
            "/v1/bars?venue=binance&symbol=BTC-USDT&from=yesterday",
            "RFC 3339",
        ),
        (
            "/v1/bars?venue=binance&symbol=BTC-USDT&from=20&to=10",
            "before",
        ),
        ("/v1/trades?venue=binance&symbol=BTC-USDT&limit=0", "1 to"),
        ("/v1/trades?venue=binance&symbol=BTC-USDT&format=xml", "csv"),
        ("/v1/trades?venue=binance&symbol=BTC-USDT&cursor=12", "next"),
    ] {
        let (status, body) = http_get(addr, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains(hint), "{path}: {body}");
    }

    // Instruments, status, metrics, health.
    let (status, body) = http_get(addr, "/v1/instruments?venue=binance").await;
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "{body}");
    let (status, body) = http_get(addr, "/v1/status").await;
    assert_eq!(status, 200);
    let status_json: Value = serde_json::from_str(&body).unwrap();
    assert!(status_json["connections"].is_i64(), "{body}");
    // Both hops' latency percentiles, from the feed's read of the frame.
    for hop in ["router", "send"] {
        assert!(status_json["lag_ns"][hop]["p99"].is_u64(), "{hop}: {body}");
    }
    let (status, body) = http_get(addr, "/metrics").await;
    assert_eq!(status, 200);
    for name in [
        "tickd_gateway_messages_out_total",
        "tickd_gateway_drops_total",
        "tickd_gateway_subscribers",
        "tickd_gateway_errors_total",
    ] {
        assert!(body.contains(name), "{name} missing");
    }
    assert_eq!(http_get(addr, "/health").await, (200, "ok\n".to_string()));
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_without_a_journal_says_so_and_live_book_is_served() {
    use tickd_bus::record::{BookAction, BookSide};
    use tickd_bus::Flags;
    let mut f = start(test_config()).await;
    let addr = f.gateway.local_addr();
    let (status, body) = http_get(addr, "/v1/bars?venue=binance&symbol=BTC-USDT").await;
    assert_eq!(status, 404);
    assert!(body.contains("no journal"), "{body}");
    let (v, s) = (Venue::Binance, "BTC-USDT");
    f.publish(f.delta(
        (v, s),
        BookSide::Bid,
        BookAction::Clear,
        (0, 0),
        Flags::SNAPSHOT,
        1,
    ));
    f.publish(f.delta(
        (v, s),
        BookSide::Bid,
        BookAction::Set,
        (100 * Price::ONE_RAW, 3 * tickd_bus::Size::ONE_RAW),
        Flags::SNAPSHOT.union(Flags::LAST),
        1,
    ));
    f.publish(tickd_bus::RecordBuf::new(&tickd_bus::record::StatusMsg {
        hd: RecordHeader::new::<tickd_bus::record::StatusMsg>(v, f.id(v, s), 1, 1),
        kind: tickd_bus::record::StatusKind::BookResync as u8,
        _reserved: 0,
        reason: tickd_bus::record::StatusReason::SequenceGap as u16,
        conn: 0,
        lost: 0,
        detail: 0,
    }));
    f.publish(f.delta(
        (v, s),
        BookSide::Bid,
        BookAction::Clear,
        (0, 0),
        Flags::SNAPSHOT,
        1,
    ));
    f.publish(f.delta(
        (v, s),
        BookSide::Bid,
        BookAction::Set,
        (100 * Price::ONE_RAW, 3 * tickd_bus::Size::ONE_RAW),
        Flags::SNAPSHOT.union(Flags::LAST),
        1,
    ));
    // Wait until the router applied it: a trade subscription sees a later record.
    let mut probe = subscribed(ws_client(
        &f,
        &["trades.binance.BTC-USDT"],
        tickd_gateway::protocol::Encoding::Json,
    ))
    .await;
    f.publish(f.trade(v, s, 1));
    collect(&mut probe, 1).await;
    let (status, body) = http_get(addr, "/v1/book?venue=binance&symbol=BTC-USDT").await;
    assert_eq!(status, 200, "{body}");
    let book: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(book["bids"][0][0], "100");
    assert_eq!(book["bids"][0][1], "3");
    assert_eq!(book["asks"].as_array().unwrap().len(), 0);
    let (_, metrics) = http_get(addr, "/metrics").await;
    assert!(
        metrics.contains("tickd_gateway_resyncs_total 1\n"),
        "{metrics}"
    );
    f.gateway.shutdown().await;
}
