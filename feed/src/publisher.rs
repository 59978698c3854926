//! The feed's [`RecordSink`]: stamps per-stream sequence numbers and publishes on
//! the venue's bus ring. Never blocks (the ring overwrites its oldest slot).

use tickd_bus::record::{StatusKind, StatusMsg};
use tickd_bus::ring::Producer;
use tickd_bus::{Record, RecordBuf};
use tickd_normalizer::RecordSink;

use crate::sequencer::Sequencer;
use crate::stats::{SharedStats, VenueStats};

pub struct Publisher {
    producer: Producer,
    sequencer: Sequencer,
    stats: SharedStats,
}

impl Publisher {
    pub fn new(producer: Producer, stats: SharedStats) -> Self {
        Self {
            producer,
            sequencer: Sequencer::new(),
            stats,
        }
    }

    pub fn stats(&self) -> &SharedStats {
        &self.stats
    }

    /// Publish a typed record (status records and the like).
    pub fn publish<R: Record>(&mut self, record: &R) {
        self.push(RecordBuf::new(record));
    }
}

impl RecordSink for Publisher {
    #[inline]
    fn push(&mut self, mut record: RecordBuf) {
        self.sequencer.stamp(record.header_mut());
        self.producer.publish(&record);
        let counters = &self.stats.counters;
        VenueStats::add(&counters.records, 1);
        // Gaps and resyncs are counted where every one of them passes: here.
        if let Some(status) = record.get::<StatusMsg>() {
            match status.kind() {
                Some(StatusKind::Gap) => VenueStats::add(&counters.gaps, 1),
                Some(StatusKind::BookResync) => VenueStats::add(&counters.resyncs, 1),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::record::StatusReason;
    use tickd_bus::ring::{ring, TryRecv};
    use tickd_bus::Venue;

    #[test]
    fn stamps_sequences_per_stream_and_publishes() {
        let (producer, handle) = ring(64);
        let mut consumer = handle.subscribe();
        let stats = VenueStats::new(Venue::Binance);
        let mut publisher = Publisher::new(producer, stats.clone());
        for instrument in [1, 1, 2, 1] {
            publisher.publish(&crate::status::gap(
                Venue::Binance,
                instrument,
                StatusReason::SequenceGap,
                None,
                0,
                0,
            ));
        }
        let mut seen = Vec::new();
        while let TryRecv::Record(r) = consumer.try_recv() {
            let s = r.get::<tickd_bus::record::StatusMsg>().expect("status");
            assert_eq!(s.kind(), Some(StatusKind::Gap));
            seen.push((s.hd.instrument_id, s.hd.sequence));
        }
        assert_eq!(seen, vec![(1, 1), (1, 2), (2, 1), (1, 3)]);
        assert_eq!(stats.counters.snapshot().records, 4);
        assert_eq!(stats.counters.snapshot().gaps, 4);
    }
}
