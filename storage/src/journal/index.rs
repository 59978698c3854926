//! Sparse time index: one entry per block, `ts` bounds → offset.
//!
//! The index is rebuilt whenever a segment is opened for reading, by walking the
//! block headers (48 bytes per block of ~64 KiB: a few thousand header reads per
//! gigabyte), so it can never disagree with the data and needs no file of its own.

use std::ops::Range;

use super::segment::BlockWalk;

/// One block's place in its segment and the time span of its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// Offset of the block header in the segment.
    pub offset: u64,
    pub record_count: u32,
    pub min_ts_recv: u64,
    pub max_ts_recv: u64,
    pub min_ts_event: u64,
    pub max_ts_event: u64,
}

impl IndexEntry {
    /// Whether any record of the block may fall in both half-open ranges.
    pub fn overlaps(&self, ts_recv: &Range<u64>, ts_event: &Range<u64>) -> bool {
        self.min_ts_recv < ts_recv.end
            && self.max_ts_recv >= ts_recv.start
            && self.min_ts_event < ts_event.end
            && self.max_ts_event >= ts_event.start
    }
}

/// The blocks of one segment, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockIndex {
    pub entries: Vec<IndexEntry>,
}

impl BlockIndex {
    pub fn from_walk(walk: &BlockWalk) -> Self {
        let entries = walk
            .blocks
            .iter()
            .map(|block| IndexEntry {
                offset: block.offset as u64,
                record_count: block.header.record_count,
                min_ts_recv: block.header.min_ts_recv,
                max_ts_recv: block.header.max_ts_recv,
                min_ts_event: block.header.min_ts_event,
                max_ts_event: block.header.max_ts_event,
            })
            .collect();
        Self { entries }
    }

    /// Entries whose time span overlaps the ranges, in file order. Blocks are
    /// not assumed sorted by time (clocks step back), so this checks each entry:
    /// cheap next to reading even one block.
    pub fn overlapping<'a>(
        &'a self,
        ts_recv: &'a Range<u64>,
        ts_event: &'a Range<u64>,
    ) -> impl Iterator<Item = &'a IndexEntry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.overlaps(ts_recv, ts_event))
    }

    pub fn record_count(&self) -> u64 {
        self.entries.iter().map(|e| u64::from(e.record_count)).sum()
    }

    /// Smallest and largest `ts_recv` in the segment.
    pub fn ts_recv_bounds(&self) -> Option<(u64, u64)> {
        let min = self.entries.iter().map(|e| e.min_ts_recv).min()?;
        let max = self.entries.iter().map(|e| e.max_ts_recv).max()?;
        Some((min, max))
    }
}
