//! The ring's single writer.

use super::sync::{Arc, Ordering};
use super::{RingHandle, Shared};
use crate::RecordBuf;

/// The only writer of a ring. `Send` (move it to the feed thread), not `Clone`.
/// Dropping it closes the ring: consumers read what is left, then get `Closed`.
pub struct Producer {
    shared: Arc<Shared>,
    /// Next sequence to write; only this producer advances the shared tail.
    next: u64,
}

impl Producer {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared, next: 0 }
    }

    /// Publish one record, overwriting the oldest if the ring is full. Never
    /// blocks or allocates; when nobody sleeps it costs one fence and one load
    /// beyond the copy. Wakes sleeping consumers (their wakers run on this thread).
    #[inline]
    pub fn publish(&mut self, record: &RecordBuf) {
        self.publish_quiet(record);
        self.wake();
    }

    /// Publish one record without waking sleeping consumers: they see it at their
    /// next receive, or when [`Producer::wake`] runs. A writer that publishes a
    /// batch (one wake-up of the feed may yield hundreds of records) pays the wake
    /// once, after the batch, instead of a futex call per record.
    #[inline]
    pub fn publish_quiet(&mut self, record: &RecordBuf) {
        let seq = self.next;
        self.shared.slot(seq).write(seq, record.words());
        self.next = seq + 1;
        self.shared.tail.0.store(self.next, Ordering::Release);
    }

    /// Wake the consumers sleeping on this ring. One fence and one load when
    /// nobody sleeps.
    #[inline]
    pub fn wake(&self) {
        self.shared.waiters.0.wake_all();
    }

    /// A handle for subscribing to this ring.
    pub fn handle(&self) -> RingHandle {
        RingHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Records published so far.
    pub fn published(&self) -> u64 {
        self.next
    }

    pub fn capacity(&self) -> usize {
        self.shared.slots.len()
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.waiters.0.wake_all();
    }
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("published", &self.next)
            .finish()
    }
}
