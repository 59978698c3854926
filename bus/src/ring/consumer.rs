//! A reader with its own cursor.

use std::future::poll_fn;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::cursors::Cursor;
use super::slot::SlotRead;
use super::sync::{Arc, Ordering};
use super::wait::{Parker, WaitNode};
use super::{Shared, TryRecv};
use crate::RecordBuf;

/// One subscriber's cursor into a ring. `Send`: move it to the thread or task
/// that reads. It never slows the producer or other consumers.
pub struct Consumer {
    shared: Arc<Shared>,
    /// Next sequence to read.
    position: u64,
    node: Arc<WaitNode>,
    /// The waker `recv_timeout` parks with, built once per thread.
    parker: Parker,
    /// Where monitoring sees this consumer's position, if it is named.
    cursor: Option<std::sync::Arc<Cursor>>,
}

impl Consumer {
    pub(super) fn new(shared: Arc<Shared>, position: u64) -> Self {
        Self {
            shared,
            position,
            node: WaitNode::new(),
            parker: Parker::default(),
            cursor: None,
        }
    }

    /// Names this consumer so that [`super::RingHandle::consumer_lags`] reports how far
    /// behind it is (e.g. `journal`, `gateway`).
    pub fn named(mut self, name: &str) -> Self {
        self.cursor = Some(self.shared.cursors.register(name, self.position));
        self
    }

    #[inline]
    fn advance(&mut self, to: u64) {
        self.position = to;
        if let Some(cursor) = &self.cursor {
            cursor.store(to);
        }
    }

    /// Next sequence this consumer will read.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Records published but not yet read (or lost), as of now.
    pub fn pending(&self) -> u64 {
        self.shared.published().saturating_sub(self.position)
    }

    /// Take the next record without waiting. Spin on this for the lowest latency.
    #[inline]
    pub fn try_recv(&mut self) -> TryRecv {
        let seq = self.position;
        match self.shared.slot(seq).read(seq) {
            SlotRead::Ready(words) => {
                self.advance(seq + 1);
                TryRecv::Record(RecordBuf::from_words(words))
            }
            SlotRead::Overwritten { by } => self.skip_lost(by),
            SlotRead::NotYet => self.not_yet(),
        }
    }

    #[cold]
    fn not_yet(&mut self) -> TryRecv {
        if !self.shared.closed.load(Ordering::Acquire) {
            return TryRecv::Empty;
        }
        // Closed was set after the last publish: read the slot once more, now
        // ordered after everything the producer wrote.
        let seq = self.position;
        match self.shared.slot(seq).read(seq) {
            SlotRead::Ready(words) => {
                self.advance(seq + 1);
                TryRecv::Record(RecordBuf::from_words(words))
            }
            SlotRead::Overwritten { by } => self.skip_lost(by),
            SlotRead::NotYet => TryRecv::Closed,
        }
    }

    /// The slot we wanted holds (or is being filled with) sequence `by`: move to
    /// the oldest record that can still be intact and say how many we skipped.
    #[cold]
    fn skip_lost(&mut self, by: u64) -> TryRecv {
        let capacity = self.shared.capacity();
        // `by` is being written or done, so everything up to `by - capacity` is
        // gone; the tail may tell us the producer is further still.
        let oldest_intact = (by + 1)
            .saturating_sub(capacity)
            .max(self.shared.published().saturating_sub(capacity))
            .max(self.position + 1);
        let lost = oldest_intact - self.position;
        self.advance(oldest_intact);
        TryRecv::Lagged(lost)
    }

    /// Make `waker` be woken by the next publish (or the producer's drop). After
    /// this returns, check the ring again before sleeping: a record published
    /// meanwhile is either visible to that check or wakes `waker`.
    pub fn register_waker(&self, waker: &Waker) {
        self.shared.waiters.0.register(&self.node, waker);
    }

    /// Wait, parking this thread, until something other than `Empty` arrives or
    /// `timeout` passes (then `Empty`).
    pub fn recv_timeout(&mut self, timeout: Duration) -> TryRecv {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            match self.try_recv() {
                TryRecv::Empty => {}
                other => return other,
            }
            let waker = self.parker.waker();
            self.register_waker(&waker);
            match self.try_recv() {
                TryRecv::Empty => {}
                other => return other,
            }
            if !Parker::park_until(deadline) {
                return TryRecv::Empty;
            }
        }
    }

    /// Wait for something other than `Empty` without blocking the executor's
    /// thread. Works with any executor: it only uses the task's `Waker`.
    pub async fn recv(&mut self) -> TryRecv {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The poll behind [`Consumer::recv`], for hand-written futures.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<TryRecv> {
        match self.try_recv() {
            TryRecv::Empty => {}
            other => return Poll::Ready(other),
        }
        self.register_waker(cx.waker());
        match self.try_recv() {
            TryRecv::Empty => Poll::Pending,
            other => Poll::Ready(other),
        }
    }
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("position", &self.position)
            .field("capacity", &self.shared.capacity())
            .finish()
    }
}
