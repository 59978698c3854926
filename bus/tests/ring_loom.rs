//! loom model of the seqlock slot: every interleaving and every value the memory
//! model allows a `Relaxed` load to return. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p tickd-bus --release --test ring_loom`.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use tickd_bus::ring::slot::{SeqSlot, SlotRead};

/// A one-slot ring: sequence 1 overwrites sequence 0 while a reader reads both.
#[test]
fn reader_sees_whole_records_or_knows_it_did_not() {
    loom::model(|| {
        let slot = Arc::new(SeqSlot::<2>::new());
        let writer = {
            let slot = Arc::clone(&slot);
            thread::spawn(move || {
                slot.write(0, &[10, 10]);
                slot.write(1, &[11, 11]);
            })
        };
        for seq in 0..2u64 {
            match slot.read(seq) {
                SlotRead::Ready(words) => assert_eq!(words, [10 + seq; 2]),
                SlotRead::NotYet => {}
                SlotRead::Overwritten { by } => assert!(by > seq),
            }
        }
        writer.join().expect("writer panicked");
        assert_eq!(slot.read(0), SlotRead::Overwritten { by: 1 });
        assert_eq!(slot.read(1), SlotRead::Ready([11, 11]));
    });
}
