//! How OKX book messages link (`okx.md` §7.1, §7.3), as the engine's
//! [`SequenceRule`]: the one generic [`BookSync`] keeps OKX books with it.
//!
//! - A snapshot has `prevSeqId = -1` and starts the chain at its `seqId`.
//! - An update continues the chain when its `prevSeqId` equals the last `seqId`
//!   applied. `seqId` may jump by more than 1, may equal `prevSeqId` (an empty
//!   keep-alive on an idle book) and may go *down* after maintenance (a reset):
//!   only `prevSeqId` is compared, never `seqId` to `last + 1`.
//! - Anything else is a gap (how many updates were lost is unknown: ids are not
//!   dense): that one instrument is resubscribed and rebuilt.
//! - REST splice, when a stream starts with an update (OKX announced the removal of
//!   the WS snapshot): buffered updates with `seqId <= snapshot.seqId` are covered;
//!   the first one kept must have `prevSeqId <= snapshot.seqId < seqId`; a snapshot
//!   older than the first buffered update's `prevSeqId` is fetched again.
//! - Captures from before 2022 carry no ids: their updates always continue, and the
//!   checksum is the only integrity check.
//! - The checksum (CRC32 of the top 25 levels a side) is compared whenever the
//!   venue sends a nonzero one.

use super::checksum;
use crate::book::L2Book;
use crate::engine::{BookEvent, BookSync, Link, SequenceRule, SnapshotSource};

/// The OKX sequencing rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OkxRule;

/// One OKX instrument's book.
pub type OkxBookSync = BookSync<OkxRule>;

impl SequenceRule for OkxRule {
    fn snapshot_source(&self) -> SnapshotSource {
        SnapshotSource::Pushed
    }

    fn rest_splice_fallback(&self) -> bool {
        true
    }

    fn snapshot_too_old(&self, snapshot_id: u64, first: &BookEvent<'_>) -> bool {
        first.prev.is_some_and(|prev| snapshot_id < prev)
    }

    fn covered_by_snapshot(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> bool {
        ev.prev.is_some() && ev.last <= snapshot_id
    }

    fn bridges(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> Link {
        if self.covered_by_snapshot(snapshot_id, ev) {
            return Link::Stale;
        }
        match ev.prev {
            Some(prev) if prev > snapshot_id => Link::gap_unknown(snapshot_id),
            _ => Link::Continues,
        }
    }

    fn links(&self, last: u64, ev: &BookEvent<'_>) -> Link {
        let Some(prev) = ev.prev else {
            return Link::Continues;
        };
        if prev == last {
            Link::Continues
        } else if ev.last <= last && prev < last {
            Link::Stale
        } else {
            Link::gap_unknown(last)
        }
    }

    fn checksum(&self, book: &L2Book) -> Option<u32> {
        Some(checksum::of_book(book) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(prev: u64, seq: u64) -> BookEvent<'static> {
        BookEvent {
            instrument_id: 1,
            snapshot: false,
            first: seq,
            last: seq,
            prev: Some(prev),
            checksum: None,
            record_id: None,
            ts_event: 0,
            bids: &[],
            asks: &[],
        }
    }

    #[test]
    fn links_on_prev_seq_id_only() {
        let rule = OkxRule;
        // Ids jump by more than one (observed 4588907 → 4588911).
        assert_eq!(
            rule.links(4588907, &update(4588907, 4588911)),
            Link::Continues
        );
        // Keep-alive on an idle book: seqId == prevSeqId == last.
        assert_eq!(
            rule.links(4588911, &update(4588911, 4588911)),
            Link::Continues
        );
        // A reset after maintenance: seqId goes down, prevSeqId still links.
        assert_eq!(rule.links(900, &update(900, 5)), Link::Continues);
        assert_eq!(rule.links(5, &update(5, 9)), Link::Continues);
        // A lost update; and a prevSeqId behind ours with a seqId ahead.
        assert_eq!(rule.links(100, &update(104, 110)), Link::gap_unknown(100));
        assert_eq!(rule.links(100, &update(95, 105)), Link::gap_unknown(100));
        // A repeat or an older message.
        assert_eq!(rule.links(100, &update(90, 100)), Link::Stale);
        assert_eq!(rule.links(100, &update(80, 90)), Link::Stale);
        // No ids (captures before 2022): continue, the checksum guards.
        let mut legacy = update(0, 0);
        legacy.prev = None;
        assert_eq!(rule.links(100, &legacy), Link::Continues);
    }

    #[test]
    fn rest_splice() {
        let rule = OkxRule;
        assert!(rule.covered_by_snapshot(100, &update(90, 95)));
        assert!(rule.covered_by_snapshot(100, &update(95, 100)));
        assert!(!rule.covered_by_snapshot(100, &update(95, 103)));
        assert_eq!(rule.bridges(100, &update(95, 103)), Link::Continues);
        assert_eq!(rule.bridges(100, &update(100, 103)), Link::Continues);
        assert_eq!(rule.bridges(100, &update(101, 103)), Link::gap_unknown(100));
        assert_eq!(
            rule.bridges(100, &update(100, 100)),
            Link::Stale,
            "keep-alive at the image"
        );
        assert!(rule.snapshot_too_old(99, &update(100, 103)));
        assert!(!rule.snapshot_too_old(100, &update(100, 103)));
        assert_eq!(rule.snapshot_source(), SnapshotSource::Pushed);
        assert!(rule.rest_splice_fallback());
    }
}
