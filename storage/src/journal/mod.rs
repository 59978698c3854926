//! The embedded journal: append-only, checksummed segments of records.
//!
//! # Layout on disk
//!
//! ```text
//! <dir>/<venue>/<YYYY-MM-DD>/<seq:06>.seg        e.g. journal/okx/2026-11-21/000000.seg
//! <dir>/<venue>/<YYYY-MM-DD>/<seq:06>.seg.zst    a closed segment compressed by retention
//! <dir>/<venue>/<YYYY-MM-DD>/<seq:06>.idx        its posting index (derived, rebuilt when stale)
//! <dir>/<venue>/<YYYY-MM-DD>/series/<id>.bars    one instrument's bars of the day (derived)
//! <dir>/LOCK                                     flock held by the one open writer
//! ```
//!
//! The `.idx` and `.bars` files are caches that readers build and check on every
//! use ([`postings`], `crate::history`): deleting them is always safe.
//!
//! One series of segments per venue (the `Venue` name users type) per UTC day of
//! `ts_recv`. A new segment starts when the day of a record's `ts_recv` moves past
//! the open segment's day, when a segment reaches `segment_max_bytes`, and on each
//! writer start (the previous newest segment is recovered, never appended to).
//!
//! # File format ([`segment`])
//!
//! A 64-byte file header (magic `TICKDJNL`, version, venue, day, seq, record layout
//! version, crc), then
//! blocks: a 48-byte block header (magic, payload length, record count, CRC32,
//! min/max `ts_recv` and `ts_event`) and the records' own bytes back to back, each
//! 8-byte aligned, so readers view them in place in a memory map.
//!
//! # Guarantees
//!
//! - [`Journal::durable_position`] = n means records `0..n` appended since open are
//!   durable under the [`FsyncPolicy`]; those survive any crash ([`recovery`] cuts
//!   only bytes after the last whole checksummed block).
//! - A block with a bad checksum in the middle of a segment is reported and
//!   skipped; the blocks after it stay readable ([`reader`] steps over damaged
//!   headers by searching for the next block whose checksum verifies).
//! - Readers in other processes never fault on a map: no segment is ever shrunk
//!   in place ([`recovery`] replaces a torn one by a rename).
//! - [`bus_writer`] consumes the bus on its own thread and never slows the
//!   producer; records it lost are written as a `Gap` status record.

pub mod bus_writer;
pub mod index;
pub mod layout;
pub mod postings;
pub mod reader;
pub mod recovery;
pub mod retention;
pub mod segment;
pub mod space;
mod upgrade;
pub mod writer;

pub use bus_writer::{BusWriter, BusWriterConfig, BusWriterStats, RecordSource};
pub use reader::{Filter, IndexUse, JournalReader, ProblemKind, ReadProblem, Records};
pub use recovery::{RecoveryReport, SegmentRecovery};
pub use retention::{RetentionPolicy, RetentionReport};
pub use writer::{FsyncPolicy, Journal, JournalConfig, JournalStats};

use std::path::PathBuf;

/// Why a journal operation failed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not a valid record: {0}")]
    InvalidRecord(#[from] tickd_bus::record::RecordError),
    #[error("record has unknown venue id {0}")]
    UnknownVenue(u8),
    #[error("journal is open in another writer ({0} is locked)")]
    Locked(PathBuf),
}
