//! How Coinbase `level2` messages link (`coinbase.md` §4, §7.1, §8), as the
//! engine's [`SequenceRule`].
//!
//! - Coinbase sends no per-product sequence and no checksum: the only integrity
//!   check is the connection's `sequence_num`, which the feed checks (a jump
//!   resyncs every book on that connection, [`BookSync::on_connection_gap`]).
//! - The first message per product after a subscription is a `snapshot` with the
//!   whole book; there is no REST splice with ids (§8 rule 5), so a resync
//!   unsubscribes and subscribes the product again ([`SnapshotSource::Resubscribe`]).
//!   Updates buffered while waiting are older than the snapshot that ends the wait.
//! - Every update continues the book; sizes are absolute, `"0"` deletes.
//!
//! The ids on [`BookEvent`]s are the decoder's own count of book messages per
//! product (they order the stream for the feed).

use crate::engine::{BookEvent, BookSync, Link, SequenceRule, SnapshotSource};

/// The Coinbase rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoinbaseRule;

/// One Coinbase product's book.
pub type CoinbaseBookSync = BookSync<CoinbaseRule>;

impl SequenceRule for CoinbaseRule {
    fn snapshot_source(&self) -> SnapshotSource {
        SnapshotSource::Resubscribe
    }

    fn covered_by_snapshot(&self, _snapshot_id: u64, _ev: &BookEvent<'_>) -> bool {
        true
    }

    fn bridges(&self, _snapshot_id: u64, _ev: &BookEvent<'_>) -> Link {
        Link::Continues
    }

    fn links(&self, _last: u64, _ev: &BookEvent<'_>) -> Link {
        Link::Continues
    }
}
