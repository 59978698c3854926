//! Captures: raw frames exactly as received, for re-normalizing a day later with
//! fixed code (`tickd record` writes them, `tickd replay` and `tickd sim` read them).
//!
//! A capture is JSON Lines, zstd-compressed when the file name ends in `.zst`, one
//! object per WebSocket frame or REST response body the feed used:
//!
//! ```text
//! {"ts_recv":<ns>,"venue":"binance","conn":<n>,"kind":"ws"|"rest","url":"<url>","data":"<raw text>"}
//! ```
//!
//! One more kind, `"loss"`, is written by the recorder when its bounded queue was
//! full and frames were dropped (`data` = how many, since the previous loss line), so
//! a lossy capture says so in the file itself; readers that only want frames skip it.
//!
//! - [`line`]: the serde types of a line (the one definition);
//! - [`tap`]: [`FrameTap`], the handle the feed calls per frame (never blocks);
//! - [`writer`]: [`CaptureWriter`], the thread that writes what taps send;
//! - [`reader`]: [`CaptureReader`], streaming, plain or zstd, tolerant of damage.

pub mod line;
pub mod reader;
pub mod tap;
pub mod writer;

pub use line::{request_target, CaptureKind, CaptureLine};
pub use reader::{CaptureReader, LineError, ReadStats};
pub use tap::FrameTap;
pub use writer::{CaptureSummary, CaptureWriter};

use std::path::Path;

/// Whether `path` names a zstd-compressed capture.
pub fn is_zstd(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zst"))
}

#[cfg(test)]
mod tests;
