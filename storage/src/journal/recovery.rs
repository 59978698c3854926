//! Recovery on open: cut a torn tail back to the last whole, checksummed block.
//!
//! Only the newest segment of each venue can have been open when a writer died:
//! the writer keeps one segment per venue open, only ever moves forward, and
//! fsyncs a segment before opening its successor. Recovery therefore checks every
//! block checksum of those segments and truncates what follows the last good
//! block. Damaged blocks *between* good ones are reported, not cut (that would
//! lose the good blocks after them); readers skip them.
//!
//! Readers in other processes may have the segment memory-mapped while recovery
//! runs (`tickd bars` or the gateway's history beside a restarting `tickd serve`).
//! Shrinking a mapped file makes their next touch of the cut pages a SIGBUS, so
//! recovery never truncates in place: it writes the kept prefix to a new file and
//! renames it over the old one. Existing maps keep the old inode, whole, until they
//! are dropped; new readers open the recovered file.

use std::path::{Path, PathBuf};

use memmap2::Mmap;
use tickd_bus::Venue;

use super::layout::{list_days, list_segments, sync_dir};
use super::segment::{walk_blocks, BadRange, FileHeader, HeaderError, FILE_HEADER_LEN};
use super::JournalError;

/// What recovery found and did in one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRecovery {
    pub path: PathBuf,
    /// Length kept: the file header and every block up to the last good one.
    pub valid_len: u64,
    /// Bytes cut from the end (a torn write).
    pub truncated_bytes: u64,
    pub blocks: u64,
    pub records: u64,
    /// Damaged ranges between good blocks, left in place and skipped by readers.
    pub bad: Vec<BadRange>,
    /// The file header was unusable; the segment was left as it is.
    pub header_error: Option<HeaderError>,
    /// The file was shorter than its header (the writer died creating it) and was removed.
    pub removed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub segments: Vec<SegmentRecovery>,
}

impl RecoveryReport {
    /// Whether every checked segment was whole.
    pub fn is_clean(&self) -> bool {
        self.segments.iter().all(|s| {
            s.truncated_bytes == 0 && s.bad.is_empty() && s.header_error.is_none() && !s.removed
        })
    }

    pub fn truncated_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.truncated_bytes).sum()
    }

    /// One line per thing recovery cut, removed or found damaged, naming the file and
    /// the byte range (for the log: what was lost, and where).
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for s in &self.segments {
            let path = s.path.display();
            if s.removed {
                lines.push(format!(
                    "{path}: removed ({} bytes, shorter than a segment header: the writer died creating it)",
                    s.truncated_bytes
                ));
            } else if s.truncated_bytes > 0 {
                lines.push(format!(
                    "{path}: cut {} bytes after byte {} (a torn write after the last whole block; {} blocks, {} records kept)",
                    s.truncated_bytes, s.valid_len, s.blocks, s.records
                ));
            }
            for bad in &s.bad {
                lines.push(format!(
                    "{path}: bytes {}..{} are damaged between good blocks; left in place, readers skip them",
                    bad.start, bad.end
                ));
            }
            if let Some(e) = s.header_error {
                lines.push(format!(
                    "{path}: {e}; the segment was left as it is and is not read"
                ));
            }
        }
        lines
    }
}

/// Recover the newest segment of every venue under `root`.
pub fn recover(root: &Path) -> Result<RecoveryReport, JournalError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| JournalError::Io { path, source }
    };
    let mut report = RecoveryReport::default();
    for venue in Venue::ALL {
        let days = list_days(root, venue).map_err(io(root))?;
        let Some(&(day, ref day_dir)) = days.last() else {
            continue;
        };
        let segments = list_segments(root, venue, day).map_err(io(day_dir))?;
        if let Some(newest) = segments.last().filter(|s| !s.compressed) {
            report.segments.push(recover_segment(&newest.path)?);
        }
    }
    Ok(report)
}

/// Check one uncompressed segment and truncate its torn tail, if any.
pub fn recover_segment(path: &Path) -> Result<SegmentRecovery, JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let mut result = SegmentRecovery {
        path: path.to_path_buf(),
        valid_len: file_len,
        truncated_bytes: 0,
        blocks: 0,
        records: 0,
        bad: Vec::new(),
        header_error: None,
        removed: false,
    };
    if file_len < FILE_HEADER_LEN as u64 {
        drop(file);
        std::fs::remove_file(path).map_err(io)?;
        if let Some(dir) = path.parent() {
            sync_dir(dir).map_err(io)?;
        }
        result.valid_len = 0;
        result.truncated_bytes = file_len;
        result.removed = true;
        return Ok(result);
    }
    // SAFETY: the map is read-only and dropped before the file is truncated; the
    // writer that could change the file is this process, which has not started.
    let map = unsafe { Mmap::map(&file) }.map_err(io)?;
    if let Err(err) = FileHeader::parse(&map) {
        result.header_error = Some(err);
        return Ok(result);
    }
    let walk = walk_blocks(&map, true);
    drop(map);
    result.blocks = walk.blocks.len() as u64;
    result.records = walk
        .blocks
        .iter()
        .map(|b| u64::from(b.header.record_count))
        .sum();
    result.bad = walk.bad;
    result.valid_len = walk.valid_end as u64;
    result.truncated_bytes = file_len - result.valid_len;
    if result.truncated_bytes > 0 {
        replace_with_prefix(&file, path, result.valid_len).map_err(io)?;
    }
    Ok(result)
}

/// Replace `path` by a copy of its first `len` bytes (see the module docs: never
/// shrink a file readers may have mapped).
fn replace_with_prefix(file: &std::fs::File, path: &Path, len: u64) -> std::io::Result<()> {
    use std::io::Read;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".recover");
    let tmp = PathBuf::from(tmp);
    let mut out = std::fs::File::create(&tmp)?;
    let copied = std::io::copy(&mut Read::by_ref(&mut &*file).take(len), &mut out)?;
    if copied != len {
        let _ = std::fs::remove_file(&tmp);
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("copied {copied} of {len} bytes"),
        ));
    }
    out.sync_all()?;
    drop(out);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}
