//! Replay of a capture through the venues' own decoders, merge, book sync and
//! sequencer, without a network: the records a capture gives are a function of the
//! capture alone (`ts_recv` comes from the file, ids from the instrument registry
//! the caller passes plus the captured instrument lists), so the same capture always
//! gives the same records, and a day can be re-normalized with fixed code.
//!
//! The caller (the `tickd replay` command) reads lines with
//! [`crate::capture::CaptureReader`], pushes them here, and stores what comes out.
//!
//! What a capture cannot tell: connection events (a disconnect is seen as the gap it
//! leaves, and the book resyncs on it) and which of two overlapping connections was
//! the primary during a rotation (every connection counts as primary; the merge still
//! drops the duplicates).

mod binance;
mod stats;

use std::collections::BTreeMap;

use tickd_bus::instrument::InstrumentRegistry;
use tickd_bus::{RecordBuf, Venue};
use tickd_normalizer::binance::BinanceMarket;

pub use stats::{ReplayStats, VenueReplayStats};

use crate::capture::{CaptureKind, CaptureLine};

/// Depth events buffered per book while it waits for its snapshot (as the feed).
const MAX_BUFFERED_EVENTS: usize = 10_000;

pub struct Replayer {
    registry: InstrumentRegistry,
    venues: BTreeMap<Venue, binance::BinanceReplay>,
    stats: ReplayStats,
}

impl Replayer {
    /// Replay with `registry` (a saved one keeps the ids of a live run; an empty one
    /// is filled from the capture's instrument lists, in the order symbols appear).
    pub fn new(registry: InstrumentRegistry) -> Self {
        Self {
            registry,
            venues: BTreeMap::new(),
            stats: ReplayStats::default(),
        }
    }

    /// Run one capture line; the records it produces go to `out`, in order, with
    /// their per-stream sequence numbers stamped.
    pub fn push(&mut self, line: &CaptureLine, out: &mut dyn FnMut(&RecordBuf)) {
        let Some((venue, market)) = binance_market(&line.venue) else {
            self.stats.unsupported_lines += 1;
            return;
        };
        let stats = self
            .stats
            .venues
            .entry(venue.as_str().to_string())
            .or_default();
        let replay = self
            .venues
            .entry(venue)
            .or_insert_with(|| binance::BinanceReplay::new(venue, market, MAX_BUFFERED_EVENTS));
        match line.kind {
            CaptureKind::Ws => replay.on_ws(line, &mut self.registry, stats),
            CaptureKind::Rest => replay.on_rest(line, &mut self.registry, stats),
            CaptureKind::Loss => {
                stats.capture_dropped += line.data.trim().parse::<u64>().unwrap_or(1);
            }
        }
        replay.drain(&self.registry, stats, out);
    }

    pub fn stats(&self) -> &ReplayStats {
        &self.stats
    }

    pub fn registry(&self) -> &InstrumentRegistry {
        &self.registry
    }

    /// The registry (with what the capture added) and the final counts.
    pub fn finish(mut self) -> (InstrumentRegistry, ReplayStats) {
        for (venue, replay) in &self.venues {
            if let Some(stats) = self.stats.venues.get_mut(venue.as_str()) {
                replay.final_counts(stats);
            }
        }
        (self.registry, self.stats)
    }
}

fn binance_market(venue: &str) -> Option<(Venue, BinanceMarket)> {
    let venue: Venue = venue.parse().ok()?;
    let feed = crate::binance::BinanceFeed::for_venue(venue)?;
    Some((venue, feed.market))
}

#[cfg(test)]
mod tests;
