//! HTX's book sequencing (`htx.md` §7), for the engine's generic book sync.
//!
//! - [`HtxRule::SpotMbp`]: spot `mbp.N`. No image on subscribe: it is asked for
//!   with `req` on the same connection ([`SnapshotSource::Requested`]; the plan
//!   sends the first `req` after the `sub`, a gap re-requests that symbol only).
//!   `seqNum` is not contiguous: an update continues when its `prevSeqNum` is the
//!   last `seqNum`; the first update on an image at `S` must have
//!   `prevSeqNum <= S < seqNum`; updates at or below `S` are covered by it.
//! - [`HtxRule::SwapIncremental`]: `depth.size_N.high_freq` with
//!   `data_type=incremental`: the image is pushed on (re)subscribe, then
//!   `version` + 1 per message; anything else is a gap and the contract is
//!   resubscribed.
//! - [`HtxRule::Images`]: `depth.stepK` / `mbp.refresh.N`: every push is a whole
//!   image (installed as a SNAPSHOT); there are no updates to link.
//!
//! No checksum exists (§7.3); the book sync's crossed-book check is the guard.

use crate::engine::{BookEvent, Link, SequenceRule, SnapshotSource};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtxRule {
    SpotMbp,
    SwapIncremental,
    Images,
}

impl SequenceRule for HtxRule {
    fn snapshot_source(&self) -> SnapshotSource {
        match self {
            HtxRule::SpotMbp => SnapshotSource::Requested,
            HtxRule::SwapIncremental | HtxRule::Images => SnapshotSource::Pushed,
        }
    }

    fn covered_by_snapshot(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> bool {
        ev.last <= snapshot_id
    }

    fn bridges(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> Link {
        match self {
            HtxRule::SpotMbp if ev.last <= snapshot_id => Link::Stale,
            HtxRule::SpotMbp => match ev.prev {
                Some(prev) if prev <= snapshot_id => Link::Continues,
                _ => Link::gap_unknown(snapshot_id),
            },
            HtxRule::SwapIncremental | HtxRule::Images => self.links(snapshot_id, ev),
        }
    }

    fn links(&self, last: u64, ev: &BookEvent<'_>) -> Link {
        match self {
            HtxRule::SpotMbp if ev.prev == Some(last) => Link::Continues,
            HtxRule::SwapIncremental if ev.last == last.wrapping_add(1) => Link::Continues,
            HtxRule::Images => Link::Continues,
            _ if ev.last <= last => Link::Stale,
            HtxRule::SpotMbp => Link::gap_unknown(last),
            HtxRule::SwapIncremental => Link::Gap {
                lost: ev.last - last - 1,
                expected: last + 1,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(last: u64, prev: Option<u64>) -> BookEvent<'static> {
        BookEvent {
            instrument_id: 1,
            snapshot: false,
            first: last,
            last,
            prev,
            checksum: None,
            record_id: None,
            ts_event: 0,
            bids: &[],
            asks: &[],
        }
    }

    #[test]
    fn spot_links_by_prev_seq_num() {
        let r = HtxRule::SpotMbp;
        assert_eq!(r.snapshot_source(), SnapshotSource::Requested);
        // htx.md samples: snapshot 109409288160, next update prev = that.
        let s = 109_409_288_160;
        assert_eq!(r.bridges(s, &ev(109_409_288_204, Some(s))), Link::Continues);
        assert_eq!(r.bridges(s, &ev(s + 50, Some(s - 5))), Link::Continues);
        assert_eq!(r.bridges(s, &ev(s, Some(s - 5))), Link::Stale);
        assert!(r.covered_by_snapshot(s, &ev(s, Some(s - 5))));
        assert!(matches!(
            r.bridges(s, &ev(s + 9, Some(s + 3))),
            Link::Gap { .. }
        ));
        assert_eq!(r.links(10, &ev(25, Some(10))), Link::Continues);
        assert_eq!(r.links(25, &ev(25, Some(10))), Link::Stale);
        assert_eq!(r.links(25, &ev(40, Some(30))), Link::gap_unknown(25));
    }

    #[test]
    fn swaps_link_by_version_plus_one() {
        let r = HtxRule::SwapIncremental;
        assert_eq!(r.snapshot_source(), SnapshotSource::Pushed);
        let v = 1_789_895_280_797;
        assert_eq!(r.bridges(v, &ev(v + 1, None)), Link::Continues);
        assert_eq!(r.links(v, &ev(v, None)), Link::Stale);
        assert_eq!(
            r.links(v, &ev(v + 3, None)),
            Link::Gap {
                lost: 2,
                expected: v + 1
            }
        );
        assert_eq!(HtxRule::Images.links(5, &ev(3, None)), Link::Continues);
    }
}
