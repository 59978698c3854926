//! Book events kept while a snapshot is awaited.

use std::collections::VecDeque;

use super::super::{BookEvent, Link, SequenceRule};
use crate::book::Level;

/// An owned copy of a [`BookEvent`]: the decoder's scratch buffers are reused for the
/// next frame, so a buffered event must own its levels. Allocates only while syncing.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OwnedEvent {
    pub ts_event: u64,
    pub ts_recv: u64,
    pub first: u64,
    pub last: u64,
    pub prev: Option<u64>,
    pub checksum: Option<u32>,
    pub record_id: Option<u64>,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

impl OwnedEvent {
    pub fn new(ev: &BookEvent<'_>, ts_recv: u64) -> Self {
        Self {
            ts_event: ev.ts_event,
            ts_recv,
            first: ev.first,
            last: ev.last,
            prev: ev.prev,
            checksum: ev.checksum,
            record_id: ev.record_id,
            bids: ev.bids.to_vec(),
            asks: ev.asks.to_vec(),
        }
    }

    pub fn as_event(&self, instrument_id: u32) -> BookEvent<'_> {
        BookEvent {
            instrument_id,
            snapshot: false,
            first: self.first,
            last: self.last,
            prev: self.prev,
            checksum: self.checksum,
            record_id: self.record_id,
            ts_event: self.ts_event,
            bids: &self.bids,
            asks: &self.asks,
        }
    }
}

/// Buffered events, always one continuous chain (an event that does not continue the
/// last one restarts the chain), bounded: overflow drops the oldest.
#[derive(Debug, Default)]
pub(super) struct EventBuffer {
    pub events: VecDeque<OwnedEvent>,
}

/// What buffering one event did, for the caller's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Buffered {
    pub stale: bool,
    pub restarted: bool,
    pub overflowed: bool,
}

impl EventBuffer {
    pub fn push<R: SequenceRule>(
        &mut self,
        rule: &R,
        ev: &BookEvent<'_>,
        ts_recv: u64,
        max: usize,
    ) -> Buffered {
        let mut outcome = Buffered::default();
        if let Some(back) = self.events.back() {
            match rule.chains(&back.as_event(ev.instrument_id), ev) {
                Link::Stale => {
                    outcome.stale = true;
                    return outcome;
                }
                // Events before a hole can never be spliced onto a snapshot taken after it.
                Link::Gap { .. } => {
                    self.events.clear();
                    outcome.restarted = true;
                }
                Link::Continues => {}
            }
        }
        while self.events.len() >= max.max(1) {
            self.events.pop_front();
            outcome.overflowed = true;
        }
        self.events.push_back(OwnedEvent::new(ev, ts_recv));
        outcome
    }
}
