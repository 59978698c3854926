//! HTX captures replay through the same engine as live: binary gzip frames stored
//! as `data_b64`, from several connections of the three venues (spot `/ws` and
//! `/feed`, USDT-M market and notification sockets, coin-M), with `depth.step0`
//! image books beside the incremental ones. Every frame decodes (one garbage
//! frame is counted), every trade is published once (a rotation's duplicate is
//! dropped), and every book stays uncrossed after every message.
//!
//! The frames are the real samples of `samples/htx/` (see their provenance) plus
//! synthetic `depth.step0` images and continuations in the same shapes; no real
//! multi-connection HTX recording is public.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use tickd_bus::instrument::InstrumentRegistry;
use tickd_bus::record::TradeMsg;
use tickd_bus::{Flags, RecordBuf, RecordType, Venue};
use tickd_feed::capture::{CaptureKind, CaptureLine};
use tickd_feed::replay::Replayer;
use tickd_normalizer::book::BookReplay;
use tickd_normalizer::htx::encode::gzip;

fn sample(path: &str) -> Vec<String> {
    let path = format!(
        "{}/../testdata/exchanges/samples/htx/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .map(str::to_string)
        .collect()
}

const SPOT_SYMBOLS: &str = r#"{"status":"ok","data":[{"base-currency":"btc","quote-currency":"usdt","price-precision":2,"amount-precision":6,"symbol-partition":"main","symbol":"btcusdt","state":"online"},{"base-currency":"eth","quote-currency":"usdt","price-precision":2,"amount-precision":4,"symbol":"ethusdt","state":"online"},{"base-currency":"aidoge","quote-currency":"usdt","price-precision":14,"amount-precision":2,"symbol":"aidogeusdt","state":"online"},{"base-currency":"old","quote-currency":"usdt","price-precision":2,"amount-precision":2,"symbol":"oldusdt","state":"offline"}]}"#;
const USDM_CONTRACTS: &str = r#"{"status":"ok","data":[{"symbol":"BTC","contract_code":"BTC-USDT","contract_size":0.001,"price_tick":0.1,"delivery_date":"","create_date":"20201021","contract_status":1,"settlement_date":"1790150400000","support_margin_mode":"all","business_type":"swap","pair":"BTC-USDT","contract_type":"swap","trade_partition":"USDT"},{"symbol":"ETH","contract_code":"ETH-USDT","contract_size":0.01,"price_tick":0.01,"delivery_date":"","contract_status":1,"business_type":"swap","pair":"ETH-USDT","contract_type":"swap","trade_partition":"USDT"},{"symbol":"PEOPLE","contract_code":"PEOPLE-USDT","contract_size":10,"price_tick":0.00001,"delivery_date":"","contract_status":1,"business_type":"swap","pair":"PEOPLE-USDT","contract_type":"swap","trade_partition":"USDT"},{"symbol":"BTC","contract_code":"BTC-USDT-261225","contract_size":0.001,"price_tick":0.1,"delivery_date":"20261225","contract_status":1,"business_type":"futures","pair":"BTC-USDT","contract_type":"quarter","trade_partition":"USDT"}],"ts":1790134800000}"#;
const COINM_CONTRACTS: &str = r#"{"status":"ok","data":[{"symbol":"BTC","contract_code":"BTC-USD","contract_size":100,"price_tick":0.1,"settlement_date":"1622736000000","create_date":"20200325","contract_status":1}],"ts":1622711300000}"#;

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(gzip(text.as_bytes()))
}

struct Capture(Vec<CaptureLine>);

impl Capture {
    fn rest(&mut self, venue: &str, url: &str, body: &str) {
        let ts = self.0.len() as u64 + 1;
        self.0.push(CaptureLine {
            ts_recv: ts,
            venue: venue.into(),
            conn: 0,
            kind: CaptureKind::Rest,
            url: url.into(),
            data: body.into(),
            data_b64: None,
        });
    }

    fn connect(&mut self, venue: &str, conn: u64, url: &str) {
        let ts = self.0.len() as u64 + 1;
        self.0.push(CaptureLine {
            ts_recv: ts,
            venue: venue.into(),
            conn,
            kind: CaptureKind::Connect,
            url: url.into(),
            data: "startup".into(),
            data_b64: None,
        });
    }

    /// A frame as HTX sends it: gzip in a binary frame.
    fn ws(&mut self, venue: &str, conn: u64, url: &str, text: &str) {
        self.raw(
            venue,
            conn,
            url,
            base64::engine::general_purpose::STANDARD
                .decode(b64(text))
                .unwrap(),
        );
    }

    fn raw(&mut self, venue: &str, conn: u64, url: &str, bytes: Vec<u8>) {
        let ts = self.0.len() as u64 + 1;
        self.0.push(CaptureLine {
            ts_recv: ts,
            venue: venue.into(),
            conn,
            kind: CaptureKind::Ws,
            url: url.into(),
            data: String::new(),
            data_b64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        });
    }
}

fn step0(symbol: &str, version: u64, bids: &str, asks: &str) -> String {
    format!(
        r#"{{"ch":"market.{symbol}.depth.step0","ts":{version},"tick":{{"bids":{bids},"asks":{asks},"version":{version},"ts":{version}}}}}"#
    )
}

fn capture() -> Vec<CaptureLine> {
    let (ws, feed) = ("wss://api.huobi.pro/ws", "wss://api.huobi.pro/feed");
    let (lin, notif) = (
        "wss://api.hbdm.com/linear-swap-ws",
        "wss://api.hbdm.com/linear-swap-notification",
    );
    let inv = "wss://api.hbdm.com/swap-ws";
    let mut c = Capture(Vec::new());
    c.rest(
        "htx",
        "https://api.huobi.pro/v1/common/symbols",
        SPOT_SYMBOLS,
    );
    c.rest(
        "htx-usdm",
        "https://api.hbdm.com/linear-swap-api/v1/swap_contract_info?business_type=all",
        USDM_CONTRACTS,
    );
    c.rest(
        "htx-coinm",
        "https://api.hbdm.com/swap-api/v1/swap_contract_info",
        COINM_CONTRACTS,
    );

    // Spot trades and BBO on /ws; a second /ws connection (a rotation's overlap)
    // repeats the first trade.
    let trade = &sample("trades.jsonl")[0];
    c.connect("htx", 1, ws);
    c.ws(
        "htx",
        1,
        ws,
        r#"{"id":"1","status":"ok","subbed":"market.btcusdt.trade.detail","ts":1616243199000}"#,
    );
    c.ws("htx", 1, ws, trade);
    c.ws("htx", 1, ws, &sample("bbo.jsonl")[0]);
    c.ws("htx", 1, ws, r#"{"ping":1616243200000}"#);
    c.connect("htx", 2, ws);
    c.ws("htx", 2, ws, trade);
    c.ws("htx", 1, ws, &trade.replace("102357140867", "102357140868"));
    // One frame that is not gzip: counted, never fatal.
    c.raw("htx", 1, ws, vec![0x1f, 0x8b, 8, 0, 1, 2, 3]);
    // depth.step0 images (whole books) for ethusdt.
    for (v, bid, ask) in [
        (1, "3000.5", "3000.6"),
        (2, "3000.4", "3000.9"),
        (3, "3001.0", "3001.1"),
    ] {
        c.ws(
            "htx",
            1,
            ws,
            &step0(
                "ethusdt",
                v,
                &format!("[[{bid},1.5E-3],[2999,2]]"),
                &format!("[[{ask},0.25],[3002,3.0E0]]"),
            ),
        );
    }
    // Spot MBP on /feed: the update arrives before the `req` image and splices.
    let mbp = sample("book_mbp.jsonl");
    c.connect("htx", 3, feed);
    c.ws("htx", 3, feed, &mbp[3]);
    c.ws("htx", 3, feed, &mbp[2]);
    c.ws("htx", 3, feed, r#"{"ch":"market.btcusdt.mbp.150","ts":1593561601001,"tick":{"seqNum":109409288300,"prevSeqNum":109409288204,"bids":[[9137.67,0.0]],"asks":[]}}"#);

    // USDT-M: high_freq books, a trade, an ETH image; funding on the notification socket.
    let swap = sample("swap_book.jsonl");
    c.connect("htx-usdm", 4, lin);
    c.ws("htx-usdm", 4, lin, &swap[0]);
    c.ws("htx-usdm", 4, lin, &swap[1]);
    c.ws("htx-usdm", 4, lin, &sample("swap_trades.jsonl")[0]);
    c.ws(
        "htx-usdm",
        4,
        lin,
        &step0("ETH-USDT", 9, "[[2500.1,10]]", "[[2500.2,7]]"),
    );
    c.ws("htx-usdm", 4, lin, &swap[2].replace("1789895879606", "10"));
    c.connect("htx-usdm", 5, notif);
    c.ws(
        "htx-usdm",
        5,
        notif,
        r#"{"op":"ping","ts":"1790135110000"}"#,
    );
    c.ws("htx-usdm", 5, notif, &sample("funding.jsonl")[0]);

    // Coin-M: an image, then the real update that follows it.
    c.connect("htx-coinm", 6, inv);
    c.ws("htx-coinm", 6, inv, r#"{"ch":"market.BTC-USD.depth.size_150.high_freq","tick":{"asks":[[38895.7,100],[38900.0,3]],"bids":[[38880.6,10],[38870.0,5]],"ch":"market.BTC-USD.depth.size_150.high_freq","event":"snapshot","id":99893958860,"mrid":99893958860,"ts":1622711368300,"version":1300632844},"ts":1622711368300}"#);
    c.ws("htx-coinm", 6, inv, &swap[3]);
    c.0
}

#[test]
fn an_htx_capture_of_three_venues_replays_completely() {
    let mut replayer = Replayer::new(InstrumentRegistry::new());
    let mut records: Vec<RecordBuf> = Vec::new();
    let lines = capture();
    // The capture survives its own text form (what `tickd record` writes).
    for l in &lines {
        let text = serde_json::to_string(&l.as_ref()).unwrap();
        let back: CaptureLine = serde_json::from_str(&text).unwrap();
        assert_eq!(&back, l);
        replayer.push(&back, &mut |r| records.push(*r));
    }
    let (registry, stats) = replayer.finish();
    let spot = &stats.venues["htx"];
    assert_eq!(spot.decode_errors, 1, "the garbage frame only: {spot:?}");
    for venue in ["htx-usdm", "htx-coinm"] {
        let s = &stats.venues[venue];
        assert_eq!(s.decode_errors, 0, "{venue}: {s:?}");
    }
    for (name, s) in &stats.venues {
        assert_eq!((s.unknown_symbols, s.rest_errors), (0, 0), "{name}: {s:?}");
        assert!(s.books_never_synced.is_empty(), "{name}: {s:?}");
        assert_eq!(s.resyncs, 0, "{name}: {s:?}");
    }
    assert_eq!(
        stats.venues.values().map(|s| s.ws_frames).sum::<u64>(),
        lines.iter().filter(|l| l.kind == CaptureKind::Ws).count() as u64
    );

    // Every trade once.
    let trades: Vec<(u8, u32, u64)> = records
        .iter()
        .filter_map(|r| r.get::<TradeMsg>())
        .map(|t| (t.hd.venue, t.hd.instrument_id, t.trade_id))
        .collect();
    let unique: HashSet<_> = trades.iter().collect();
    assert_eq!(trades.len(), unique.len(), "{trades:?}");
    assert_eq!(trades.len(), 3, "{trades:?}");
    assert!(spot.duplicates >= 1, "{spot:?}");

    // Every book uncrossed after every message; the expected books exist.
    let mut books: BTreeMap<(u8, u32), BookReplay> = BTreeMap::new();
    for r in &records {
        let hd = r.header();
        if hd.rtype != RecordType::BookDelta as u8 {
            continue;
        }
        let book = books.entry((hd.venue, hd.instrument_id)).or_default();
        book.apply_record(r).unwrap();
        if hd.flags.contains(Flags::LAST) {
            assert!(!book.book().is_crossed(), "{hd:?}");
        }
    }
    let id = |venue, raw| {
        registry
            .by_raw(venue, raw)
            .unwrap_or_else(|| panic!("{raw}"))
            .id
    };
    let eth = &books[&(Venue::Htx as u8, id(Venue::Htx, "ethusdt"))];
    assert_eq!(eth.book().best_bid().unwrap().price.to_string(), "3001");
    let btc = &books[&(Venue::Htx as u8, id(Venue::Htx, "btcusdt"))];
    assert_eq!(btc.book().best_bid().unwrap().price.to_string(), "9137.35");
    assert_eq!(btc.book().bid_len(), 5);
    let perp = &books[&(Venue::HtxUsdm as u8, id(Venue::HtxUsdm, "BTC-USDT"))];
    assert_eq!(perp.book().bid_len(), 4);
    let inverse = &books[&(Venue::HtxCoinm as u8, id(Venue::HtxCoinm, "BTC-USD"))];
    assert_eq!(
        inverse.book().best_bid().unwrap().price.to_string(),
        "38870"
    );
    // Contract sizes reached the registry.
    let spec = &registry.by_raw(Venue::HtxUsdm, "BTC-USDT").unwrap().spec;
    assert_eq!(spec.contract.as_ref().unwrap().value.to_string(), "0.001");
    assert_eq!(spec.normalized_symbol(), "BTC-USDT-PERP");
    let inverse_spec = &registry.by_raw(Venue::HtxCoinm, "BTC-USD").unwrap().spec;
    assert_eq!(inverse_spec.normalized_symbol(), "BTC-USD-PERP");
    assert_eq!(
        inverse_spec.contract.as_ref().unwrap().value.to_string(),
        "100"
    );
}

/// The simulator's `kline` frames (its encoder) through the engine: a candle
/// becomes a VENUE_BAR bar when the next one starts; spot notional is the quote
/// `vol`, USDT-M its `trade_turnover`, coin-M the contracts times the contract's
/// 100 USD from the registry (its turnover is in coin).
#[test]
fn simulator_klines_become_venue_bars_with_their_notional() {
    use tickd_bus::decimal::Notional;
    use tickd_bus::record::BarMsg;
    use tickd_bus::Price;
    use tickd_normalizer::htx::encode::{encode_kline, Candle};

    let (ws, lin, inv) = (
        "wss://api.huobi.pro/ws",
        "wss://api.hbdm.com/linear-swap-ws",
        "wss://api.hbdm.com/swap-ws",
    );
    let n = |t: &str| Notional::parse_str(t).unwrap();
    let p = |t: &str| t.parse::<Price>().unwrap();
    let candle = |start_s: u64, vol: &str, amount: &str, turnover: Option<&str>| Candle {
        start_s,
        open: p("60000"),
        high: p("60010.5"),
        low: p("59990"),
        close: p("60005"),
        amount: n(amount),
        vol: n(vol),
        turnover: turnover.map(n),
        count: 4,
    };
    let mut c = Capture(Vec::new());
    c.rest(
        "htx",
        "https://api.huobi.pro/v1/common/symbols",
        SPOT_SYMBOLS,
    );
    c.rest(
        "htx-usdm",
        "https://api.hbdm.com/linear-swap-api/v1/swap_contract_info?business_type=all",
        USDM_CONTRACTS,
    );
    c.rest(
        "htx-coinm",
        "https://api.hbdm.com/swap-api/v1/swap_contract_info",
        COINM_CONTRACTS,
    );
    for (venue, conn, url, symbol, spot, turnover) in [
        ("htx", 1, ws, "btcusdt", true, None),
        ("htx-usdm", 2, lin, "BTC-USDT", false, Some("150.0126")),
        ("htx-coinm", 3, inv, "BTC-USD", false, None),
    ] {
        c.connect(venue, conn, url);
        let topic = format!("market.{symbol}.kline.1min");
        for (start, vol) in [
            (1_790_000_040, "1.5"),
            (1_790_000_040, "2.5"),
            (1_790_000_100, "1"),
        ] {
            let mut text = Vec::new();
            let k = candle(start, vol, "0.0025", turnover);
            encode_kline(&mut text, &topic, spot, &k, start * 1000);
            c.ws(venue, conn, url, std::str::from_utf8(&text).unwrap());
        }
    }
    let mut replayer = Replayer::new(InstrumentRegistry::new());
    let mut bars: Vec<(u8, BarMsg)> = Vec::new();
    for line in &c.0 {
        replayer.push(line, &mut |r| {
            if let Some(bar) = r.get::<BarMsg>() {
                bars.push((bar.hd.venue, *bar));
            }
        });
    }
    let (_registry, stats) = replayer.finish();
    for (name, s) in &stats.venues {
        assert_eq!(s.decode_errors, 0, "{name}: {s:?}");
    }
    assert_eq!(bars.len(), 3, "one closed candle a venue: {bars:?}");
    for (venue, bar) in &bars {
        assert!(bar.hd.flags.contains(Flags::VENUE_BAR));
        assert_eq!(bar.hd.ts_event, 1_790_000_100 * 1_000_000_000, "its close");
        assert_eq!((bar.interval_s, bar.trade_count), (60, 4));
        assert_eq!(bar.open.to_string(), "60000");
        assert_eq!(bar.high.to_string(), "60010.5");
        let expect = match *venue {
            v if v == Venue::Htx as u8 => ("0.0025", "2.5"),
            v if v == Venue::HtxUsdm as u8 => ("2.5", "150.0126"),
            _ => ("2.5", "250"),
        };
        assert_eq!(
            (bar.volume.to_string(), bar.notional().to_string()),
            (expect.0.to_string(), expect.1.to_string()),
            "venue {venue}"
        );
    }
}
