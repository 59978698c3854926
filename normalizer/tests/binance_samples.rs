//! Every line of every Binance spot sample file decodes to the records (or book
//! events, or control replies, or typed errors) written out below, field by field,
//! with both JSON parsers; plus errors, time units and layouts. USD-M samples are in
//! `binance_samples_usdm.rs`.

mod binance_common;

use binance_common::*;
use tickd_bus::record::{Side, TradeMsg};
use tickd_bus::Venue;
use tickd_normalizer::binance::{
    decode_rest_depth, BinanceDecoder, BinanceFrame, BinanceMarket, TimeUnit,
};
use tickd_normalizer::error::{DecodeError, DecodeErrorKind};
use tickd_normalizer::stats::MessageKind;
use tickd_normalizer::SymbolMap;

#[test]
fn spot_trades() {
    let v = Venue::Binance;
    check_file(
        BinanceMarket::Spot,
        "binance_spot/trades.jsonl",
        &[
            trade(v, BNBBTC, 1672515782136, "0.001", "100", 12345, Side::Sell),
            trade(
                v,
                BNBBTC,
                1554076800940,
                "0.00426990",
                "33.82",
                40756030,
                Side::Buy,
            ),
            trade(
                v,
                BNBBTC,
                1567296001034,
                "0.00219650",
                "6.48",
                60276726,
                Side::Sell,
            ),
        ],
    );
}

#[test]
fn spot_agg_trades() {
    let v = Venue::Binance;
    check_file(
        BinanceMarket::Spot,
        "binance_spot/agg_trades.jsonl",
        &[
            trade(v, BNBBTC, 1672515782136, "0.001", "100", 12345, Side::Sell),
            trade(
                v,
                BTCUSDT,
                1616176861893,
                "58942.01",
                "0.000356",
                640283266,
                Side::Buy,
            ),
        ],
    );
}

#[test]
fn spot_book_ticker_has_no_event_time() {
    let v = Venue::Binance;
    check_file(
        BinanceMarket::Spot,
        "binance_spot/bbo.jsonl",
        &[
            bbo(v, BNBUSDT, 0, "25.3519", "31.21", "25.3652", "40.66"),
            bbo(v, BTCUSDT, 0, "29010.9", "13.94302", "29010.91", "3.99953"),
            bbo(v, BTCUSDT, 0, "8010", "0.142459", "8012.15", "0.031201"),
        ],
    );
}

#[test]
fn spot_depth_diffs() {
    check_file(
        BinanceMarket::Spot,
        "binance_spot/depth_diff.jsonl",
        &[
            depth(
                BNBBTC,
                1672515782136,
                0,
                157,
                160,
                None,
                &[("0.0024", "10")],
                &[("0.0026", "100")],
            ),
            depth(
                BTCUSDT,
                1622363903670,
                0,
                11294093710,
                11294093726,
                None,
                &[("35743.98", "0"), ("35743.87", "0.000015")],
                &[("35743.88", "0.24"), ("35743.97", "0")],
            ),
        ],
    );
}

#[test]
fn spot_book_sync_sequence() {
    // Line 3 is the REST snapshot body: on a WebSocket it has no symbol.
    check_file(
        BinanceMarket::Spot,
        "binance_spot/book_sync_sequence.jsonl",
        &[
            depth(
                GNTBTC,
                1554076807698,
                0,
                41603407,
                41603413,
                None,
                &[
                    ("0.00002246", "1215"),
                    ("0.00002245", "2673"),
                    ("0.00002244", "390"),
                    ("0.00002239", "2126"),
                ],
                &[("0.00002267", "0"), ("0.00002269", "7840")],
            ),
            depth(
                GNTBTC,
                1554076808698,
                0,
                41603414,
                41603418,
                None,
                &[("0.00002248", "114"), ("0.00002246", "375")],
                &[("0.00002253", "3945")],
            ),
            NO_STREAM,
            depth(
                GNTBTC,
                1554076809699,
                0,
                41603417,
                41603419,
                None,
                &[],
                &[("0.00002257", "0"), ("0.00002262", "6080")],
            ),
        ],
    );
    let body = &sample("binance_spot/book_sync_sequence.jsonl")[2];
    assert_eq!(
        decode_rest_depth(body.as_bytes()).unwrap(),
        snapshot(
            41603417,
            0,
            &[
                ("0.00002248", "114"),
                ("0.00002246", "370"),
                ("0.00002245", "2673"),
                ("0.00002244", "390"),
                ("0.00002243", "3425"),
            ],
            &[
                ("0.00002253", "3945"),
                ("0.00002256", "50641"),
                ("0.00002258", "1777")
            ],
        )
    );
}

#[test]
fn spot_partial_depth_needs_the_stream_name() {
    check_file(
        BinanceMarket::Spot,
        "binance_spot/depth_partial.jsonl",
        &[
            NO_STREAM,
            Out::Partial(
                ETHUSDT,
                snapshot(
                    17044571457,
                    0,
                    &[("1782", "6.483"), ("1781.95", "0.03")],
                    &[("1782.01", "15.4608"), ("1782.02", "0.0078")],
                ),
            ),
        ],
    );
}

#[test]
fn spot_rest_depth_snapshots() {
    let lines = sample("binance_spot/rest_depth_snapshot.jsonl");
    assert_eq!(lines.len(), 2);
    assert_eq!(
        decode_rest_depth(lines[0].as_bytes()).unwrap(),
        snapshot(1027024, 0, &[("4", "431")], &[("4.000002", "12")])
    );
    assert_eq!(
        decode_rest_depth(lines[1].as_bytes()).unwrap(),
        snapshot(
            33933317943,
            0,
            &[
                ("23171.42", "0.03"),
                ("23171.16", "0.0007"),
                ("23109.22", "0.0005")
            ],
            &[
                ("23171.68", "0.00067"),
                ("23171.69", "0.00047"),
                ("23224.58", "0.04353")
            ],
        )
    );
}

#[test]
fn spot_control_replies() {
    let client_request = Out::Err(DecodeError::UnknownMessage);
    check_file(
        BinanceMarket::Spot,
        "binance_spot/control.jsonl",
        &[
            client_request,
            Out::Subscribed(1),
            Out::Err(DecodeError::UnknownMessage),
            Out::Subscribed(312),
            Out::Err(DecodeError::UnknownMessage),
            Out::List(3, vec!["btcusdt@aggTrade".to_string()]),
            Out::Shutdown(ms(1770123456789)),
            Out::ControlError(
                None,
                2,
                "Invalid request: request ID must be an unsigned integer".to_string(),
            ),
        ],
    );
}

#[test]
fn microsecond_connections_scale_times() {
    let mut decoder = BinanceDecoder::new(BinanceMarket::Spot, symbols());
    decoder.set_time_unit(TimeUnit::Micros);
    let frame = r#"{"e":"trade","E":1672515782136001,"s":"BNBBTC","t":1,"p":"1","q":"2","T":1672515782136000,"m":false}"#;
    let mut sink = Vec::new();
    decoder
        .decode(frame.as_bytes(), TS_RECV, &mut sink)
        .unwrap();
    let trade = sink[0].get::<TradeMsg>().unwrap();
    assert_eq!(trade.hd.ts_event, 1_672_515_782_136_000_000);
    // The same number as ms overflows u64 ns: an error naming the field.
    decoder.set_time_unit(TimeUnit::Millis);
    let err = decoder
        .decode(frame.as_bytes(), TS_RECV, &mut sink)
        .unwrap_err();
    assert_eq!(err, DecodeError::OutOfRange { field: "T" });
}

#[test]
fn unknown_symbols_and_events_are_counted_not_fatal() {
    let mut decoder = BinanceDecoder::new(BinanceMarket::Spot, SymbolMap::new());
    let mut sink = Vec::new();
    for line in sample("binance_spot/trades.jsonl") {
        let frame = decoder.decode(line.as_bytes(), TS_RECV, &mut sink).unwrap();
        assert_eq!(frame, BinanceFrame::UnknownSymbol);
    }
    let ticker = br#"{"e":"24hrTicker","E":1,"s":"BNBBTC"}"#;
    let err = decoder.decode(ticker, TS_RECV, &mut sink).unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::UnknownEvent);
    assert!(err.to_string().contains("24hrTicker"), "{err}");
    assert!(sink.is_empty());
    let stats = decoder.stats();
    assert_eq!(stats.unknown_symbol(), 3);
    assert_eq!(stats.ok(MessageKind::Trade), 3);
    assert_eq!(stats.unknown_message(), 1);
    // Registering the symbol later makes the same frames decode.
    decoder.symbols_mut().insert("BNBBTC", BNBBTC);
    let line = &sample("binance_spot/trades.jsonl")[0];
    assert_eq!(
        decoder.decode(line.as_bytes(), TS_RECV, &mut sink).unwrap(),
        BinanceFrame::Records(1)
    );
}

/// A closed `kline` (the documented shape, `binance_spot.md` §4) is a bar flagged
/// VENUE_BAR; an open one is nothing yet.
#[test]
fn closed_klines_are_venue_bars() {
    use tickd_bus::record::BarMsg;
    use tickd_bus::{Flags, Price, Size};
    let mut decoder = BinanceDecoder::new(BinanceMarket::Spot, SymbolMap::new());
    decoder.symbols_mut().insert("BNBBTC", BNBBTC);
    let mut sink = Vec::new();
    let frame = |closed: bool| {
        format!(
            r#"{{"stream":"bnbbtc@kline_1m","data":{{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{{"t":1672515720000,"T":1672515779999,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":{closed},"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}}}}"#
        )
    };
    let (open_frame, closed_frame) = (frame(false), frame(true));
    let open = decoder
        .decode(open_frame.as_bytes(), TS_RECV, &mut sink)
        .unwrap();
    assert_eq!(open, BinanceFrame::Records(0));
    assert!(sink.is_empty());
    let closed = decoder
        .decode(closed_frame.as_bytes(), TS_RECV, &mut sink)
        .unwrap();
    assert_eq!(closed, BinanceFrame::Records(1));
    let bar = sink[0].get::<BarMsg>().expect("a bar record");
    assert!(bar.hd.flags.contains(Flags::VENUE_BAR));
    assert_eq!(
        bar.hd.ts_event, 1_672_515_780_000_000_000,
        "the candle's end"
    );
    assert_eq!(bar.interval_s, 60);
    assert_eq!(bar.trade_count, 100);
    assert_eq!(bar.open, Price::parse_str("0.0010").unwrap());
    assert_eq!(bar.high, Price::parse_str("0.0025").unwrap());
    assert_eq!(bar.low, Price::parse_str("0.0015").unwrap());
    assert_eq!(bar.close, Price::parse_str("0.0020").unwrap());
    assert_eq!(bar.volume, Size::parse_str("1000").unwrap());
    assert_eq!(bar.notional().to_string(), "1");
    assert_eq!(decoder.stats().ok(MessageKind::VenueBar), 2);
}

#[test]
fn unusual_layouts_take_the_slow_path_to_the_same_result() {
    let compact = &sample("binance_usdm/trades.jsonl")[1];
    let reordered = r#" { "data" : {"m":true,"s":"ETHUSDT","X":"INSURANCE_FUND","e":"trade","E":1596034530241,"T":1596034530235,"t":73701056,"p":"2366.55","q":"0.070"}, "stream":"ethusdt@trade" } "#;
    let extra_key = compact.replacen("}}", "},\"x\":[1,{\"y\":2}]}", 1);
    for backend in BACKENDS {
        let mut decoder = BinanceDecoder::new(BinanceMarket::UsdmFutures, symbols());
        decoder.set_backend_override(Some(backend));
        let want = decode_line(&mut decoder, compact);
        assert_eq!(decode_line(&mut decoder, reordered), want);
        assert_eq!(decode_line(&mut decoder, &extra_key), want);
    }
}

#[test]
fn field_errors_name_the_field() {
    let mut decoder = BinanceDecoder::new(BinanceMarket::UsdmFutures, symbols());
    let mut sink = Vec::new();
    let cases: &[(&str, DecodeError)] = &[
        (
            r#"{"e":"trade","E":1,"T":1,"s":"BTCUSDT","t":1,"p":"1.2.3","q":"1","m":true}"#,
            DecodeError::BadDecimal {
                field: "p",
                error: tickd_bus::DecimalError::InvalidChar('.'),
            },
        ),
        (
            r#"{"e":"trade","E":1,"T":1,"s":"BTCUSDT","t":1,"q":"1","m":true}"#,
            DecodeError::MissingField { field: "p" },
        ),
        (
            r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"pu":-7,"b":[],"a":[]}"#,
            DecodeError::OutOfRange { field: "pu" },
        ),
        (
            r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1","x"]],"a":[]}"#,
            DecodeError::BadDecimal {
                field: "b",
                error: tickd_bus::DecimalError::InvalidChar('x'),
            },
        ),
        (
            r#"{"e":"forceOrder","E":1,"o":{"s":"BTCUSDT","S":"SELL","p":"9910","ap":"0","z":"0"}}"#,
            DecodeError::MissingField { field: "o.q" },
        ),
    ];
    for (frame, want) in cases {
        assert_eq!(
            &decoder
                .decode(frame.as_bytes(), TS_RECV, &mut sink)
                .unwrap_err(),
            want,
            "{frame}"
        );
    }
    // Wrong JSON types are malformed JSON.
    let wrong_type = br#"{"e":"trade","E":"1","s":"BTCUSDT","t":1,"p":"1","q":"1","m":true}"#;
    let err = decoder.decode(wrong_type, TS_RECV, &mut sink).unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::MalformedJson);
    assert!(sink.is_empty());
    assert_eq!(decoder.stats().errors_total(), cases.len() as u64 + 1);
}
