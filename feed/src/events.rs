//! The queue that carries a venue's connection events (frames above all) from its
//! connection tasks to its core. Everything runs on the venue's one thread, so the
//! queue is a plain `VecDeque` behind a `RefCell`: no atomics per event, and its
//! capacity is kept, so the steady state allocates nothing (a tokio mpsc allocates a
//! block of 32 slots whenever its backlog outgrows the blocks it keeps for reuse).
//! The core is woken once per batch: only the push into an empty queue wakes it, and
//! it drains what is there before it waits again.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use tokio::sync::Notify;

use crate::connection::ConnEvent;

struct Shared {
    queue: RefCell<VecDeque<ConnEvent>>,
    capacity: usize,
    receiver_alive: Cell<bool>,
    /// The queue became non-empty (the receiver waits on it).
    readable: Notify,
    /// The queue fell below its capacity, or the receiver went away.
    writable: Notify,
}

/// The connection tasks' end (cloned per connection).
#[derive(Clone)]
pub struct EventSender(Rc<Shared>);

/// The core's end.
pub struct EventReceiver(Rc<Shared>);

/// The receiver is gone; the event was not queued.
#[derive(Debug)]
pub struct Closed;

/// A bounded queue: senders wait while `capacity` events wait to be read.
pub fn event_queue(capacity: usize) -> (EventSender, EventReceiver) {
    let capacity = capacity.max(1);
    let shared = Rc::new(Shared {
        queue: RefCell::new(VecDeque::with_capacity(capacity)),
        capacity,
        receiver_alive: Cell::new(true),
        readable: Notify::new(),
        writable: Notify::new(),
    });
    (EventSender(shared.clone()), EventReceiver(shared))
}

impl EventSender {
    /// Queue `event`, waiting for room while the queue is full.
    pub async fn send(&self, event: ConnEvent) -> Result<(), Closed> {
        loop {
            if !self.0.receiver_alive.get() {
                return Err(Closed);
            }
            if self.0.queue.borrow().len() < self.0.capacity {
                break;
            }
            // Registered before this task yields, and only this thread runs: no
            // wake-up can slip between the check and the wait.
            self.0.writable.notified().await;
        }
        let was_empty = {
            let mut queue = self.0.queue.borrow_mut();
            queue.push_back(event);
            queue.len() == 1
        };
        if was_empty {
            self.0.readable.notify_one();
        }
        Ok(())
    }
}

impl EventReceiver {
    /// The next event, waiting while there is none.
    pub async fn recv(&mut self) -> ConnEvent {
        loop {
            if let Some(event) = self.try_recv() {
                return event;
            }
            self.0.readable.notified().await;
        }
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<ConnEvent> {
        let (event, was_full) = {
            let mut queue = self.0.queue.borrow_mut();
            let was_full = queue.len() >= self.0.capacity;
            (queue.pop_front(), was_full)
        };
        if was_full {
            self.0.writable.notify_waiters();
        }
        event
    }
}

impl Drop for EventReceiver {
    fn drop(&mut self) {
        self.0.receiver_alive.set(false);
        self.0.writable.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u8) -> ConnEvent {
        ConnEvent::Frame {
            conn: 1,
            ts_recv: u64::from(n),
            data: bytes::Bytes::from(vec![n]),
            binary: true,
        }
    }

    fn ts(event: ConnEvent) -> u64 {
        match event {
            ConnEvent::Frame { ts_recv, .. } => ts_recv,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn on_local_runtime(body: impl std::future::Future<Output = ()>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, body);
    }

    /// In order; a full queue holds the sender back until the core reads; a sender
    /// whose core is gone is told so instead of waiting forever.
    #[test]
    fn keeps_order_bounds_the_backlog_and_reports_a_gone_receiver() {
        on_local_runtime(async {
            let (tx, mut rx) = event_queue(2);
            let sender = tokio::task::spawn_local({
                let tx = tx.clone();
                async move {
                    for n in 0..5 {
                        tx.send(frame(n)).await.unwrap();
                    }
                }
            });
            tokio::task::yield_now().await;
            assert_eq!(rx.0.queue.borrow().len(), 2, "the sender waits at capacity");
            let mut got = Vec::new();
            while got.len() < 5 {
                let event = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
                    .await
                    .expect("an event");
                got.push(ts(event));
            }
            assert_eq!(got, [0, 1, 2, 3, 4]);
            sender.await.unwrap();
            assert!(rx.try_recv().is_none());
            tx.send(frame(9)).await.unwrap();
            tx.send(frame(9)).await.unwrap();
            let blocked = tokio::task::spawn_local({
                let tx = tx.clone();
                async move { tx.send(frame(9)).await }
            });
            tokio::task::yield_now().await;
            drop(rx);
            let outcome = tokio::time::timeout(std::time::Duration::from_secs(5), blocked)
                .await
                .expect("the sender is released")
                .unwrap();
            assert!(outcome.is_err());
        });
    }
}
