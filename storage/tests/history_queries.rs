//! Trades, best bid/offer, the book at a time, symbols and time ranges from the
//! history API, against journals written by the real writer.

mod history_support;

use history_support::*;
use tickd_bus::record::{BboMsg, BookSide, StatusKind, StatusMsg};
use tickd_bus::{Flags, Price, RecordBuf, RecordHeader, Size, Venue};
use tickd_normalizer::book::image::{clear_delta, set_delta, Stamp};
use tickd_normalizer::book::{L2Book, Level};
use tickd_storage::history::{History, HistoryError, RangeQuery};

fn range(venue: Venue, id: u32, from_ns: u64, to_ns: u64) -> RangeQuery {
    RangeQuery {
        venue,
        instrument_id: id,
        from_ns,
        to_ns,
    }
}

#[test]
fn trades_in_a_range_for_one_instrument() {
    let dir = tempfile::tempdir().unwrap();
    registry(dir.path());
    let mut trades = Vec::new();
    for i in 0..300u64 {
        let venue = if i % 5 == 0 {
            Venue::Okx
        } else {
            Venue::Binance
        };
        trades.push(trade(venue, 1 + (i % 2) as u32, JAN1 + i * SEC, "10", "1"));
    }
    write_plain(dir.path(), &bufs(&trades));
    let history = History::open(dir.path()).unwrap();
    let got: Vec<u64> = history
        .trades(&range(Venue::Binance, 1, JAN1 + 12 * SEC, JAN1 + 18 * SEC))
        .unwrap()
        .map(|t| {
            assert_eq!((t.hd.venue, t.hd.instrument_id), (Venue::Binance as u8, 1));
            (t.hd.ts_event - JAN1) / SEC
        })
        .collect();
    // Half-open: 12 is in, 18 is out; odd i are id 2, multiples of 5 are okx.
    assert_eq!(got, [12, 14, 16]);
    let all = history
        .trades(&range(Venue::Binance, 2, 0, u64::MAX))
        .unwrap()
        .count();
    assert_eq!(all, 120);
    assert!(matches!(
        history.trades(&range(Venue::Binance, 1, JAN1, JAN1)),
        Err(HistoryError::BadRange { .. })
    ));
    assert_eq!(
        history.time_range(Venue::Binance, 1),
        Some((JAN1 + 2 * SEC, JAN1 + 298 * SEC))
    );
    assert_eq!(history.time_range(Venue::Kraken, 1), None);
    assert_eq!(history.venues_with_data(), [Venue::Binance, Venue::Okx]);
}

fn bbo(id: u32, ts: u64, bid: i64, ask: i64) -> BboMsg {
    BboMsg {
        hd: RecordHeader::new::<BboMsg>(Venue::Binance, id, ts, ts + 5),
        bid_price: Price::from_int(bid).unwrap(),
        bid_size: Size::from_int(1).unwrap(),
        ask_price: Price::from_int(ask).unwrap(),
        ask_size: Size::from_int(2).unwrap(),
    }
}

#[test]
fn bbo_in_a_range_across_a_day_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let day = 86_400 * SEC;
    let records: Vec<RecordBuf> = (0..40u64)
        .map(|i| {
            RecordBuf::new(&bbo(
                1 + (i % 2) as u32,
                JAN1 + day - 20 * SEC + i * SEC,
                100 + i as i64,
                200,
            ))
        })
        .collect();
    write_with_bars(dir.path(), &records);
    let history = History::open(dir.path()).unwrap();
    let got: Vec<i128> = history
        .bbo(&range(
            Venue::Binance,
            1,
            JAN1 + day - 10 * SEC,
            JAN1 + day + 10 * SEC,
        ))
        .unwrap()
        .map(|b| b.bid_price.raw() / Price::ONE_RAW - 100)
        .collect();
    assert_eq!(got, [10, 12, 14, 16, 18, 20, 22, 24, 26, 28]);
}

#[test]
fn unknown_symbols_list_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(dir.path()).unwrap();
    let err = history
        .resolve(Venue::Binance, "BTC-USDT")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no instrument registry at"), "{err}");
    assert!(err.contains("instruments.json"), "{err}");

    registry(dir.path());
    let history = History::open(dir.path()).unwrap();
    assert_eq!(history.resolve(Venue::Binance, "btc-usdt").unwrap().id, 1);
    assert_eq!(history.resolve(Venue::Binance, "ETHUSDT").unwrap().id, 2);
    let err = history
        .resolve(Venue::Binance, "DOGE-USDT")
        .unwrap_err()
        .to_string();
    assert!(err.contains("binance symbols: BTC-USDT, ETH-USDT"), "{err}");
    let err = history
        .resolve(Venue::Kraken, "BTC-USDT")
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no kraken instruments"), "{err}");
}

/// A deterministic stream of book events for instrument 1: two snapshot images and
/// random level changes, one event per 100 ms; returns the records.
fn book_stream(n_events: u64) -> Vec<RecordBuf> {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut out = Vec::new();
    for e in 0..n_events {
        let ts = JAN1 + e * 100_000_000;
        let stamp = Stamp {
            venue: Venue::Binance,
            instrument_id: 1,
            ts_event: ts,
            ts_recv: ts,
        };
        if e == 0 || e == n_events / 2 {
            out.push(RecordBuf::new(&clear_delta(&stamp, e, Flags::SNAPSHOT)));
            for i in 0..5 {
                let last = if i == 4 {
                    Flags::SNAPSHOT | Flags::LAST
                } else {
                    Flags::SNAPSHOT
                };
                let lv = Level::new(
                    Price::from_int(100 - i).unwrap(),
                    Size::from_int(1).unwrap(),
                );
                out.push(RecordBuf::new(&set_delta(
                    &stamp,
                    BookSide::Bid,
                    lv,
                    e,
                    last,
                )));
            }
            continue;
        }
        let levels = rng.u64(1..4);
        for i in 0..levels {
            let side = if rng.bool() {
                BookSide::Bid
            } else {
                BookSide::Ask
            };
            let base = if side == BookSide::Bid { 90 } else { 101 };
            let lv = Level::new(
                Price::from_int(base + rng.i64(0..10)).unwrap(),
                Size::from_int(rng.i64(0..3)).unwrap(),
            );
            let flags = if i + 1 == levels {
                Flags::LAST
            } else {
                Flags::NONE
            };
            out.push(RecordBuf::new(&set_delta(&stamp, side, lv, e, flags)));
        }
        // Another instrument's deltas interleaved: must not touch ours.
        let other = Stamp {
            instrument_id: 2,
            ..stamp
        };
        let lv = Level::new(Price::from_int(50).unwrap(), Size::from_int(9).unwrap());
        out.push(RecordBuf::new(&set_delta(
            &other,
            BookSide::Bid,
            lv,
            e,
            Flags::LAST,
        )));
    }
    out
}

/// The book from every delta up to `at`, the obvious way.
fn brute_book(records: &[RecordBuf], at: u64) -> L2Book {
    let mut book = L2Book::new();
    for r in records {
        let Some(d) = r.get::<tickd_bus::record::BookDeltaMsg>() else {
            continue;
        };
        if d.hd.instrument_id != 1 || d.hd.ts_recv > at {
            continue;
        }
        match d.action() {
            Some(tickd_bus::record::BookAction::Clear) => book.clear(),
            _ => {
                book.apply(d.side().unwrap(), d.price, d.size);
            }
        }
    }
    book
}

#[test]
fn book_at_equals_all_deltas_applied_up_to_then() {
    let dir = tempfile::tempdir().unwrap();
    let records = book_stream(400);
    write_with_bars(dir.path(), &records);
    let history = History::open(dir.path()).unwrap();
    for at_event in [0u64, 1, 7, 150, 199, 200, 201, 333, 399, 5_000] {
        let at = JAN1 + at_event * 100_000_000 + 50_000_000;
        let got = history.book_at(Venue::Binance, 1, at, 1_000).unwrap();
        let want = brute_book(&records, at);
        assert_eq!(
            got.bids,
            want.bids().collect::<Vec<_>>(),
            "bids at event {at_event}"
        );
        assert_eq!(
            got.asks,
            want.asks().collect::<Vec<_>>(),
            "asks at event {at_event}"
        );
        assert_eq!(got.update_id, at_event.min(399));
        assert!(!got.gap_since_snapshot);
        let top = history.book_at(Venue::Binance, 1, at, 2).unwrap();
        assert_eq!(top.bids, want.bids().take(2).collect::<Vec<_>>());
    }
    assert!(matches!(
        history.book_at(Venue::Binance, 1, JAN1 - 1, 10),
        Err(HistoryError::NoSnapshot { .. })
    ));
    assert!(matches!(
        history.book_at(Venue::Binance, 3, JAN1 + 100 * SEC, 10),
        Err(HistoryError::NoSnapshot { .. })
    ));
}

#[test]
fn a_gap_after_the_snapshot_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = book_stream(100);
    let mut gap: StatusMsg = bytemuck::Zeroable::zeroed();
    gap.hd = RecordHeader::new::<StatusMsg>(Venue::Binance, 0, JAN1 + 3 * SEC, JAN1 + 3 * SEC);
    gap.kind = StatusKind::Gap as u8;
    records.insert(records.len() / 4, RecordBuf::new(&gap));
    write_plain(dir.path(), &records);
    let history = History::open(dir.path()).unwrap();
    // Before the second snapshot (event 50 = 5 s) the gap taints the book; after, not.
    assert!(
        history
            .book_at(Venue::Binance, 1, JAN1 + 4 * SEC, 10)
            .unwrap()
            .gap_since_snapshot
    );
    assert!(
        !history
            .book_at(Venue::Binance, 1, JAN1 + 6 * SEC, 10)
            .unwrap()
            .gap_since_snapshot
    );
}

#[test]
fn query_iterators_can_move_to_another_thread() {
    // The gateway streams responses from a blocking task: everything must be Send.
    fn send<T: Send>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    write_plain(
        dir.path(),
        &bufs(&[trade(Venue::Binance, 1, JAN1, "1", "1")]),
    );
    let history = History::open(dir.path()).unwrap();
    send(&history);
    let q = range(Venue::Binance, 1, JAN1, JAN1 + SEC);
    let trades = history.trades(&q).unwrap();
    send(&trades);
    send(&history.bbo(&q).unwrap());
    let bars = history
        .bars(&tickd_storage::history::BarQuery {
            venue: Venue::Binance,
            instrument_id: 1,
            interval_s: 1,
            from_ns: JAN1,
            to_ns: JAN1 + SEC,
            fill: tickd_storage::bars::FillPolicy::Omit,
        })
        .unwrap();
    send(&bars);
    let got = std::thread::spawn(move || (trades.count(), bars.count()))
        .join()
        .unwrap();
    assert_eq!(got, (1, 1));
}

/// Pages of trades, each resuming at the last one's cursor, give every trade once and in
/// order: with many trades at one receive time, receive times a little out of order
/// (two connections), a page boundary inside a run of equal times, and pages both
/// shorter and longer than the clock slack.
#[test]
fn trade_pages_resume_exactly_at_their_cursor() {
    for spacing in [SEC, 60 * SEC] {
        pages_resume_exactly(spacing);
    }
    use tickd_storage::history::TradeCursor;
    assert!("12".parse::<TradeCursor>().is_err());
    assert!("a.1".parse::<TradeCursor>().is_err());
}

/// Runs of five trades `spacing` apart in receive time.
fn pages_resume_exactly(spacing: u64) {
    use tickd_storage::history::TradeCursor;
    let dir = tempfile::tempdir().unwrap();
    registry(dir.path());
    let mut trades = Vec::new();
    for i in 0..500u64 {
        // Runs of five trades at one receive time; every seventh a little earlier.
        let mut ts = JAN1 + (i / 5) * spacing;
        if i % 7 == 3 {
            ts -= spacing / 2;
        }
        let mut t = trade(Venue::Binance, 1, ts, "10", "1");
        t.trade_id = i;
        trades.push(t);
        // Another instrument between them, never returned.
        trades.push(trade(Venue::Binance, 2, ts, "10", "1"));
    }
    write_plain(dir.path(), &bufs(&trades));
    let history = History::open(dir.path()).unwrap();
    let q = range(Venue::Binance, 1, JAN1 - 10 * spacing, JAN1 + 90 * spacing);
    let expected: Vec<u64> = history.trades(&q).unwrap().map(|t| t.trade_id).collect();
    assert!(expected.len() > 400, "times within the range");
    for limit in [1usize, 3, 5, 7, 64, 449, 450, 1000] {
        let mut got = Vec::new();
        let mut cursor: Option<TradeCursor> = None;
        let mut pages = 0;
        loop {
            let mut page = history.trades_from(&q, cursor).unwrap();
            page.track_cursor();
            got.extend(page.by_ref().take(limit).map(|t| t.trade_id));
            pages += 1;
            if !page.has_more() {
                break;
            }
            // Through its text form, as the `next` link carries it.
            let text = page.cursor().unwrap().to_string();
            cursor = Some(text.parse().unwrap());
            assert!(pages <= expected.len(), "limit {limit}: no progress");
        }
        assert_eq!(got, expected, "spacing {spacing}, limit {limit}");
        assert_eq!(
            pages,
            expected.len().div_ceil(limit).max(1),
            "limit {limit}"
        );
    }
}
