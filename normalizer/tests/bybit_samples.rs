//! Every line of every Bybit sample file (`testdata/exchanges/samples/bybit/`)
//! decodes to the records, book events or control replies written out below, field
//! by field. `book.jsonl` is rebuilt in `bybit_book.rs`; hostile input is in
//! `bybit_hostile.rs`.

mod bybit_common;

use bybit_common::*;
use tickd_bus::decimal::{Notional, NOTIONAL_SCALE};
use tickd_bus::record::{BarMsg, BboMsg, Side, TradeMsg};
use tickd_bus::{Flags, RecordBuf, Size};
use tickd_normalizer::bybit::request::{decode_client_frame, Op};
use tickd_normalizer::bybit::Category;

#[test]
fn trades_keep_their_uuids_whole() {
    use Side::*;
    let got = decode_file("trades.jsonl");
    let expected: [Vec<RecordBuf>; 3] = [
        vec![
            trade(
                "BTCUSD",
                1680673823564,
                "28560.50",
                "5823",
                "0cbf2330-952d-5d03-a462-4bf826c867af",
                Buy,
            ),
            trade(
                "BTCUSD",
                1680673823564,
                "28560.50",
                "3",
                "912e56de-9ed6-5f4f-9421-f0ff5a42d84a",
                Buy,
            ),
            trade(
                "BTCUSD",
                1680673823564,
                "28560.50",
                "5593",
                "cb558b74-cf72-5157-b53b-93944db336ad",
                Buy,
            ),
        ],
        vec![trade(
            "LTCUSDT",
            1680688979983,
            "94.53",
            "0.4",
            "4c7b6bdc-b4a3-5716-9c7b-bbe01dc7072f",
            Buy,
        )],
        vec![trade(
            "BTCUSDT",
            1672304486865,
            "16578.50",
            "0.001",
            "20f43950-d8dd-5b31-9112-a178eb6023af",
            Buy,
        )],
    ];
    assert_eq!(got.len(), expected.len());
    for (out, want) in got.iter().zip(&expected) {
        assert_eq!(records(out), want.as_slice());
    }
    let first = records(&got[0])[0].get::<TradeMsg>().unwrap();
    assert_eq!(
        first.trade_id_string(),
        "0cbf2330-952d-5d03-a462-4bf826c867af",
        "the UUID reads back as the venue wrote it"
    );
}

#[test]
fn spot_numeric_ids_and_block_trades() {
    let mut d = decoder();
    let line = r#"{"topic":"publicTrade.BTCUSDT","ts":1672304486868,"type":"snapshot","data":[{"i":"2290000000061666327","T":1672304486865,"p":"16578.50","v":"0.001","S":"Sell","s":"BTCUSDT","BT":true,"RPI":false,"seq":1783284617}]}"#;
    let out = decode_in(&mut d, Category::Spot, line);
    let mut hd = header::<TradeMsg>(id_in(Category::Spot, "BTCUSDT"), 1672304486865);
    hd.flags = hd.flags.union(Flags::BLOCK_TRADE);
    let want = RecordBuf::new(&TradeMsg {
        hd,
        price: p("16578.50"),
        size: q("0.001"),
        trade_id: 2290000000061666327,
        trade_id_hi: 0,
        side: Side::Sell as u8,
        _reserved: [0; 7],
    });
    assert_eq!(records(&out), [want]);
    assert_eq!(
        records(&out)[0]
            .get::<TradeMsg>()
            .unwrap()
            .trade_id_string(),
        "2290000000061666327"
    );
}

#[test]
fn tickers_merge_deltas_into_the_full_state() {
    let got = decode_file("tickers.jsonl");
    let expected: [Vec<RecordBuf>; 5] = [
        vec![
            mark_funding(
                "BTCUSD",
                1680673822577,
                "28560.00",
                "28566.94",
                Some("0.0001"),
                1680681600000,
            ),
            // Inverse: `openInterestValue` is in BTC, not the quote.
            open_interest("BTCUSD", 1680673822577, "449736676", None),
        ],
        // The delta changed open interest and funding; mark, index and next funding
        // time come from the snapshot.
        vec![
            mark_funding(
                "BTCUSD",
                1680673822776,
                "28560.00",
                "28566.94",
                Some("0.0001"),
                1680681600000,
            ),
            open_interest("BTCUSD", 1680673822776, "449736674", None),
        ],
        // A future: no funding (`""`).
        vec![
            mark_funding("BTCUSDU23", 1680673822099, "29023.60", "28566.94", None, 0),
            open_interest("BTCUSDU23", 1680673822099, "4547176", None),
        ],
        // Only book and basis fields changed: nothing to publish.
        vec![],
        vec![
            mark_funding(
                "BTCUSDT",
                1680673821770,
                "28552.81",
                "28562.25",
                Some("0.0001"),
                1680681600000,
            ),
            open_interest("BTCUSDT", 1680673821770, "52774.528", Some("1506861070.82")),
        ],
    ];
    assert_eq!(got.len(), expected.len());
    for (out, want) in got.iter().zip(&expected) {
        assert_eq!(records(out), want.as_slice());
    }
}

#[test]
fn a_ticker_delta_before_any_snapshot_is_dropped_and_counted() {
    let mut d = decoder();
    let delta = &sample("tickers.jsonl")[1];
    assert_eq!(decode_line(&mut d, delta), Out::Records(vec![]));
    assert_eq!(d.dropped_deltas(), 1);
    assert!(d.ticker(id("BTCUSD")).is_none());
}

#[test]
fn liquidations_carry_the_order_side() {
    // Bybit names the liquidated *position*: a `Sell` position is closed by a buy.
    let got = decode_file("liquidations.jsonl");
    let expected = [
        liquidation("PIPPINUSDT", 1740480207110, "0.02456", "2846", Side::Buy),
        liquidation("GALAUSDT", 1673251091822, "0.03803", "1637", Side::Sell),
        liquidation("XRPUSD", 1680673944093, "0.5149", "6949", Side::Buy),
        liquidation("ROSEUSDT", 1739502302929, "0.04499", "20000", Side::Buy),
    ];
    assert_eq!(got.len(), expected.len());
    for (out, want) in got.iter().zip(expected) {
        assert_eq!(records(out), [want]);
    }
}

fn bbo(symbol: &str, ts_ms: u64, bid: (&str, &str), ask: (&str, &str)) -> RecordBuf {
    RecordBuf::new(&BboMsg {
        hd: header::<BboMsg>(id(symbol), ts_ms),
        bid_price: p(bid.0),
        bid_size: q(bid.1),
        ask_price: p(ask.0),
        ask_size: q(ask.1),
    })
}

#[test]
fn small_books_and_level_one_as_bbo() {
    let got = decode_file("book_small_samples.jsonl");
    assert_eq!(got.len(), 5);
    assert_eq!(
        records(&got[0]),
        [bbo(
            "BTCUSDT",
            1680673820717,
            ("28552.00", "0.047"),
            ("28552.10", "25.433")
        )]
    );
    // An `orderbook.1` delta (older captures) continuing `u`: the bid changed.
    assert_eq!(
        records(&got[1]),
        [bbo(
            "BTCUSDT",
            1680673821137,
            ("28552.00", "0.012"),
            ("28552.10", "25.433")
        )]
    );
    assert_eq!(
        got[2],
        Out::Book(Book {
            instrument_id: id("BTCPERP"),
            snapshot: true,
            u: 20683568,
            seq: Some(10916156551),
            ts_event: ms(1680673821591),
            bids: vec![lv("28555.20", "0.597")],
            asks: vec![lv("28555.30", "0.225")],
        })
    );
    assert_eq!(
        got[3],
        Out::Book(Book {
            instrument_id: id("BTCPERP"),
            snapshot: false,
            u: 20683569,
            seq: Some(10916156553),
            ts_event: ms(1680673821651),
            bids: vec![lv("28555.20", "0.677")],
            asks: vec![lv("28555.30", "0.029")],
        })
    );
    // From another session: its `u` does not continue the top held, so it is dropped.
    assert_eq!(got[4], Out::Records(vec![]));
}

#[test]
fn a_level_one_delta_moves_the_top() {
    let mut d = decoder();
    let snapshot = r#"{"topic":"orderbook.1.BTCUSDT","type":"snapshot","ts":1682092584400,"data":{"s":"BTCUSDT","b":[["27994.60","1.5"]],"a":[["27994.80","0.3"]],"u":1188471,"seq":11155892570}}"#;
    decode_line(&mut d, snapshot);
    let delta = &sample("book_small_samples.jsonl")[4];
    assert_eq!(
        records(&decode_line(&mut d, delta)),
        [bbo(
            "BTCUSDT",
            1682092584425,
            ("27991.70", "0.777"),
            ("27994.40", "0.058")
        )]
    );
    assert_eq!(d.dropped_deltas(), 0);
}

#[test]
fn spot_and_linear_share_a_symbol_but_not_an_instrument() {
    let mut d = decoder();
    let line = &sample("book_small_samples.jsonl")[0];
    for category in [Category::Linear, Category::Spot] {
        let out = decode_in(&mut d, category, line);
        assert_eq!(
            records(&out)[0].header().instrument_id,
            id_in(category, "BTCUSDT")
        );
    }
    // Inverse has no BTCUSDT.
    assert_eq!(
        decode_in(&mut d, Category::Inverse, line),
        Out::Other("UnknownSymbol".into())
    );
}

#[test]
fn control_replies_and_client_requests() {
    let lines = sample("control.jsonl");
    let mut d = decoder();
    let replies: Vec<String> = lines
        .iter()
        .map(|line| {
            let mut sink = Vec::new();
            use tickd_normalizer::engine::{Frame, FrameDecoder};
            match d.decode(Frame::Text(line.as_bytes()), TS_RECV, &mut sink) {
                Ok(event) => format!("{event:?}"),
                Err(err) => format!("{:?}", err.kind()),
            }
        })
        .collect();
    assert_eq!(
        replies,
        [
            "UnknownMessage", // client subscribe
            "UnknownMessage", // client unsubscribe
            "Reply(Ack { id: Some(10001) })",
            "Reply(Ack { id: None })",
            "UnknownMessage", // client ping
            "Pong",
            "Pong",
            "Pong",
            "Reply(Ack { id: None })", // pre-v5 ack echoing its request
        ]
    );
    // The client lines are what the simulator reads.
    let ops: Vec<Op> = [0, 1, 4]
        .iter()
        .map(|&i| decode_client_frame(lines[i].as_bytes()).unwrap().op)
        .collect();
    assert_eq!(ops, [Op::Subscribe, Op::Unsubscribe, Op::Ping]);
}

#[test]
fn failures_become_rejections() {
    let mut d = decoder();
    let failed = r#"{"success":false,"ret_msg":"error:handler not found,topic:orderbook.11.BTCUSDT","conn_id":"c","req_id":"7","op":"subscribe"}"#;
    assert_eq!(
        decode_line(&mut d, failed),
        Out::Other(
            r#"Reply(Rejected { id: Some(7), code: 0, msg: "error:handler not found,topic:orderbook.11.BTCUSDT" })"#
                .into()
        )
    );
    let options_ok = r#"{"success":true,"conn_id":"c","data":{"failTopics":[],"successTopics":["orderbook.100.BTC-6JAN23-18000-C"]},"type":"COMMAND_RESP"}"#;
    assert_eq!(
        decode_line(&mut d, options_ok),
        Out::Other("Reply(Ack { id: None })".into())
    );
    let options_failed = r#"{"success":true,"conn_id":"c","data":{"failTopics":["orderbook.7.X"],"successTopics":[]},"type":"COMMAND_RESP"}"#;
    assert_eq!(
        decode_line(&mut d, options_failed),
        Out::Other(
            r#"Reply(Rejected { id: None, code: 0, msg: "failTopics: orderbook.7.X" })"#.into()
        )
    );
}

/// The Bybit doc's kline example (`kline.5.BTCUSDT`), open and then confirmed.
fn kline(confirm: bool) -> String {
    format!(
        r#"{{"topic":"kline.5.BTCUSDT","data":[{{"start":1672324800000,"end":1672325099999,"interval":"5","open":"16649.5","close":"16677","high":"16677","low":"16608","volume":"2.081","turnover":"34666.4005","confirm":{confirm},"timestamp":1672324988882}}],"ts":1672324988882,"type":"snapshot"}}"#
    )
}

#[test]
fn confirmed_klines_become_venue_bars() {
    let mut d = decoder();
    assert_eq!(decode_line(&mut d, &kline(false)), Out::Records(vec![]));
    let out = decode_line(&mut d, &kline(true));
    let bar = records(&out)[0].get::<BarMsg>().unwrap();
    assert!(bar.hd.flags.contains(Flags::VENUE_BAR));
    assert_eq!(
        bar.hd.ts_event,
        ms(1672324800000 + 300_000),
        "stamped at the close"
    );
    assert_eq!(bar.interval_s, 300);
    assert_eq!(
        (bar.open, bar.high, bar.low, bar.close, bar.volume),
        (p("16649.5"), p("16677"), p("16608"), p("16677"), q("2.081"))
    );
    assert_eq!(
        bar.notional(),
        Notional::from_i128_scaled(q("34666.4005").raw(), NOTIONAL_SCALE - Size::SCALE),
        "turnover: the exact quote volume"
    );
    assert_eq!(bar.trade_count, 0);
    // Inverse: `volume` is 1-USD contracts and `turnover` the base coin, so the
    // quote volume is the contract count (34 500 USD), not the 2.081 BTC.
    let inverse = kline(true)
        .replace("BTCUSDT", "BTCUSD")
        .replace(r#""volume":"2.081""#, r#""volume":"34500""#)
        .replace(r#""turnover":"34666.4005""#, r#""turnover":"2.07100841""#);
    let out = decode_line(&mut d, &inverse);
    let bar = records(&out)[0].get::<BarMsg>().unwrap();
    assert_eq!(bar.volume, q("34500"));
    assert_eq!(
        bar.notional(),
        Notional::from_i128_scaled(q("34500").raw(), NOTIONAL_SCALE - Size::SCALE),
        "inverse: the USD traded"
    );
    // Month candles have no fixed length.
    let mut sink = Vec::new();
    use tickd_normalizer::engine::{Frame, FrameDecoder};
    let month = kline(true).replace("kline.5.", "kline.M.");
    assert!(d
        .decode(Frame::Text(month.as_bytes()), TS_RECV, &mut sink)
        .is_err());
}
