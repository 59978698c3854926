//! A venue's book sequencing rule, and its trade-id kind.

use tickd_bus::LOST_UNKNOWN;

use super::BookEvent;
use crate::book::L2Book;

/// Where a book's image comes from when it needs one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotSource {
    /// Fetched over REST and spliced onto the buffered stream (Binance).
    Rest,
    /// Pushed on the stream after subscribing (OKX, Bybit); a resync resubscribes.
    Pushed,
    /// Asked for with a message on the stream (HTX spot `req`).
    Requested,
    /// Only a fresh subscription brings one (Kraken): a resync resubscribes.
    Resubscribe,
}

/// How a book event relates to what the book already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Everything in it was already applied: a duplicate, dropped without a gap.
    Stale,
    /// Apply it.
    Continues,
    /// Updates were lost: `lost` when the ids say how many ([`LOST_UNKNOWN`]
    /// otherwise), `expected` the id that should have come (for the gap record).
    Gap { lost: u64, expected: u64 },
}

impl Link {
    /// A gap whose size the ids cannot tell.
    pub const fn gap_unknown(expected: u64) -> Link {
        Link::Gap {
            lost: LOST_UNKNOWN,
            expected,
        }
    }
}

/// A REST image's ids, as the splice sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageIds {
    /// The id that links it to the stream (Binance `lastUpdateId`, Bybit `u`): the
    /// book's last id once installed.
    pub update_id: u64,
    /// The venue's second id where the image carries one
    /// ([`super::BookSnapshot::record_id`]: Bybit `orderbook.full`'s `seq`).
    pub record_id: Option<u64>,
}

/// Where a buffered event stands against a REST image, at the splice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Splice {
    /// The image already holds it: dropped.
    Covered,
    /// The first event on top of the image: the splice is done.
    Bridges,
    /// The image does not fit the buffered stream: fetch another.
    Refetch,
}

/// How one venue's book events link to each other and to snapshots. One value per
/// book ([`super::BookSync`] owns it), so it may carry per-instrument facts (price
/// formats for a checksum).
pub trait SequenceRule {
    fn snapshot_source(&self) -> SnapshotSource;

    /// With [`SnapshotSource::Pushed`]: an update that comes while no snapshot was
    /// pushed asks for a REST snapshot to splice onto (OKX, once the stream's own
    /// snapshot is gone). Ignored for other sources.
    fn rest_splice_fallback(&self) -> bool {
        false
    }

    /// A REST snapshot at `snapshot_id` is older than the first buffered event and
    /// cannot be spliced (Binance spot: `lastUpdateId < U`): fetch again.
    fn snapshot_too_old(&self, _snapshot_id: u64, _first_buffered: &BookEvent<'_>) -> bool {
        false
    }

    /// A buffered event entirely covered by a snapshot at `snapshot_id` (dropped at
    /// the splice).
    fn covered_by_snapshot(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> bool;

    /// The first event applied on top of a snapshot at `snapshot_id`.
    fn bridges(&self, snapshot_id: u64, ev: &BookEvent<'_>) -> Link;

    /// Steady state: the event after `last` (the last id applied or buffered).
    fn links(&self, last: u64, ev: &BookEvent<'_>) -> Link;

    /// The REST splice, event by event from the oldest buffered one (`oldest` set for
    /// it) until one [`Splice::Bridges`]. The default reads the image's update id
    /// alone: [`Self::snapshot_too_old`] on the oldest, [`Self::covered_by_snapshot`],
    /// then [`Self::bridges`]. A venue whose images carry a second id overrides it
    /// (Bybit `orderbook.full`: ordered by `seq`, linked by `u`).
    fn splice(&self, image: ImageIds, ev: &BookEvent<'_>, oldest: bool) -> Splice {
        if oldest && self.snapshot_too_old(image.update_id, ev) {
            Splice::Refetch
        } else if self.covered_by_snapshot(image.update_id, ev) {
            Splice::Covered
        } else if self.bridges(image.update_id, ev) == Link::Continues {
            Splice::Bridges
        } else {
            Splice::Refetch
        }
    }

    /// While buffering for an image: how `ev` follows `back`, the last event
    /// buffered ([`Link::Stale`] drops it, [`Link::Gap`] restarts the buffer with
    /// it). Defaults to [`Self::links`] from `back`'s last id; Bybit
    /// `orderbook.full` also drops an event whose `seq` went backwards.
    fn chains(&self, back: &BookEvent<'_>, ev: &BookEvent<'_>) -> Link {
        self.links(back.last, ev)
    }

    /// Levels a side the venue keeps for this book (Kraken: the subscribed depth).
    /// When set, each side is truncated to it after every image and event, before
    /// the checksum, and a delete is published for each level dropped: the venue
    /// sends no deletion for a level a better one pushes out of its window.
    fn depth(&self) -> Option<usize> {
        None
    }

    /// The venue's checksum of `book`, compared with [`BookEvent::checksum`] after
    /// every event that carries one; `None`: this venue has no checksum.
    fn checksum(&self, _book: &L2Book) -> Option<u32> {
        None
    }
}

/// What a venue's trade ids promise, for the exactly-once merge across
/// overlapping connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeIds {
    /// Every trade of an instrument has the previous id + 1 (Binance): a hole is a
    /// counted loss.
    Contiguous,
    /// Ids only increase (OKX, Coinbase): older or equal is a duplicate, holes are normal.
    Monotonic,
    /// No order (Bybit UUIDs): duplicates are found by remembering recent ids.
    Opaque,
}
