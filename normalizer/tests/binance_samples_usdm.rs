//! Every line of every Binance USD-M sample file (and the REST bodies and
//! exchangeInfo fixtures) decodes to the values written out below, with both parsers.

mod binance_common;

use binance_common::*;
use tickd_bus::record::Side;
use tickd_bus::{RecordBuf, RecordHeader, Size, Venue};
use tickd_normalizer::binance::{decode_open_interest, decode_rest_depth, BinanceMarket};
use tickd_normalizer::error::{DecodeError, DecodeErrorKind};
use tickd_normalizer::SymbolMap;

#[test]
fn usdm_trades() {
    let v = Venue::BinanceUsdm;
    check_file(
        BinanceMarket::UsdmFutures,
        "binance_usdm/trades.jsonl",
        &[
            trade(
                v,
                BTCUSDT,
                1574381164086,
                "7627.60",
                "0.044",
                10934580,
                Side::Buy,
            ),
            trade(
                v,
                ETHUSDT,
                1596034530235,
                "2366.55",
                "0.070",
                73701056,
                Side::Sell,
            ),
            trade(
                v,
                BTCUSDT,
                1596240000519,
                "11343.67",
                "0.467",
                173525189,
                Side::Sell,
            ),
        ],
    );
}

#[test]
fn usdm_agg_trades() {
    let v = Venue::BinanceUsdm;
    check_file(
        BinanceMarket::UsdmFutures,
        "binance_usdm/agg_trades.jsonl",
        &[
            trade(
                v,
                BTCUSDT,
                1616202009188,
                "58665.00",
                "0.043",
                389551486,
                Side::Buy,
            ),
            // 2019 capture without `a`: the trade id is unknown (0).
            trade(v, BTCUSDT, 1568693103463, "10223.74", "0.236", 0, Side::Buy),
        ],
    );
}

#[test]
fn usdm_book_ticker_uses_transaction_time() {
    let v = Venue::BinanceUsdm;
    check_file(
        BinanceMarket::UsdmFutures,
        "binance_usdm/bbo.jsonl",
        &[
            bbo(
                v,
                ETHUSDT,
                1653817855284,
                "1778.54",
                "15.164",
                "1778.55",
                "7.289",
            ),
            bbo(v, BALUSDT, 1653812037547, "6.718", "16.2", "6.719", "3.7"),
            bbo(
                v,
                BTCUSDT,
                1612137603568,
                "33134.42",
                "0.170",
                "33139.39",
                "0.380",
            ),
        ],
    );
}

#[test]
fn usdm_depth() {
    check_file(
        BinanceMarket::UsdmFutures,
        "binance_usdm/depth_diff.jsonl",
        &[
            depth(
                BTCUSDT,
                1622371244693,
                1622371244687,
                475776377463,
                475776380184,
                Some(475776377452),
                &[("35729.77", "1.600"), ("35750.00", "5.106")],
                &[("35819.20", "0.211"), ("35820.31", "0.001")],
            ),
            // `@depth20` on futures: a depthUpdate-shaped top-20 image.
            Out::Partial(
                ETHUSDT,
                snapshot(
                    1437010882721,
                    1651122265861,
                    &[
                        ("2886.71", "0.454"),
                        ("2886.70", "2.755"),
                        ("2886.67", "1.000"),
                    ],
                    &[
                        ("2886.72", "77.215"),
                        ("2886.73", "1.734"),
                        ("2886.74", "0.181"),
                    ],
                ),
            ),
            depth(
                ETHUSDT_210625,
                1622368962075,
                1622368962065,
                475700780918,
                475700783070,
                Some(475700774972),
                &[("2437.04", "82.320"), ("2437.07", "0.000")],
                &[("2441.23", "1.500"), ("2441.24", "0.220")],
            ),
            depth(
                BTCUSDT,
                123456789,
                123456788,
                157,
                160,
                Some(149),
                &[("0.0024", "10")],
                &[("0.0026", "100")],
            ),
        ],
    );
}

#[test]
fn usdm_mark_price_and_funding() {
    let records = |r: Vec<RecordBuf>| Out::Records(r);
    check_file(
        BinanceMarket::UsdmFutures,
        "binance_usdm/funding_mark_price.jsonl",
        &[
            records(vec![mark(
                BTCUSDT,
                1617308820003,
                "58940.14924532",
                Some("58857.26693664"),
                "0.00058455",
                1617321600000,
            )]),
            records(vec![
                mark(
                    BTCUSDT,
                    1617309024002,
                    "59022.53514719",
                    Some("58936.68384000"),
                    "0.00058959",
                    1617321600000,
                ),
                mark(
                    ETHUSDT,
                    1617309024002,
                    "1981.15704420",
                    Some("1978.08197502"),
                    "0.00059142",
                    1617321600000,
                ),
            ]),
            records(vec![mark(
                BTCUSDT,
                1569888003001,
                "8291.34697815",
                None,
                "0.0001",
                1569916800000,
            )]),
            records(vec![mark(
                BTCUSDT,
                1597536008000,
                "11857.56",
                Some("11851.86949091"),
                "0.0001564",
                1597564800000,
            )]),
            records(vec![mark(
                BTCUSDT,
                1562305380000,
                "11794.15",
                Some("11784.62659091"),
                "0.00038167",
                1562306400000,
            )]),
        ],
    );
}

#[test]
fn usdm_liquidations_use_filled_quantity_and_average_price() {
    check_file(
        BinanceMarket::UsdmFutures,
        "binance_usdm/liquidations.jsonl",
        &[
            // ap 4706.04 (not the limit price 4793.91); z 0.014 (not l 0.015).
            liquidation(BTCUSDT, 1584059031421, "4706.04", "0.014", Side::Buy),
            liquidation(BTCUSDT, 1568014460893, "9910", "0.014", Side::Sell),
        ],
    );
}

#[test]
fn usdm_rest_depth_and_open_interest() {
    let lines = sample("binance_usdm/rest_depth_snapshot.jsonl");
    assert_eq!(lines.len(), 1);
    assert_eq!(
        decode_rest_depth(lines[0].as_bytes()).unwrap(),
        snapshot(
            1570255790655,
            1654232606707,
            &[
                ("30430.80", "0.482"),
                ("30430.00", "0.012"),
                ("30429.90", "0.001")
            ],
            &[
                ("30430.90", "1.685"),
                ("30431.00", "0.001"),
                ("30431.30", "0.361")
            ],
        )
    );
    let lines = sample("binance_usdm/rest_open_interest.jsonl");
    assert_eq!(lines.len(), 1);
    let oi = decode_open_interest(lines[0].as_bytes(), &symbols(), TS_RECV).unwrap();
    assert_eq!(
        oi.hd,
        RecordHeader::new::<tickd_bus::record::OpenInterestMsg>(
            Venue::BinanceUsdm,
            BTCUSDT,
            ms(1654336844754),
            TS_RECV
        )
    );
    assert_eq!(oi.open_interest, q("84617.188"));
    assert_eq!(oi.open_interest_value, Size::UNDEF);
    let unknown = decode_open_interest(lines[0].as_bytes(), &SymbolMap::new(), TS_RECV);
    assert_eq!(unknown.unwrap_err().kind(), DecodeErrorKind::UnknownSymbol);
}

#[test]
fn exchange_info_lists_trading_instruments() {
    use tickd_bus::instrument::{Date, InstrumentKind, InstrumentSpec};
    use tickd_normalizer::binance::decode_exchange_info;
    let spec =
        |venue, raw: &str, base: &str, quote: &str, kind, tick: &str, step: &str| InstrumentSpec {
            venue,
            raw_symbol: raw.to_string(),
            base: base.to_string(),
            quote: quote.to_string(),
            kind,
            tick_size: p(tick),
            step_size: q(step),
            contract: None,
        };
    let spot = decode_exchange_info(
        BinanceMarket::Spot,
        &fixture("binance_spot_exchange_info.json"),
    )
    .unwrap();
    let v = Venue::Binance;
    assert_eq!(
        spot,
        vec![
            spec(
                v,
                "ETHBTC",
                "ETH",
                "BTC",
                InstrumentKind::Spot,
                "0.00001",
                "0.0001"
            ),
            spec(
                v,
                "BTCUSDT",
                "BTC",
                "USDT",
                InstrumentKind::Spot,
                "0.01",
                "0.00001"
            ),
            spec(
                v,
                "1000SATSUSDT",
                "1000SATS",
                "USDT",
                InstrumentKind::Spot,
                "0.00000001",
                "1"
            ),
        ]
    );
    let usdm = decode_exchange_info(
        BinanceMarket::UsdmFutures,
        &fixture("binance_usdm_exchange_info.json"),
    )
    .unwrap();
    let v = Venue::BinanceUsdm;
    let future = |year, month, day| InstrumentKind::Future {
        expiry: Date { year, month, day },
    };
    assert_eq!(
        usdm,
        vec![
            spec(
                v,
                "BTCUSDT",
                "BTC",
                "USDT",
                InstrumentKind::Perpetual,
                "0.1",
                "0.001"
            ),
            spec(
                v,
                "BTCUSDT_261225",
                "BTC",
                "USDT",
                future(2026, 12, 25),
                "0.1",
                "0.001"
            ),
            spec(
                v,
                "ETHUSDT_270326",
                "ETH",
                "USDT",
                future(2027, 3, 26),
                "0.01",
                "0.001"
            ),
            spec(
                v,
                "1000PEPEUSDT",
                "1000PEPE",
                "USDT",
                InstrumentKind::Perpetual,
                "0.0000001",
                "1"
            ),
        ]
    );
    let err = decode_exchange_info(BinanceMarket::Spot, br#"{"timezone":"UTC"}"#).unwrap_err();
    assert_eq!(err, DecodeError::MissingField { field: "symbols" });
    assert_eq!(
        decode_exchange_info(BinanceMarket::Spot, b"{\"symbols\":[")
            .unwrap_err()
            .kind(),
        DecodeErrorKind::MalformedJson
    );
}
