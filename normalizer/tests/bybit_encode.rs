//! Whatever the encoder (the simulator's side) writes, the decoder reads back
//! exactly: trades (UUID and numeric ids), book snapshots and deltas, ticker
//! snapshots and sparse deltas, liquidations, acks, pongs and instrument pages.

mod bybit_common;

use bybit_common::*;
use proptest::prelude::*;
use tickd_bus::record::{Side, TradeMsg};
use tickd_bus::{Flags, Price, Rate, RecordBuf, Size};
use tickd_normalizer::bybit::encode::{self, Book, Liquidation, Trade};
use tickd_normalizer::bybit::ticker::TickerUpdate;
use tickd_normalizer::bybit::{decode_instruments, Category};

fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    f(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn trades_round_trip_in_every_category() {
    let mut d = decoder();
    let t = Trade {
        id: 0x20f4_3950_d8dd_5b31_9112_a178_eb60_23af,
        price: p("16578.5"),
        size: q("0.001"),
        side: Side::Sell,
        ts_ms: 1672304486865,
        block: true,
    };
    let line = text(|o| encode::encode_trades(o, Category::Linear, "BTCUSDT", &[t], 1672304486868));
    let out = decode_in(&mut d, Category::Linear, &line);
    let got = records(&out)[0].get::<TradeMsg>().unwrap();
    assert_eq!(
        got.trade_id_string(),
        "20f43950-d8dd-5b31-9112-a178eb6023af"
    );
    assert!(got.hd.flags.contains(Flags::BLOCK_TRADE));
    assert_eq!(
        (got.price, got.size, got.side()),
        (t.price, t.size, Side::Sell)
    );
    let spot = Trade {
        id: 2290000000061666327,
        block: false,
        ..t
    };
    let line = text(|o| encode::encode_trades(o, Category::Spot, "BTCUSDT", &[spot, spot], 1));
    let out = decode_in(&mut d, Category::Spot, &line);
    let got = records(&out)[1].get::<TradeMsg>().unwrap();
    assert_eq!((got.trade_id, got.trade_id_hi), (2290000000061666327, 0));
    assert_eq!(got.hd.instrument_id, id_in(Category::Spot, "BTCUSDT"));
}

#[test]
fn books_round_trip() {
    let mut d = decoder();
    let (bids, asks) = (
        vec![lv("1.9531", "6203"), lv("1.953", "0")],
        vec![lv("1.9532", "10")],
    );
    for snapshot in [true, false] {
        let line = text(|o| {
            encode::encode_book(
                o,
                &Book {
                    depth: 200,
                    symbol: "XRPUSDT",
                    snapshot,
                    bids: &bids,
                    asks: &asks,
                    u: 7,
                    seq: 99,
                    ts_ms: 5,
                },
            )
        });
        assert_eq!(
            decode_line(&mut d, &line),
            Out::Book(bybit_common::Book {
                instrument_id: id("XRPUSDT"),
                snapshot,
                u: 7,
                seq: Some(99),
                ts_event: ms(5),
                bids: bids.clone(),
                asks: asks.clone()
            })
        );
    }
}

#[test]
fn liquidations_acks_pongs_and_pages_round_trip() {
    let mut d = decoder();
    let batch = [Liquidation {
        position_side: Side::Buy,
        price: p("0.04499"),
        size: q("20000"),
        ts_ms: 9,
    }];
    let line = text(|o| encode::encode_liquidations(o, "ROSEUSDT", &batch, 10));
    assert_eq!(
        records(&decode_line(&mut d, &line)),
        [liquidation("ROSEUSDT", 9, "0.04499", "20000", Side::Sell)]
    );
    for category in Category::ALL {
        let ack = text(|o| encode::encode_ack(o, category, "subscribe", Some("12"), true, "", "c"));
        assert_eq!(
            decode_in(&mut d, category, &ack),
            Out::Other("Reply(Ack { id: Some(12) })".into())
        );
        let nack = text(|o| {
            encode::encode_ack(
                o,
                category,
                "subscribe",
                None,
                false,
                "error:handler not found",
                "c",
            )
        });
        assert_eq!(
            decode_in(&mut d, category, &nack),
            Out::Other(
                r#"Reply(Rejected { id: None, code: 0, msg: "error:handler not found" })"#.into()
            )
        );
        let pong = text(|o| encode::encode_pong(o, category, None, "c"));
        assert_eq!(
            decode_in(&mut d, category, &pong),
            Out::Other("Pong".into())
        );
    }
    let specs = decode_instruments(
        br#"{"retCode":0,"result":{"category":"linear","list":[{"symbol":"BTC-25DEC26","contractType":"LinearFutures","status":"Trading","baseCoin":"BTC","quoteCoin":"USDT","deliveryTime":"1798185600000","priceFilter":{"tickSize":"0.5"},"lotSizeFilter":{"qtyStep":"0.001"},"settleCoin":"USDT"},{"symbol":"BTCUSDT","contractType":"LinearPerpetual","status":"Trading","baseCoin":"BTC","quoteCoin":"USDT","priceFilter":{"tickSize":"0.1"},"lotSizeFilter":{"qtyStep":"0.001"},"settleCoin":"USDT"}],"nextPageCursor":""}}"#,
    )
    .unwrap();
    let page = text(|o| encode::encode_instruments(o, Category::Linear, &specs, "next"));
    assert_eq!(decode_instruments(page.as_bytes()).unwrap(), specs);
    assert_eq!(
        tickd_normalizer::bybit::next_page_cursor(page.as_bytes())
            .unwrap()
            .as_deref(),
        Some("next")
    );
    let spot_page = text(|o| encode::encode_instruments(o, Category::Spot, &specs, ""));
    assert!(
        decode_instruments(spot_page.as_bytes()).unwrap().is_empty(),
        "other categories skipped"
    );
}

fn opt_price() -> impl Strategy<Value = Option<Price>> {
    prop_oneof![
        Just(None),
        Just(Some(Price::UNDEF)),
        (1i64..10_000_000)
            .prop_map(|v| Some(Price::from_raw(i128::from(v) * Price::ONE_RAW / 100)))
    ]
}

fn opt_size() -> impl Strategy<Value = Option<Size>> {
    prop_oneof![
        Just(None),
        Just(Some(Size::UNDEF)),
        (1i64..10_000_000).prop_map(|v| Some(Size::from_raw(i128::from(v) * Size::ONE_RAW / 1000)))
    ]
}

proptest! {
    /// Any ticker update the simulator writes merges to the state its fields say.
    #[test]
    fn ticker_updates_round_trip(
        mark in opt_price(), index in opt_price(),
        rate in prop_oneof![Just(None), Just(Some(Rate::UNDEF)), (-1000i64..1000).prop_map(|v| Some(Rate::from_raw(i128::from(v) * Rate::ONE_RAW / 100_000)))],
        next in prop_oneof![Just(None), Just(Some(0u64)), (1u64..2_000_000_000_000).prop_map(|ms| Some(ms * 1_000_000))],
        oi in opt_size(), oi_value in opt_size(),
    ) {
        let update = TickerUpdate { mark_price: mark, index_price: index, funding_rate: rate, next_funding_time: next, open_interest: oi, open_interest_value: oi_value };
        let mut d = decoder();
        let line = text(|o| encode::encode_ticker(o, "BTCUSDT", true, &update, 1, 2));
        let out = decode_line(&mut d, &line);
        let Out::Records(recs) = out else { panic!("{line}") };
        let mut want = tickd_normalizer::bybit::ticker::TickerState::default();
        want.merge(&update);
        prop_assert_eq!(d.ticker(id("BTCUSDT")).copied(), Some(want));
        let expected = usize::from(update.touches_funding()) + usize::from(update.touches_open_interest());
        prop_assert_eq!(recs.len(), expected);
        let _: &[RecordBuf] = &recs;
    }
}
