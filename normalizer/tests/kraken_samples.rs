//! Every Kraken sample besides the books (`testdata/exchanges/samples/kraken/`)
//! decodes to the records or replies written out below; numbers are read from
//! their token text (values `f64` cannot hold come out digit for digit); hostile
//! frames are typed errors. Books are in `kraken_books.rs`.

mod kraken_common;

use kraken_common::*;
use tickd_bus::record::{BarMsg, BboMsg, Side, StatusKind, StatusMsg, StatusReason, TradeMsg};
use tickd_bus::{Flags, Price, Size};
use tickd_normalizer::engine::{ControlReply, Frame, FrameDecoder, VenueEvent};
use tickd_normalizer::error::DecodeError;
use tickd_normalizer::kraken::KrakenDecoder;

fn decode(
    decoder: &mut KrakenDecoder,
    line: &str,
) -> (Result<String, DecodeError>, Vec<tickd_bus::RecordBuf>) {
    let mut sink = Vec::new();
    let event = decoder
        .decode(Frame::Text(line.as_bytes()), 7, &mut sink)
        .map(|e| format!("{e:?}"));
    (event, sink)
}

#[test]
fn trades_with_ids_and_taker_side() {
    let lines = sample("trades.jsonl");
    let mut d = decoder();
    let (event, records) = decode(&mut d, &lines[0]);
    assert_eq!(event.unwrap(), "Records(2)");
    let trades: Vec<&TradeMsg> = records.iter().map(|r| r.get().unwrap()).collect();
    assert_eq!(trades[0].hd.instrument_id, MATIC);
    assert_eq!(trades[0].price, p("0.5147"));
    assert_eq!(trades[0].size, q("6423.46326"));
    assert_eq!(trades[0].trade_id, 4665846);
    assert_eq!(trades[0].side, Side::Buy as u8);
    assert_eq!(trades[0].hd.ts_event, 1_695_628_116_925_533_000);
    assert_eq!(trades[0].hd.ts_recv, 7);
    assert_eq!(trades[1].size, q("1136.19677815"));
    assert_eq!(trades[1].trade_id, 4665847);
}

#[test]
fn ticker_is_a_best_bid_and_offer() {
    let lines = sample("ticker.jsonl");
    let mut d = decoder();
    let (event, records) = decode(&mut d, &lines[0]);
    assert_eq!(event.unwrap(), "Records(1)");
    let bbo: &BboMsg = records[0].get().unwrap();
    assert_eq!(bbo.hd.instrument_id, ALGO);
    assert_eq!(
        (bbo.bid_price, bbo.bid_size, bbo.ask_price, bbo.ask_size),
        (p("0.10025"), q("740.0"), p("0.10036"), q("1361.44813783"))
    );
    assert_eq!(bbo.hd.ts_event, 1_695_632_671_742_648_000);
}

#[test]
fn control_replies_heartbeat_and_status() {
    let lines = sample("control.jsonl");
    let mut d = decoder();
    let events: Vec<String> = lines
        .iter()
        .map(|l| format!("{:?}", decode(&mut d, l).0))
        .collect();
    // Client requests (subscribe/unsubscribe with params, ping) are not server frames.
    assert!(events[0].contains("MissingField"), "{}", events[0]);
    assert_eq!(
        events[1],
        format!(
            "{:?}",
            Ok::<_, DecodeError>(format!(
                "{:?}",
                VenueEvent::Reply(ControlReply::Ack { id: None })
            ))
        )
    );
    assert!(events[2].contains("MissingField"), "{}", events[2]);
    assert!(events[3].contains("UnknownEvent"));
    assert_eq!(
        events[4],
        format!("{:?}", Ok::<_, DecodeError>("Pong".to_string()))
    );
    assert_eq!(
        events[5],
        format!("{:?}", Ok::<_, DecodeError>("Heartbeat".to_string()))
    );
    // The ack's depth is the depth ALGO/USD's book keeps.
    assert_eq!(d.depth(ALGO), 10);
    let status = r#"{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":1,"system":"maintenance","version":"2.0.0"}]}"#;
    let (event, records) = decode(&mut d, status);
    assert_eq!(event.unwrap(), "Records(1)");
    let s: &StatusMsg = records[0].get().unwrap();
    assert_eq!(s.kind(), Some(StatusKind::VenueStatus));
    assert_eq!(s.reason, StatusReason::VenueMaintenance as u16);
    assert_eq!((s.hd.instrument_id, s.hd.ts_recv), (0, 7));
    assert_eq!(d.system(), Some("maintenance"));
    let refused = r#"{"error":"Currency pair not supported","method":"subscribe","req_id":9,"success":false,"symbol":"XYZ/USD","time_in":"2023-10-06T17:35:55.219022Z","time_out":"2023-10-06T17:35:55.219067Z"}"#;
    assert_eq!(
        decode(&mut d, refused).0.unwrap(),
        format!(
            "{:?}",
            VenueEvent::Reply(ControlReply::Rejected {
                id: Some(9),
                code: 0,
                msg: "subscribe XYZ/USD: Currency pair not supported".into()
            })
        )
    );
}

/// Numbers are read from their token text: values `f64` cannot represent come
/// out digit for digit (through `f64` they would round).
#[test]
fn numbers_f64_cannot_hold_are_exact() {
    let price = "98765432109.876543210987654321";
    let qty = "12345678901234.567890123456";
    assert_ne!(format!("{}", price.parse::<f64>().unwrap()), price);
    let book = format!(
        r#"{{"channel":"book","type":"snapshot","data":[{{"symbol":"BTC/USD","bids":[{{"price":{price},"qty":{qty}}}],"asks":[{{"price":0.100000000000000000000001,"qty":1e-18}}],"checksum":1}}]}}"#
    );
    let mut d = decoder();
    let mut sink = Vec::new();
    let Ok(VenueEvent::Book(ev)) = d.decode(Frame::Text(book.as_bytes()), 0, &mut sink) else {
        panic!()
    };
    assert_eq!(ev.bids[0].price.to_string(), price);
    assert_eq!(ev.bids[0].size.to_string(), qty);
    assert_eq!(ev.asks[0].price.to_string(), "0.100000000000000000000001");
    assert_eq!(ev.asks[0].size, Size::from_raw(1));
    let trade = format!(
        r#"{{"channel":"trade","type":"update","data":[{{"symbol":"BTC/USD","side":"sell","price":{price},"qty":{qty},"ord_type":"market","trade_id":1,"timestamp":"2023-09-25T07:48:36.925533Z"}}]}}"#
    );
    let (_, records) = decode(&mut d, &trade);
    let t: &TradeMsg = records[0].get().unwrap();
    assert_eq!(
        (t.price.to_string(), t.size.to_string()),
        (price.to_string(), qty.to_string())
    );
    assert_eq!(t.side, Side::Sell as u8);
}

#[test]
fn ohlc_becomes_a_venue_bar_when_the_next_candle_begins() {
    let candle = |begin: &str, close: &str| {
        format!(
            r#"{{"channel":"ohlc","type":"update","data":[{{"symbol":"BTC/USD","open":29430.2,"high":29440.0,"low":29420.1,"close":{close},"trades":12,"volume":1.5,"vwap":29431.0,"interval_begin":"{begin}","interval":5,"timestamp":"2023-10-04T16:28:45.000000Z"}}]}}"#
        )
    };
    let mut d = decoder();
    assert_eq!(
        decode(&mut d, &candle("2023-10-04T16:25:00.000000000Z", "29435.5"))
            .0
            .unwrap(),
        "Records(0)"
    );
    assert_eq!(
        decode(&mut d, &candle("2023-10-04T16:25:00.000000000Z", "29436.5"))
            .0
            .unwrap(),
        "Records(0)"
    );
    let (event, records) = decode(&mut d, &candle("2023-10-04T16:30:00.000000000Z", "1"));
    assert_eq!(event.unwrap(), "Records(1)");
    let bar: &BarMsg = records[0].get().unwrap();
    assert!(bar.hd.flags.contains(Flags::VENUE_BAR));
    assert_eq!(bar.hd.ts_event, 1_696_436_700_000_000_000);
    assert_eq!((bar.interval_s, bar.trade_count), (300, 12));
    assert_eq!(
        (bar.open, bar.close, bar.volume),
        (p("29430.2"), p("29436.5"), q("1.5"))
    );
    assert_eq!(bar.vwap(), Some(p("29431")));
}

#[test]
fn unknown_symbols_are_reported_not_decoded() {
    let mut d = decoder();
    let line = sample("book.jsonl")[0].replace("BTC/USD", "ETH/USD");
    assert_eq!(decode(&mut d, &line).0.unwrap(), "UnknownSymbol");
    let line = sample("trades.jsonl")[0].replace("MATIC/USD", "ETH/USD");
    assert_eq!(decode(&mut d, &line).0.unwrap(), "UnknownSymbol");
}

#[test]
fn hostile_frames_are_typed_errors() {
    let book = |body: &str| format!(r#"{{"channel":"book","type":"update","data":[{body}]}}"#);
    let ok_level = r#"{"price":1.5,"qty":2}"#;
    type Case = (String, fn(&DecodeError) -> bool);
    let cases: Vec<Case> = vec![
        (book(r#"{"symbol":"BTC/USD","bids":[{"price":"1.5","qty":2}],"asks":[],"checksum":1}"#), |e| matches!(e, DecodeError::OutOfRange { field: "bids" })),
        (book(&format!(r#"{{"symbol":"BTC/USD","bids":[{ok_level}],"asks":[]}}"#)), |e| matches!(e, DecodeError::MissingField { field: "checksum" })),
        (book(&format!(r#"{{"symbol":"BTC/USD","bids":[{ok_level}],"asks":[],"checksum":4294967296}}"#)), |e| matches!(e, DecodeError::OutOfRange { field: "checksum" })),
        (book(r#"{"symbol":"BTC/USD","bids":[{"price":1e400,"qty":1}],"asks":[],"checksum":1}"#), |e| matches!(e, DecodeError::BadDecimal { .. })),
        (book(r#"{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1,"timestamp":"yesterday"}"#), |e| matches!(e, DecodeError::OutOfRange { field: "timestamp" })),
        (book(r#"{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1},{"symbol":"BTC/USD"}"#), |e| matches!(e, DecodeError::OutOfRange { field: "data" })),
        (r#"{"channel":"book","type":"delta","data":[]}"#.into(), |e| matches!(e, DecodeError::UnknownEvent { .. })),
        (r#"{"channel":"bogus","data":[]}"#.into(), |e| matches!(e, DecodeError::UnknownEvent { .. })),
        (r#"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"up","price":1,"qty":1,"trade_id":1}]}"#.into(), |e| matches!(e, DecodeError::OutOfRange { field: "side" })),
        (r#"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":1,"qty":1,"trade_id":-1}]}"#.into(), |e| matches!(e, DecodeError::MalformedJson { .. })),
        (r#"{"channel":"ohlc","type":"update","data":[{"symbol":"BTC/USD","open":1,"high":1,"low":1,"close":1,"volume":1,"vwap":1,"interval_begin":"2023-10-04T16:25:00Z","interval":7}]}"#.into(), |e| matches!(e, DecodeError::OutOfRange { field: "interval" })),
        (r#"{"channel":"status","type":"update","data":[{"system":"on fire"}]}"#.into(), |e| matches!(e, DecodeError::OutOfRange { field: "system" })),
        (r#"{"method":"subscribe","result":{"channel":"book"}}"#.into(), |e| matches!(e, DecodeError::MissingField { field: "success" })),
        (r#"{"hello":1}"#.into(), |e| matches!(e, DecodeError::UnknownMessage)),
        ("[".repeat(100), |e| matches!(e, DecodeError::NestingTooDeep { .. } | DecodeError::MalformedJson { .. })),
        ("x".repeat(2 << 20), |e| matches!(e, DecodeError::FrameTooLarge { .. })),
    ];
    let mut d = decoder();
    for (frame, expected) in cases {
        let mut sink = Vec::new();
        let err = d
            .decode(Frame::Text(frame.as_bytes()), 0, &mut sink)
            .unwrap_err();
        assert!(
            expected(&err),
            "{err:?} for {}",
            &frame[..frame.len().min(200)]
        );
        assert!(sink.is_empty());
    }
    let mut sink = Vec::new();
    assert!(matches!(
        d.decode(Frame::Binary(b"\x1f\x8b"), 0, &mut sink),
        Err(DecodeError::UnexpectedBinary { len: 2 })
    ));
    assert!(matches!(
        d.decode(Frame::Text(b"{\"channel\":\"\xff\"}"), 0, &mut sink),
        Err(DecodeError::MalformedJson { .. })
    ));
    let _ = Price::ZERO;
}
