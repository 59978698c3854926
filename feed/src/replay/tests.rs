use tickd_bus::record::{BookAction, BookDeltaMsg, BookSide};
use tickd_bus::{Price, Size};

use super::*;

const SAMPLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/exchanges/samples/binance_spot/book_sync_sequence.jsonl"
));

const EXCHANGE_INFO: &str = r#"{"timezone":"UTC","symbols":[
  {"symbol":"GNTBTC","status":"TRADING","baseAsset":"GNT","quoteAsset":"BTC",
   "filters":[{"filterType":"PRICE_FILTER","tickSize":"0.00000001"},{"filterType":"LOT_SIZE","stepSize":"1.00000000"}]}]}"#;

fn line(ts_recv: u64, kind: CaptureKind, url: &str, data: &str) -> CaptureLine {
    CaptureLine {
        ts_recv,
        venue: "binance".into(),
        conn: u64::from(kind == CaptureKind::Ws),
        kind,
        url: url.into(),
        data: data.into(),
        data_b64: None,
    }
}

/// exchangeInfo, then the sample in arrival order (diff, diff, REST snapshot, diff).
fn sample_capture() -> Vec<CaptureLine> {
    let mut lines = vec![line(
        1_000,
        CaptureKind::Rest,
        "http://127.0.0.1:9/api/v3/exchangeInfo",
        EXCHANGE_INFO,
    )];
    for (i, text) in SAMPLE.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let ts = 2_000 + i as u64;
        lines.push(if text.contains("lastUpdateId") {
            line(
                ts,
                CaptureKind::Rest,
                "http://127.0.0.1:9/api/v3/depth?symbol=GNTBTC&limit=1000",
                text,
            )
        } else {
            line(ts, CaptureKind::Ws, "ws://127.0.0.1:9/stream", text)
        });
    }
    lines
}

fn replay(lines: &[CaptureLine]) -> (Vec<RecordBuf>, InstrumentRegistry, ReplayStats) {
    let mut replayer = Replayer::new(InstrumentRegistry::new());
    let mut out = Vec::new();
    for l in lines {
        replayer.push(l, &mut |r| out.push(*r));
    }
    let (registry, stats) = replayer.finish();
    (out, registry, stats)
}

#[test]
fn sample_book_sync_gives_the_expected_book_records() {
    let (records, registry, stats) = replay(&sample_capture());
    let id = registry
        .by_raw(Venue::Binance, "GNTBTC")
        .expect("registered from the captured exchangeInfo")
        .id;
    let v = &stats.venues["binance"];
    assert_eq!((v.ws_frames, v.rest_bodies), (3, 2));
    assert_eq!(v.snapshots_applied, 1);
    assert_eq!(v.records.get("book"), Some(&11), "{v:?}");
    assert_eq!(v.records.get("bbo"), Some(&1), "{v:?}");
    assert_eq!(
        (v.decode_errors, v.unknown_symbols, v.gaps, v.resyncs),
        (0, 0, 0, 0)
    );
    let book: Vec<&BookDeltaMsg> = records
        .iter()
        .filter_map(|r| r.get::<BookDeltaMsg>())
        .collect();
    // The image: Clear + 5 bids + 3 asks at lastUpdateId, stamped with the snapshot's ts_recv.
    assert_eq!(book[0].action(), Some(BookAction::Clear));
    assert!(book[..9].iter().all(|d| d.update_id == 41_603_417
        && d.hd.flags.is_snapshot()
        && d.hd.ts_recv == 2_002
        && d.hd.instrument_id == id));
    assert!(book[8].hd.flags.is_last());
    // Then the changed levels: bid 2246 → 375 (event ..418), new ask 2262 (event ..419).
    let tail: Vec<(Option<BookSide>, Price, Size, u64)> = book[9..]
        .iter()
        .map(|d| (d.side(), d.price, d.size, d.update_id))
        .collect();
    assert_eq!(
        tail,
        vec![
            (
                Some(BookSide::Bid),
                Price::parse_str("0.00002246").unwrap(),
                Size::parse_str("375").unwrap(),
                41_603_418
            ),
            (
                Some(BookSide::Ask),
                Price::parse_str("0.00002262").unwrap(),
                Size::parse_str("6080").unwrap(),
                41_603_419
            ),
        ]
    );
    // Per-stream sequence numbers from the feed's sequencer: 1..=11 on the book stream.
    let seqs: Vec<u64> = book.iter().map(|d| d.hd.sequence).collect();
    assert_eq!(seqs, (1..=11).collect::<Vec<_>>());
}

#[test]
fn the_same_capture_gives_the_same_bytes() {
    let lines = sample_capture();
    let bytes = |records: Vec<RecordBuf>| -> Vec<u8> {
        records.iter().flat_map(|r| r.as_bytes().to_vec()).collect()
    };
    let (a, _, sa) = replay(&lines);
    let (b, _, sb) = replay(&lines);
    assert!(!a.is_empty());
    assert_eq!(bytes(a), bytes(b));
    assert_eq!(sa, sb);
}

#[test]
fn damage_is_counted_not_fatal() {
    let mut lines = sample_capture();
    lines.push(line(9_000, CaptureKind::Ws, "", "not json at all"));
    lines.push(line(
        9_001,
        CaptureKind::Ws,
        "",
        r#"{"stream":"xyzbtc@trade","data":{"e":"trade","E":1,"s":"XYZBTC","t":1,"p":"1","q":"1","T":1,"m":true}}"#,
    ));
    lines.push(line(
        9_002,
        CaptureKind::Rest,
        "http://h/api/v3/depth?symbol=GNTBTC&limit=5",
        r#"{"lastUpdateId":1,"bids":[],"asks":[]}"#,
    ));
    lines.push(line(9_003, CaptureKind::Rest, "http://h/api/v3/ping", "{}"));
    lines.push(line(9_004, CaptureKind::Loss, "", "17"));
    let mut odd = line(9_005, CaptureKind::Ws, "", "{}");
    odd.venue = "nasdaq".into(); // a venue tickd does not know
    lines.push(odd);
    let (_, _, stats) = replay(&lines);
    let v = &stats.venues["binance"];
    assert_eq!(v.decode_errors, 1);
    assert_eq!(v.unknown_symbols, 1);
    assert_eq!(v.snapshots_unrequested, 1);
    assert_eq!(v.rest_ignored, 1);
    assert_eq!(v.capture_dropped, 17);
    assert_eq!(stats.unsupported_lines, 1);
    assert_eq!(v.records.get("book"), Some(&11));
}

#[test]
fn a_recorded_disconnect_resyncs_the_books_that_connection_carried() {
    let mut lines = sample_capture();
    let mut disconnect = line(
        9_000,
        CaptureKind::Disconnect,
        "ws://127.0.0.1:9/stream",
        "closed",
    );
    disconnect.conn = 1;
    lines.push(disconnect);
    let (records, _, stats) = replay(&lines);
    let statuses: Vec<(StatusKind, StatusReason)> = records
        .iter()
        .filter_map(|r| r.get::<StatusMsg>())
        .map(|s| (s.kind().unwrap(), s.reason().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            (StatusKind::Disconnected, StatusReason::ConnectionLost),
            (StatusKind::BookResync, StatusReason::ConnectionLost)
        ]
    );
    assert_eq!(stats.venues["binance"].resyncs, 1);
}
