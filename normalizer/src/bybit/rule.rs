//! How Bybit book messages link (`bybit.md` §6.1, §7), as the engine's
//! [`SequenceRule`]: the one generic [`BookSync`] keeps Bybit books with it.
//!
//! - Images are pushed on the stream: the first message after subscribing is a
//!   `snapshot`, and any later snapshot replaces the book, including the `u == 1`
//!   snapshot after a Bybit service restart. A resync resubscribes the one topic.
//! - A delta continues the book when its `u` is the last `u` + 1. A repeat of the
//!   last `u` is stale; a jump ahead is a gap of `u - last - 1` updates; a `u` that
//!   went back (a restart whose snapshot was missed) is a gap of unknown size.
//! - Deltas buffered before a pushed snapshot came earlier on the same ordered
//!   stream, so the snapshot covers them all (even the `u == 1` one, whose ids
//!   restarted below theirs).
//! - `seq` (the cross sequence) orders across topics only; Bybit books carry no
//!   checksum.

use crate::engine::{BookEvent, BookSync, Link, SequenceRule, SnapshotSource};

/// The Bybit sequencing rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BybitRule;

/// One Bybit instrument's book.
pub type BybitBookSync = BookSync<BybitRule>;

impl SequenceRule for BybitRule {
    fn snapshot_source(&self) -> SnapshotSource {
        SnapshotSource::Pushed
    }

    fn covered_by_snapshot(&self, _snapshot_id: u64, _ev: &BookEvent<'_>) -> bool {
        true
    }

    fn bridges(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> Link {
        self.links(snapshot_id, ev)
    }

    fn links(&self, last: u64, ev: &BookEvent<'_>) -> Link {
        let expected = last.saturating_add(1);
        if ev.first == expected {
            Link::Continues
        } else if ev.first == last {
            Link::Stale
        } else if ev.first > expected {
            Link::Gap {
                lost: ev.first - expected,
                expected,
            }
        } else {
            Link::gap_unknown(expected)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(u: u64) -> BookEvent<'static> {
        BookEvent {
            instrument_id: 1,
            snapshot: false,
            first: u,
            last: u,
            prev: None,
            checksum: None,
            record_id: None,
            ts_event: 0,
            bids: &[],
            asks: &[],
        }
    }

    #[test]
    fn u_must_be_contiguous() {
        let rule = BybitRule;
        assert_eq!(rule.snapshot_source(), SnapshotSource::Pushed);
        assert!(!rule.rest_splice_fallback());
        assert_eq!(rule.links(177400506, &delta(177400507)), Link::Continues);
        assert_eq!(rule.links(177400507, &delta(177400507)), Link::Stale);
        assert_eq!(
            rule.links(100, &delta(104)),
            Link::Gap {
                lost: 3,
                expected: 101
            }
        );
        assert_eq!(rule.links(100, &delta(7)), Link::gap_unknown(101));
        assert_eq!(rule.bridges(20254869, &delta(20254870)), Link::Continues);
        assert_eq!(
            rule.bridges(1, &delta(2)),
            Link::Continues,
            "after a restart"
        );
        assert!(rule.covered_by_snapshot(1, &delta(5_000)));
        assert_eq!(rule.checksum(&crate::book::L2Book::new()), None);
    }
}
