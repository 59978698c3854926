//! What a replay counted, per venue (serialized for `tickd replay --stats json`).

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReplayStats {
    /// By venue name.
    pub venues: BTreeMap<String, VenueReplayStats>,
    /// Lines of venues without a replayable feed.
    pub unsupported_lines: u64,
    /// Those lines by the venue name they carry.
    pub unsupported_venues: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VenueReplayStats {
    pub ws_frames: u64,
    pub rest_bodies: u64,
    /// Records out, by record type name (`trade`, `bbo`, `book`, `status`, ...).
    pub records: BTreeMap<String, u64>,
    /// Trade records out, by raw venue symbol.
    pub trades_by_symbol: BTreeMap<String, u64>,
    /// Frames the decoder rejected (unknown symbols excluded).
    pub decode_errors: u64,
    /// Frames or bodies for a symbol no instrument list or registry knows.
    pub unknown_symbols: u64,
    /// Undecodable REST bodies (snapshots, instrument lists, open interest).
    pub rest_errors: u64,
    /// REST bodies of a kind replay does not use.
    pub rest_ignored: u64,
    /// Gap and book-resync status records out.
    pub gaps: u64,
    pub resyncs: u64,
    /// REST snapshots handed to a book that asked for one (it may ask again).
    pub snapshots_applied: u64,
    /// Snapshots for a book that was not waiting for one (ignored, as live).
    pub snapshots_unrequested: u64,
    /// Messages dropped as already delivered (overlapping connections).
    pub duplicates: u64,
    /// Frames the recorder dropped (from the capture's `loss` lines): lossy input.
    pub capture_dropped: u64,
    /// Books that received events but never a usable image (e.g. their REST
    /// snapshots come before their diffs in the file): their deltas are missing.
    pub books_never_synced: Vec<String>,
}

impl ReplayStats {
    /// Every venue's count of `rtype` records.
    pub fn records_of(&self, rtype: &str) -> u64 {
        self.venues
            .values()
            .filter_map(|v| v.records.get(rtype))
            .sum()
    }
}
