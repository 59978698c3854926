//! Per-stream sequence numbers. A stream is `(instrument, record type)`, except that the
//! best bid/offer tickd derives from its book (flagged DERIVED) is a stream apart from
//! the venue's own (the gateway serves them as `top` and `bbo`); its records are
//! numbered 1, 2, 3, … in publish order, so any consumer sees a gap as a jump.

use std::collections::HashMap;

use tickd_bus::{Flags, RecordHeader, RecordType};

/// Record types are `1..=8` today; room for a few more without reallocating.
const TYPES: usize = 16;
/// The slot of the derived best bid/offer stream (no record type uses it).
const DERIVED_BBO: u8 = TYPES as u8 - 1;
/// Instrument ids below this use a dense table (registry ids are small and dense);
/// anything larger falls back to a map so a strange id cannot allocate gigabytes.
const DENSE_LIMIT: u32 = 1 << 16;

#[derive(Debug, Default)]
pub struct Sequencer {
    dense: Vec<[u64; TYPES]>,
    sparse: HashMap<(u32, u8), u64>,
}

impl Sequencer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Assign the next sequence of the header's stream to `header.sequence`.
    #[inline]
    pub fn stamp(&mut self, header: &mut RecordHeader) {
        header.sequence = self.next(header.instrument_id, stream_slot(header));
    }

    /// The next sequence of stream `(instrument_id, slot)` (a record type, or
    /// [`stream_slot`]'s), starting at 1.
    #[inline]
    pub fn next(&mut self, instrument_id: u32, rtype: u8) -> u64 {
        let counter = if instrument_id < DENSE_LIMIT && (rtype as usize) < TYPES {
            let index = instrument_id as usize;
            if index >= self.dense.len() {
                self.dense.resize(index + 1, [0; TYPES]);
            }
            &mut self.dense[index][rtype as usize]
        } else {
            self.sparse.entry((instrument_id, rtype)).or_insert(0)
        };
        *counter += 1;
        *counter
    }

    /// The last sequence assigned on a stream (0: none yet).
    pub fn last(&self, instrument_id: u32, rtype: u8) -> u64 {
        if instrument_id < DENSE_LIMIT && (rtype as usize) < TYPES {
            self.dense
                .get(instrument_id as usize)
                .map_or(0, |row| row[rtype as usize])
        } else {
            self.sparse
                .get(&(instrument_id, rtype))
                .copied()
                .unwrap_or(0)
        }
    }
}

/// The stream slot of a record: its type, or the derived best bid/offer's own.
#[inline]
pub fn stream_slot(header: &RecordHeader) -> u8 {
    if header.rtype == RecordType::Bbo as u8 && header.flags.contains(Flags::DERIVED) {
        DERIVED_BBO
    } else {
        header.rtype
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_count_independently_from_one() {
        let mut s = Sequencer::new();
        assert_eq!(s.next(1, 1), 1);
        assert_eq!(s.next(1, 1), 2);
        assert_eq!(s.next(1, 3), 1);
        assert_eq!(s.next(2, 1), 1);
        assert_eq!(s.next(1, 1), 3);
        assert_eq!(s.last(1, 1), 3);
        assert_eq!(s.last(9, 1), 0);
    }

    #[test]
    fn the_derived_bbo_is_a_stream_apart_from_the_venues() {
        let mut s = Sequencer::new();
        let bbo = |flags| RecordHeader {
            instrument_id: 1,
            rtype: RecordType::Bbo as u8,
            flags,
            ..Default::default()
        };
        let stamped = |s: &mut Sequencer, mut h: RecordHeader| {
            s.stamp(&mut h);
            h.sequence
        };
        assert_eq!(stamped(&mut s, bbo(Flags::NONE)), 1);
        assert_eq!(stamped(&mut s, bbo(Flags::DERIVED)), 1);
        assert_eq!(stamped(&mut s, bbo(Flags::DERIVED | Flags::LAST)), 2);
        assert_eq!(stamped(&mut s, bbo(Flags::LAST)), 2);
    }

    #[test]
    fn huge_ids_use_the_sparse_table() {
        let mut s = Sequencer::new();
        assert_eq!(s.next(u32::MAX, 1), 1);
        assert_eq!(s.next(u32::MAX, 1), 2);
        assert_eq!(s.next(7, 200), 1);
        assert!(s.dense.len() <= 8);
        let mut h = RecordHeader {
            instrument_id: u32::MAX,
            rtype: 1,
            ..Default::default()
        };
        s.stamp(&mut h);
        assert_eq!(h.sequence, 3);
    }
}
