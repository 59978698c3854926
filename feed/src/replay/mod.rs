//! Replay of a capture through the venue engine's core (the same decoder, merge,
//! book sync and sequencer the live feed runs, driven by capture lines instead of
//! sockets), without a network: the records a capture gives are a function of the
//! capture alone (`ts_recv` comes from the file, ids from the instrument registry
//! the caller passes plus the captured instrument lists), so the same capture always
//! gives the same records, and a day can be re-normalized with fixed code.
//!
//! The caller (the `tickd replay` command) reads lines with
//! [`crate::capture::CaptureReader`], pushes them here, and stores what comes out.
//!
//! Connection events the capture recorded (`connect` / `disconnect` lines) come out
//! as status records. What a capture cannot tell: which of two overlapping
//! connections was the primary during a rotation (every connection counts as
//! primary; the merge still drops the duplicates).

mod stats;

use std::collections::{BTreeMap, HashSet};

use tickd_bus::instrument::InstrumentRegistry;
use tickd_bus::record::{StatusKind, StatusMsg, StatusReason};
use tickd_bus::{RecordBuf, RecordType, Venue};

pub use stats::{ReplayStats, VenueReplayStats};

use crate::capture::{CaptureKind, CaptureLine};
use crate::publisher::Publisher;
use crate::status;

/// Depth events buffered per book while it waits for its snapshot (as the feed).
const MAX_BUFFERED_EVENTS: usize = 10_000;

/// One venue's replay: the engine's replay driver for the venue's adapter
/// (`crate::engine::replay`), behind the adapter registry.
pub trait VenueReplay {
    fn on_ws(
        &mut self,
        line: &CaptureLine,
        frame: &[u8],
        binary: bool,
        registry: &mut InstrumentRegistry,
        stats: &mut VenueReplayStats,
    );
    fn on_rest(
        &mut self,
        line: &CaptureLine,
        body: &[u8],
        registry: &mut InstrumentRegistry,
        stats: &mut VenueReplayStats,
    );
    fn publisher(&mut self) -> &mut Publisher;
    /// Connection `conn` closed: its books resync.
    fn on_disconnect(&mut self, conn: u32, ts: u64);
    /// Hand what the last line produced to `out`, counting it.
    fn drain(
        &mut self,
        registry: &InstrumentRegistry,
        stats: &mut VenueReplayStats,
        out: &mut dyn FnMut(&RecordBuf),
    );
    fn final_counts(&self, registry: &InstrumentRegistry, stats: &mut VenueReplayStats);
}

pub struct Replayer {
    registry: InstrumentRegistry,
    venues: BTreeMap<Venue, Box<dyn VenueReplay>>,
    stats: ReplayStats,
    /// Connections seen connecting (the first connect is a start-up).
    connected: HashSet<(Venue, u64)>,
}

impl Replayer {
    /// Replay with `registry` (a saved one keeps the ids of a live run; an empty one
    /// is filled from the capture's instrument lists, in the order symbols appear).
    pub fn new(registry: InstrumentRegistry) -> Self {
        Self {
            registry,
            venues: BTreeMap::new(),
            stats: ReplayStats::default(),
            connected: HashSet::new(),
        }
    }

    /// Run one capture line; the records it produces go to `out`, in order, with
    /// their per-stream sequence numbers stamped.
    pub fn push(&mut self, line: &CaptureLine, out: &mut dyn FnMut(&RecordBuf)) {
        let Some(venue) = line
            .venue
            .parse::<Venue>()
            .ok()
            .filter(|v| crate::engine::registry::adapter(*v).is_some())
        else {
            self.stats.unsupported_lines += 1;
            *self
                .stats
                .unsupported_venues
                .entry(line.venue.clone())
                .or_default() += 1;
            return;
        };
        let stats = self
            .stats
            .venues
            .entry(venue.as_str().to_string())
            .or_default();
        let replay = self.venues.entry(venue).or_insert_with(|| {
            crate::engine::registry::adapter(venue)
                .expect("filtered above")
                .replay(venue, MAX_BUFFERED_EVENTS)
        });
        let conn = u32::try_from(line.conn).unwrap_or(u32::MAX);
        match line.kind {
            CaptureKind::Ws => match line.frame() {
                Some((frame, binary)) => {
                    replay.on_ws(line, &frame, binary, &mut self.registry, stats)
                }
                None => {
                    stats.ws_frames += 1;
                    stats.decode_errors += 1;
                }
            },
            CaptureKind::Rest => {
                replay.on_rest(line, line.data.as_bytes(), &mut self.registry, stats)
            }
            CaptureKind::Loss => {
                stats.capture_dropped += line.data.trim().parse::<u64>().unwrap_or(1);
            }
            CaptureKind::Connect => {
                let reason = if self.connected.insert((venue, line.conn)) {
                    StatusReason::Startup
                } else {
                    StatusReason::ConnectionLost
                };
                let record = status::connected(venue, conn, reason, line.ts_recv);
                replay.publisher().publish(&record);
            }
            CaptureKind::Disconnect => {
                let record =
                    status::disconnected(venue, conn, StatusReason::ConnectionLost, line.ts_recv);
                replay.publisher().publish(&record);
                // As live: the books that connection carried are invalid until a
                // fresh image.
                replay.on_disconnect(conn, line.ts_recv);
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
                replay.final_counts(&self.registry, stats);
            }
        }
        (self.registry, self.stats)
    }
}

/// Count one record out of a replay.
pub(crate) fn count(
    record: &RecordBuf,
    registry: &InstrumentRegistry,
    stats: &mut VenueReplayStats,
) {
    let header = record.header();
    let name = RecordType::from_u8(header.rtype).map_or("unknown", RecordType::as_str);
    *stats.records.entry(name.to_string()).or_default() += 1;
    if header.rtype == RecordType::Trade as u8 {
        let symbol = registry
            .get(header.instrument_id)
            .map_or("?", |i| i.spec.raw_symbol.as_str());
        *stats
            .trades_by_symbol
            .entry(symbol.to_string())
            .or_default() += 1;
    }
    if let Some(status) = record.get::<StatusMsg>() {
        match status.kind() {
            Some(StatusKind::Gap) => stats.gaps += 1,
            Some(StatusKind::BookResync) => stats.resyncs += 1,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
