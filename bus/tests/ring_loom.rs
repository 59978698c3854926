//! loom models of the ring: every interleaving (up to loom's preemption bound)
//! and every value the memory model lets a `Relaxed` load return. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p tickd-bus --release --test ring_loom`.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use tickd_bus::ring::slot::{SeqSlot, SlotRead};
use tickd_bus::ring::{ring, TryRecv};
use tickd_bus::RecordBuf;

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

/// A task awaits the ring while another thread publishes one record and drops
/// the producer. loom's `block_on` fails the model as a deadlock if the task is
/// ever left asleep with a record or the close unseen (a lost wake-up).
#[test]
fn awaiting_consumer_is_never_left_asleep() {
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(3);
    model.check(|| {
        let (mut producer, handle) = ring(1);
        let mut consumer = handle.subscribe();
        let publisher = thread::spawn(move || {
            producer.publish(&RecordBuf::from_words([5; RecordBuf::WORDS]));
            drop(producer);
        });
        let record = RecordBuf::from_words([5; RecordBuf::WORDS]);
        assert_eq!(
            loom::future::block_on(consumer.recv()),
            TryRecv::Record(record)
        );
        assert_eq!(loom::future::block_on(consumer.recv()), TryRecv::Closed);
        publisher.join().expect("publisher panicked");
    });
}
