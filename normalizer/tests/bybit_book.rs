//! `samples/bybit/book.jsonl` (a real `orderbook.500.XRPUSDT` session: 1 snapshot
//! and 49 deltas, `u` contiguous) through the decoder and the generic book sync with
//! Bybit's rule rebuilds, after every event, the same book as an independent
//! reference (serde_json and integer maps, no tickd code), never crossed, 500 a
//! side. Plus the sequencing cases the rule must handle, and the REST bodies.

mod bybit_common;

use bybit_common::reference::Reference;
use bybit_common::*;
use tickd_bus::instrument::{ContractType, Date, InstrumentKind};
use tickd_bus::record::BookDeltaMsg;
use tickd_bus::{RecordBuf, Venue};
use tickd_normalizer::bybit::{decode_instruments, decode_rest_book, next_page_cursor, BybitRule};
use tickd_normalizer::engine::{BookSync, Frame, FrameDecoder, SyncAction, SyncState, VenueEvent};

#[test]
fn the_real_session_rebuilds_the_reference_book_after_every_event() {
    let lines = sample("book.jsonl");
    assert_eq!(lines.len(), 50);
    let mut decoder = decoder();
    let id = id("XRPUSDT");
    let mut sync = BookSync::new(Venue::Bybit, id, BybitRule::Pushed, 64);
    let mut reference = Reference::default();
    let mut out: Vec<RecordBuf> = Vec::new();
    let mut seq_records = 0;
    for (i, line) in lines.iter().enumerate() {
        let event = decoder
            .decode(Frame::Text(line.as_bytes()), TS_RECV, &mut out)
            .unwrap();
        let VenueEvent::Book(ev) = event else {
            panic!("line {i}: not a book event")
        };
        assert_eq!(ev.snapshot, i == 0);
        let published = out.len();
        assert_eq!(
            sync.on_event(&ev, TS_RECV, &mut out),
            SyncAction::None,
            "line {i}"
        );
        // The records carry `seq` (the cross sequence), not `u`.
        let seq: serde_json::Value = serde_json::from_str(line).unwrap();
        let seq = seq["data"]["seq"].as_u64().unwrap();
        let deltas: Vec<u64> = out[published..]
            .iter()
            .filter_map(|r| r.get::<BookDeltaMsg>())
            .map(|d| d.update_id)
            .collect();
        assert!(deltas.iter().all(|u| *u == seq), "line {i}: {deltas:?}");
        seq_records += deltas.len();
        assert_eq!(sync.state(), SyncState::Synced);
        assert_eq!(sync.last_update_id(), Some(20254869 + i as u64));
        reference.apply(line);
        let book = sync.book();
        reference.assert_equals(book, &format!("after line {i}"));
        assert_eq!((book.bid_len(), book.ask_len()), (500, 500), "line {i}");
    }
    assert_eq!(sync.stats().gaps, 0);
    assert!(seq_records > 1000, "{seq_records} book records");
}

fn frame(kind: &str, u: u64, bid: &str) -> String {
    format!(
        r#"{{"topic":"orderbook.50.XRPUSDT","type":"{kind}","ts":1,"data":{{"s":"XRPUSDT","b":[["{bid}","1"]],"a":[["9","1"]],"u":{u},"seq":{}}}}}"#,
        u * 10
    )
}

#[test]
fn a_skipped_u_resyncs_and_a_u_1_snapshot_replaces_the_book() {
    let mut decoder = decoder();
    let id = id("XRPUSDT");
    let mut sync = BookSync::new(Venue::Bybit, id, BybitRule::Pushed, 64);
    let mut out: Vec<RecordBuf> = Vec::new();
    let mut feed = |line: String, sync: &mut BookSync<BybitRule>| {
        let VenueEvent::Book(ev) = decoder
            .decode(Frame::Text(line.as_bytes()), TS_RECV, &mut out)
            .unwrap()
        else {
            panic!("not a book")
        };
        sync.on_event(&ev, TS_RECV, &mut out)
    };
    assert_eq!(
        feed(frame("snapshot", 100, "1"), &mut sync),
        SyncAction::None
    );
    assert_eq!(feed(frame("delta", 101, "2"), &mut sync), SyncAction::None);
    // 102 lost: the one instrument resubscribes.
    assert_eq!(
        feed(frame("delta", 103, "3"), &mut sync),
        SyncAction::Resubscribe
    );
    assert_eq!(sync.state(), SyncState::AwaitingSnapshot);
    assert_eq!(sync.stats().gaps, 1);
    assert_eq!(
        feed(frame("snapshot", 200, "4"), &mut sync),
        SyncAction::None
    );
    assert_eq!(sync.state(), SyncState::Synced);
    assert_eq!(feed(frame("delta", 201, "5"), &mut sync), SyncAction::None);
    // Bybit restarted: `u == 1` snapshot, then 2, 3, ...
    assert_eq!(feed(frame("snapshot", 1, "6"), &mut sync), SyncAction::None);
    assert_eq!(sync.last_update_id(), Some(1));
    assert_eq!(sync.book().bid_len(), 1, "replaced, not merged");
    assert_eq!(feed(frame("delta", 2, "7"), &mut sync), SyncAction::None);
    assert_eq!(sync.last_update_id(), Some(2));
    assert_eq!(sync.stats().gaps, 1);
}

const LINEAR_PAGE: &str = r#"{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[
 {"symbol":"BTCUSDT","contractType":"LinearPerpetual","status":"Trading","baseCoin":"BTC","quoteCoin":"USDT","launchTime":"1584230400000","deliveryTime":"0","priceScale":"2","priceFilter":{"minPrice":"0.10","maxPrice":"199999.80","tickSize":"0.10"},"lotSizeFilter":{"maxOrderQty":"100.000","minOrderQty":"0.001","qtyStep":"0.001"},"settleCoin":"USDT"},
 {"symbol":"BTCPERP","contractType":"LinearPerpetual","status":"Trading","baseCoin":"BTC","quoteCoin":"USDC","deliveryTime":"0","priceFilter":{"tickSize":"0.5"},"lotSizeFilter":{"qtyStep":"0.001"},"settleCoin":"USDC"},
 {"symbol":"BTC-25DEC26","contractType":"LinearFutures","status":"Trading","baseCoin":"BTC","quoteCoin":"USDT","deliveryTime":"1798185600000","priceFilter":{"tickSize":"0.5"},"lotSizeFilter":{"qtyStep":"0.001"},"settleCoin":"USDT"},
 {"symbol":"OLDUSDT","contractType":"LinearPerpetual","status":"Closed","baseCoin":"OLD","quoteCoin":"USDT","priceFilter":{"tickSize":"0.1"},"lotSizeFilter":{"qtyStep":"1"},"settleCoin":"USDT"},
 {"symbol":"WEIRD","contractType":"LinearOption","status":"Trading","baseCoin":"W","quoteCoin":"USDT","priceFilter":{"tickSize":"0.1"},"lotSizeFilter":{"qtyStep":"1"},"settleCoin":"USDT"}
],"nextPageCursor":"first%3D1%26last%3D5"},"retExtInfo":{},"time":1672712495660}"#;

#[test]
fn instruments_pages() {
    let specs = decode_instruments(LINEAR_PAGE.as_bytes()).unwrap();
    let names: Vec<(String, String)> = specs
        .iter()
        .map(|s| (s.raw_symbol.clone(), s.normalized_symbol()))
        .collect();
    assert_eq!(
        names,
        [
            ("linear/BTCUSDT".to_string(), "BTC-USDT-PERP".to_string()),
            ("linear/BTCPERP".into(), "BTC-USDC-PERP".into()),
            ("linear/BTC-25DEC26".into(), "BTC-USDT-20261225".into()),
        ]
    );
    assert_eq!(
        specs[2].kind,
        InstrumentKind::Future {
            expiry: Date::new(2026, 12, 25).unwrap()
        }
    );
    assert_eq!(
        (specs[0].tick_size, specs[0].step_size),
        (p("0.10"), q("0.001"))
    );
    let contract = specs[0].contract.as_ref().unwrap();
    assert_eq!(
        (
            contract.kind,
            contract.value,
            contract.settle_currency.as_str()
        ),
        (ContractType::Linear, q("1"), "USDT")
    );
    assert_eq!(
        next_page_cursor(LINEAR_PAGE.as_bytes()).unwrap().as_deref(),
        Some("first%3D1%26last%3D5")
    );

    let spot = r#"{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT","innovation":"0","status":"Trading","marginTrading":"both","lotSizeFilter":{"basePrecision":"0.000001","quotePrecision":"0.00000001","minOrderQty":"0.000048","maxOrderQty":"71.73956243","minOrderAmt":"1","maxOrderAmt":"2000000"},"priceFilter":{"tickSize":"0.01"}}],"nextPageCursor":""}}"#;
    let specs = decode_instruments(spot.as_bytes()).unwrap();
    assert_eq!(specs[0].raw_symbol, "spot/BTCUSDT");
    assert_eq!(specs[0].normalized_symbol(), "BTC-USDT");
    assert_eq!(specs[0].step_size, q("0.000001"));
    assert!(specs[0].contract.is_none());
    assert_eq!(next_page_cursor(spot.as_bytes()).unwrap(), None);

    let inverse = r#"{"retCode":0,"retMsg":"OK","result":{"category":"inverse","list":[{"symbol":"BTCUSD","contractType":"InversePerpetual","status":"Trading","baseCoin":"BTC","quoteCoin":"USD","deliveryTime":"0","priceFilter":{"tickSize":"0.5"},"lotSizeFilter":{"qtyStep":"1"},"settleCoin":"BTC"}],"nextPageCursor":""}}"#;
    let specs = decode_instruments(inverse.as_bytes()).unwrap();
    assert_eq!(specs[0].normalized_symbol(), "BTC-USD-PERP");
    let contract = specs[0].contract.as_ref().unwrap();
    assert_eq!(
        (
            contract.kind,
            contract.value_currency.as_str(),
            contract.settle_currency.as_str()
        ),
        (ContractType::Inverse, "USD", "BTC")
    );

    let refused = r#"{"retCode":10001,"retMsg":"params error","result":{}}"#;
    assert!(decode_instruments(refused.as_bytes()).is_err());
}

#[test]
fn rest_orderbook() {
    let body = r#"{"retCode":0,"retMsg":"OK","result":{"s":"BTCUSDT","a":[["65557.8","0.1"],["65557.7","16.606555"]],"b":[["65485.47","47.081829"]],"ts":1716863719031,"u":230704,"seq":1432604333,"cts":1716863718905},"retExtInfo":{},"time":1716863719382}"#;
    let snapshot = decode_rest_book(body.as_bytes()).unwrap();
    assert_eq!(snapshot.last_update_id, 230704);
    assert_eq!(snapshot.ts_event, ms(1716863719031));
    assert_eq!(
        snapshot.asks,
        [lv("65557.7", "16.606555"), lv("65557.8", "0.1")],
        "best first"
    );
    assert_eq!(snapshot.bids, [lv("65485.47", "47.081829")]);
}
