//! One instrument's bars of one UTC day as their own series: the day's final
//! 1-second bars (one per second, amendments applied) and their 1-minute rollup,
//! so a bar query reads only the bars it returns.
//!
//! ```text
//! <dir>/<venue>/<YYYY-MM-DD>/series/<instrument_id>.bars
//!   SeriesHeader (64 bytes)   magic "TICKDBRS", version, record size, venue, id, day,
//!                             counts, settled flag, crc
//!   Dep[deps]                 the segment files (day, seq, compressed, length) it was built from
//!   BarMsg[minutes]           1-minute bars, by time
//!   BarMsg[seconds]           1-second bars, by time
//! ```
//!
//! Derived data, like the posting index: built from the journal by the same code
//! that answers a query without it ([`super::bars`]), written through a temporary
//! file and a rename, and checked on every use. A day's bars read records of the day
//! before and after (clock slack, late trades), so the series depends on the segment
//! files of days D-1, D and D+1. It is *settled* once the journal holds records
//! received after everything that can change the day (a later day folder, or an
//! index of day D+1 reaching past the slack): then it is final. Until then it is
//! used only while those files are exactly as they were when it was built.
//! Records journaled more than a day late (a clock step back) are not seen.

use std::path::{Path, PathBuf};

use bytemuck::{Pod, Zeroable};
use memmap2::Mmap;
use tickd_bus::record::BarMsg;
use tickd_bus::Venue;

use crate::journal::layout::{day_dir, list_days, list_segments, NS_PER_DAY};
use crate::journal::postings::{saved_max_ts_recv, write_replacing};

const MAGIC: [u8; 8] = *b"TICKDBRS";
const VERSION: u32 = 1;
const HEADER_LEN: usize = std::mem::size_of::<SeriesHeader>();
const BAR_LEN: usize = std::mem::size_of::<BarMsg>();

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
struct SeriesHeader {
    magic: [u8; 8],
    version: u32,
    /// `size_of::<BarMsg>()` when written: a layout change makes old files stale.
    bar_len: u32,
    venue: u32,
    instrument_id: u32,
    day: u32,
    settled: u32,
    deps: u64,
    minutes: u64,
    seconds: u64,
    _reserved: u32,
    crc: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
struct Dep {
    day: u32,
    seq: u32,
    compressed: u64,
    len: u64,
}

/// A loaded, checked bar series (or one just built that could not be saved).
pub struct Series {
    map: SeriesBytes,
    header: SeriesHeader,
}

enum SeriesBytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for SeriesBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            SeriesBytes::Mapped(map) => map,
            SeriesBytes::Owned(bytes) => bytes,
        }
    }
}

/// The segment files a day's bars depend on, as they were at some moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepsSnapshot(Vec<Dep>);

fn series_path(dir: &Path, venue: Venue, instrument_id: u32, day: u32) -> PathBuf {
    day_dir(dir, venue, day)
        .join("series")
        .join(format!("{instrument_id}.bars"))
}

/// The segment files a day's bars may read, as they are now.
fn current_deps(dir: &Path, venue: Venue, day: u32) -> std::io::Result<Vec<Dep>> {
    let mut deps = Vec::new();
    for d in day.saturating_sub(1)..=day + 1 {
        for seg in list_segments(dir, venue, d)? {
            let len = match std::fs::metadata(&seg.path) {
                Ok(meta) => meta.len(),
                // Compressed or removed since the listing: stale either way.
                Err(_) => u64::MAX,
            };
            deps.push(Dep {
                day: seg.day,
                seq: seg.seq,
                compressed: u64::from(seg.compressed),
                len,
            });
        }
    }
    Ok(deps)
}

/// Whether nothing the journal may still receive can change the day's bars.
fn settled(dir: &Path, venue: Venue, day: u32, slack_after_ns: u64) -> bool {
    let Ok(days) = list_days(dir, venue) else {
        return false;
    };
    if days.iter().any(|&(d, _)| d > day + 1) {
        return true;
    }
    let bound = (u64::from(day) + 1) * NS_PER_DAY + slack_after_ns;
    list_segments(dir, venue, day + 1).is_ok_and(|segs| {
        segs.iter()
            .any(|s| saved_max_ts_recv(&s.path).is_some_and(|max| max >= bound))
    })
}

impl Series {
    /// The saved series of the instrument's day, if there is one and it still
    /// describes the journal.
    pub fn open(dir: &Path, venue: Venue, instrument_id: u32, day: u32) -> Option<Series> {
        let file = std::fs::File::open(series_path(dir, venue, instrument_id, day)).ok()?;
        // SAFETY: series files are only ever replaced by rename, never changed in place.
        let map = unsafe { Mmap::map(&file) }.ok()?;
        let header: SeriesHeader = bytemuck::pod_read_unaligned(map.get(..HEADER_LEN)?);
        let mut zeroed = header;
        zeroed.crc = 0;
        let len = HEADER_LEN as u64
            + header.deps * std::mem::size_of::<Dep>() as u64
            + (header.minutes + header.seconds) * BAR_LEN as u64;
        let good = header.magic == MAGIC
            && header.version == VERSION
            && header.bar_len as usize == BAR_LEN
            && header.crc == crc32fast::hash(bytemuck::bytes_of(&zeroed))
            && (header.venue, header.instrument_id, header.day)
                == (u32::from(venue as u8), instrument_id, day)
            && map.len() as u64 == len;
        if !good {
            return None;
        }
        let series = Series {
            map: SeriesBytes::Mapped(map),
            header,
        };
        if header.settled == 0 {
            let now = current_deps(dir, venue, day).ok()?;
            if now != series.deps() {
                return None;
            }
        }
        Some(series)
    }

    fn deps(&self) -> Vec<Dep> {
        let n = self.header.deps as usize;
        let bytes = &self.map[HEADER_LEN..HEADER_LEN + n * std::mem::size_of::<Dep>()];
        bytes
            .chunks_exact(std::mem::size_of::<Dep>())
            .map(bytemuck::pod_read_unaligned)
            .collect()
    }

    fn bars_at(&self, first: usize, count: usize) -> BarSlice<'_> {
        let start = HEADER_LEN + self.header.deps as usize * std::mem::size_of::<Dep>();
        let start = start + first * BAR_LEN;
        BarSlice(&self.map[start..start + count * BAR_LEN])
    }

    /// 1-minute bars of the day, by time.
    pub fn minutes(&self) -> BarSlice<'_> {
        self.bars_at(0, self.header.minutes as usize)
    }

    /// 1-second bars of the day, by time.
    pub fn seconds(&self) -> BarSlice<'_> {
        self.bars_at(self.header.minutes as usize, self.header.seconds as usize)
    }

    /// Build the series from the day's 1-second bar stream (as a query without the
    /// series yields it, amendments and all) and save it, unless the journal changed
    /// while it was built or the day has no folder (reads never create day folders).
    pub fn build(
        dir: &Path,
        venue: Venue,
        instrument_id: u32,
        day: u32,
        deps_before: &DepsSnapshot,
        stream: impl Iterator<Item = BarMsg>,
        slack_after_ns: u64,
    ) -> Series {
        let deps = current_deps(dir, venue, day).unwrap_or_default();
        let unchanged = deps == deps_before.0;
        let seconds = normalize(stream);
        let day_start = u64::from(day) * NS_PER_DAY;
        let minutes: Vec<BarMsg> = crate::bars::aggregate(
            seconds.iter().copied(),
            60,
            day_start,
            day_start + NS_PER_DAY,
            crate::bars::FillPolicy::Omit,
        )
        .collect();
        let mut header = SeriesHeader {
            magic: MAGIC,
            version: VERSION,
            bar_len: BAR_LEN as u32,
            venue: u32::from(venue as u8),
            instrument_id,
            day,
            settled: u32::from(settled(dir, venue, day, slack_after_ns)),
            deps: deps.len() as u64,
            minutes: minutes.len() as u64,
            seconds: seconds.len() as u64,
            _reserved: 0,
            crc: 0,
        };
        header.crc = crc32fast::hash(bytemuck::bytes_of(&header));
        let mut bytes = Vec::with_capacity(
            HEADER_LEN
                + deps.len() * std::mem::size_of::<Dep>()
                + (minutes.len() + seconds.len()) * BAR_LEN,
        );
        bytes.extend_from_slice(bytemuck::bytes_of(&header));
        bytes.extend_from_slice(bytemuck::cast_slice(&deps));
        bytes.extend_from_slice(bytemuck::cast_slice(&minutes));
        bytes.extend_from_slice(bytemuck::cast_slice(&seconds));
        let path = series_path(dir, venue, instrument_id, day);
        if unchanged && day_dir(dir, venue, day).is_dir() {
            let saved = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| write_replacing(&path, &bytes));
            if let Err(err) = saved {
                tracing::debug!("bar series {} not saved: {err}", path.display());
            }
        }
        Series {
            map: SeriesBytes::Owned(bytes),
            header,
        }
    }

    /// The dependency list as it is now, to compare after building.
    pub fn deps_now(dir: &Path, venue: Venue, day: u32) -> DepsSnapshot {
        DepsSnapshot(current_deps(dir, venue, day).unwrap_or_default())
    }
}

/// The last version of each second's bar, by time: what [`crate::bars::aggregate`]
/// folds from the raw stream.
fn normalize(stream: impl Iterator<Item = BarMsg>) -> Vec<BarMsg> {
    let mut by_second = std::collections::BTreeMap::new();
    for bar in stream {
        by_second.insert(bar.hd.ts_event, bar);
    }
    by_second.into_values().collect()
}

/// Bars stored back to back in a series file.
#[derive(Clone, Copy)]
pub struct BarSlice<'a>(&'a [u8]);

impl<'a> BarSlice<'a> {
    pub fn len(&self) -> usize {
        self.0.len() / BAR_LEN
    }

    pub fn get(&self, i: usize) -> BarMsg {
        bytemuck::pod_read_unaligned(&self.0[i * BAR_LEN..(i + 1) * BAR_LEN])
    }

    /// Index of the first bar starting at or after `ts`.
    pub fn lower_bound(&self, ts: u64) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.get(mid).hd.ts_event < ts {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}
