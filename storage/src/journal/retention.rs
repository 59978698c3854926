//! Retention: delete old days, compress closed segments with zstd.
//!
//! A day folder is deleted once `today - day > keep_days`. A closed segment whose
//! day is at least `compress_after_days` old becomes `<seq>.seg.zst` (the whole
//! file as one zstd frame), which readers decompress transparently. Compression
//! writes `<seq>.seg.zst.tmp`, fsyncs it, renames it into place, fsyncs the
//! folder and only then removes the original, so a crash at any point leaves at
//! least one whole copy (readers prefer the original while both exist).

use std::path::{Path, PathBuf};

use tickd_bus::Venue;

use super::layout::{list_days, list_segments, sync_dir};
use super::JournalError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Delete day folders more than this many days older than today.
    pub keep_days: u32,
    /// Compress closed segments at least this many days old (0: as soon as closed).
    pub compress_after_days: Option<u32>,
    /// zstd level for compression.
    pub zstd_level: i32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            keep_days: 30,
            compress_after_days: Some(1),
            zstd_level: 3,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub deleted_days: Vec<PathBuf>,
    pub compressed: Vec<PathBuf>,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// Apply `policy` to the journal at `root`; `today` is the current UTC day number.
/// Segments in `active` (open for writing) are never touched.
pub fn apply(
    root: &Path,
    policy: &RetentionPolicy,
    today: u32,
    active: &[PathBuf],
) -> Result<RetentionReport, JournalError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| JournalError::Io { path, source }
    };
    let mut report = RetentionReport::default();
    for venue in Venue::ALL {
        for (day, dir) in list_days(root, venue).map_err(io(root))? {
            let age = today.saturating_sub(day);
            let holds_active = active.iter().any(|p| p.starts_with(&dir));
            if age > policy.keep_days && !holds_active {
                std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
                if let Some(parent) = dir.parent() {
                    sync_dir(parent).map_err(io(parent))?;
                }
                report.deleted_days.push(dir);
                continue;
            }
            let Some(after) = policy.compress_after_days else {
                continue;
            };
            if age < after {
                continue;
            }
            for segment in list_segments(root, venue, day).map_err(io(&dir))? {
                if segment.compressed || active.contains(&segment.path) {
                    continue;
                }
                let (before, after) = compress_segment(&segment.path, policy.zstd_level)
                    .map_err(io(&segment.path))?;
                report.bytes_before += before;
                report.bytes_after += after;
                report.compressed.push(segment.path);
            }
        }
    }
    if !report.deleted_days.is_empty() || !report.compressed.is_empty() {
        // Let go of this process's maps of the removed files, so the space is freed.
        super::reader::prune_map_cache();
    }
    Ok(report)
}

/// Compress `<seq>.seg` into `<seq>.seg.zst` and remove the original.
/// Returns the sizes before and after.
pub fn compress_segment(path: &Path, level: i32) -> std::io::Result<(u64, u64)> {
    let mut zst = path.as_os_str().to_owned();
    zst.push(".zst");
    let zst = PathBuf::from(zst);
    let mut tmp = zst.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);

    let mut input = std::fs::File::open(path)?;
    let before = input.metadata()?.len();
    let output = std::fs::File::create(&tmp)?;
    let mut encoder = zstd::stream::write::Encoder::new(output, level)?;
    std::io::copy(&mut input, &mut encoder)?;
    let output = encoder.finish()?;
    output.sync_all()?;
    let after = output.metadata()?.len();
    drop(output);
    std::fs::rename(&tmp, &zst)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    sync_dir(dir)?;
    std::fs::remove_file(path)?;
    sync_dir(dir)?;
    Ok((before, after))
}
