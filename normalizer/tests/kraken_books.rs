//! Kraken book checksums through tickd's book (`kraken.md` §7): every line of
//! `samples/kraken/book.jsonl` (510 real BTC/USD messages, depth 10) and the doc
//! example verify; a changed digit in any level fails; a failure resyncs the pair
//! (gap + resync statuses, a resubscription); levels past the depth are truncated
//! with a delete published for each.

mod kraken_common;

use kraken_common::*;
use tickd_bus::record::{BookDeltaMsg, StatusKind, StatusMsg, StatusReason};
use tickd_bus::Size;
use tickd_normalizer::book::L2Book;
use tickd_normalizer::engine::{BookEvent, Frame, FrameDecoder, SyncAction, SyncState, VenueEvent};
use tickd_normalizer::kraken::checksum;
use tickd_normalizer::Level;

fn statuses(records: &[tickd_bus::RecordBuf]) -> Vec<(StatusKind, StatusReason)> {
    records
        .iter()
        .filter_map(|r| r.get::<StatusMsg>())
        .map(|s| {
            (
                s.kind().unwrap(),
                StatusReason::from_repr(s.reason).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_line_of_the_real_capture_verifies_through_the_book() {
    let lines = sample("book.jsonl");
    assert_eq!(lines.len(), 510);
    let mut decoder = decoder();
    let mut sync = book_sync(BTC, BTC_PRECISION, 10);
    let out = sync_lines(&mut decoder, &mut sync, &lines);
    let stats = sync.stats();
    assert_eq!(stats.checksum_failures, 0, "{stats:?}");
    assert_eq!(stats.snapshots_applied, 1);
    assert_eq!(stats.events_applied, 509);
    assert_eq!(stats.resyncs, 0);
    assert_eq!(sync.state(), SyncState::Synced);
    assert!(statuses(&out).is_empty());
    assert_eq!((sync.book().bid_len(), sync.book().ask_len()), (10, 10));
    // The checksum is really compared: the last message's, recomputed, matches.
    let last = lines.last().unwrap();
    let sent: u32 = last
        .split("\"checksum\":")
        .nth(1)
        .and_then(|t| t.split([',', '}']).next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(checksum::of_book(sync.book(), BTC_PRECISION), sent);
}

#[test]
fn the_doc_example_verifies_with_its_own_precision() {
    let lines = sample("book_doc_example.jsonl");
    let mut decoder = decoder();
    let mut sync = book_sync(MATIC, MATIC_PRECISION, 10);
    sync_lines(&mut decoder, &mut sync, &lines);
    assert_eq!(sync.stats().checksum_failures, 0);
    assert_eq!(sync.stats().events_applied, 1);
    assert_eq!(checksum::of_book(sync.book(), MATIC_PRECISION), 2114181697);
}

/// Every level of every message, one unit changed in its last digit (price or
/// quantity), gives a different checksum: the book after the changed message no
/// longer verifies.
#[test]
fn a_changed_digit_in_any_level_fails() {
    let lines = sample("book.jsonl");
    let mut decoder = decoder();
    let mut book = L2Book::new();
    let tick = tickd_bus::Price::from_raw(10i128.pow(tickd_bus::Price::SCALE - 1));
    let lot = Size::from_raw(10i128.pow(Size::SCALE - 8));
    let mut checked = 0;
    for line in &lines {
        let mut sink = Vec::new();
        let Ok(VenueEvent::Book(ev)) = decoder.decode(Frame::Text(line.as_bytes()), 0, &mut sink)
        else {
            panic!("not a book line: {line}");
        };
        let (ev_bids, ev_asks) = (ev.bids.to_vec(), ev.asks.to_vec());
        let snapshot = ev.snapshot;
        let expected = ev.checksum.unwrap();
        let apply = |book: &mut L2Book, bids: &[Level], asks: &[Level]| {
            if snapshot {
                book.replace(bids.iter().copied(), asks.iter().copied());
            } else {
                for l in bids {
                    book.apply(tickd_bus::record::BookSide::Bid, l.price, l.size);
                }
                for l in asks {
                    book.apply(tickd_bus::record::BookSide::Ask, l.price, l.size);
                }
            }
            book.truncate(10);
        };
        for side in 0..2 {
            let levels = if side == 0 { &ev_bids } else { &ev_asks };
            for (i, level) in levels.iter().enumerate() {
                let mut after = book.clone();
                apply(&mut after, &ev_bids, &ev_asks);
                let in_book = after.bids().chain(after.asks()).any(|l| l == *level);
                if !in_book {
                    continue; // a delete, or pushed out of the window by its own message
                }
                for change in 0..2 {
                    let mut changed = levels.clone();
                    changed[i] = if change == 0 {
                        Level::new(level.price, level.size.checked_add(lot).unwrap())
                    } else {
                        Level::new(level.price.checked_add(tick).unwrap(), level.size)
                    };
                    let (bids, asks) = if side == 0 {
                        (&changed, &ev_asks)
                    } else {
                        (&ev_bids, &changed)
                    };
                    let mut wrong = book.clone();
                    apply(&mut wrong, bids, asks);
                    if wrong == after {
                        continue; // the changed price landed on another level's (same book)
                    }
                    assert_ne!(
                        checksum::of_book(&wrong, BTC_PRECISION),
                        expected,
                        "changed level {i} of {line}"
                    );
                    checked += 1;
                }
            }
        }
        apply(&mut book, &ev_bids, &ev_asks);
        assert_eq!(checksum::of_book(&book, BTC_PRECISION), expected, "{line}");
    }
    assert!(checked > 1000, "only {checked} changed levels checked");
}

#[test]
fn a_changed_digit_on_the_wire_resyncs_only_that_pair() {
    let mut lines = sample("book.jsonl");
    // Line 3's only level: 29430.3 @ 8.25182177 → 8.25182178.
    assert!(lines[2].contains("8.25182177"));
    lines[2] = lines[2].replace("8.25182177", "8.25182178");
    let mut decoder = decoder();
    let mut sync = book_sync(BTC, BTC_PRECISION, 10);
    let mut out = Vec::new();
    let mut actions = Vec::new();
    for line in &lines[..3] {
        let mut sink = Vec::new();
        let Ok(VenueEvent::Book(ev)) = decoder.decode(Frame::Text(line.as_bytes()), 0, &mut sink)
        else {
            panic!()
        };
        actions.push(sync.on_event(&ev, 0, &mut out));
    }
    assert_eq!(
        actions,
        [SyncAction::None, SyncAction::None, SyncAction::Resubscribe]
    );
    assert_eq!(sync.stats().checksum_failures, 1);
    assert_eq!(sync.state(), SyncState::AwaitingSnapshot);
    assert_eq!(
        statuses(&out),
        [
            (StatusKind::Gap, StatusReason::ChecksumMismatch),
            (StatusKind::BookResync, StatusReason::ChecksumMismatch)
        ]
    );
    // Updates until the new snapshot are buffered and dropped by it; the
    // resubscription's snapshot (the first line again) brings the book back.
    let mut sink = Vec::new();
    let first = lines[0].clone();
    for line in [&lines[3], &first] {
        let Ok(VenueEvent::Book(ev)) = decoder.decode(Frame::Text(line.as_bytes()), 0, &mut sink)
        else {
            panic!()
        };
        assert_eq!(sync.on_event(&ev, 0, &mut out), SyncAction::None);
    }
    assert_eq!(sync.state(), SyncState::Synced);
    assert_eq!(sync.stats().buffered_events_skipped, 1);
}

#[test]
fn a_changed_digit_in_a_snapshot_is_refused() {
    let lines = sample("book.jsonl");
    let bad = lines[0].replace("0.18967538", "0.18967539");
    let mut decoder = decoder();
    let mut sync = book_sync(BTC, BTC_PRECISION, 10);
    let mut sink = Vec::new();
    let Ok(VenueEvent::Book(ev)) = decoder.decode(Frame::Text(bad.as_bytes()), 0, &mut sink) else {
        panic!()
    };
    let mut out = Vec::new();
    assert_eq!(sync.on_event(&ev, 0, &mut out), SyncAction::Resubscribe);
    assert_eq!(sync.state(), SyncState::AwaitingSnapshot);
    assert!(out.is_empty(), "nothing published from a refused image");
}

fn event<'a>(snapshot: bool, id: u64, bids: &'a [Level], asks: &'a [Level]) -> BookEvent<'a> {
    BookEvent {
        instrument_id: BTC,
        snapshot,
        first: id,
        last: id,
        prev: Some(id - 1),
        checksum: None,
        record_id: None,
        ts_event: 0,
        bids,
        asks,
    }
}

/// Kraken sends no delete for a level a better one pushes out of the window: the
/// book drops it (and says so downstream with a delete).
#[test]
fn levels_past_the_depth_are_truncated_and_deleted_downstream() {
    let mut sync = book_sync(BTC, BTC_PRECISION, 2);
    let mut out = Vec::new();
    let bids = [lv("100", "1"), lv("99", "1")];
    let asks = [lv("101", "1"), lv("102", "1"), lv("103", "1")];
    let _ = sync.on_event(&event(true, 1, &bids, &asks), 0, &mut out);
    assert_eq!(
        sync.book().ask_len(),
        2,
        "a snapshot deeper than the depth is cut"
    );
    out.clear();
    let better = [lv("99.5", "2")];
    let _ = sync.on_event(&event(false, 2, &better, &[]), 0, &mut out);
    let bids: Vec<Level> = sync.book().bids().collect();
    assert_eq!(bids, [lv("100", "1"), lv("99.5", "2")]);
    let deltas: Vec<(String, String, bool)> = out
        .iter()
        .filter_map(|r| r.get::<BookDeltaMsg>())
        .map(|d| {
            (
                d.price.to_string(),
                d.size.to_string(),
                d.hd.flags.contains(tickd_bus::Flags::LAST),
            )
        })
        .collect();
    assert_eq!(deltas.len(), 2);
    assert_eq!((deltas[0].0.as_str(), deltas[0].1.as_str()), ("99.5", "2"));
    assert_eq!((deltas[1].0.as_str(), deltas[1].1.as_str()), ("99", "0"));
    assert!(deltas[1].2, "the truncation's delete ends the event");
}
