//! The bus's lock-free broadcast ring: one producer, any number of consumers,
//! each with its own cursor.
//!
//! - The producer never blocks, waits or allocates: it overwrites the oldest slot.
//! - Each slot is a seqlock ([`slot`]) whose stamp names the sequence it holds, so
//!   readers never see a torn record and know exactly when they were lapped.
//! - A consumer that falls a full ring behind gets [`TryRecv::Lagged`] with the exact
//!   number of records it lost and resumes at the oldest record still live.
//! - Consumers may spin on [`Consumer::try_recv`], park with
//!   [`Consumer::recv_timeout`] or `.await` [`Consumer::recv`] (runtime-agnostic);
//!   publishing costs one fence and one load when nobody sleeps. When someone
//!   does, the producer runs their wakers (an unpark, or the runtime's waker).
//! - [`multi::Bus`] gathers one ring per producer (one per venue thread) and
//!   [`multi::MultiConsumer`] reads them all round-robin.
//!
//! ```
//! use tickd_bus::ring::{ring, TryRecv};
//! use tickd_bus::RecordBuf;
//!
//! let (mut producer, handle) = ring(1024);
//! let mut consumer = handle.subscribe();
//! producer.publish(&RecordBuf::from_words([7; RecordBuf::WORDS]));
//! assert!(matches!(consumer.try_recv(), TryRecv::Record(r) if r.words()[0] == 7));
//! assert!(matches!(consumer.try_recv(), TryRecv::Empty));
//! ```
//!
//! Tests: `bus/tests/ring_*.rs`; the loom models of the seqlock and of the
//! wake-up protocol run with
//! `RUSTFLAGS="--cfg loom" cargo test -p tickd-bus --release --test ring_loom`.

mod consumer;
mod cursors;
pub mod multi;
mod producer;
pub mod slot;
mod sync;
mod wait;

use crate::RecordBuf;
use sync::{Arc, AtomicBool, AtomicU64, Ordering};

pub use consumer::Consumer;
pub use cursors::ConsumerLag;
pub use multi::{Bus, MultiConsumer, MultiRecv};
pub use producer::Producer;

type Slot = slot::SeqSlot<{ RecordBuf::WORDS }>;

/// What a non-blocking (or timed-out) receive found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecv {
    /// The next record, in publish order.
    Record(RecordBuf),
    /// Nothing new yet (or the wait timed out).
    Empty,
    /// The producer lapped this consumer: exactly this many records were lost, and
    /// the consumer now stands at the oldest record still in the ring.
    Lagged(u64),
    /// The producer is gone and every record still in reach has been read.
    Closed,
}

/// Create a ring of `capacity` slots (a power of two); returns its only producer
/// and a handle for subscribing.
///
/// # Panics
/// If `capacity` is zero or not a power of two (a configuration error).
pub fn ring(capacity: usize) -> (Producer, RingHandle) {
    assert!(
        capacity.is_power_of_two(),
        "ring capacity must be a power of two, got {capacity}"
    );
    let shared = Arc::new(Shared {
        tail: Padded(AtomicU64::new(0)),
        closed: AtomicBool::new(false),
        waiters: Padded(wait::WaiterStack::new()),
        mask: capacity as u64 - 1,
        slots: (0..capacity).map(|_| Slot::new()).collect(),
        cursors: cursors::Cursors::default(),
    });
    let handle = RingHandle {
        shared: Arc::clone(&shared),
    };
    (Producer::new(shared), handle)
}

/// Subscribes consumers to a ring. Cheap to clone, shareable across threads.
#[derive(Clone)]
pub struct RingHandle {
    shared: Arc<Shared>,
}

impl RingHandle {
    /// A consumer that starts at the next record published.
    pub fn subscribe(&self) -> Consumer {
        Consumer::new(Arc::clone(&self.shared), self.shared.published())
    }

    /// A consumer that starts at the oldest record still in the ring. If the
    /// producer is overwriting that very record, the first receive says `Lagged`.
    pub fn subscribe_oldest(&self) -> Consumer {
        Consumer::new(Arc::clone(&self.shared), self.shared.oldest())
    }

    pub fn capacity(&self) -> usize {
        self.shared.slots.len()
    }

    /// Records published so far (a snapshot; the producer may be ahead).
    pub fn published(&self) -> u64 {
        self.shared.published()
    }

    /// Whether the producer has been dropped.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// How far each named consumer ([`Consumer::named`]) is behind, as of now.
    pub fn consumer_lags(&self) -> Vec<ConsumerLag> {
        self.shared.cursors.lags(self.shared.published())
    }
}

impl std::fmt::Debug for RingHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingHandle")
            .field("capacity", &self.capacity())
            .field("published", &self.published())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Keeps a written field off the cache lines of read-mostly ones.
#[repr(align(128))]
struct Padded<T>(T);

struct Shared {
    /// Records completely published; written only by the producer.
    tail: Padded<AtomicU64>,
    closed: AtomicBool,
    /// Written when consumers go to sleep and when the producer wakes them: kept
    /// off the line of `mask`/`slots`, which every `try_recv` reads.
    waiters: Padded<wait::WaiterStack>,
    mask: u64,
    slots: Box<[Slot]>,
    /// Named consumers' positions, read by monitoring.
    cursors: cursors::Cursors,
}

impl Shared {
    fn slot(&self, seq: u64) -> &Slot {
        // The mask keeps the index below `slots.len()`.
        &self.slots[(seq & self.mask) as usize]
    }

    fn capacity(&self) -> u64 {
        self.mask + 1
    }

    fn published(&self) -> u64 {
        self.tail.0.load(Ordering::Acquire)
    }

    fn oldest(&self) -> u64 {
        self.published().saturating_sub(self.capacity())
    }
}
