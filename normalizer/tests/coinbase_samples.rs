//! Every line of `samples/coinbase/` decodes to the records it says (or, for the
//! client's own requests, to a typed error); per-connection counters are reported;
//! books follow snapshot-then-updates with absolute sizes; the encoder's frames
//! read back exactly; hostile and truncated input gives typed errors, never a panic.

use proptest::prelude::*;
use tickd_bus::record::{BarMsg, BboMsg, Side, TradeMsg};
use tickd_bus::{Flags, Price, RecordBuf, Size, Venue};
use tickd_normalizer::coinbase::{encode, CoinbaseDecoder, CoinbaseRule, TradeSide};
use tickd_normalizer::engine::{
    BookSync, ConnCounter, ControlReply, Frame, FrameDecoder, SyncAction, SyncState, VenueEvent,
};
use tickd_normalizer::error::DecodeError;
use tickd_normalizer::{Level, RecordSink, SymbolMap};

const BTC: u32 = 1;
const ETH: u32 = 2;
const PERP: u32 = 3;

/// Records plus the per-connection counters the decoder reported.
#[derive(Default)]
struct Sink {
    records: Vec<RecordBuf>,
    counters: Vec<(ConnCounter, u64)>,
}

impl RecordSink for Sink {
    fn push(&mut self, record: RecordBuf) {
        self.records.push(record);
    }

    fn conn_counter(&mut self, counter: ConnCounter, value: u64) {
        self.counters.push((counter, value));
    }
}

fn symbols() -> SymbolMap {
    [("BTC-USD", BTC), ("ETH-USD", ETH), ("BTC-PERP-INTX", PERP)]
        .iter()
        .map(|(s, id)| (s.to_string(), *id))
        .collect()
}

fn decoder() -> CoinbaseDecoder {
    CoinbaseDecoder::new(symbols(), TradeSide::Taker)
}

fn sample(name: &str) -> Vec<String> {
    let path = format!(
        "{}/../testdata/exchanges/samples/coinbase/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn p(text: &str) -> Price {
    Price::parse_str(text).unwrap()
}

fn s(text: &str) -> Size {
    Size::parse_str(text).unwrap()
}

fn decode(d: &mut CoinbaseDecoder, line: &str, sink: &mut Sink) -> Result<String, DecodeError> {
    d.decode(Frame::Text(line.as_bytes()), 7, sink)
        .map(|ev| format!("{ev:?}"))
}

#[test]
fn book_samples_are_snapshots_with_exact_levels_and_sequence() {
    let lines = sample("book.jsonl");
    let mut d = decoder();
    let mut sink = Sink::default();
    let VenueEvent::Book(ev) = d
        .decode(Frame::Text(lines[0].as_bytes()), 7, &mut sink)
        .unwrap()
    else {
        panic!("not a book")
    };
    assert!(ev.snapshot);
    assert_eq!(ev.instrument_id, BTC);
    assert_eq!(ev.ts_event, 1_675_974_770_714_964_855, "ns exact");
    assert_eq!(
        ev.bids,
        [
            Level::new(p("21921.73"), s("0.06317902")),
            Level::new(p("21921.3"), s("0.02"))
        ]
    );
    assert!(ev.asks.is_empty());
    assert_eq!(sink.counters, [(ConnCounter::Sequence, 0)]);

    // The real INTX frame: `offer` sides, unsorted levels.
    let mut sink = Sink::default();
    let VenueEvent::Book(ev) = d
        .decode(Frame::Text(lines[1].as_bytes()), 7, &mut sink)
        .unwrap()
    else {
        panic!("not a book")
    };
    assert_eq!(ev.instrument_id, PERP);
    assert_eq!(
        ev.asks,
        [
            Level::new(p("79944.1"), s("1.2")),
            Level::new(p("79944"), s("0.048"))
        ]
    );
    assert_eq!(ev.bids.len(), 2);
    assert_eq!(ev.ts_event, 1_788_746_278_894_355_000);
}

#[test]
fn trade_samples_keep_ids_whole_with_the_taker_side() {
    let mut d = decoder();
    let mut sink = Sink::default();
    for line in sample("trades.jsonl") {
        decode(&mut d, &line, &mut sink).unwrap();
    }
    let trades: Vec<&TradeMsg> = sink
        .records
        .iter()
        .filter_map(|r| r.get::<TradeMsg>())
        .collect();
    let got: Vec<(u32, u64, Price, Size, u8)> = trades
        .iter()
        .map(|t| (t.hd.instrument_id, t.trade_id, t.price, t.size, t.side))
        .collect();
    assert_eq!(
        got,
        [
            (ETH, 0, p("1260.01"), s("0.3"), Side::Buy as u8),
            (
                BTC,
                892_262_231,
                p("115445.28"),
                s("0.00015604"),
                Side::Buy as u8
            ),
            (
                ETH,
                846_149_798,
                p("2668.35"),
                s("0.03710506"),
                Side::Sell as u8
            ),
            (ETH, 846_149_799, p("2668.36"), s("1"), Side::Buy as u8),
        ]
    );
    assert_eq!(trades[0].hd.ts_event, 1_565_815_347_265_000_000);
    assert_eq!(trades[1].hd.ts_event, 1_761_583_479_600_153_000);
    assert!(trades.iter().all(|t| t.hd.ts_recv == 7));
    let seqs: Vec<u64> = sink.counters.iter().map(|c| c.1).collect();
    assert_eq!(seqs, [0, 0, 5]);
    // Read as makers' sides, every side flips.
    let mut maker = CoinbaseDecoder::new(symbols(), TradeSide::Maker);
    let mut sink = Sink::default();
    decode(&mut maker, &sample("trades.jsonl")[2], &mut sink).unwrap();
    let sides: Vec<u8> = sink
        .records
        .iter()
        .filter_map(|r| r.get::<TradeMsg>())
        .map(|t| t.side)
        .collect();
    assert_eq!(sides, [Side::Buy as u8, Side::Sell as u8]);
}

#[test]
fn a_trade_snapshot_batch_is_published_oldest_first() {
    let trade = |id: u64, ts_ns: u64| encode::Trade {
        product: "BTC-USD",
        trade_id: id,
        price: p("100"),
        size: s("1"),
        side: Side::Buy,
        ts_ns,
    };
    let newest_first = [
        trade(9, 3_000),
        trade(8, 2_000),
        trade(7, 2_000),
        trade(6, 1_000),
    ];
    let mut d = decoder();
    for (snapshot, expected) in [(true, [6, 7, 8, 9]), (false, [9, 8, 7, 6])] {
        let mut sink = Sink::default();
        let frame = encode::trades(&newest_first, snapshot, 5_000, 1);
        decode(&mut d, &frame, &mut sink).unwrap();
        let ids: Vec<u64> = sink
            .records
            .iter()
            .filter_map(|r| r.get::<TradeMsg>())
            .map(|t| t.trade_id)
            .collect();
        assert_eq!(ids, expected, "snapshot {snapshot}");
    }
    // After a reconnect, the new snapshot's trades older than the newest decoded
    // (repeats, or one a lost frame carried) are left out: the stream stays in order.
    let mut sink = Sink::default();
    let again = encode::trades(
        &[trade(11, 3_500), trade(10, 3_000), trade(5, 500)],
        true,
        6_000,
        0,
    );
    assert_eq!(decode(&mut d, &again, &mut sink), Ok("Records(2)".into()));
    let ids: Vec<u64> = sink
        .records
        .iter()
        .filter_map(|r| r.get::<TradeMsg>())
        .map(|t| t.trade_id)
        .collect();
    assert_eq!(
        ids,
        [10, 11],
        "as old as the newest is kept: the feed drops repeats by id"
    );
}

#[test]
fn ticker_sample_is_a_best_bid_offer() {
    let mut d = decoder();
    let mut sink = Sink::default();
    assert_eq!(
        decode(&mut d, &sample("ticker.jsonl")[0], &mut sink),
        Ok("Records(1)".into())
    );
    let bbo = sink.records[0].get::<BboMsg>().unwrap();
    assert_eq!(bbo.hd.instrument_id, BTC);
    assert_eq!(bbo.hd.ts_event, 1_675_974_637_167_359_596);
    assert_eq!(
        (bbo.bid_price, bbo.bid_size, bbo.ask_price, bbo.ask_size),
        (
            p("21931.98"),
            s("8000.21"),
            p("21933.98"),
            s("8038.07770938")
        )
    );
    // ticker_batch without the top of book: nothing to publish.
    let batch = r#"{"channel":"ticker_batch","timestamp":"2023-02-09T20:30:37.167359596Z","sequence_num":9,"events":[{"type":"update","tickers":[{"type":"ticker","product_id":"BTC-USD","price":"21932.98"}]}]}"#;
    let mut sink = Sink::default();
    assert_eq!(decode(&mut d, batch, &mut sink), Ok("Records(0)".into()));
    assert_eq!(sink.counters, [(ConnCounter::Sequence, 9)]);
}

#[test]
fn heartbeat_samples_report_both_counters() {
    let mut d = decoder();
    let lines = sample("heartbeats.jsonl");
    let mut sink = Sink::default();
    assert_eq!(decode(&mut d, &lines[0], &mut sink), Ok("Heartbeat".into()));
    assert_eq!(
        sink.counters,
        [
            (ConnCounter::Sequence, 3),
            (ConnCounter::Heartbeat, 139_651)
        ]
    );
    let mut sink = Sink::default();
    decode(&mut d, &lines[1], &mut sink).unwrap();
    assert_eq!(sink.counters[1], (ConnCounter::Heartbeat, 3049));
    // Older docs: a string counter.
    let old = r#"{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":1,"events":[{"current_time":"x","heartbeat_counter":"3050"}]}"#;
    let mut sink = Sink::default();
    decode(&mut d, old, &mut sink).unwrap();
    assert_eq!(sink.counters[1], (ConnCounter::Heartbeat, 3050));
}

#[test]
fn control_samples_are_lists_errors_or_client_requests() {
    let mut d = decoder();
    let lines = sample("control.jsonl");
    for request in &lines[..2] {
        assert_eq!(
            decode(&mut d, request, &mut Sink::default()),
            Err(DecodeError::MissingField {
                field: "sequence_num"
            }),
            "a client request is not a server frame"
        );
    }
    let mut sink = Sink::default();
    let ev = d
        .decode(Frame::Text(lines[3].as_bytes()), 7, &mut sink)
        .unwrap();
    assert_eq!(
        ev,
        VenueEvent::Reply(ControlReply::SubscriptionList {
            id: None,
            streams: vec![
                "heartbeats".into(),
                "level2:BTC-PERP-INTX".into(),
                "level2:ETH-PERP-INTX".into()
            ]
        })
    );
    assert_eq!(sink.counters, [(ConnCounter::Sequence, 2)]);
    let ev = d
        .decode(Frame::Text(lines[4].as_bytes()), 7, &mut Sink::default())
        .unwrap();
    assert_eq!(
        ev,
        VenueEvent::Reply(ControlReply::Rejected {
            id: None,
            code: 0,
            msg: "authentication failure".into()
        })
    );
}

#[test]
fn usdc_products_are_read_under_their_usd_wire_ids() {
    let map: SymbolMap = [("ETH-USDC".to_string(), 9)].into_iter().collect();
    let mut d = CoinbaseDecoder::new(map, TradeSide::Taker);
    let mut sink = Sink::default();
    decode(&mut d, &sample("trades.jsonl")[2], &mut sink).unwrap();
    assert_eq!(sink.records.len(), 2);
    assert!(sink.records.iter().all(|r| r.header().instrument_id == 9));
    // Configured both ways, each id keeps its own product.
    let map: SymbolMap = [("ETH-USDC".to_string(), 9), ("ETH-USD".to_string(), 2)]
        .into_iter()
        .collect();
    let mut d = CoinbaseDecoder::new(map, TradeSide::Taker);
    let mut sink = Sink::default();
    decode(&mut d, &sample("trades.jsonl")[2], &mut sink).unwrap();
    assert!(sink.records.iter().all(|r| r.header().instrument_id == 2));
}

#[test]
fn candles_close_into_venue_bars_when_the_next_begins() {
    let mut d = decoder();
    let mut sink = Sink::default();
    let px = |v: &str| p(v);
    let frames = [
        encode::candle(
            "BTC-USD",
            1_688_998_200,
            [px("10"), px("12"), px("9"), px("11")],
            s("1.5"),
            1,
            1,
        ),
        encode::candle(
            "BTC-USD",
            1_688_998_200,
            [px("10"), px("13"), px("9"), px("12")],
            s("2"),
            2,
            2,
        ),
        encode::candle(
            "BTC-USD",
            1_688_998_500,
            [px("12"), px("12"), px("12"), px("12")],
            s("0.1"),
            3,
            3,
        ),
    ];
    let events: Vec<String> = frames
        .iter()
        .map(|f| decode(&mut d, f, &mut sink).unwrap())
        .collect();
    assert_eq!(events, ["Records(0)", "Records(0)", "Records(1)"]);
    let bar = sink.records[0].get::<BarMsg>().unwrap();
    assert!(bar.hd.flags.contains(Flags::VENUE_BAR));
    assert_eq!(bar.hd.ts_event, 1_688_998_200_000_000_000);
    assert_eq!(
        (bar.interval_s, bar.high, bar.close, bar.volume),
        (300, px("13"), px("12"), s("2"))
    );
}

#[test]
fn a_book_follows_snapshot_then_absolute_updates_and_resyncs_on_a_connection_gap() {
    let mut d = decoder();
    let mut book = BookSync::new(Venue::Coinbase, BTC, CoinbaseRule, 64);
    let mut out = Vec::new();
    let lv = |px: &str, sz: &str| Level::new(p(px), s(sz));
    let frames = [
        encode::l2(
            "BTC-USD",
            true,
            &[lv("100", "1"), lv("99", "2")],
            &[lv("101", "1")],
            1,
            0,
        ),
        encode::l2(
            "BTC-USD",
            false,
            &[lv("100", "0"), lv("99", "5")],
            &[lv("100.5", "3")],
            2,
            1,
        ),
    ];
    for f in &frames {
        let VenueEvent::Book(ev) = d
            .decode(Frame::Text(f.as_bytes()), 9, &mut Sink::default())
            .unwrap()
        else {
            panic!("book")
        };
        assert_eq!(book.on_event(&ev, 9, &mut out), SyncAction::None);
    }
    assert_eq!(book.state(), SyncState::Synced);
    let bids: Vec<Level> = book.book().bids().collect();
    let asks: Vec<Level> = book.book().asks().collect();
    assert_eq!(bids, [lv("99", "5")]);
    assert_eq!(asks, [lv("100.5", "3"), lv("101", "1")]);
    // The connection lost a message: the book resyncs by resubscribing, once.
    assert_eq!(
        book.on_connection_gap(10, &mut out),
        SyncAction::Resubscribe
    );
    assert_eq!(book.state(), SyncState::AwaitingSnapshot);
    let f = encode::l2("BTC-USD", false, &[lv("98", "1")], &[], 3, 5);
    let VenueEvent::Book(ev) = d
        .decode(Frame::Text(f.as_bytes()), 9, &mut Sink::default())
        .unwrap()
    else {
        panic!("book")
    };
    assert_eq!(
        book.on_event(&ev, 11, &mut out),
        SyncAction::None,
        "asked already"
    );
    let f = encode::l2("BTC-USD", true, &[lv("97", "1")], &[lv("98.5", "1")], 4, 6);
    let VenueEvent::Book(ev) = d
        .decode(Frame::Text(f.as_bytes()), 9, &mut Sink::default())
        .unwrap()
    else {
        panic!("book")
    };
    assert_eq!(book.on_event(&ev, 12, &mut out), SyncAction::None);
    assert_eq!(book.state(), SyncState::Synced);
    assert_eq!(book.book().bids().collect::<Vec<_>>(), [lv("97", "1")]);
    // A gap while still waiting for the image asks again (the lost frame may have been it).
    assert_eq!(
        book.on_connection_gap(13, &mut out),
        SyncAction::Resubscribe
    );
    assert_eq!(
        book.on_connection_gap(14, &mut out),
        SyncAction::Resubscribe
    );
}

fn lv(price: &str, size: &str) -> Level {
    Level::new(p(price), s(size))
}

/// `(instrument, snapshot, bids, asks)` of a book event.
fn book_of(ev: VenueEvent<'_>) -> (u32, bool, Vec<Level>, Vec<Level>) {
    let VenueEvent::Book(b) = ev else {
        panic!("not a book event: {ev:?}")
    };
    (
        b.instrument_id,
        b.snapshot,
        b.bids.to_vec(),
        b.asks.to_vec(),
    )
}

#[test]
fn an_l2_frame_with_several_products_is_one_book_message_each() {
    // BTC's snapshot in two events (joined), ETH's snapshot, an unknown product, then
    // a BTC update: four messages, in frame order, the frame's one sequence number.
    let frame = r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50.5Z","sequence_num":4,"events":[
        {"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"100","new_quantity":"1"}]},
        {"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"offer","event_time":"1970-01-01T00:00:00Z","price_level":"101","new_quantity":"2"}]},
        {"type":"snapshot","product_id":"ETH-USD","updates":[{"side":"offer","event_time":"1970-01-01T00:00:00Z","price_level":"11","new_quantity":"3"},{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"10","new_quantity":"4"}]},
        {"type":"update","product_id":"DOGE-USD","updates":[{"side":"bid","event_time":"2023-02-09T20:32:50Z","price_level":"0.1","new_quantity":"5"}]},
        {"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"2023-02-09T20:32:50Z","price_level":"100","new_quantity":"0"}]}
    ]}"#;
    let mut d = decoder();
    let mut sink = Sink::default();
    let first = book_of(
        d.decode(Frame::Text(frame.as_bytes()), 7, &mut sink)
            .unwrap(),
    );
    assert_eq!(sink.counters, [(ConnCounter::Sequence, 4)]);
    assert_eq!(
        first,
        (BTC, true, vec![lv("100", "1")], vec![lv("101", "2")])
    );
    let eth = d.next_event().map(book_of);
    assert_eq!(
        eth,
        Some((ETH, true, vec![lv("10", "4")], vec![lv("11", "3")]))
    );
    assert!(matches!(d.next_event(), Some(VenueEvent::UnknownSymbol)));
    let VenueEvent::Book(update) = d.next_event().expect("the BTC update") else {
        panic!("not a book")
    };
    assert_eq!((update.instrument_id, update.snapshot), (BTC, false));
    // BTC's second message of the frame: its ids follow on.
    assert_eq!((update.first, update.prev), (2, Some(1)));
    assert_eq!(update.bids, [lv("100", "0")]);
    assert_eq!(update.ts_event, 1_675_974_770_500_000_000);
    assert!(d.next_event().is_none());
    // A later frame of another channel hands out nothing of this one.
    d.decode(Frame::Text(frame.as_bytes()), 7, &mut sink)
        .unwrap();
    let beat = r#"{"channel":"heartbeats","timestamp":"2023-02-09T20:32:51Z","sequence_num":5,"events":[{"current_time":"x","heartbeat_counter":9}]}"#;
    d.decode(Frame::Text(beat.as_bytes()), 7, &mut sink)
        .unwrap();
    assert!(d.next_event().is_none());
}

#[test]
fn hostile_frames_give_typed_errors() {
    let mut d = decoder();
    let cases: &[(&str, DecodeError)] = &[
        (
            r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","events":[]}"#,
            DecodeError::MissingField {
                field: "sequence_num",
            },
        ),
        (
            r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1}"#,
            DecodeError::MissingField { field: "events" },
        ),
        (
            r#"{"channel":"l2_data","timestamp":"2023-02-09 20:32:50Z","sequence_num":1,"events":[]}"#,
            DecodeError::OutOfRange { field: "timestamp" },
        ),
        (
            r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[]}"#,
            DecodeError::MissingField { field: "events" },
        ),
        (
            r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"middle","price_level":"1","new_quantity":"1"}]}]}"#,
            DecodeError::OutOfRange { field: "side" },
        ),
        (
            r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[]},{"type":"snapshot","updates":[]}]}"#,
            DecodeError::MissingField {
                field: "product_id",
            },
        ),
        (
            r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"delta","product_id":"BTC-USD","updates":[]}]}"#,
            DecodeError::UnknownEvent {
                event: tickd_normalizer::error::ShortText::new("delta"),
            },
        ),
        (
            r#"{"channel":"market_trades","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"update","trades":[{"trade_id":"x1","product_id":"BTC-USD","price":"1","size":"1","side":"BUY","time":"2023-02-09T20:32:50Z"}]}]}"#,
            DecodeError::OutOfRange { field: "trade_id" },
        ),
        (
            r#"{"channel":"market_trades","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"update","trades":[{"trade_id":"1","product_id":"BTC-USD","price":"1","size":"1","side":"BUY"}]}]}"#,
            DecodeError::MissingField { field: "time" },
        ),
        (
            r#"{"channel":"heartbeats","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"heartbeat_counter":-4}]}"#,
            DecodeError::OutOfRange {
                field: "heartbeat_counter",
            },
        ),
        (
            r#"{"channel":"candles","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"update","candles":[{"start":"99999999999999999999","open":"1","high":"1","low":"1","close":"1","volume":"1","product_id":"BTC-USD"}]}]}"#,
            DecodeError::OutOfRange { field: "start" },
        ),
        (
            r#"{"channel":"level3","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[]}"#,
            DecodeError::UnknownEvent {
                event: tickd_normalizer::error::ShortText::new("level3"),
            },
        ),
        (r#"{"type":"subscribe"}"#, DecodeError::UnknownMessage),
    ];
    for (frame, expected) in cases {
        let mut sink = Sink::default();
        assert_eq!(
            decode(&mut d, frame, &mut sink).as_ref(),
            Err(expected),
            "{frame}"
        );
        assert!(
            sink.counters.is_empty(),
            "a rejected frame reports no counter: {frame}"
        );
    }
    let bad_decimal = r#"{"channel":"ticker","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"update","tickers":[{"product_id":"BTC-USD","best_bid":"1..2","best_ask":"3"}]}]}"#;
    assert!(matches!(
        decode(&mut d, bad_decimal, &mut Sink::default()),
        Err(DecodeError::BadDecimal { .. })
    ));
    assert!(matches!(
        decode(&mut d, "{", &mut Sink::default()),
        Err(DecodeError::MalformedJson { .. })
    ));
    assert!(matches!(
        d.decode(Frame::Binary(b"\x1f\x8b"), 0, &mut Sink::default()),
        Err(DecodeError::UnexpectedBinary { len: 2 })
    ));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(decode(&mut d, &deep, &mut Sink::default()).is_err());
    let huge = vec![b' '; tickd_normalizer::coinbase::MAX_FRAME_BYTES + 1];
    assert!(matches!(
        d.decode(Frame::Text(&huge), 0, &mut Sink::default()),
        Err(DecodeError::FrameTooLarge { .. })
    ));
}

fn all_samples() -> Vec<String> {
    [
        "book.jsonl",
        "control.jsonl",
        "heartbeats.jsonl",
        "ticker.jsonl",
        "trades.jsonl",
    ]
    .iter()
    .flat_map(|f| sample(f))
    .collect()
}

#[test]
fn every_sample_truncated_at_every_byte_is_an_error_or_a_prefix_that_decodes() {
    let mut d = decoder();
    for line in all_samples() {
        for cut in 0..line.len() {
            let mut sink = Sink::default();
            // Never a panic; a cut frame is not valid JSON.
            let result = d.decode(Frame::Text(&line.as_bytes()[..cut]), 0, &mut sink);
            assert!(result.is_err(), "{cut}: {line}");
            assert!(sink.records.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_and_mutated_samples_never_panic(
        pick in 0usize..13,
        at in 0usize..4096,
        byte in any::<u8>(),
        noise in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let lines = all_samples();
        let mut d = decoder();
        let mut line = lines[pick % lines.len()].clone().into_bytes();
        let at = at % line.len();
        line[at] = byte;
        let _ = d.decode(Frame::Text(&line), 0, &mut Sink::default());
        let _ = d.decode(Frame::Text(&noise), 0, &mut Sink::default());
        let _ = d.decode(Frame::Binary(&noise), 0, &mut Sink::default());
    }

    #[test]
    fn encoded_trades_read_back_exactly(
        id in any::<u64>(),
        price in 1i64..1_000_000_000,
        size in 1i64..1_000_000_000,
        ts in 0u64..4_000_000_000_000_000_000,
        sell in any::<bool>(),
    ) {
        let trade = encode::Trade {
            product: "BTC-USD",
            trade_id: id,
            price: Price::from_raw(i128::from(price) * 10_000_000),
            size: Size::from_raw(i128::from(size) * 10_000_000_000),
            side: if sell { Side::Sell } else { Side::Buy },
            ts_ns: ts - ts % 1000,
        };
        let frame = encode::trades(std::slice::from_ref(&trade), false, ts, 3);
        let mut d = decoder();
        let mut sink = Sink::default();
        d.decode(Frame::Text(frame.as_bytes()), 0, &mut sink).unwrap();
        let t = sink.records[0].get::<TradeMsg>().unwrap();
        prop_assert_eq!((t.trade_id, t.price, t.size, t.side, t.hd.ts_event), (id, trade.price, trade.size, trade.side as u8, trade.ts_ns));
        prop_assert_eq!(&sink.counters, &vec![(ConnCounter::Sequence, 3)]);
    }
}
