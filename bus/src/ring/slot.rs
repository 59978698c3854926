//! One ring slot: a seqlock over `N` words.
//!
//! The payload is `[AtomicU64; N]` copied with `Relaxed` loads and stores between
//! fences (the pattern of crossbeam's `AtomicCell` and of Boehm's "Can seqlocks get
//! along with programming language memory models?"), so a reader racing the writer
//! reads stale or mixed words, never undefined behaviour, and the stamp check then
//! throws the mixed copy away.
//!
//! The stamp says which sequence the slot holds, so a reader never needs the ring's
//! tail to tell "not yet written" from "already overwritten":
//! - `0`: never written;
//! - `2 * seq + 1`: the writer is writing `seq`;
//! - `2 * seq + 2`: `seq` is complete.

use super::sync::{fence, AtomicU64, Ordering};

/// A seqlocked slot of `N` words, alone on its 128-byte line pair (adjacent-line
/// prefetch on x86 pulls lines in pairs, so 64-byte alignment still false-shares).
#[repr(C, align(128))]
pub struct SeqSlot<const N: usize> {
    stamp: AtomicU64,
    words: [AtomicU64; N],
}

/// What a reader found in a slot when it asked for one sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotRead<const N: usize> {
    /// The sequence's words, copied whole.
    Ready([u64; N]),
    /// The sequence has not been completely written yet.
    NotYet,
    /// The slot holds, or is being overwritten with, sequence `by`, a later one.
    Overwritten { by: u64 },
}

impl<const N: usize> Default for SeqSlot<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> SeqSlot<N> {
    pub fn new() -> Self {
        Self {
            stamp: AtomicU64::new(0),
            words: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Write sequence `seq`. Only one thread may ever write a given slot, and it
    /// must write sequences in increasing order (the ring's single producer does).
    #[inline]
    pub fn write(&self, seq: u64, words: &[u64; N]) {
        self.stamp.store(2 * seq + 1, Ordering::Relaxed);
        // Orders the odd stamp before every word: a reader that sees any new word
        // and then fences with Acquire also sees the odd (or a later) stamp.
        fence(Ordering::Release);
        for (cell, word) in self.words.iter().zip(words) {
            cell.store(*word, Ordering::Relaxed);
        }
        self.stamp.store(2 * seq + 2, Ordering::Release);
    }

    /// Read sequence `seq`, if the slot holds it whole.
    #[inline]
    pub fn read(&self, seq: u64) -> SlotRead<N> {
        let complete = 2 * seq + 2;
        let before = self.stamp.load(Ordering::Acquire);
        if before < complete {
            return SlotRead::NotYet;
        }
        if before > complete {
            return SlotRead::Overwritten {
                by: Self::sequence_of(before),
            };
        }
        let mut out = [0u64; N];
        for (word, cell) in out.iter_mut().zip(&self.words) {
            *word = cell.load(Ordering::Relaxed);
        }
        // Pairs with the writer's Release fence: if any word came from a newer
        // write, the stamp load below sees that write's odd stamp or later.
        fence(Ordering::Acquire);
        let after = self.stamp.load(Ordering::Relaxed);
        if after == before {
            SlotRead::Ready(out)
        } else {
            SlotRead::Overwritten {
                by: Self::sequence_of(after),
            }
        }
    }

    /// The sequence a non-zero stamp is writing or holds.
    fn sequence_of(stamp: u64) -> u64 {
        (stamp - 1) / 2
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn slot_is_a_whole_number_of_line_pairs_for_a_record() {
        // Layout 1 records (up to 96 bytes) took one 128-byte pair; layout 2's largest
        // (the 152-byte bar) takes two.
        assert_eq!(std::mem::size_of::<SeqSlot<12>>(), 128);
        assert_eq!(
            std::mem::size_of::<SeqSlot<{ crate::RecordBuf::WORDS }>>(),
            256
        );
        assert_eq!(std::mem::align_of::<SeqSlot<12>>(), 128);
    }

    #[test]
    fn stamps_distinguish_unwritten_current_and_overwritten() {
        let slot = SeqSlot::<2>::new();
        assert_eq!(slot.read(0), SlotRead::NotYet);
        slot.write(0, &[7, 8]);
        assert_eq!(slot.read(0), SlotRead::Ready([7, 8]));
        assert_eq!(slot.read(4), SlotRead::NotYet);
        slot.write(4, &[9, 10]);
        assert_eq!(slot.read(0), SlotRead::Overwritten { by: 4 });
        assert_eq!(slot.read(4), SlotRead::Ready([9, 10]));
    }
}
