//! A Coinbase capture of two connections replays through the same engine as live:
//! the products list, each connection's subscriptions ack, the real sample frames
//! (renumbered into each connection's `sequence_num`), a channel tickd was not asked
//! for (`candles`), heartbeats, a truncated frame whose hole in connection 2's
//! sequence resyncs connection 2's book only, and a reconnect of connection 1 whose
//! trade snapshot batch repeats trades already published. Every frame but the
//! truncated one decodes, every trade is published once, no book is ever crossed.

use std::collections::BTreeMap;

mod replay_common;

use replay_common::{capture_line, replay, statuses, testdata};
use tickd_bus::record::{BarMsg, BboMsg, StatusKind, StatusMsg, StatusReason, TradeMsg};
use tickd_bus::{Flags, Price, RecordType, Size, Venue};
use tickd_feed::capture::{CaptureKind, CaptureLine};
use tickd_normalizer::book::BookReplay;
use tickd_normalizer::coinbase::encode;
use tickd_normalizer::Level;

fn sample(name: &str) -> Vec<String> {
    testdata(&format!("exchanges/samples/coinbase/{name}"))
        .lines()
        .map(str::to_string)
        .collect()
}

/// A sample frame carrying `seq` as its `sequence_num` instead of its own.
fn with_seq(frame: &str, seq: u64) -> String {
    let key = "\"sequence_num\":";
    let start = frame.find(key).expect("sequence_num") + key.len();
    let digits = frame[start..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    format!("{}{seq}{}", &frame[..start], &frame[start + digits..])
}

const WS: &str = "wss://advanced-trade-ws.coinbase.com";

fn line(ts: u64, conn: u64, kind: CaptureKind, data: &str) -> CaptureLine {
    let url = if kind == CaptureKind::Rest {
        "https://api.coinbase.com/api/v3/brokerage/market/products"
    } else {
        WS
    };
    capture_line("coinbase", ts, conn, kind, url, data)
}

fn p(text: &str) -> Price {
    Price::parse_str(text).unwrap()
}

fn lv(price: &str, size: &str) -> Level {
    Level::new(p(price), Size::parse_str(size).unwrap())
}

fn trade(product: &'static str, id: u64, price: &str) -> encode::Trade<'static> {
    encode::Trade {
        product,
        trade_id: id,
        price: p(price),
        size: Size::parse_str("0.5").unwrap(),
        side: tickd_bus::record::Side::Buy,
        ts_ns: 1_761_583_480_000_000_000,
    }
}

/// Two connections' frames, in arrival order.
fn capture() -> Vec<CaptureLine> {
    let (book, trades, beats, ticker, control) = (
        sample("book.jsonl"),
        sample("trades.jsonl"),
        sample("heartbeats.jsonl"),
        sample("ticker.jsonl"),
        sample("control.jsonl"),
    );
    let t = 1_761_583_479_000_000_000;
    let ack = |conn: &str, seq| {
        encode::subscriptions(
            &[
                ("heartbeats", vec!["heartbeats".to_string()]),
                ("level2", vec![conn.to_string()]),
                ("market_trades", vec![conn.to_string()]),
            ],
            t,
            seq,
        )
    };
    let mut ts = 0;
    let mut next = || {
        ts += 1;
        ts
    };
    let mut out = vec![
        line(
            next(),
            0,
            CaptureKind::Rest,
            &testdata("exchanges/fixtures/coinbase_products.json"),
        ),
        line(next(), 1, CaptureKind::Connect, "startup"),
        line(next(), 2, CaptureKind::Connect, "startup"),
    ];
    let ws = |out: &mut Vec<CaptureLine>, ts, conn, data: String| {
        out.push(line(ts, conn, CaptureKind::Ws, &data));
    };
    // Connection 1: BTC-USD.
    ws(&mut out, next(), 1, ack("BTC-USD", 0));
    ws(&mut out, next(), 1, with_seq(&book[0], 1));
    ws(
        &mut out,
        next(),
        1,
        encode::l2(
            "BTC-USD",
            false,
            &[lv("21921.3", "0")],
            &[lv("21922.5", "1.25")],
            t + 1,
            2,
        ),
    );
    ws(&mut out, next(), 1, with_seq(&trades[1], 3));
    // Connection 2: ETH-USD, interleaved.
    ws(&mut out, next(), 2, ack("ETH-USD", 0));
    ws(
        &mut out,
        next(),
        2,
        encode::l2(
            "ETH-USD",
            true,
            &[lv("2668.35", "4"), lv("2668.3", "2")],
            &[lv("2668.36", "3")],
            t,
            1,
        ),
    );
    ws(&mut out, next(), 2, with_seq(&trades[0], 2));
    ws(&mut out, next(), 1, with_seq(&beats[0], 4));
    ws(&mut out, next(), 1, with_seq(&ticker[0], 5));
    ws(&mut out, next(), 2, with_seq(&trades[2], 3));
    // Candles: a channel tickd did not ask for; the second closes the first.
    ws(
        &mut out,
        next(),
        1,
        encode::candle(
            "BTC-USD",
            1_761_583_200,
            [p("21900"), p("21950"), p("21890"), p("21921")],
            Size::parse_str("12.5").unwrap(),
            t,
            6,
        ),
    );
    ws(
        &mut out,
        next(),
        1,
        encode::candle(
            "BTC-USD",
            1_761_583_500,
            [p("21921"), p("21921"), p("21921"), p("21921")],
            Size::parse_str("0.1").unwrap(),
            t,
            7,
        ),
    );
    ws(
        &mut out,
        next(),
        1,
        beats[0]
            .replace("139651", "139652")
            .replace("\"sequence_num\":3", "\"sequence_num\":8"),
    );
    ws(
        &mut out,
        next(),
        2,
        encode::l2(
            "ETH-USD",
            false,
            &[lv("2668.3", "0")],
            &[lv("2668.4", "1")],
            t + 2,
            4,
        ),
    );
    // A truncated frame (seq 5): one decode error, then the hole shows at seq 6.
    let truncated = encode::l2("ETH-USD", false, &[lv("2668.2", "1")], &[], t + 3, 5);
    ws(
        &mut out,
        next(),
        2,
        truncated[..truncated.len() / 2].to_string(),
    );
    ws(
        &mut out,
        next(),
        2,
        encode::l2("ETH-USD", false, &[lv("2668.1", "1")], &[], t + 4, 6),
    );
    // The resubscription's image.
    ws(
        &mut out,
        next(),
        2,
        encode::l2(
            "ETH-USD",
            true,
            &[lv("2668.35", "5")],
            &[lv("2668.37", "1")],
            t + 5,
            7,
        ),
    );
    ws(
        &mut out,
        next(),
        1,
        encode::trades(
            &[trade("BTC-USD", 892_262_232, "21921.73")],
            false,
            t + 6,
            9,
        ),
    );
    // Connection 1 drops and comes back: its sequence restarts, the book arrives
    // again and the trade snapshot repeats the two trades already published.
    out.push(line(next(), 1, CaptureKind::Disconnect, "connection_lost"));
    out.push(line(next(), 1, CaptureKind::Connect, "connection_lost"));
    ws(
        &mut out,
        next(),
        1,
        with_seq(&control[3], 0)
            .replace("BTC-PERP-INTX", "BTC-USD")
            .replace(",\"ETH-PERP-INTX\"", ""),
    );
    ws(
        &mut out,
        next(),
        1,
        encode::l2(
            "BTC-USD",
            true,
            &[lv("21921.73", "1")],
            &[lv("21922.5", "2")],
            t + 7,
            1,
        ),
    );
    ws(
        &mut out,
        next(),
        1,
        encode::trades(
            &[
                trade("BTC-USD", 892_262_233, "21922.5"),
                trade("BTC-USD", 892_262_232, "21921.73"),
                trade("BTC-USD", 892_262_231, "115445.28"),
            ],
            true,
            t + 8,
            2,
        ),
    );
    out
}

#[test]
fn a_two_connection_capture_replays_with_gaps_scoped_and_trades_once() {
    let r = replay(&capture());
    let venue = &r.stats.venues["coinbase"];
    assert_eq!(
        venue.decode_errors, 1,
        "the truncated frame only: {venue:?}"
    );
    assert_eq!(venue.unknown_symbols, 0, "{venue:?}");
    assert_eq!(venue.books_never_synced, Vec::<String>::new());
    let id = |s: &str| r.registry.resolve(Venue::Coinbase, s).expect(s).id;
    let (btc, eth) = (id("BTC-USD"), id("ETH-USD"));

    // Every trade once, the reconnect's snapshot repeats dropped.
    let mut trades: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for t in r.records.iter().filter_map(|r| r.get::<TradeMsg>()) {
        trades
            .entry(t.hd.instrument_id)
            .or_default()
            .push(t.trade_id);
    }
    assert_eq!(trades[&btc], [892_262_231, 892_262_232, 892_262_233]);
    assert_eq!(trades[&eth], [0, 846_149_798, 846_149_799]);
    assert_eq!(venue.duplicates, 2);

    // The hole on connection 2 resynced ETH-USD only; BTC-USD saw only its own
    // connection's loss.
    assert_eq!(
        statuses(&r.records, eth),
        [
            (StatusKind::Gap, StatusReason::SequenceGap),
            (StatusKind::BookResync, StatusReason::SequenceGap)
        ]
    );
    assert_eq!(
        statuses(&r.records, btc),
        [(StatusKind::BookResync, StatusReason::ConnectionLost)]
    );
    let conn_gaps: Vec<(u32, u64, u64)> = r
        .records
        .iter()
        .filter_map(|r| r.get::<StatusMsg>())
        .filter(|s| s.hd.instrument_id == 0 && s.kind() == Some(StatusKind::Gap))
        .map(|s| (s.conn, s.lost, s.detail))
        .collect();
    assert!(
        conn_gaps.contains(&(2, 1, 5)),
        "connection 2 lost seq 5: {conn_gaps:?}"
    );

    // Books rebuilt from the published deltas: never crossed, at the last image.
    let mut books: BTreeMap<u32, BookReplay> = BTreeMap::new();
    for rec in &r.records {
        if rec.header().rtype == RecordType::BookDelta as u8 {
            let book = books.entry(rec.header().instrument_id).or_default();
            book.apply_record(rec).unwrap();
            assert!(!book.book().is_crossed(), "crossed after {rec:?}");
        }
        if let Some(bbo) = rec.get::<BboMsg>() {
            assert!(
                bbo.bid_price == Price::UNDEF
                    || bbo.ask_price == Price::UNDEF
                    || bbo.bid_price < bbo.ask_price,
                "{bbo:?}"
            );
        }
    }
    let eth_book = books[&eth].book();
    assert_eq!(eth_book.bids().collect::<Vec<_>>(), [lv("2668.35", "5")]);
    assert_eq!(eth_book.asks().collect::<Vec<_>>(), [lv("2668.37", "1")]);
    assert_eq!(
        books[&btc].book().bids().collect::<Vec<_>>(),
        [lv("21921.73", "1")]
    );

    // The ticker's best bid/offer and the venue's 5-minute candle.
    assert!(r
        .records
        .iter()
        .filter_map(|r| r.get::<BboMsg>())
        .any(|b| b.bid_price == p("21931.98")));
    let bars: Vec<&BarMsg> = r.records.iter().filter_map(|r| r.get::<BarMsg>()).collect();
    assert_eq!(bars.len(), 1);
    assert!(bars[0].hd.flags.contains(Flags::VENUE_BAR));
    assert_eq!((bars[0].interval_s, bars[0].high), (300, p("21950")));
}

#[test]
fn without_the_hole_nothing_resyncs() {
    let lines: Vec<CaptureLine> = capture()
        .into_iter()
        .filter(|l| {
            !(l.kind == CaptureKind::Ws && l.conn == 2 && l.data.contains("\"sequence_num\":5"))
        })
        .map(|mut l| {
            // Renumber connection 2's frames after the removed one.
            if l.kind == CaptureKind::Ws && l.conn == 2 {
                for (from, to) in [(6, 5), (7, 6)] {
                    l.data = l.data.replace(
                        &format!("\"sequence_num\":{from},"),
                        &format!("\"sequence_num\":{to},"),
                    );
                }
            }
            l
        })
        .collect();
    let r = replay(&lines);
    let venue = &r.stats.venues["coinbase"];
    assert_eq!(venue.decode_errors, 0);
    let eth = r.registry.resolve(Venue::Coinbase, "ETH-USD").unwrap().id;
    assert!(
        statuses(&r.records, eth).is_empty(),
        "{:?}",
        statuses(&r.records, eth)
    );
}
