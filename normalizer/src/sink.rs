//! Where normalized records go: a `Vec` in tests, the bus publisher in the feed.

use tickd_bus::{Record, RecordBuf};

use crate::engine::ConnCounter;

/// Receives records in order. Implementations must not block (the feed's sink is
/// the bus producer, which never waits).
pub trait RecordSink {
    fn push(&mut self, record: RecordBuf);

    /// The frame being decoded carries this per-connection counter (Coinbase
    /// `sequence_num`, `heartbeat_counter`). The feed's sink checks continuity per
    /// connection; other sinks ignore it.
    #[inline]
    fn conn_counter(&mut self, _counter: ConnCounter, _value: u64) {}

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
