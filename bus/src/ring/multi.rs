//! Many rings read as one: the feeds run one producer per venue thread, and the
//! storage writer and gateway read them all.

use std::future::poll_fn;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::wait::Parker;
use super::{Consumer, RingHandle, TryRecv};
use crate::RecordBuf;

/// The set of rings on this node, one per producer.
#[derive(Debug, Clone, Default)]
pub struct Bus {
    rings: Vec<RingHandle>,
}

impl Bus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a producer's ring; returns its index, which [`MultiRecv`] reports.
    pub fn add(&mut self, ring: RingHandle) -> usize {
        self.rings.push(ring);
        self.rings.len() - 1
    }

    pub fn rings(&self) -> &[RingHandle] {
        &self.rings
    }

    /// A consumer of every ring added so far, each starting at its next record.
    pub fn subscribe_all(&self) -> MultiConsumer {
        MultiConsumer::new(self.rings.iter().map(RingHandle::subscribe).collect())
    }

    /// A consumer of every ring added so far, each starting at its oldest record.
    pub fn subscribe_all_oldest(&self) -> MultiConsumer {
        MultiConsumer::new(
            self.rings
                .iter()
                .map(RingHandle::subscribe_oldest)
                .collect(),
        )
    }
}

/// What a receive over many rings found; `ring` is the index from [`Bus::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiRecv {
    Record {
        ring: usize,
        record: RecordBuf,
    },
    Lagged {
        ring: usize,
        lost: u64,
    },
    /// No ring has anything new (or the wait timed out).
    Empty,
    /// Every ring is closed and drained.
    Closed,
}

/// Reads several rings fairly: after a ring yields, the next receive starts
/// looking at the ring after it, so a busy venue cannot starve a quiet one.
#[derive(Debug)]
pub struct MultiConsumer {
    consumers: Vec<Consumer>,
    closed: Vec<bool>,
    next: usize,
    parker: Parker,
}

impl MultiConsumer {
    pub fn new(consumers: Vec<Consumer>) -> Self {
        Self {
            closed: vec![false; consumers.len()],
            consumers,
            next: 0,
            parker: Parker::default(),
        }
    }

    /// Names every ring's consumer (see [`Consumer::named`]).
    pub fn named(mut self, name: &str) -> Self {
        self.consumers = self.consumers.into_iter().map(|c| c.named(name)).collect();
        self
    }

    /// The per-ring consumers, in ring order (e.g. for their positions).
    pub fn consumers(&self) -> &[Consumer] {
        &self.consumers
    }

    pub fn try_recv(&mut self) -> MultiRecv {
        let count = self.consumers.len();
        for offset in 0..count {
            let ring = (self.next + offset) % count;
            if self.closed[ring] {
                continue;
            }
            match self.consumers[ring].try_recv() {
                TryRecv::Empty => continue,
                TryRecv::Closed => self.closed[ring] = true,
                TryRecv::Record(record) => {
                    self.next = (ring + 1) % count;
                    return MultiRecv::Record { ring, record };
                }
                TryRecv::Lagged(lost) => {
                    self.next = (ring + 1) % count;
                    return MultiRecv::Lagged { ring, lost };
                }
            }
        }
        if self.closed.iter().all(|closed| *closed) {
            MultiRecv::Closed
        } else {
            MultiRecv::Empty
        }
    }

    /// Wait, parking this thread, until some ring has news or `timeout` passes.
    pub fn recv_timeout(&mut self, timeout: Duration) -> MultiRecv {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            match self.try_recv() {
                MultiRecv::Empty => {}
                other => return other,
            }
            let waker = self.parker.waker();
            self.register_waker(&waker);
            match self.try_recv() {
                MultiRecv::Empty => {}
                other => return other,
            }
            if !Parker::park_until(deadline) {
                return MultiRecv::Empty;
            }
        }
    }

    /// Wait for news from any ring, with any executor.
    pub async fn recv(&mut self) -> MultiRecv {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<MultiRecv> {
        match self.try_recv() {
            MultiRecv::Empty => {}
            other => return Poll::Ready(other),
        }
        self.register_waker(cx.waker());
        match self.try_recv() {
            MultiRecv::Empty => Poll::Pending,
            other => Poll::Ready(other),
        }
    }

    fn register_waker(&self, waker: &Waker) {
        for (consumer, closed) in self.consumers.iter().zip(&self.closed) {
            if !closed {
                consumer.register_waker(waker);
            }
        }
    }
}
