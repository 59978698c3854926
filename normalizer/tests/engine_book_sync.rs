//! The generic book sync with a rule unlike Binance's: images pushed on the stream,
//! events linked by `prev == last` (OKX-style), a checksum over the book, and the
//! REST splice fallback.

use tickd_bus::record::{StatusKind, StatusMsg, StatusReason};
use tickd_bus::{Price, RecordBuf, Size, Venue};
use tickd_normalizer::book::L2Book;
use tickd_normalizer::engine::{
    BookEvent, BookSnapshot, BookSync, Link, SequenceRule, SnapshotSource, SyncAction, SyncState,
};
use tickd_normalizer::Level;

/// Pushed images, `prev` links, checksum = number of levels (a stand-in any venue's
/// CRC replaces), optional REST splice when updates come without an image.
#[derive(Debug, Clone, Copy)]
struct PrevLinked {
    rest_fallback: bool,
}

impl SequenceRule for PrevLinked {
    fn snapshot_source(&self) -> SnapshotSource {
        SnapshotSource::Pushed
    }
    fn rest_splice_fallback(&self) -> bool {
        self.rest_fallback
    }
    fn covered_by_snapshot(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> bool {
        ev.last <= snapshot_id
    }
    fn bridges(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> Link {
        self.links(snapshot_id, ev)
    }
    fn links(&self, last: u64, ev: &BookEvent<'_>) -> Link {
        if ev.last <= last {
            Link::Stale
        } else if ev.prev == Some(last) {
            Link::Continues
        } else {
            Link::gap_unknown(last)
        }
    }
    fn checksum(&self, book: &L2Book) -> Option<u32> {
        Some(book.len() as u32)
    }
}

fn lvl(price: i64, size: i64) -> Level {
    Level::new(
        Price::from_int(price).unwrap(),
        Size::from_int(size).unwrap(),
    )
}

struct Msg {
    snapshot: bool,
    id: u64,
    prev: Option<u64>,
    checksum: Option<u32>,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl Msg {
    fn snapshot(id: u64) -> Self {
        Self {
            snapshot: true,
            id,
            prev: None,
            checksum: None,
            bids: vec![lvl(99, 1), lvl(98, 2)],
            asks: vec![lvl(101, 1)],
        }
    }
    fn update(id: u64, prev: u64) -> Self {
        Self {
            snapshot: false,
            id,
            prev: Some(prev),
            checksum: None,
            bids: vec![lvl(97, 3)],
            asks: Vec::new(),
        }
    }
    fn checksum(mut self, c: u32) -> Self {
        self.checksum = Some(c);
        self
    }
    fn event(&self) -> BookEvent<'_> {
        BookEvent {
            instrument_id: 7,
            snapshot: self.snapshot,
            first: self.id,
            last: self.id,
            prev: self.prev,
            checksum: self.checksum,
            record_id: None,
            ts_event: self.id * 1000,
            bids: &self.bids,
            asks: &self.asks,
        }
    }
}

fn statuses(out: &[RecordBuf]) -> Vec<(StatusKind, StatusReason)> {
    out.iter()
        .filter_map(|r| r.get::<StatusMsg>())
        .map(|s| (s.kind().unwrap(), s.reason().unwrap()))
        .collect()
}

fn sync(rest_fallback: bool) -> BookSync<PrevLinked> {
    BookSync::new(Venue::Binance, 7, PrevLinked { rest_fallback }, 100)
}

#[test]
fn a_pushed_image_then_linked_updates_keep_the_book() {
    let mut book = sync(false);
    let mut out = Vec::new();
    assert_eq!(
        book.on_event(&Msg::update(5, 4).event(), 1, &mut out),
        SyncAction::None
    );
    assert!(out.is_empty(), "nothing before the image");
    assert_eq!(
        book.on_event(&Msg::snapshot(10).event(), 2, &mut out),
        SyncAction::None
    );
    assert_eq!(book.state(), SyncState::Synced);
    assert_eq!(
        book.stats().buffered_events_skipped,
        1,
        "the update before the image"
    );
    let image = out.len();
    assert_eq!(image, 1 + 3 + 1, "clear, three levels, bbo");
    let action = book.on_event(&Msg::update(11, 10).checksum(4).event(), 3, &mut out);
    assert_eq!(action, SyncAction::None);
    assert_eq!(book.last_update_id(), Some(11));
    assert_eq!(book.book().len(), 4);
    assert!(statuses(&out).is_empty());
}

#[test]
fn a_gap_resubscribes_once_and_the_next_image_resyncs() {
    let mut book = sync(false);
    let mut out = Vec::new();
    let _ = book.on_event(&Msg::snapshot(10).event(), 1, &mut out);
    let action = book.on_event(&Msg::update(13, 12).event(), 2, &mut out);
    assert_eq!(action, SyncAction::Resubscribe);
    assert_eq!(
        statuses(&out),
        [
            (StatusKind::Gap, StatusReason::SequenceGap),
            (StatusKind::BookResync, StatusReason::SequenceGap)
        ]
    );
    assert_eq!(
        book.on_event(&Msg::update(14, 13).event(), 3, &mut out),
        SyncAction::None
    );
    assert_eq!(
        book.on_event(&Msg::snapshot(20).event(), 4, &mut out),
        SyncAction::None
    );
    assert_eq!(book.state(), SyncState::Synced);
    assert_eq!(book.last_update_id(), Some(20));
}

#[test]
fn a_checksum_mismatch_resyncs_and_a_matching_one_passes() {
    let mut book = sync(false);
    let mut out = Vec::new();
    let _ = book.on_event(&Msg::snapshot(10).checksum(3).event(), 1, &mut out);
    assert_eq!(
        book.state(),
        SyncState::Synced,
        "the image's checksum matches"
    );
    let action = book.on_event(&Msg::update(11, 10).checksum(99).event(), 2, &mut out);
    assert_eq!(action, SyncAction::Resubscribe);
    assert_eq!(book.stats().checksum_failures, 1);
    assert_eq!(
        statuses(&out),
        [
            (StatusKind::Gap, StatusReason::ChecksumMismatch),
            (StatusKind::BookResync, StatusReason::ChecksumMismatch)
        ]
    );
    assert_eq!(book.state(), SyncState::AwaitingSnapshot);
}

#[test]
fn a_bad_pushed_image_is_not_published_and_asks_for_another() {
    let mut book = sync(false);
    let mut out = Vec::new();
    let action = book.on_event(&Msg::snapshot(10).checksum(1).event(), 1, &mut out);
    assert_eq!(action, SyncAction::Resubscribe);
    assert!(out.is_empty());
    assert_eq!(book.state(), SyncState::AwaitingSnapshot);
}

#[test]
fn updates_without_an_image_splice_onto_a_rest_snapshot_when_the_rule_says_so() {
    let mut book = sync(true);
    let mut out = Vec::new();
    assert_eq!(
        book.on_event(&Msg::update(11, 10).event(), 1, &mut out),
        SyncAction::FetchSnapshot
    );
    assert_eq!(
        book.on_event(&Msg::update(12, 11).event(), 2, &mut out),
        SyncAction::None
    );
    let snapshot = BookSnapshot {
        last_update_id: 11,
        record_id: None,
        ts_event: 0,
        bids: vec![lvl(99, 1)],
        asks: vec![lvl(101, 1)],
    };
    assert_eq!(book.on_snapshot(snapshot, 3, &mut out), SyncAction::None);
    assert_eq!(book.state(), SyncState::Synced);
    assert_eq!(
        book.last_update_id(),
        Some(12),
        "the buffered update after 11 applied"
    );
}
