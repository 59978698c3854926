//! `tickd replay` of a Bybit capture made of the real samples: instrument pages of
//! three categories (one paginated), the real `orderbook.500.XRPUSDT` session, trades
//! on two overlapping linear connections, inverse tickers, a spot BBO and trade on the
//! spot connection sharing the linear symbol `BTCUSDT`, and channels tickd was not
//! asked for (`kline`), plus acks and pongs. Every frame decodes, every trade is
//! published once, and the book is never crossed.

use std::collections::HashMap;

use tickd_bus::instrument::InstrumentRegistry;
use tickd_bus::record::{BboMsg, TradeMsg};
use tickd_bus::{RecordBuf, Venue};
use tickd_normalizer::book::{Applied, BookReplay};

use crate::capture::{CaptureKind, CaptureLine};
use crate::replay::Replayer;

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/exchanges/samples/bybit/"
);

fn sample(name: &str) -> Vec<String> {
    std::fs::read_to_string(format!("{SAMPLES}{name}"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn row(category: &str, symbol: &str, base: &str, quote: &str) -> String {
    let contract = match category {
        "spot" => String::new(),
        "inverse" => r#""contractType":"InversePerpetual","settleCoin":"BTC","#.to_string(),
        _ => r#""contractType":"LinearPerpetual","settleCoin":"USDT","#.to_string(),
    };
    format!(
        r#"{{"symbol":"{symbol}",{contract}"status":"Trading","baseCoin":"{base}","quoteCoin":"{quote}","priceFilter":{{"tickSize":"0.0001"}},"lotSizeFilter":{{"qtyStep":"0.001","basePrecision":"0.000001"}}}}"#
    )
}

fn page(category: &str, rows: &[String], cursor: &str) -> String {
    format!(
        r#"{{"retCode":0,"retMsg":"OK","result":{{"category":"{category}","list":[{}],"nextPageCursor":"{cursor}"}},"time":1}}"#,
        rows.join(",")
    )
}

struct Capture {
    lines: Vec<CaptureLine>,
    ts: u64,
}

impl Capture {
    fn push(&mut self, kind: CaptureKind, conn: u64, url: &str, data: &str) {
        self.ts += 1;
        self.lines.push(CaptureLine {
            ts_recv: self.ts,
            venue: "bybit".into(),
            conn,
            kind,
            url: url.into(),
            data: data.into(),
            data_b64: None,
        });
    }
}

const LINEAR: &str = "ws://127.0.0.1:9/v5/public/linear";
const INVERSE: &str = "ws://127.0.0.1:9/v5/public/inverse";
const SPOT: &str = "ws://127.0.0.1:9/v5/public/spot";

fn capture() -> Vec<CaptureLine> {
    let mut c = Capture {
        lines: Vec::new(),
        ts: 1_000,
    };
    let rest = "http://127.0.0.1:9/v5/market/instruments-info?category=";
    let linear1 = page(
        "linear",
        &[
            row("linear", "XRPUSDT", "XRP", "USDT"),
            row("linear", "BTCUSDT", "BTC", "USDT"),
        ],
        "first%3D1",
    );
    let linear2 = page("linear", &[row("linear", "LTCUSDT", "LTC", "USDT")], "");
    c.push(
        CaptureKind::Rest,
        0,
        &format!("{rest}spot&limit=1000"),
        &page("spot", &[row("spot", "BTCUSDT", "BTC", "USDT")], ""),
    );
    c.push(
        CaptureKind::Rest,
        0,
        &format!("{rest}linear&limit=1000"),
        &linear1,
    );
    c.push(
        CaptureKind::Rest,
        0,
        &format!("{rest}linear&limit=1000&cursor=first%3D1"),
        &linear2,
    );
    c.push(
        CaptureKind::Rest,
        0,
        &format!("{rest}inverse&limit=1000"),
        &page("inverse", &[row("inverse", "BTCUSD", "BTC", "USD")], ""),
    );
    let control = sample("control.jsonl");
    let trades = sample("trades.jsonl");
    let kline = r#"{"topic":"kline.5.BTCUSDT","data":[{"start":1672324800000,"end":1672325099999,"interval":"5","open":"16649.5","close":"16677","high":"16677","low":"16608","volume":"2.081","turnover":"34666.4005","confirm":true,"timestamp":1672324988882}],"ts":1672324988882,"type":"snapshot"}"#;
    // Linear connection 1: ack, the real book session with trades and a kline between.
    c.push(CaptureKind::Ws, 1, LINEAR, &control[3]);
    for (i, line) in sample("book.jsonl").iter().enumerate() {
        c.push(CaptureKind::Ws, 1, LINEAR, line);
        match i {
            10 => c.push(CaptureKind::Ws, 1, LINEAR, &trades[1]),
            20 => c.push(CaptureKind::Ws, 1, LINEAR, &trades[2]),
            30 => c.push(CaptureKind::Ws, 1, LINEAR, kline),
            _ => {}
        }
    }
    c.push(CaptureKind::Ws, 1, LINEAR, &control[6]);
    // Linear connection 2 overlapped it (a rotation): the same trades again.
    c.push(CaptureKind::Ws, 2, LINEAR, &control[3]);
    c.push(CaptureKind::Ws, 2, LINEAR, &trades[1]);
    c.push(CaptureKind::Ws, 2, LINEAR, &trades[2]);
    // Inverse: trades, tickers snapshot and delta, the option-style pong.
    for line in [
        &trades[0],
        &sample("tickers.jsonl")[0],
        &sample("tickers.jsonl")[1],
        &control[7],
    ] {
        c.push(CaptureKind::Ws, 3, INVERSE, line);
    }
    // Spot: the same raw symbol as linear, another instrument.
    let spot_trade = r#"{"topic":"publicTrade.BTCUSDT","ts":1672304486868,"type":"snapshot","data":[{"i":"2290000000061666327","T":1672304486865,"p":"16578.50","v":"0.001","S":"Sell","s":"BTCUSDT","BT":false}]}"#;
    for line in [
        &control[2],
        &sample("book_small_samples.jsonl")[0],
        &spot_trade.to_string(),
        &control[5],
    ] {
        c.push(CaptureKind::Ws, 4, SPOT, line);
    }
    c.lines
}

#[test]
fn a_multi_connection_capture_replays_every_frame_and_every_trade_once() {
    let mut replayer = Replayer::new(InstrumentRegistry::new());
    let mut out: Vec<RecordBuf> = Vec::new();
    for line in capture() {
        replayer.push(&line, &mut |r| out.push(*r));
    }
    let (registry, stats) = replayer.finish();
    let v = &stats.venues["bybit"];
    assert_eq!(stats.unsupported_lines, 0);
    assert_eq!(
        (v.decode_errors, v.unknown_symbols, v.rest_errors),
        (0, 0, 0),
        "{v:?}"
    );
    assert_eq!((v.gaps, v.resyncs), (0, 0), "{v:?}");
    assert!(v.books_never_synced.is_empty(), "{v:?}");
    let id = |raw: &str| {
        registry
            .by_raw(Venue::Bybit, raw)
            .unwrap_or_else(|| panic!("{raw}"))
            .id
    };
    assert_ne!(id("spot/BTCUSDT"), id("linear/BTCUSDT"));
    assert!(
        registry.by_raw(Venue::Bybit, "linear/LTCUSDT").is_some(),
        "page 2 of the cursor"
    );

    // Every trade once: 3 inverse, 2 linear (each seen on two connections), 1 spot.
    let mut trades: HashMap<(u32, u64, u64), usize> = HashMap::new();
    for t in out.iter().filter_map(|r| r.get::<TradeMsg>()) {
        *trades
            .entry((t.hd.instrument_id, t.trade_id, t.trade_id_hi))
            .or_default() += 1;
    }
    assert_eq!(trades.len(), 6);
    assert!(trades.values().all(|n| *n == 1), "{trades:?}");
    assert_eq!(v.duplicates, 2);
    assert_eq!(
        v.records.get("bar"),
        Some(&1),
        "the kline, not asked for, decodes"
    );
    let spot_bbo = out
        .iter()
        .filter_map(|r| r.get::<BboMsg>())
        .filter(|b| b.hd.instrument_id == id("spot/BTCUSDT"))
        .count();
    assert_eq!(spot_bbo, 1, "orderbook.1 on the spot connection");

    // The book, rebuilt from its records, is never crossed and ends 500 a side.
    let xrp = id("linear/XRPUSDT");
    let mut book = BookReplay::new();
    let mut events = 0;
    for r in out.iter().filter(|r| r.header().instrument_id == xrp) {
        if matches!(book.apply_record(r), Ok(Applied::EventComplete)) {
            events += 1;
            assert!(!book.book().is_crossed(), "after event {events}");
        }
    }
    assert_eq!(events, 50);
    assert_eq!((book.book().bid_len(), book.book().ask_len()), (500, 500));
}
