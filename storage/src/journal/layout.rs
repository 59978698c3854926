//! Where segments live on disk: `<dir>/<venue>/<YYYY-MM-DD>/<seq:06>.seg[.zst]`.

use std::path::{Path, PathBuf};

use tickd_bus::Venue;

pub const NS_PER_DAY: u64 = 86_400 * 1_000_000_000;
pub const SEGMENT_EXT: &str = "seg";
pub const COMPRESSED_EXT: &str = "zst";

/// UTC day (days since 1970-01-01) of a timestamp in ns since the epoch.
pub const fn day_of(ts_ns: u64) -> u32 {
    (ts_ns / NS_PER_DAY) as u32
}

/// `(year, month, day)` of a day number (Howard Hinnant's civil-from-days).
pub const fn civil_from_days(days: u32) -> (i32, u32, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400) as i32 + (m <= 2) as i32;
    (y, m, d)
}

/// Day number of a calendar date (the inverse of [`civil_from_days`]).
pub const fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = y as i64 - (m <= 2) as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` for a day number.
pub fn day_name(day: u32) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The day number a `YYYY-MM-DD` folder name stands for.
pub fn parse_day_name(name: &str) -> Option<u32> {
    let mut parts = name.split('-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // Reject dates like 2026-02-31 that do not round-trip.
    let day = u32::try_from(days).ok()?;
    (civil_from_days(day) == (y, m, d)).then_some(day)
}

pub fn day_dir(root: &Path, venue: Venue, day: u32) -> PathBuf {
    root.join(venue.as_str()).join(day_name(day))
}

pub fn segment_path(root: &Path, venue: Venue, day: u32, seq: u32) -> PathBuf {
    day_dir(root, venue, day).join(format!("{seq:06}.{SEGMENT_EXT}"))
}

/// One segment file found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFile {
    pub venue: Venue,
    pub day: u32,
    pub seq: u32,
    pub compressed: bool,
    pub path: PathBuf,
}

/// Parse `<seq>.seg` or `<seq>.seg.zst`.
fn parse_segment_name(name: &str) -> Option<(u32, bool)> {
    let (stem, compressed) = match name.strip_suffix(".zst") {
        Some(stem) => (stem, true),
        None => (name, false),
    };
    let seq = stem.strip_suffix(".seg")?.parse().ok()?;
    Some((seq, compressed))
}

/// Day folders of one venue, ascending: `(day, path)`.
pub fn list_days(root: &Path, venue: Venue) -> std::io::Result<Vec<(u32, PathBuf)>> {
    let mut days = Vec::new();
    let dir = root.join(venue.as_str());
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(days),
        Err(err) => return Err(err),
    };
    for entry in entries {
        let entry = entry?;
        if let Some(day) = entry.file_name().to_str().and_then(parse_day_name) {
            days.push((day, entry.path()));
        }
    }
    days.sort();
    Ok(days)
}

/// Segments of one venue and day, ascending by seq. Where a crash left both
/// `N.seg` and `N.seg.zst`, the uncompressed original is listed (the compressed
/// copy may be incomplete) and the next retention run compresses it again.
pub fn list_segments(root: &Path, venue: Venue, day: u32) -> std::io::Result<Vec<SegmentFile>> {
    let mut segments: Vec<SegmentFile> = Vec::new();
    let entries = match std::fs::read_dir(day_dir(root, venue, day)) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(segments),
        Err(err) => return Err(err),
    };
    for entry in entries {
        let entry = entry?;
        if let Some((seq, compressed)) = entry.file_name().to_str().and_then(parse_segment_name) {
            segments.push(SegmentFile {
                venue,
                day,
                seq,
                compressed,
                path: entry.path(),
            });
        }
    }
    segments.sort_by_key(|s| (s.seq, s.compressed));
    segments.dedup_by_key(|s| s.seq);
    Ok(segments)
}

/// Every segment of the journal, by venue, day and seq.
pub fn list_all(root: &Path) -> std::io::Result<Vec<SegmentFile>> {
    let mut all = Vec::new();
    for venue in Venue::ALL {
        for (day, _) in list_days(root, venue)? {
            all.extend(list_segments(root, venue, day)?);
        }
    }
    Ok(all)
}

/// fsync a directory so the entries created or removed in it are durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_names_round_trip() {
        assert_eq!(day_name(0), "1970-01-01");
        assert_eq!(day_name(10_957), "2000-01-01");
        assert_eq!(day_name(20_413), "2025-11-21");
        for day in [0, 59, 60, 365, 10_956, 20_000, 20_412, 40_000] {
            assert_eq!(parse_day_name(&day_name(day)), Some(day));
        }
        assert_eq!(parse_day_name("2026-02-31"), None);
        assert_eq!(parse_day_name("2026-13-01"), None);
        assert_eq!(parse_day_name("notaday"), None);
    }

    #[test]
    fn segment_names_parse() {
        assert_eq!(parse_segment_name("000012.seg"), Some((12, false)));
        assert_eq!(parse_segment_name("000012.seg.zst"), Some((12, true)));
        assert_eq!(parse_segment_name("000012.seg.zst.tmp"), None);
        assert_eq!(parse_segment_name("index.idx"), None);
    }
}
