//! How OKX book messages link (`okx.md` §7.1, §7.3).
//!
//! - A snapshot has `prevSeqId = -1` and starts the chain at its `seqId`.
//! - An update continues the chain when its `prevSeqId` equals the last `seqId`
//!   applied. `seqId` may jump by more than 1, may equal `prevSeqId` (an empty
//!   keep-alive on an idle book) and may go *down* after maintenance (a reset):
//!   only `prevSeqId` is compared, never `seqId` to `last + 1`.
//! - Anything else is a gap: that one instrument is resubscribed and rebuilt.
//! - REST splice (when a stream starts with an update, as after OKX's announced
//!   removal of the WS snapshot): buffered updates with `seqId <= snapshot.seqId` are
//!   covered by the snapshot; the first one kept must have
//!   `prevSeqId <= snapshot.seqId < seqId`; a snapshot older than the first buffered
//!   update's `prevSeqId` is fetched again.
//! - Captures from before 2022 carry no ids: their updates always continue, and the
//!   checksum is the only integrity check.

use super::frame::OkxBook;

/// How an update relates to the last applied `seqId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Apply it.
    Continue,
    /// Already applied (a repeat or an older message): drop it.
    Stale,
    /// Updates were lost between the two (how many is unknown: ids are not dense).
    Gap,
}

/// What to do with a REST snapshot and a buffered update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Splice {
    /// The snapshot already holds this update: drop it.
    Covered,
    /// The first update after the snapshot: install the snapshot, apply this.
    Bridges,
    /// The snapshot is older than this update's predecessor: fetch it again.
    SnapshotTooOld,
}

/// The OKX sequencing rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OkxRule;

impl OkxRule {
    /// How update `ev` follows the last applied `seqId` (`None` if the book has no
    /// ids, as in old captures).
    pub fn links(&self, last: Option<u64>, ev: &OkxBook<'_>) -> Link {
        let (Some(last), Some(prev)) = (last, ev.prev_seq_id) else {
            return Link::Continue;
        };
        if prev == last {
            return Link::Continue;
        }
        match ev.seq_id {
            // A repeat of what we hold, or an older message (both ids behind us).
            Some(seq) if seq <= last && prev < last => Link::Stale,
            _ => Link::Gap,
        }
    }

    /// Where buffered update `ev` stands against a REST snapshot at `snapshot_seq`.
    pub fn splice(&self, snapshot_seq: u64, ev: &OkxBook<'_>) -> Splice {
        let seq = ev.seq_id.unwrap_or(0);
        let prev = ev.prev_seq_id.unwrap_or(0);
        if seq <= snapshot_seq {
            Splice::Covered
        } else if prev <= snapshot_seq {
            Splice::Bridges
        } else {
            Splice::SnapshotTooOld
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::okx::BookChannel;

    fn update(prev: u64, seq: u64) -> OkxBook<'static> {
        OkxBook {
            instrument_id: 1,
            channel: BookChannel::Books,
            snapshot: false,
            seq_id: Some(seq),
            prev_seq_id: Some(prev),
            checksum: None,
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
            rule.links(Some(4588907), &update(4588907, 4588911)),
            Link::Continue
        );
        // Keep-alive on an idle book: seqId == prevSeqId == last.
        let beat = update(4588911, 4588911);
        assert!(beat.is_heartbeat());
        assert_eq!(rule.links(Some(4588911), &beat), Link::Continue);
        // A reset after maintenance: seqId goes down, prevSeqId still links.
        assert_eq!(rule.links(Some(900), &update(900, 5)), Link::Continue);
        // After the reset, small ids continue.
        assert_eq!(rule.links(Some(5), &update(5, 9)), Link::Continue);
        // A lost update.
        assert_eq!(rule.links(Some(100), &update(104, 110)), Link::Gap);
        // A prevSeqId below ours with a seqId above: something between was lost too.
        assert_eq!(rule.links(Some(100), &update(95, 105)), Link::Gap);
        // A repeat or an older message.
        assert_eq!(rule.links(Some(100), &update(90, 100)), Link::Stale);
        assert_eq!(rule.links(Some(100), &update(80, 90)), Link::Stale);
        // No ids (old captures): continue, the checksum guards.
        let mut legacy = update(0, 0);
        legacy.seq_id = None;
        legacy.prev_seq_id = None;
        assert_eq!(rule.links(Some(100), &legacy), Link::Continue);
        assert_eq!(rule.links(None, &update(1, 2)), Link::Continue);
    }

    #[test]
    fn rest_splice() {
        let rule = OkxRule;
        assert_eq!(rule.splice(100, &update(90, 95)), Splice::Covered);
        assert_eq!(rule.splice(100, &update(95, 100)), Splice::Covered);
        assert_eq!(rule.splice(100, &update(95, 103)), Splice::Bridges);
        assert_eq!(rule.splice(100, &update(100, 103)), Splice::Bridges);
        assert_eq!(rule.splice(100, &update(101, 103)), Splice::SnapshotTooOld);
        // A keep-alive at the snapshot's own id is covered (it changes nothing).
        assert_eq!(rule.splice(100, &update(100, 100)), Splice::Covered);
    }
}
