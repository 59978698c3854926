//! How Kraken book messages link (`kraken.md` §6.3, §7.1), as the engine's
//! [`SequenceRule`]: the one generic [`BookSync`] keeps Kraken books with it.
//!
//! - There are no sequence numbers: every update continues the book, and the
//!   checksum (CRC32 of the top 10 levels a side at the pair's precision, §7.2),
//!   sent with every snapshot and update, is the only integrity check.
//! - Snapshots come only with a subscription: a resync unsubscribes and subscribes
//!   the one symbol again ([`SnapshotSource::Resubscribe`]); updates buffered while
//!   waiting are older than the snapshot that ends the wait and are dropped.
//! - Each side is truncated to the subscribed depth after every message: Kraken
//!   sends no deletion for a level pushed out of the window by a better one.
//!
//! The ids on [`BookEvent`]s are the decoder's own count of book messages per
//! symbol (they order the stream for the feed; Kraken sends none).

use super::checksum::{self, Precision};
use crate::book::L2Book;
use crate::engine::{BookEvent, BookSync, Link, SequenceRule, SnapshotSource};

/// Book depths Kraken accepts (`book.depth`, §3).
pub const DEPTHS: [u32; 5] = [10, 25, 100, 500, 1000];

/// The Kraken rule for one pair: its precision (for the checksum) and the
/// subscribed depth (for truncation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KrakenRule {
    /// `None`: the pair's precision is not known, so its checksum is not verified.
    pub precision: Option<Precision>,
    pub depth: u32,
}

/// One Kraken pair's book.
pub type KrakenBookSync = BookSync<KrakenRule>;

impl SequenceRule for KrakenRule {
    fn snapshot_source(&self) -> SnapshotSource {
        SnapshotSource::Resubscribe
    }

    /// Everything buffered before a (re)subscription's snapshot is older than it.
    fn covered_by_snapshot(&self, _snapshot_id: u64, _ev: &BookEvent<'_>) -> bool {
        true
    }

    fn bridges(&self, _snapshot_id: u64, _ev: &BookEvent<'_>) -> Link {
        Link::Continues
    }

    fn links(&self, _last: u64, _ev: &BookEvent<'_>) -> Link {
        Link::Continues
    }

    fn depth(&self) -> Option<usize> {
        usize::try_from(self.depth).ok()
    }

    fn checksum(&self, book: &L2Book) -> Option<u32> {
        Some(checksum::of_book(book, self.precision?))
    }
}
