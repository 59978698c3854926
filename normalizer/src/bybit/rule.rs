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
//!
//! `orderbook.full` (spot, §6.2) is [`BybitRule::FullBook`]: deltas only, seeded
//! from REST `/v5/market/full_orderbook` (its `u` and `seq`), see [`full`].

use crate::engine::{BookEvent, BookSync, ImageIds, Link, SequenceRule, SnapshotSource, Splice};

mod full;

/// The Bybit sequencing rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BybitRule {
    /// `orderbook.{50,200,1000}`: images pushed on the stream.
    #[default]
    Pushed,
    /// `orderbook.full`: a delta-only stream spliced onto a REST image.
    FullBook,
}

/// One Bybit instrument's book.
pub type BybitBookSync = BookSync<BybitRule>;

impl SequenceRule for BybitRule {
    fn snapshot_source(&self) -> SnapshotSource {
        match self {
            BybitRule::Pushed => SnapshotSource::Pushed,
            BybitRule::FullBook => SnapshotSource::Rest,
        }
    }

    fn covered_by_snapshot(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> bool {
        match self {
            BybitRule::Pushed => true,
            BybitRule::FullBook => ev.last <= snapshot_id,
        }
    }

    fn bridges(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> Link {
        self.links(snapshot_id, ev)
    }

    fn links(&self, last: u64, ev: &BookEvent<'_>) -> Link {
        if *self == BybitRule::FullBook {
            return full::links(last, ev);
        }
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

    fn splice(&self, image: ImageIds, ev: &BookEvent<'_>, oldest: bool) -> Splice {
        match self {
            // Pushed books never take a REST image (no fetch is ever asked for).
            BybitRule::Pushed => Splice::Refetch,
            BybitRule::FullBook => full::splice(image, ev, oldest),
        }
    }

    fn chains(&self, back: &BookEvent<'_>, ev: &BookEvent<'_>) -> Link {
        match self {
            BybitRule::Pushed => self.links(back.last, ev),
            BybitRule::FullBook => full::chains(back, ev),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delta at `u` and `seq` (shared with `full`'s tests).
    pub(super) fn delta(u: u64, seq: u64) -> BookEvent<'static> {
        BookEvent {
            instrument_id: 1,
            snapshot: false,
            first: u,
            last: u,
            prev: None,
            checksum: None,
            record_id: Some(seq),
            ts_event: 0,
            bids: &[],
            asks: &[],
        }
    }

    #[test]
    fn u_must_be_contiguous() {
        let rule = BybitRule::Pushed;
        assert_eq!(rule.snapshot_source(), SnapshotSource::Pushed);
        assert!(!rule.rest_splice_fallback());
        assert_eq!(rule.links(177400506, &delta(177400507, 0)), Link::Continues);
        assert_eq!(rule.links(177400507, &delta(177400507, 0)), Link::Stale);
        assert_eq!(
            rule.links(100, &delta(104, 0)),
            Link::Gap {
                lost: 3,
                expected: 101
            }
        );
        assert_eq!(rule.links(100, &delta(7, 0)), Link::gap_unknown(101));
        assert_eq!(rule.bridges(20254869, &delta(20254870, 0)), Link::Continues);
        assert_eq!(
            rule.bridges(1, &delta(2, 0)),
            Link::Continues,
            "after a restart"
        );
        assert!(rule.covered_by_snapshot(1, &delta(5_000, 0)));
        assert_eq!(rule.checksum(&crate::book::L2Book::new()), None);
    }
}
