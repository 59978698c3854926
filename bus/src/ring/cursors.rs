//! Named consumers' positions, for monitoring only: how far each reader (the journal,
//! the gateway, the NATS publisher) is behind its ring. A named consumer stores its
//! position after each receive (one relaxed store to its own cache line); unnamed
//! consumers pay a branch. Not part of the ring's synchronization (no loom model).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};

/// One named consumer's position.
#[derive(Debug)]
pub(crate) struct Cursor {
    name: Box<str>,
    position: AtomicU64,
}

impl Cursor {
    #[inline]
    pub(crate) fn store(&self, position: u64) {
        self.position.store(position, Relaxed);
    }
}

/// The ring's named consumers (a consumer's drop removes it).
#[derive(Debug, Default)]
pub(crate) struct Cursors(Mutex<Vec<Weak<Cursor>>>);

/// How far one named consumer is behind its ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerLag {
    pub name: String,
    /// Records published that this consumer has not read yet.
    pub behind: u64,
}

impl Cursors {
    pub(crate) fn register(&self, name: &str, position: u64) -> Arc<Cursor> {
        let cursor = Arc::new(Cursor {
            name: name.into(),
            position: AtomicU64::new(position),
        });
        let mut list = self.0.lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|c| c.strong_count() > 0);
        list.push(Arc::downgrade(&cursor));
        cursor
    }

    pub(crate) fn lags(&self, published: u64) -> Vec<ConsumerLag> {
        let list = self.0.lock().unwrap_or_else(|e| e.into_inner());
        list.iter()
            .filter_map(Weak::upgrade)
            .map(|c| ConsumerLag {
                name: c.name.to_string(),
                behind: published.saturating_sub(c.position.load(Relaxed)),
            })
            .collect()
    }
}
