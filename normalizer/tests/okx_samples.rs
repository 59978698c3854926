//! Every line of every OKX sample file (`testdata/exchanges/samples/okx/`) decodes to
//! the records, book messages or control replies written out below, field by field.
//! Book checksums and sequencing are in `okx_books.rs`; hostile input in `okx_hostile.rs`.

mod okx_common;

use okx_common::*;
use tickd_bus::record::{LiquidationMsg, OpenInterestMsg, Side};
use tickd_bus::{RecordBuf, RecordHeader, Size, Venue};
use tickd_normalizer::okx::{decode_rest_books, BookChannel};

#[test]
fn trades() {
    use Side::*;
    let expected = [
        trade(
            "BTC-USDT",
            1646311839593,
            "43474.1",
            "0.00373695",
            314161276,
            Buy,
        ),
        trade(
            "BTC-USDT-220325",
            1646311972504,
            "43535.3",
            "2",
            17400303,
            Sell,
        ),
        trade(
            "BTC-USDT-SWAP",
            1646312440645,
            "43568.8",
            "7",
            219066264,
            Buy,
        ),
        trade(
            "BTC-USD-220325",
            1646312543604,
            "43568.7",
            "1",
            18928717,
            Sell,
        ),
        trade(
            "BTC-USD-SWAP",
            1646312664791,
            "43574.9",
            "1",
            173543957,
            Sell,
        ),
        trade(
            "BTC-USD-220304-32000-P",
            1646138219181,
            "0.001",
            "85",
            81,
            Buy,
        ),
        trade(
            "BTC-USDT-SWAP",
            1640131236050,
            "48938.5",
            "5",
            148266905,
            Buy,
        ),
        // `count` (fills aggregated into the print) has no record field.
        trade(
            "BTC-USD",
            1630048897897,
            "42219.9",
            "0.12060306",
            130639474,
            Buy,
        ),
    ];
    let got = decode_file("trades.jsonl");
    assert_eq!(got.len(), expected.len());
    for (out, want) in got.iter().zip(expected) {
        assert_eq!(records(out), [want]);
    }
}

#[test]
fn bbo_tbt() {
    let expected = [
        bbo(
            "BTC-USDT",
            1654032991947,
            Some(("31774.6", "0.3392211")),
            Some(("31774.7", "0.14368878")),
        ),
        bbo(
            "BTC-USD-220624",
            1654033096078,
            Some(("31769.8", "38")),
            Some(("31769.9", "15")),
        ),
        bbo(
            "BTC-USDT-220624",
            1654033073837,
            Some(("31850.4", "2")),
            Some(("31854.6", "4")),
        ),
        bbo(
            "BTC-USD-SWAP",
            1656633600013,
            Some(("19918.9", "34")),
            Some(("19920", "3")),
        ),
        bbo(
            "BTC-USDT-SWAP",
            1656642503092,
            Some(("20386.7", "50")),
            Some(("20386.8", "7")),
        ),
        // One-sided option book: the empty bid side is UNDEF/0.
        bbo(
            "BTC-USD-220624-50000-C",
            1654033343415,
            None,
            Some(("0.0015", "8")),
        ),
        bbo(
            "BTC-JPY",
            1790133525304,
            Some(("13615496", "0.03452263")),
            Some(("13643522", "0.03682508")),
        ),
    ];
    let got = decode_file("bbo.jsonl");
    assert_eq!(got.len(), expected.len());
    for (out, want) in got.iter().zip(expected) {
        assert_eq!(records(out), [want]);
    }
}

#[test]
fn tickers_give_their_top_of_book() {
    let expected = [
        bbo(
            "BTC-USDT",
            1654166073135,
            Some(("29934", "0.05181315")),
            Some(("29934.1", "0.30918743")),
        ),
        bbo(
            "BTC-USD-220624",
            1654166101413,
            Some(("29882", "15")),
            Some(("29885.7", "3")),
        ),
        bbo(
            "BTC-USDT-220624",
            1654166126913,
            Some(("29973.5", "34")),
            Some(("29973.6", "1")),
        ),
        bbo(
            "BTC-USD-SWAP",
            1654166220361,
            Some(("29932.9", "66")),
            Some(("29933", "34")),
        ),
        bbo(
            "BTC-USDT-SWAP",
            1654166233877,
            Some(("29959.9", "431")),
            Some(("29960", "12")),
        ),
        // `"bidPx":""`: no bid.
        bbo(
            "BTC-USD-220624-50000-C",
            1654166283149,
            None,
            Some(("0.0015", "330")),
        ),
        bbo(
            "WNCG-USDT-SWAP",
            1640131263109,
            Some(("2.1737", "2")),
            Some(("2.1738", "168")),
        ),
    ];
    let got = decode_file("tickers.jsonl");
    assert_eq!(got.len(), expected.len());
    for (out, want) in got.iter().zip(expected) {
        assert_eq!(records(out), [want]);
    }
}

#[test]
fn books5_are_whole_images() {
    let got = decode_file("books5.jsonl");
    assert_eq!(got.len(), 6);
    let first = book(&got[0]);
    assert_eq!(
        (first.instrument_id, first.channel, first.snapshot),
        (id("BTC-USDT"), BookChannel::Books5, true)
    );
    assert_eq!(
        (first.seq_id, first.prev_seq_id, first.checksum),
        (None, None, None)
    );
    assert_eq!(first.ts_event, ms(1652671418459));
    assert_eq!(first.bids[0], lv("30221.7", "0.30608367"));
    assert_eq!(first.asks[4], lv("30225.6", "1.64553107"));
    assert_eq!((first.bids.len(), first.asks.len()), (5, 5));
    let option = book(&got[5]);
    assert_eq!(option.instrument_id, id("BTC-USD-220624-50000-C"));
    assert!(option.bids.is_empty());
    assert_eq!(
        option.asks,
        [lv("0.001", "606"), lv("0.0015", "330"), lv("0.002", "10")]
    );
    for out in &got {
        assert!(book(out).snapshot);
    }
}

#[test]
fn funding_rates() {
    let expected = [
        // Older pushes: no `ts`; `nextFundingRate` is not used.
        Out::Records(vec![mark_funding(
            "BTC-USD-SWAP",
            0,
            None,
            None,
            Some("0.0000734174532791"),
            1646323200000,
        )]),
        Out::Records(vec![mark_funding(
            "BTC-USDT-SWAP",
            0,
            None,
            None,
            Some("0.0001534702159002"),
            1646323200000,
        )]),
        Out::Records(vec![mark_funding(
            "WNCG-USDT-SWAP",
            0,
            None,
            None,
            Some("0.00048105"),
            1640131200000,
        )]),
        // SOS-USDT-SWAP is not in the map.
        Out::Other("UnknownSymbol".into()),
        Out::Records(vec![mark_funding(
            "BTC-USDT-SWAP",
            1744590349506,
            None,
            None,
            Some("0.0001"),
            1744590349506,
        )]),
    ];
    assert_eq!(decode_file("funding.jsonl"), expected);
}

#[test]
fn funding_without_a_rate_is_undef() {
    let mut d = decoder();
    let line = r#"{"arg":{"channel":"funding-rate","instId":"BTC-USDT-SWAP"},"data":[{"fundingTime":"1640851200000","instId":"BTC-USDT-SWAP"}]}"#;
    assert_eq!(
        decode_line(&mut d, line),
        Out::Records(vec![mark_funding(
            "BTC-USDT-SWAP",
            0,
            None,
            None,
            None,
            1640851200000
        )])
    );
}

#[test]
fn mark_and_index_prices() {
    assert_eq!(
        decode_file("mark_price.jsonl"),
        [Out::Records(vec![mark_funding(
            "WNCG-USDT-SWAP",
            1640131259180,
            Some("2.1729"),
            None,
            None,
            0
        )])]
    );
    let mut d = decoder();
    let line = r#"{"arg":{"channel":"index-tickers","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","idxPx":"43474.1","high24h":"44000","sodUtc0":"43000","open24h":"43100","low24h":"42000","sodUtc8":"43200","ts":"1646311839593"}]}"#;
    assert_eq!(
        decode_line(&mut d, line),
        Out::Records(vec![mark_funding(
            "BTC-USDT",
            1646311839593,
            None,
            Some("43474.1"),
            None,
            0
        )])
    );
}

#[test]
fn open_interest_in_contracts() {
    let want = RecordBuf::new(&OpenInterestMsg {
        hd: RecordHeader::new::<OpenInterestMsg>(
            Venue::Okx,
            id("WNCG-USDT-SWAP"),
            ms(1640131258756),
            TS_RECV,
        ),
        open_interest: q("644195"),
        open_interest_value: Size::UNDEF,
    });
    assert_eq!(
        decode_file("open_interest.jsonl"),
        [Out::Records(vec![want])]
    );
}

#[test]
fn liquidations_name_their_instrument() {
    let want = RecordBuf::new(&LiquidationMsg {
        hd: RecordHeader::new::<LiquidationMsg>(
            Venue::Okx,
            id("MINA-USDT-SWAP"),
            ms(1789678209470),
            TS_RECV,
        ),
        price: p("0.09859"),
        size: q("10975"),
        side: Side::Buy as u8,
        _reserved: [0; 7],
    });
    assert_eq!(
        decode_file("liquidations.jsonl"),
        [Out::Records(vec![want])]
    );
}

#[test]
fn control_frames() {
    let mut lines = sample("control.jsonl");
    // Line 1 is the client's own subscribe request: not something a server sends.
    let request = lines.remove(0);
    let mut d = decoder();
    let mut sink: Vec<RecordBuf> = Vec::new();
    assert!(d.decode(request.as_bytes(), TS_RECV, &mut sink).is_err());
    let got: Vec<Out> = lines.iter().map(|l| decode_line(&mut d, l)).collect();
    assert_eq!(
        got,
        [
            Out::Other(r#"Subscribed { channel: "books", target: "BTC-JPY" }"#.into()),
            Out::Other(r#"Error { code: 60011, msg: "Please log in", id: None }"#.into()),
            Out::Other(format!(
                "Error {{ code: 60018, msg: {:?}, id: None }}",
                "Wrong URL or channel:books,instId:NOPE-JPY doesn't exist. Please use the correct URL, channel and parameters referring to API document."
            )),
        ]
    );
}

#[test]
fn notices_pongs_and_other_events() {
    let mut d = decoder();
    for (line, want) in [
        (
            r#"{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"}"#,
            "Notice { code: 64008 }",
        ),
        ("pong", "Pong"),
        (" pong\n", "Pong"),
        (
            r#"{"event":"channel-conn-count","channel":"orders","connCount":"2","connId":"abcd1234"}"#,
            "Event",
        ),
        (
            r#"{"event":"unsubscribe","arg":{"channel":"liquidation-orders","instType":"SWAP"},"connId":"1"}"#,
            r#"Unsubscribed { channel: "liquidation-orders", target: "SWAP" }"#,
        ),
        (
            r#"{"id":"1512","event":"error","code":"60012","msg":"Illegal request: {\"op\":\"subscribe\"}","connId":"1"}"#,
            r#"Error { code: 60012, msg: "Illegal request: {\"op\":\"subscribe\"}", id: Some("1512") }"#,
        ),
    ] {
        assert_eq!(decode_line(&mut d, line), Out::Other(want.into()), "{line}");
    }
}

#[test]
fn rest_books_body() {
    let body = sample("rest_books.jsonl").remove(0);
    let book = decode_rest_books(body.as_bytes()).unwrap();
    assert_eq!(
        book.last_update_id, 0,
        "bodies before the 2026 change carry no seqId"
    );
    assert_eq!(book.ts_event, ms(1654328918680));
    assert_eq!(
        book.bids,
        [
            lv("29692.4", "0.43986254"),
            lv("29691.2", "0.33792"),
            lv("29690", "0.39370474")
        ]
    );
    assert_eq!(book.asks[0], lv("29692.5", "0.10951348"));
    let with_seq = body.replace(
        r#""ts":"1654328918680""#,
        r#""ts":"1654328918680","seqId":123"#,
    );
    assert_eq!(
        decode_rest_books(with_seq.as_bytes())
            .unwrap()
            .last_update_id,
        123
    );
    let refused = br#"{"code":"50011","msg":"Too Many Requests","data":[]}"#;
    assert!(decode_rest_books(refused).is_err());
}

/// Candles in the shape of OKX's v5 documentation (`candle1D` push on the business
/// URL): `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`; no sample file has
/// them.
#[test]
fn confirmed_candles_are_venue_bars() {
    use tickd_bus::record::BarMsg;
    use tickd_bus::Flags;
    let mut d = decoder();
    let frame = |channel: &str, confirm: &str| {
        format!(
            r#"{{"arg":{{"channel":"{channel}","instId":"BTC-USDT-SWAP"}},"data":[["1597026383085","8533.02","8553.74","8527.17","8548.26","45247","529.5858061","5.0","{confirm}"]]}}"#
        )
    };
    assert_eq!(
        decode_line(&mut d, &frame("candle1m", "0")),
        Out::Records(vec![]),
        "an open candle is not a bar yet"
    );
    for (channel, secs) in [
        ("candle1m", 60u32),
        ("candle4H", 14_400),
        ("candle1Dutc", 86_400),
        ("candle1s", 1),
    ] {
        let out = decode_line(&mut d, &frame(channel, "1"));
        let bar = *records(&out)[0].get::<BarMsg>().unwrap();
        assert_eq!(bar.interval_s, secs, "{channel}");
        assert!(bar.hd.flags.contains(Flags::VENUE_BAR));
        assert_eq!(
            bar.hd.ts_event,
            ms(1597026383085 + u64::from(secs) * 1000),
            "stamped at the close"
        );
        assert_eq!(
            (bar.open, bar.high, bar.low, bar.close),
            (p("8533.02"), p("8553.74"), p("8527.17"), p("8548.26"))
        );
        assert_eq!(bar.volume, q("45247"), "contracts, the venue's unit");
        assert_eq!(bar.notional().to_string(), "5", "volCcyQuote");
        assert_eq!(bar.trade_count, 0);
    }
    let mut sink = Vec::new();
    for bad in ["candle1M", "candle0m", "candlem"] {
        assert!(
            d.decode(frame(bad, "1").as_bytes(), TS_RECV, &mut sink)
                .is_err(),
            "{bad}"
        );
    }
    let short = r#"{"arg":{"channel":"candle1m","instId":"BTC-USDT-SWAP"},"data":[["1597026383085","1","1","1","1","1","1","1"]]}"#;
    assert_eq!(
        decode_line(&mut d, short),
        Out::Records(vec![]),
        "no confirm flag: still open"
    );
}
