//! Where normalized records go: a `Vec` in tests, the bus publisher in the feed.

use tickd_bus::{Record, RecordBuf};

/// Receives records in order. Implementations must not block (the feed's sink is
/// the bus producer, which never waits).
pub trait RecordSink {
    fn push(&mut self, record: RecordBuf);

    /// Convenience for typed records.
    fn push_record<R: Record>(&mut self, record: &R)
    where
        Self: Sized,
    {
        self.push(RecordBuf::new(record));
    }
}

impl RecordSink for Vec<RecordBuf> {
    fn push(&mut self, record: RecordBuf) {
        Vec::push(self, record);
    }
}
