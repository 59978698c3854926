//! A Kraken capture replays through the same engine as live: the instrument list
//! (REST AssetPairs, each pair's precision), the subscribe acks (the book depth) and
//! the 510 real book messages of `samples/kraken/book.jsonl`, verified by checksum;
//! a changed digit resyncs that one pair (gap and resync statuses) and nothing else.

mod replay_common;

use replay_common::{capture_line, replay, statuses, testdata};
use tickd_bus::record::{StatusKind, StatusReason, TradeMsg};
use tickd_bus::{RecordBuf, RecordType};
use tickd_feed::capture::{CaptureKind, CaptureLine};
use tickd_normalizer::book::BookReplay;
use tickd_normalizer::kraken::{checksum, Precision};

fn line(ts: u64, conn: u64, kind: CaptureKind, url: &str, data: &str) -> CaptureLine {
    capture_line("kraken", ts, conn, kind, url, data)
}

const WS: &str = "wss://ws.kraken.com/v2";

/// A capture as the live feed records it: the pair list, a connection, acks, the
/// real book messages with a trade and an ETH/EUR update in between.
fn capture(book_lines: &[String]) -> Vec<CaptureLine> {
    let mut out = vec![
        line(
            1,
            0,
            CaptureKind::Rest,
            "https://api.kraken.com/0/public/AssetPairs",
            &testdata("exchanges/fixtures/kraken_asset_pairs.json"),
        ),
        line(2, 1, CaptureKind::Connect, WS, "startup"),
        line(
            3,
            1,
            CaptureKind::Ws,
            WS,
            r#"{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":1,"system":"online","version":"2.0.0"}]}"#,
        ),
        line(
            4,
            1,
            CaptureKind::Ws,
            WS,
            r#"{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2023-07-30T15:29:58.000000Z","time_out":"2023-07-30T15:29:58.000001Z"}"#,
        ),
        line(
            5,
            1,
            CaptureKind::Ws,
            WS,
            r#"{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,"symbol":"ETH/EUR"},"success":true,"time_in":"2023-07-30T15:29:58.000000Z","time_out":"2023-07-30T15:29:58.000001Z"}"#,
        ),
        line(
            6,
            1,
            CaptureKind::Ws,
            WS,
            r#"{"channel":"book","type":"snapshot","data":[{"symbol":"ETH/EUR","bids":[{"price":1700.5,"qty":1.0}],"asks":[{"price":1700.6,"qty":2.5}],"checksum":2117313255,"timestamp":"2023-07-30T15:29:58.343415Z"}]}"#,
        ),
    ];
    for (i, text) in book_lines.iter().enumerate() {
        out.push(line(10 + i as u64, 1, CaptureKind::Ws, WS, text));
        if i == 100 {
            out.push(line(10 + i as u64, 1, CaptureKind::Ws, WS, r#"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":29430.2,"qty":0.001,"ord_type":"market","trade_id":77,"timestamp":"2023-07-30T15:30:01.581227Z"}]}"#));
        }
        if i == 200 {
            out.push(line(10 + i as u64, 1, CaptureKind::Ws, WS, heartbeat()));
        }
    }
    out
}

fn heartbeat() -> &'static str {
    r#"{"channel":"heartbeat"}"#
}

fn book_of(records: &[RecordBuf], instrument: u32) -> BookReplay {
    let mut book = BookReplay::new();
    for r in records {
        if r.header().instrument_id == instrument && r.header().rtype == RecordType::BookDelta as u8
        {
            book.apply_record(r).unwrap();
        }
    }
    book
}

fn last_checksum(text: &str) -> u32 {
    text.split("\"checksum\":")
        .nth(1)
        .unwrap()
        .split([',', '}'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_kraken_capture_replays_with_every_checksum_verified() {
    let book_lines: Vec<String> = testdata("exchanges/samples/kraken/book.jsonl")
        .lines()
        .map(str::to_string)
        .collect();
    let r = replay(&capture(&book_lines));
    let venue = &r.stats.venues["kraken"];
    assert_eq!(venue.decode_errors, 0, "{venue:?}");
    assert_eq!(venue.unknown_symbols, 0, "{venue:?}");
    let btc = r
        .registry
        .resolve(tickd_bus::Venue::Kraken, "BTC-USD")
        .expect("BTC/USD registered")
        .id;
    assert!(
        statuses(&r.records, btc).is_empty(),
        "{:?}",
        statuses(&r.records, btc)
    );
    // The published deltas rebuild the book whose checksum Kraken sent last.
    let book = book_of(&r.records, btc);
    let precision = Precision { price: 1, qty: 8 };
    assert_eq!(
        checksum::of_book(book.book(), precision),
        last_checksum(book_lines.last().unwrap())
    );
    let trades: Vec<&TradeMsg> = r
        .records
        .iter()
        .filter_map(|r| r.get::<TradeMsg>())
        .collect();
    assert_eq!(trades.len(), 1);
    assert_eq!(trades[0].trade_id, 77);
}

#[test]
fn a_changed_digit_in_the_capture_resyncs_that_pair_only() {
    let mut book_lines: Vec<String> = testdata("exchanges/samples/kraken/book.jsonl")
        .lines()
        .map(str::to_string)
        .collect();
    assert!(book_lines[2].contains("8.25182177"));
    book_lines[2] = book_lines[2].replace("8.25182177", "8.25182178");
    let r = replay(&capture(&book_lines));
    let btc = r
        .registry
        .resolve(tickd_bus::Venue::Kraken, "BTC-USD")
        .unwrap()
        .id;
    let eth = r
        .registry
        .resolve(tickd_bus::Venue::Kraken, "ETH-EUR")
        .unwrap()
        .id;
    assert_eq!(
        statuses(&r.records, btc),
        [
            (StatusKind::Gap, StatusReason::ChecksumMismatch),
            (StatusKind::BookResync, StatusReason::ChecksumMismatch)
        ]
    );
    assert!(statuses(&r.records, eth).is_empty());
    assert_eq!(
        r.stats.venues["kraken"].books_never_synced,
        Vec::<String>::new()
    );
}

/// `ohlc` (subscribed with `venue_bars_minutes`) through the engine: the candles the
/// simulator's encoder writes become one venue bar per finished interval, with the
/// final values of the interval's last update.
#[test]
fn ohlc_candles_become_venue_bars_through_the_engine() {
    use tickd_bus::record::BarMsg;
    use tickd_bus::{Flags, Price, Size};
    use tickd_normalizer::kraken::encode;
    let p = |s: &str| Price::parse_str(s).unwrap();
    let minute = 60_000_000_000u64;
    let begin = 1_696_436_700 * 1_000_000_000u64; // a whole minute
    let candle = |begin_ns: u64, close: &str, volume: &str, trades: u32| {
        encode::ohlc(
            "BTC/USD",
            [p("29430.2"), p("29440"), p("29420.1"), p(close)],
            p("29431"),
            Size::parse_str(volume).unwrap(),
            trades,
            begin_ns,
            1,
            begin_ns + 1_000_000_000,
        )
    };
    let mut lines = vec![
        line(
            1,
            0,
            CaptureKind::Rest,
            "https://api.kraken.com/0/public/AssetPairs",
            &testdata("exchanges/fixtures/kraken_asset_pairs.json"),
        ),
        line(2, 1, CaptureKind::Connect, WS, "startup"),
        line(
            3,
            1,
            CaptureKind::Ws,
            WS,
            &encode::ack("subscribe", "ohlc", "BTC/USD", None, Some(4)),
        ),
    ];
    for (i, text) in [
        candle(begin, "29425.5", "0.5", 3),
        candle(begin, "29433.3", "1.25", 5),
        // The next minute begins: the first candle is final.
        candle(begin + minute, "29433.3", "0.01", 1),
    ]
    .iter()
    .enumerate()
    {
        lines.push(line(4 + i as u64, 1, CaptureKind::Ws, WS, text));
    }
    let r = replay(&lines);
    assert_eq!(r.stats.venues["kraken"].decode_errors, 0);
    let bars: Vec<&BarMsg> = r.records.iter().filter_map(|r| r.get::<BarMsg>()).collect();
    assert_eq!(bars.len(), 1, "one finished interval");
    let bar = bars[0];
    assert!(bar.hd.flags.contains(Flags::VENUE_BAR));
    assert_eq!(
        (bar.hd.ts_event, bar.interval_s, bar.trade_count),
        (begin, 60, 5)
    );
    assert_eq!(bar.close, p("29433.3"));
    assert_eq!(bar.volume, Size::parse_str("1.25").unwrap());
}
