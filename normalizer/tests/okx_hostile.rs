//! Broken and hostile OKX frames give typed errors, never a panic; and whatever the
//! encoder (the simulator's side) writes, the decoder reads back exactly.

mod okx_common;

use okx_common::*;
use proptest::prelude::*;
use tickd_bus::instrument::{ContractSpec, ContractType, InstrumentKind, InstrumentSpec};
use tickd_bus::record::{BookSide, Side};
use tickd_bus::{RecordBuf, Size, Venue};
use tickd_normalizer::book::L2Book;
use tickd_normalizer::error::{DecodeError, DecodeErrorKind};
use tickd_normalizer::okx::checksum::{self, verify};
use tickd_normalizer::okx::encode::{self, Book as EncBook, Trade};
use tickd_normalizer::okx::instruments::decode_instruments;
use tickd_normalizer::okx::{decode_rest_books, BookChannel, MAX_FRAME_BYTES};

fn error_of(frame: &[u8]) -> DecodeError {
    let mut sink: Vec<RecordBuf> = Vec::new();
    let result = decoder()
        .decode(frame, TS_RECV, &mut sink)
        .map(|f| format!("{f:?}"));
    assert!(sink.is_empty(), "records pushed for a rejected frame");
    result.expect_err(&String::from_utf8_lossy(frame))
}

const BOOK: &str = r#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["1","2","0","1"]],"bids":[],"ts":"1","checksum":0,"seqId":5,"prevSeqId":4}]}"#;

#[test]
fn typed_errors() {
    use DecodeErrorKind::*;
    let trade = |fields: &str| {
        format!(r#"{{"arg":{{"channel":"trades","instId":"BTC-USDT"}},"data":[{{{fields}}}]}}"#)
    };
    let ok_trade = r#""tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1""#;
    let cases: Vec<(Vec<u8>, DecodeErrorKind)> = vec![
        (vec![b' '; MAX_FRAME_BYTES + 1], FrameTooLarge),
        (b"".to_vec(), MalformedJson),
        (b"ping".to_vec(), MalformedJson),
        (b"{\"arg\":\xff}".to_vec(), MalformedJson),
        ("[".repeat(100).into_bytes(), NestingTooDeep),
        (b"{}".to_vec(), UnknownMessage),
        (br#"{"arg":{"instId":"BTC-USDT"},"data":[]}"#.to_vec(), MissingField),
        (br#"{"arg":{"channel":"trades","instId":"BTC-USDT"}}"#.to_vec(), MissingField),
        (br#"{"arg":{"channel":"candle1M","instId":"BTC-USDT"},"data":[]}"#.to_vec(), UnknownEvent),
        (trade(&ok_trade.replace(r#""px":"1""#, r#""px":"1x""#)).into_bytes(), BadDecimal),
        (trade(&ok_trade.replace(r#""tradeId":"1""#, r#""tradeId":"abc""#)).into_bytes(), OutOfRange),
        (trade(&ok_trade.replace(r#""side":"buy""#, r#""side":"up""#)).into_bytes(), OutOfRange),
        (trade(&ok_trade.replace(r#""ts":"1""#, r#""ts":"-1""#)).into_bytes(), OutOfRange),
        (trade(&ok_trade.replace(r#""sz":"1","#, "")).into_bytes(), MissingField),
        (trade(r#""tradeId":1"#).into_bytes(), MalformedJson),
        (BOOK.replace(r#""action":"update","#, "").into_bytes(), MissingField),
        (BOOK.replace("update", "partial").into_bytes(), UnknownEvent),
        (BOOK.replace(r#"["1","2","0","1"]"#, r#"["1","2e","0","1"]"#).into_bytes(), BadDecimal),
        (BOOK.replace(r#"["1","2","0","1"]"#, r#"["1"]"#).into_bytes(), MalformedJson),
        (BOOK.replace(r#""seqId":5"#, r#""seqId":-5"#).into_bytes(), OutOfRange),
        (BOOK.replace(r#""prevSeqId":4"#, r#""prevSeqId":-1"#).into_bytes(), OutOfRange),
        (BOOK.replace(r#""checksum":0"#, r#""checksum":4294967296"#).into_bytes(), OutOfRange),
        (BOOK.replace(r#""prevSeqId":4}]"#, r#""prevSeqId":4},{}]"#).into_bytes(), OutOfRange),
        (br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":{}}"#.to_vec(), MalformedJson),
        (br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[]}"#.to_vec(), MissingField),
        (br#"{"event":"error","code":"sixty","msg":"x"}"#.to_vec(), OutOfRange),
        (br#"{"event":"error","msg":"x"}"#.to_vec(), MissingField),
        (br#"{"event":"notice","code":"99999999999"}"#.to_vec(), OutOfRange),
        (br#"{"event":"subscribe"}"#.to_vec(), MissingField),
        (br#"{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"details":[]}]}"#.to_vec(), MissingField),
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
}

#[test]
fn unknown_instruments_are_dropped_not_errors() {
    let mut d = decoder();
    let frame = BOOK.replace("BTC-USDT", "DOGE-USDT");
    assert_eq!(
        decode_line(&mut d, &frame),
        Out::Other("UnknownSymbol".into())
    );
    let frame = r#"{"arg":{"channel":"trades","instId":"DOGE-USDT"},"data":[{"tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1"}]}"#;
    assert_eq!(
        decode_line(&mut d, frame),
        Out::Other("UnknownSymbol".into())
    );
}

fn encoded(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    f(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn encoder_round_trips() {
    let mut d = decoder();
    let t = Trade {
        inst_id: "BTC-USDT-SWAP",
        trade_id: 219066264,
        price: p("43568.8"),
        size: q("7"),
        side: Side::Sell,
        ts_ms: 1646312440645,
    };
    for channel in ["trades", "trades-all"] {
        let line = encoded(|o| encode::encode_trade(o, channel, &t));
        assert_eq!(
            decode_line(&mut d, &line),
            Out::Records(vec![trade(
                "BTC-USDT-SWAP",
                1646312440645,
                "43568.8",
                "7",
                219066264,
                Side::Sell
            )])
        );
    }
    let line = encoded(|o| encode::encode_bbo(o, "BTC-USDT", Some(lv("1.5", "2")), None, 7, 9));
    assert_eq!(
        decode_line(&mut d, &line),
        Out::Records(vec![bbo("BTC-USDT", 7, Some(("1.5", "2")), None)])
    );
    let rate = tickd_bus::Rate::parse_str("0.0001534702159002").unwrap();
    let line = encoded(|o| encode::encode_funding(o, "BTC-USDT-SWAP", rate, 1646323200000, 5));
    assert_eq!(
        decode_line(&mut d, &line),
        Out::Records(vec![mark_funding(
            "BTC-USDT-SWAP",
            5,
            None,
            None,
            Some("0.0001534702159002"),
            1646323200000
        )])
    );
    for index in [false, true] {
        let line = encoded(|o| encode::encode_price(o, index, "BTC-USDT", p("2.1729"), 3));
        let (mark, idx) = if index {
            (None, Some("2.1729"))
        } else {
            (Some("2.1729"), None)
        };
        assert_eq!(
            decode_line(&mut d, &line),
            Out::Records(vec![mark_funding("BTC-USDT", 3, mark, idx, None, 0)])
        );
    }
    let line = encoded(|o| encode::encode_open_interest(o, "BTC-USDT-SWAP", q("644195"), 3));
    assert_eq!(records(&decode_line(&mut d, &line)).len(), 1);
    let line = encoded(|o| {
        encode::encode_liquidation(
            o,
            "SWAP",
            "MINA-USDT-SWAP",
            p("0.09859"),
            q("10975"),
            Side::Buy,
            4,
        )
    });
    assert_eq!(records(&decode_line(&mut d, &line)).len(), 1);
    let line = encoded(|o| encode::encode_ack(o, true, "books", "instId", "BTC-USDT", "c1"));
    assert_eq!(
        decode_line(&mut d, &line),
        Out::Other(r#"Subscribed { channel: "books", target: "BTC-USDT" }"#.into())
    );
    let line = encoded(|o| encode::encode_error(o, 60018, "Wrong URL or channel:\"x\"", "c1"));
    assert_eq!(
        decode_line(&mut d, &line),
        Out::Other(r#"Error { code: 60018, msg: "Wrong URL or channel:\"x\"", id: None }"#.into())
    );
    let line = encoded(|o| encode::encode_notice(o, 64008, "upgrade", "c1"));
    assert_eq!(
        decode_line(&mut d, &line),
        Out::Other("Notice { code: 64008 }".into())
    );
    assert_eq!(decode_line(&mut d, "pong"), Out::Other("Pong".into()));
}

#[test]
fn encoded_books_carry_checksums_that_verify() {
    let mut truth = L2Book::new();
    let bids: Vec<_> = (0..30)
        .map(|i| lv(&format!("{}.5", 100 - i), &format!("0.{}", i + 1)))
        .collect();
    let asks: Vec<_> = (0..30)
        .map(|i| lv(&format!("{}.25", 101 + i), "3"))
        .collect();
    truth.replace(bids.clone(), asks.clone());
    let line = encoded(|o| {
        encode::encode_book(
            o,
            &EncBook {
                channel: BookChannel::Books,
                inst_id: "BTC-USDT",
                snapshot: true,
                bids: &bids,
                asks: &asks,
                ts_ms: 10,
                checksum: checksum::of_book(&truth),
                seq_id: 100,
                prev_seq_id: -1,
            },
        )
    });
    let mut d = decoder();
    let snap = okx_common::book(&decode_line(&mut d, &line)).clone();
    assert_eq!((snap.seq_id, snap.prev_seq_id), (Some(100), None));
    let mut local = L2Book::new();
    local.replace(snap.bids.clone(), snap.asks.clone());
    assert_eq!(local, truth);
    assert_eq!(verify(&local, snap.checksum), Some(true));

    // An update deleting the best bid and changing an ask.
    truth.apply(BookSide::Bid, p("100.5"), Size::ZERO);
    truth.apply(BookSide::Ask, p("102.25"), q("4.5"));
    let (ub, ua) = ([lv("100.5", "0")], [lv("102.25", "4.5")]);
    let line = encoded(|o| {
        encode::encode_book(
            o,
            &EncBook {
                channel: BookChannel::Books,
                inst_id: "BTC-USDT",
                snapshot: false,
                bids: &ub,
                asks: &ua,
                ts_ms: 11,
                checksum: checksum::of_book(&truth),
                seq_id: 104,
                prev_seq_id: 100,
            },
        )
    });
    let upd = okx_common::book(&decode_line(&mut d, &line)).clone();
    assert_eq!((upd.seq_id, upd.prev_seq_id), (Some(104), Some(100)));
    for l in &upd.bids {
        local.apply(BookSide::Bid, l.price, l.size);
    }
    for l in &upd.asks {
        local.apply(BookSide::Ask, l.price, l.size);
    }
    assert_eq!(verify(&local, upd.checksum), Some(true));

    // books5 has no action, checksum or prevSeqId.
    let line = encoded(|o| {
        encode::encode_book(
            o,
            &EncBook {
                channel: BookChannel::Books5,
                inst_id: "BTC-USDT",
                snapshot: false,
                bids: &bids[..5],
                asks: &asks[..5],
                ts_ms: 12,
                checksum: 0,
                seq_id: 7,
                prev_seq_id: 0,
            },
        )
    });
    assert!(!line.contains("action") && !line.contains("checksum"));
    let b5 = okx_common::book(&decode_line(&mut d, &line)).clone();
    assert_eq!((b5.snapshot, b5.seq_id, b5.checksum), (true, Some(7), None));

    // REST body with seqId.
    let body = encoded(|o| encode::encode_rest_books(o, &bids, &asks, 13, 104));
    let rest = decode_rest_books(body.as_bytes()).unwrap();
    assert_eq!(
        (rest.last_update_id, rest.bids.len(), rest.asks[0]),
        (104, 30, asks[0])
    );
}

#[test]
fn instruments_body_round_trips() {
    let perp = InstrumentSpec {
        venue: Venue::Okx,
        raw_symbol: "BTC-USD-SWAP".into(),
        base: "BTC".into(),
        quote: "USD".into(),
        kind: InstrumentKind::Perpetual,
        tick_size: p("0.1"),
        step_size: q("1"),
        contract: Some(ContractSpec {
            value: q("100"),
            value_currency: "USD".into(),
            kind: ContractType::Inverse,
            settle_currency: "BTC".into(),
        }),
    };
    let spot = InstrumentSpec {
        raw_symbol: "BTC-USDT".into(),
        quote: "USDT".into(),
        kind: InstrumentKind::Spot,
        contract: None,
        ..perp.clone()
    };
    let body = encoded(|o| encode::encode_instruments(o, &[spot.clone(), perp.clone()]));
    assert_eq!(decode_instruments(body.as_bytes()).unwrap(), [spot, perp]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any bytes: a frame, a typed error or a dropped unknown symbol; never a panic,
    /// and records only on success.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut sink: Vec<RecordBuf> = Vec::new();
        let mut d = decoder();
        if d.decode(&bytes, TS_RECV, &mut sink).is_err() {
            prop_assert!(sink.is_empty());
        }
    }

    /// Real frames with one byte changed.
    #[test]
    fn mutated_samples_never_panic(file in 0usize..6, line in 0usize..8, at in any::<usize>(), byte in any::<u8>()) {
        let files = ["trades.jsonl", "bbo.jsonl", "book_checksum_verified.jsonl", "funding.jsonl", "liquidations.jsonl", "control.jsonl"];
        let lines = sample(files[file]);
        let mut frame = lines[line % lines.len()].clone().into_bytes();
        let at = at % frame.len();
        frame[at] = byte;
        let mut sink: Vec<RecordBuf> = Vec::new();
        let _ = decoder().decode(&frame, TS_RECV, &mut sink);
    }
}
