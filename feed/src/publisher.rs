//! The feed's [`RecordSink`]: stamps per-stream sequence numbers and publishes on
//! the venue's bus ring. Never blocks (the ring overwrites its oldest slot).
//!
//! A batched publisher ([`Publisher::batched`]) leaves consumers asleep until its
//! owner calls [`Publisher::wake`] at the end of a batch of work: the live core
//! does so after every wake-up of its loop, so a sleeping journal or gateway is
//! woken once per batch, not once per record.

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
    /// Wake consumers only in [`Publisher::wake`], not after each record.
    batched: bool,
}

impl Publisher {
    pub fn new(producer: Producer, stats: SharedStats) -> Self {
        Self {
            producer,
            sequencer: Sequencer::new(),
            stats,
            batched: false,
        }
    }

    /// Leave consumers asleep until [`Publisher::wake`]. Whoever owns a batched
    /// publisher must call `wake` after each batch of work, or consumers that
    /// sleep see its records only at the next wake.
    pub fn batched(mut self) -> Self {
        self.batched = true;
        self
    }

    /// Wake the consumers sleeping on the ring (after a batch).
    #[inline]
    pub fn wake(&self) {
        self.producer.wake();
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
        if self.batched {
            self.producer.publish_quiet(&record);
        } else {
            self.producer.publish(&record);
        }
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
