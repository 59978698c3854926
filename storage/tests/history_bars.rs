//! Bars from the history API, against journals written by the real writer: with bars
//! written as trades arrive, without (an older journal), and a mix of both.

mod history_support;

use history_support::*;
use proptest::prelude::*;
use tickd_bus::record::BarMsg;
use tickd_bus::{RecordType, Venue};
use tickd_storage::bars::{vwap, FillPolicy};
use tickd_storage::history::{BarQuery, History, HistoryError};
use tickd_storage::journal::{Filter, JournalReader};

fn query(interval_s: u32, from_ns: u64, to_ns: u64, fill: FillPolicy) -> BarQuery {
    BarQuery {
        venue: Venue::Binance,
        instrument_id: 1,
        interval_s,
        from_ns,
        to_ns,
        fill,
    }
}

fn bars(dir: &std::path::Path, q: &BarQuery) -> Vec<BarMsg> {
    let history = History::open(dir).unwrap();
    let mut bars = history.bars(q).unwrap();
    let out: Vec<BarMsg> = bars.by_ref().collect();
    assert!(bars.take_error().is_none());
    out
}

fn s(bar: &BarMsg) -> [String; 6] {
    [
        bar.open.to_string(),
        bar.high.to_string(),
        bar.low.to_string(),
        bar.close.to_string(),
        bar.volume.to_string(),
        vwap(bar).map_or("-".into(), |p| p.to_string()),
    ]
}

/// Known trades over three minutes on BTC-USDT, plus noise on other instruments.
fn known_trades() -> Vec<tickd_bus::record::TradeMsg> {
    let b = Venue::Binance;
    vec![
        trade(b, 1, JAN1 + 100_000_000, "100.5", "1"),
        trade(Venue::Binance, 2, JAN1 + 200_000_000, "9999", "9"), // ETH: not ours
        trade(b, 1, JAN1 + 900_000_000, "101", "0.5"),
        trade(b, 1, JAN1 + 30 * SEC, "99.25", "2"),
        trade(Venue::Okx, 1, JAN1 + 31 * SEC, "1", "1"), // other venue, same id
        trade(b, 1, JAN1 + 59 * SEC + 999_999_999, "100", "0.25"),
        // minute 1 has no trades
        trade(b, 1, JAN1 + 120 * SEC, "102", "1"),
        trade(b, 1, JAN1 + 150 * SEC, "103.75", "3"),
    ]
}

fn check_known(dir: &std::path::Path) {
    let m = 60 * SEC;
    let one_m = bars(dir, &query(60, JAN1, JAN1 + 3 * m, FillPolicy::Omit));
    assert_eq!(one_m.len(), 2);
    assert_eq!(one_m[0].hd.ts_event, JAN1);
    assert_eq!(
        s(&one_m[0]),
        [
            "100.5",
            "101",
            "99.25",
            "100",
            "3.75",
            "99.866666666666666666666666"
        ]
        .map(String::from)
    );
    assert_eq!(one_m[0].trade_count, 4);
    assert_eq!(one_m[1].hd.ts_event, JAN1 + 2 * m);
    assert_eq!(
        s(&one_m[1]),
        ["102", "103.75", "102", "103.75", "4", "103.3125"].map(String::from)
    );

    let filled = bars(
        dir,
        &query(60, JAN1, JAN1 + 3 * m, FillPolicy::CarryForward),
    );
    assert_eq!(filled.len(), 3);
    assert_eq!(filled[1].hd.ts_event, JAN1 + m);
    assert_eq!(filled[1].trade_count, 0);
    assert_eq!(
        s(&filled[1]),
        ["100", "100", "100", "100", "0", "-"].map(String::from)
    );

    let one_s = bars(dir, &query(1, JAN1, JAN1 + 3 * m, FillPolicy::Omit));
    let starts: Vec<u64> = one_s.iter().map(|b| (b.hd.ts_event - JAN1) / SEC).collect();
    assert_eq!(starts, [0, 30, 59, 120, 150]);
    assert_eq!(s(&one_s[0])[..5], ["100.5", "101", "100.5", "101", "1.5"]);

    // 5m from mid-range: bars starting in [from, to) only, each whole.
    let five = bars(dir, &query(300, JAN1, JAN1 + 1, FillPolicy::Omit));
    assert_eq!(five.len(), 1);
    assert_eq!(five[0].trade_count, 6);
    assert_eq!(five[0].volume.to_string(), "7.75");
    // A from inside the first minute: the first whole bar starts at minute 1.
    let late = bars(dir, &query(60, JAN1 + 1, JAN1 + 3 * m, FillPolicy::Omit));
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].hd.ts_event, JAN1 + 2 * m);
    // Custom interval: 7 s, epoch-aligned.
    let seven = bars(dir, &query(7, JAN1, JAN1 + 3 * m, FillPolicy::Omit));
    assert!(seven.iter().all(|b| b.hd.ts_event % (7 * SEC) == 0));
    assert_eq!(seven.iter().map(|b| b.trade_count).sum::<u32>(), 6);
}

#[test]
fn known_trades_give_exact_bars_from_stored_bars() {
    let dir = tempfile::tempdir().unwrap();
    registry(dir.path());
    write_with_bars(dir.path(), &bufs(&known_trades()));
    // The writer stored 1-second bars for every second with trades.
    let reader = JournalReader::open(dir.path(), Filter::all().rtype(RecordType::Bar)).unwrap();
    let stored = reader.records().count();
    assert_eq!(stored, 5 + 1 + 1, "BTC 5 seconds, ETH 1, OKX 1");
    check_known(dir.path());
}

#[test]
fn known_trades_give_exact_bars_from_a_journal_without_bars() {
    let dir = tempfile::tempdir().unwrap();
    registry(dir.path());
    write_plain(dir.path(), &bufs(&known_trades()));
    check_known(dir.path());
}

#[test]
fn bad_queries_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(dir.path()).unwrap();
    assert!(matches!(
        history.bars(&query(0, JAN1, JAN1 + SEC, FillPolicy::Omit)),
        Err(HistoryError::BadInterval)
    ));
    assert!(matches!(
        history.bars(&query(60, JAN1, JAN1, FillPolicy::Omit)),
        Err(HistoryError::BadRange { .. })
    ));
    // An empty journal: no bars, no error.
    assert_eq!(
        history
            .bars(&query(60, JAN1, JAN1 + SEC, FillPolicy::Omit))
            .unwrap()
            .count(),
        0
    );
}

fn random_trades(gaps: &[(u64, i64, i64)]) -> Vec<tickd_bus::record::TradeMsg> {
    let mut ts = JAN1 + 86_400 * SEC - 600 * SEC; // ten minutes before a day boundary
    gaps.iter()
        .map(|&(gap, p, q)| {
            ts += gap;
            let mut t = trade(Venue::Binance, 1, ts, "1", "1");
            t.price = tickd_bus::Price::from_raw(p.into());
            t.size = tickd_bus::Size::from_raw(q.into());
            t
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Queried bars equal brute force from the raw trades, whichever way the journal
    /// holds them: stored bars, trades only, or trades only up to a cutover.
    #[test]
    fn queried_bars_equal_brute_force(
        gaps in prop::collection::vec((0u64..8_000_000_000, 1i64..1_000_000_000_000, 1i64..10_000_000_000), 1..400),
        interval_s in prop::sample::select(vec![1u32, 5, 60, 300, 3600, 86_400]),
        split in 0usize..400,
        from_offset in 0u64..1_200,
        fill_forward in any::<bool>(),
    ) {
        let trades = random_trades(&gaps);
        let from = JAN1 + 86_400 * SEC - 600 * SEC + from_offset * SEC;
        let to = u64::MAX / 2;
        let want = brute_force(&trades, interval_s, from, to);
        let split = split.min(trades.len());
        let fill = if fill_forward { FillPolicy::CarryForward } else { FillPolicy::Omit };
        let stored = tempfile::tempdir().unwrap();
        write_with_bars(stored.path(), &bufs(&trades));
        let plain = tempfile::tempdir().unwrap();
        write_plain(plain.path(), &bufs(&trades));
        let mixed = tempfile::tempdir().unwrap();
        write_plain(mixed.path(), &bufs(&trades[..split]));
        write_with_bars(mixed.path(), &bufs(&trades[split..]));
        for dir in [&stored, &plain, &mixed] {
            let got: Vec<BarKey> = bars(dir.path(), &query(interval_s, from, to, fill))
                .iter()
                .filter(|b| fill == FillPolicy::Omit || b.trade_count > 0)
                .map(key)
                .collect();
            prop_assert_eq!(&got, &want);
        }
    }
}

#[test]
fn a_quiet_venues_last_bar_is_written_without_waiting_for_its_next_trade() {
    use tickd_bus::ring::ring;
    use tickd_storage::bar_writer::BarTap;
    use tickd_storage::journal::{BusWriter, BusWriterConfig, Journal, JournalConfig};

    let dir = tempfile::tempdir().unwrap();
    let (mut producer, handle) = ring(1024);
    let tap = BarTap::new(handle.subscribe());
    let stats = tap.stats();
    let journal = Journal::open(JournalConfig::new(dir.path())).unwrap().0;
    let writer = BusWriter::spawn(tap, journal, BusWriterConfig::default()).unwrap();
    for (ms, price) in [(100, "10"), (500, "12"), (900, "11")] {
        let t = trade(Venue::Binance, 1, JAN1 + ms * 1_000_000, price, "1");
        producer.publish(&tickd_bus::RecordBuf::new(&t));
    }
    // The producer stays open: only the idle flush can close the bar.
    let stored_bars = || {
        let reader = JournalReader::open(dir.path(), Filter::all().rtype(RecordType::Bar)).unwrap();
        let bars: Vec<BarMsg> = reader
            .records()
            .filter_map(|r| match r {
                tickd_bus::RecordRef::Bar(b) => Some(*b),
                _ => None,
            })
            .collect();
        bars
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while stored_bars().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no bar written");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(producer);
    writer.join().unwrap();
    let bars = stored_bars();
    assert_eq!(bars.len(), 1, "flushed once, not again at shutdown");
    assert_eq!(s(&bars[0])[..4], ["10", "12", "10", "11"]);
    assert_eq!(
        stats
            .bars_emitted
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(stats.trades.load(std::sync::atomic::Ordering::Relaxed), 3);
}
