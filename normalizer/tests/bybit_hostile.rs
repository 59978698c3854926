//! Broken and hostile Bybit frames give typed errors, never a panic; the ticker
//! merge equals a plain map merge for any interleaving of snapshots and deltas; and
//! every 128-bit trade id survives the trip through its UUID text.

mod bybit_common;

use std::collections::HashMap;

use bybit_common::*;
use proptest::prelude::*;
use tickd_bus::record::TradeMsg;
use tickd_bus::{Price, Rate, RecordBuf, Size};
use tickd_normalizer::bybit::ticker::TickerState;
use tickd_normalizer::bybit::{decode_instruments, decode_rest_book, MAX_FRAME_BYTES};
use tickd_normalizer::engine::{Frame, FrameDecoder, VenueEvent};
use tickd_normalizer::error::{DecodeError, DecodeErrorKind};

fn error_of(frame: &[u8]) -> DecodeError {
    let mut sink: Vec<RecordBuf> = Vec::new();
    let result = decoder()
        .decode(Frame::Text(frame), TS_RECV, &mut sink)
        .map(|f| format!("{f:?}"));
    assert!(sink.is_empty(), "records pushed for a rejected frame");
    result.expect_err(&String::from_utf8_lossy(frame))
}

const BOOK: &str = r#"{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["1","2"]],"a":[],"u":5,"seq":9}}"#;
const TRADE: &str = r#"{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]}"#;
const TICKER: &str = r#"{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"data":{"symbol":"BTCUSDT","markPrice":"1","nextFundingTime":"1"}}"#;

#[test]
fn typed_errors() {
    use DecodeErrorKind::*;
    let cases: Vec<(Vec<u8>, DecodeErrorKind)> = vec![
        (vec![b' '; MAX_FRAME_BYTES + 1], FrameTooLarge),
        (b"".to_vec(), MalformedJson),
        (b"pong".to_vec(), MalformedJson),
        (b"{\"topic\":\xff}".to_vec(), MalformedJson),
        ("[".repeat(100).into_bytes(), NestingTooDeep),
        (b"{}".to_vec(), UnknownMessage),
        (br#"{"op":"subscribe"}"#.to_vec(), UnknownMessage),
        (br#"{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1}"#.to_vec(), MissingField),
        (BOOK.replace(r#""type":"delta","#, "").into_bytes(), MissingField),
        (BOOK.replace("delta", "partial").into_bytes(), UnknownEvent),
        (BOOK.replace("orderbook.50.", "orderbook.deep.").into_bytes(), UnknownEvent),
        (BOOK.replace("orderbook.50.", "orderbook.").into_bytes(), UnknownEvent),
        (BOOK.replace("orderbook", "spread").into_bytes(), UnknownEvent),
        (BOOK.replace(r#""u":5,"#, "").into_bytes(), MissingField),
        (BOOK.replace(r#""u":5"#, r#""u":-5"#).into_bytes(), MalformedJson),
        (BOOK.replace(r#"["1","2"]"#, r#"["1","2e"]"#).into_bytes(), BadDecimal),
        (BOOK.replace(r#"["1","2"]"#, r#"["1"]"#).into_bytes(), MalformedJson),
        (BOOK.replace(r#""ts":1"#, r#""ts":18446744073709551615"#).into_bytes(), OutOfRange),
        (TRADE.replace(r#""i":"20f43950-d8dd-5b31-9112-a178eb6023af""#, r#""i":"20f43950_d8dd-5b31-9112-a178eb6023af""#).into_bytes(), OutOfRange),
        (TRADE.replace(r#""i":"20f43950-d8dd-5b31-9112-a178eb6023af""#, r#""i":"184467440737095516160""#).into_bytes(), OutOfRange),
        (TRADE.replace(r#""i":"20f43950-d8dd-5b31-9112-a178eb6023af""#, r#""i":"99999999999999999999""#).into_bytes(), OutOfRange),
        (TRADE.replace(r#""S":"Buy""#, r#""S":"buy""#).into_bytes(), OutOfRange),
        (TRADE.replace(r#""p":"1""#, r#""p":"1x""#).into_bytes(), BadDecimal),
        (TRADE.replace(r#""v":"1","#, "").into_bytes(), MissingField),
        (TRADE.replace(r#""data":["#, r#""data":{"x":["#).replace("}]}", "}]}}").into_bytes(), MalformedJson),
        (TICKER.replace(r#""nextFundingTime":"1""#, r#""nextFundingTime":"soon""#).into_bytes(), OutOfRange),
        (TICKER.replace(r#""markPrice":"1""#, r#""markPrice":"NaN""#).into_bytes(), BadDecimal),
        (br#"{"topic":"kline.7.BTCUSDT","type":"snapshot","ts":1,"data":[]}"#.to_vec(), UnknownEvent),
        (br#"{"topic":"kline.5.BTCUSDT","type":"snapshot","ts":1,"data":[{"start":1,"confirm":true}]}"#.to_vec(), MissingField),
        (br#"{"topic":"allLiquidation.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"S":"Long","v":"1","p":"1"}]}"#.to_vec(), OutOfRange),
        (br#"{"success":true,"type":"COMMAND_RESP","data":{"failTopics":"x"}}"#.to_vec(), MalformedJson),
    ];
    for (frame, kind) in cases {
        let err = error_of(&frame);
        assert_eq!(
            err.kind(),
            kind,
            "{}: {err}",
            String::from_utf8_lossy(&frame)
        );
    }
    let mut sink: Vec<RecordBuf> = Vec::new();
    assert_eq!(
        decoder()
            .decode(Frame::Binary(b"\x1f\x8b"), TS_RECV, &mut sink)
            .map(|_| ()),
        Err(DecodeError::UnexpectedBinary { len: 2 })
    );
}

#[test]
fn unknown_instruments_are_dropped_not_errors() {
    let mut d = decoder();
    for frame in [BOOK, TRADE, TICKER] {
        let frame = frame.replace("BTCUSDT", "DOGEUSDT");
        assert_eq!(
            decode_line(&mut d, &frame),
            Out::Other("UnknownSymbol".into())
        );
    }
}

#[test]
fn hostile_rest_bodies() {
    for body in [
        &b""[..],
        b"{}",
        br#"{"retCode":0,"result":{"list":[]}}"#,
        b"[1,2",
        br#"{"retCode":0,"result":{"category":"option","list":[]}}"#,
    ] {
        assert!(
            decode_instruments(body).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert!(
        decode_rest_book(br#"{"retCode":0,"result":{"b":[],"a":[]}}"#).is_err(),
        "no u"
    );
}

/// The six ticker fields tickd reads, and a value for one: a decimal or `""`.
const FIELDS: [&str; 6] = [
    "markPrice",
    "indexPrice",
    "fundingRate",
    "nextFundingTime",
    "openInterest",
    "openInterestValue",
];

fn field_values() -> impl Strategy<Value = Vec<(usize, String)>> {
    prop::collection::vec(
        (
            0..FIELDS.len(),
            prop_oneof![
                Just(String::new()),
                (1u64..10_000_000).prop_map(|v| v.to_string())
            ],
        ),
        0..6,
    )
}

/// The state a plain map of the last text of each field gives.
fn state_of(map: &HashMap<&str, String>) -> TickerState {
    let get = |f: &str| map.get(f).map(String::as_str).filter(|t| !t.is_empty());
    TickerState {
        mark_price: get("markPrice").map_or(Price::UNDEF, p),
        index_price: get("indexPrice").map_or(Price::UNDEF, p),
        funding_rate: get("fundingRate").map_or(Rate::UNDEF, |t| Rate::parse_str(t).unwrap()),
        next_funding_time: get("nextFundingTime")
            .map_or(0, |t| t.parse::<u64>().unwrap() * 1_000_000),
        open_interest: get("openInterest").map_or(Size::UNDEF, q),
        open_interest_value: get("openInterestValue").map_or(Size::UNDEF, q),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any interleaving of snapshots and deltas: the decoder's merged state is the
    /// map a snapshot replaces and a delta extends (deltas before the first snapshot
    /// have nothing to extend and are dropped).
    #[test]
    fn ticker_merge_is_a_map_merge(
        messages in prop::collection::vec((any::<bool>(), field_values()), 1..24)
    ) {
        let mut d = decoder();
        let id = id("BTCUSD");
        let mut model: Option<HashMap<&str, String>> = None;
        for (i, (snapshot, fields)) in messages.iter().enumerate() {
            let mut data = serde_json::Map::new();
            data.insert("symbol".into(), "BTCUSD".into());
            data.insert("bid1Price".into(), "1".into());
            for (f, v) in fields {
                data.insert(FIELDS[*f].into(), v.clone().into());
            }
            let kind = if *snapshot { "snapshot" } else { "delta" };
            let line = serde_json::json!({"topic":"tickers.BTCUSD","type":kind,"data":data,"cs":i,"ts":1}).to_string();
            let out = decode_line(&mut d, &line);
            let Out::Records(records) = out else { panic!("{line}") };
            match (snapshot, &mut model) {
                (true, m) => *m = Some(fields.iter().map(|(f, v)| (FIELDS[*f], v.clone())).collect()),
                (false, Some(m)) => m.extend(fields.iter().map(|(f, v)| (FIELDS[*f], v.clone()))),
                (false, None) => prop_assert!(records.is_empty()),
            }
            prop_assert_eq!(d.ticker(id).copied(), model.as_ref().map(state_of));
        }
    }

    /// Whatever 128 bits a UUID holds, the record keeps them and reads back the text.
    #[test]
    fn uuid_trade_ids_round_trip(id in any::<u128>().prop_filter("a UUID's high word", |v| (v >> 64) != 0)) {
        let h = format!("{id:032x}");
        let uuid = format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]);
        let line = TRADE.replace("20f43950-d8dd-5b31-9112-a178eb6023af", &uuid);
        let out = decode_line(&mut decoder(), &line);
        let trade = records(&out)[0].get::<TradeMsg>().unwrap();
        prop_assert_eq!((trade.trade_id, trade.trade_id_hi), (id as u64, (id >> 64) as u64));
        prop_assert_eq!(trade.trade_id_string(), uuid);
    }

    /// Arbitrary bytes, and arbitrary tails on real frames: never a panic, and
    /// `Records(n)` is what reached the sink.
    #[test]
    fn arbitrary_input_is_an_error_or_consistent(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        cut in 0usize..200,
    ) {
        let mut d = decoder();
        for frame in [bytes.clone(), TRADE.as_bytes()[..cut.min(TRADE.len())].to_vec(), BOOK.as_bytes()[..cut.min(BOOK.len())].to_vec()] {
            let mut sink: Vec<RecordBuf> = Vec::new();
            match d.decode(Frame::Text(&frame), TS_RECV, &mut sink) {
                Ok(VenueEvent::Records(n)) => prop_assert_eq!(n, sink.len()),
                Ok(_) | Err(_) => prop_assert!(sink.is_empty()),
            }
        }
    }
}
