//! Bytes of queued records a connection may hold, and the server across connections:
//! a record that would go past either is treated as if its queue were full (the
//! subscription's slow-subscriber policy applies), so memory stays bounded however
//! many subscriptions and streams a client holds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What one queued item costs against a budget (its size in the queue).
pub const ITEM_BYTES: usize = std::mem::size_of::<super::queue::Item>();

#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    max: usize,
    /// The server's budget, charged along with each connection's.
    parent: Option<Arc<Budget>>,
}

impl Budget {
    pub fn new(max: usize, parent: Option<Arc<Budget>>) -> Arc<Budget> {
        Arc::new(Budget {
            used: AtomicUsize::new(0),
            max,
            parent,
        })
    }

    /// Charges `n` bytes if they fit here and in the parent.
    pub fn take(&self, n: usize) -> bool {
        let fits = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= self.max)
            })
            .is_ok();
        if !fits {
            return false;
        }
        if let Some(parent) = &self.parent {
            if !parent.take(n) {
                self.used.fetch_sub(n, Ordering::AcqRel);
                return false;
            }
        }
        true
    }

    /// Charges `n` bytes whether or not they fit (a book image: bounded on its own).
    pub fn force(&self, n: usize) {
        self.used.fetch_add(n, Ordering::AcqRel);
        if let Some(parent) = &self.parent {
            parent.force(n);
        }
    }

    pub fn give(&self, n: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(n))
            });
        if let Some(parent) = &self.parent {
            parent.give(n);
        }
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_bounded_by_its_budget_and_the_servers() {
        let server = Budget::new(300, None);
        let a = Budget::new(200, Some(Arc::clone(&server)));
        let b = Budget::new(200, Some(Arc::clone(&server)));
        assert!(a.take(150));
        assert!(!a.take(100), "over the connection's budget");
        assert!(b.take(150));
        assert!(!b.take(10), "over the server's budget");
        assert_eq!(b.used(), 150);
        a.give(150);
        assert!(b.take(10));
        assert_eq!(server.used(), 160);
    }
}
