//! Per-segment posting index: for each (instrument, record type), where its records
//! are in the segment, so a query for one instrument reads only that instrument's
//! records instead of every block of the venue.
//!
//! ```text
//! <seq:06>.idx  next to <seq:06>.seg[.zst]
//!   IdxHeader (64 bytes)  magic "TICKDIDX", version, crc, the segment's created_ns,
//!                         the bytes it covers, min/max ts_recv, counts
//!   Group[groups]         (instrument_id, rtype) → a run of postings
//!   Posting[postings]     (ts_recv, offset) in journal order, per group
//!   Problem[problems]     damaged ranges and bad checksums met while building
//! ```
//!
//! The index is derived data. Readers build it from checksum-verified blocks the
//! first time a query by instrument touches a segment (so journals written before it
//! existed are indexed lazily), write it to a temporary file and rename it into
//! place: readers in other processes see the old file or the new one, never a part.
//! Every use checks it against the segment: the segment's creation stamp must match
//! and the segment must still hold every byte the index covers (a segment only
//! grows; recovery cuts only bytes after the last whole block, which the index never
//! covers). Bytes the segment gained since are read by walking their blocks as
//! before, and once they pass [`REBUILD_SUFFIX_BYTES`] the index is rebuilt.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use bytemuck::{Pod, Zeroable};
use std::sync::Arc;

use memmap2::Mmap;
use tickd_bus::RecordRef;

use super::reader::map_cached;
use super::segment::{padded, read_block, walk_blocks, BlockRead};

const IDX_MAGIC: [u8; 8] = *b"TICKDIDX";
const IDX_VERSION: u32 = 1;
const HEADER_LEN: usize = std::mem::size_of::<IdxHeader>();
/// An index is rebuilt once the segment has grown this much past what it covers
/// (the grown part is read by walking blocks until then).
pub const REBUILD_SUFFIX_BYTES: u64 = 16 << 20;

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
struct IdxHeader {
    magic: [u8; 8],
    version: u32,
    /// CRC32 of this header with `crc` = 0.
    crc: u32,
    /// The segment's `FileHeader::created_ns`: which file this index is of.
    created_ns: u64,
    /// Segment bytes covered: the file header and whole blocks up to here.
    valid_end: u64,
    min_ts_recv: u64,
    max_ts_recv: u64,
    groups: u32,
    problems: u32,
    postings: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
struct Group {
    instrument_id: u32,
    rtype: u8,
    /// 1 when the group's `ts_recv`s never go backwards (binary search is exact).
    monotonic: u8,
    _pad: [u8; 2],
    start: u64,
    count: u64,
}

/// One record's place: its receive time and its offset in the segment.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct Posting {
    pub ts_recv: u64,
    pub offset: u64,
}

/// Something wrong in the covered bytes, as the reader reports it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct IdxProblem {
    /// 0: damaged bytes between blocks `[start, end)`; 1: a block at `start` whose
    /// checksum does not match.
    pub kind: u64,
    pub start: u64,
    pub end: u64,
}

pub const PROBLEM_DAMAGED: u64 = 0;
pub const PROBLEM_BAD_CHECKSUM: u64 = 1;

/// The bytes of an index: mapped from its file, or just built.
enum Bytes {
    Mapped(Arc<Mmap>),
    Owned(Vec<u64>),
}

/// A loaded, checked posting index of one segment.
pub struct SegmentIndex {
    bytes: Bytes,
    header: IdxHeader,
}

/// `<seq>.idx` for `<seq>.seg` or `<seq>.seg.zst`.
pub fn idx_path(segment: &Path) -> PathBuf {
    let name = segment
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let stem = name.split('.').next().unwrap_or(name);
    segment.with_file_name(format!("{stem}.idx"))
}

impl SegmentIndex {
    fn bytes(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Mapped(map) => map,
            Bytes::Owned(words) => bytemuck::cast_slice(words),
        }
    }

    /// The index at `path` if it is whole and describes the segment whose header
    /// says `created_ns` and which is now `segment_len` bytes long.
    pub fn open(path: &Path, created_ns: u64, segment_len: u64) -> Option<SegmentIndex> {
        // Index files are only ever replaced by rename, never written or truncated
        // in place, so the mapped inode does not change under us.
        let map = map_cached(path).ok()?;
        let index = Self::parse(Bytes::Mapped(map))?;
        let h = &index.header;
        (h.created_ns == created_ns && h.valid_end <= segment_len).then_some(index)
    }

    fn parse(bytes: Bytes) -> Option<SegmentIndex> {
        let data = match &bytes {
            Bytes::Mapped(map) => &map[..],
            Bytes::Owned(words) => bytemuck::cast_slice(words),
        };
        let header: IdxHeader = bytemuck::pod_read_unaligned(data.get(..HEADER_LEN)?);
        let mut zeroed = header;
        zeroed.crc = 0;
        let expected_len = HEADER_LEN as u64
            + u64::from(header.groups) * std::mem::size_of::<Group>() as u64
            + header.postings * std::mem::size_of::<Posting>() as u64
            + u64::from(header.problems) * std::mem::size_of::<IdxProblem>() as u64;
        let good = header.magic == IDX_MAGIC
            && header.version == IDX_VERSION
            && header.crc == crc32fast::hash(bytemuck::bytes_of(&zeroed))
            && data.len() as u64 == expected_len
            && (data.as_ptr() as usize).is_multiple_of(8);
        let index = SegmentIndex { bytes, header };
        // Groups must point inside the postings.
        let sane = good
            && index.groups().iter().all(|g| {
                g.start
                    .checked_add(g.count)
                    .is_some_and(|e| e <= header.postings)
            });
        sane.then_some(index)
    }

    fn groups(&self) -> &[Group] {
        let n = self.header.groups as usize * std::mem::size_of::<Group>();
        bytemuck::cast_slice(&self.bytes()[HEADER_LEN..HEADER_LEN + n])
    }

    fn postings(&self) -> &[Posting] {
        let start = HEADER_LEN + self.header.groups as usize * std::mem::size_of::<Group>();
        let n = self.header.postings as usize * std::mem::size_of::<Posting>();
        bytemuck::cast_slice(&self.bytes()[start..start + n])
    }

    pub fn problems(&self) -> &[IdxProblem] {
        let start = HEADER_LEN
            + self.header.groups as usize * std::mem::size_of::<Group>()
            + self.header.postings as usize * std::mem::size_of::<Posting>();
        let n = self.header.problems as usize * std::mem::size_of::<IdxProblem>();
        bytemuck::cast_slice(&self.bytes()[start..start + n])
    }

    /// Segment bytes the index covers.
    pub fn valid_end(&self) -> u64 {
        self.header.valid_end
    }

    /// Smallest and largest `ts_recv` of the covered records (None: no records).
    pub fn ts_recv_bounds(&self) -> Option<(u64, u64)> {
        (self.header.postings > 0).then_some((self.header.min_ts_recv, self.header.max_ts_recv))
    }

    /// Offsets of the covered records of these instruments and types (`rtypes`: a
    /// bit per type, 0 = all) whose `ts_recv` is in `ts_recv`, in journal order.
    pub fn offsets(&self, instruments: &[u32], rtypes: u32, ts_recv: &Range<u64>) -> Vec<u64> {
        let postings = self.postings();
        let mut out = Vec::new();
        let mut runs = 0;
        for g in self.groups() {
            let wanted = instruments.binary_search(&g.instrument_id).is_ok()
                && (rtypes == 0 || g.rtype < 32 && rtypes & (1 << g.rtype) != 0);
            if !wanted {
                continue;
            }
            let run = &postings[g.start as usize..(g.start + g.count) as usize];
            let before = out.len();
            if g.monotonic == 1 {
                let lo = run.partition_point(|p| p.ts_recv < ts_recv.start);
                let hi = run.partition_point(|p| p.ts_recv < ts_recv.end);
                out.extend(run[lo..hi.max(lo)].iter().map(|p| p.offset));
            } else {
                out.extend(
                    run.iter()
                        .filter(|p| ts_recv.contains(&p.ts_recv))
                        .map(|p| p.offset),
                );
            }
            runs += usize::from(out.len() > before);
        }
        if runs > 1 {
            // Each run is in journal order: the stable sort merges them cheaply.
            out.sort();
        }
        out
    }

    /// Index the whole blocks of a segment's bytes (`data` includes the file header).
    pub fn build(data: &[u8], created_ns: u64) -> SegmentIndex {
        let walk = walk_blocks(data, false);
        let mut groups: HashMap<(u32, u8), Vec<Posting>> = HashMap::new();
        let mut problems: Vec<IdxProblem> = walk
            .bad
            .iter()
            .map(|b| IdxProblem {
                kind: PROBLEM_DAMAGED,
                start: b.start,
                end: b.end,
            })
            .collect();
        // Cover only up to the last block whose checksum verifies: a live writer's
        // block may be visible before all of it is, and must not be saved as damaged.
        let mut valid_end = walk.blocks.first().map_or(walk.valid_end, |b| b.offset);
        let (mut min_ts, mut max_ts) = (u64::MAX, 0);
        let mut pending_bad = Vec::new();
        for block in &walk.blocks {
            if !matches!(read_block(data, block.offset, true), BlockRead::Block(_)) {
                pending_bad.push(IdxProblem {
                    kind: PROBLEM_BAD_CHECKSUM,
                    start: block.offset as u64,
                    end: block.end() as u64,
                });
                continue;
            }
            problems.append(&mut pending_bad);
            valid_end = block.end();
            let payload = block.payload_range();
            let mut at = payload.start;
            while at < payload.end {
                let Ok(record) = RecordRef::from_bytes(&data[at..payload.end]) else {
                    break;
                };
                let hd = record.header();
                groups
                    .entry((hd.instrument_id, hd.rtype))
                    .or_default()
                    .push(Posting {
                        ts_recv: hd.ts_recv,
                        offset: at as u64,
                    });
                min_ts = min_ts.min(hd.ts_recv);
                max_ts = max_ts.max(hd.ts_recv);
                at += padded(hd.record_size());
            }
        }
        if walk.blocks.is_empty() {
            valid_end = walk.valid_end;
        }
        problems.retain(|p| p.start < valid_end as u64);
        let mut keys: Vec<(u32, u8)> = groups.keys().copied().collect();
        keys.sort_unstable();
        let total: usize = groups.values().map(Vec::len).sum();
        let header = IdxHeader {
            magic: IDX_MAGIC,
            version: IDX_VERSION,
            crc: 0,
            created_ns,
            valid_end: valid_end as u64,
            min_ts_recv: if total == 0 { 0 } else { min_ts },
            max_ts_recv: max_ts,
            groups: keys.len() as u32,
            problems: problems.len() as u32,
            postings: total as u64,
        };
        let mut words: Vec<u64> = Vec::with_capacity(
            (HEADER_LEN
                + keys.len() * std::mem::size_of::<Group>()
                + total * std::mem::size_of::<Posting>()
                + problems.len() * std::mem::size_of::<IdxProblem>())
                / 8,
        );
        let mut header = header;
        header.crc = crc32fast::hash(bytemuck::bytes_of(&header));
        words.extend_from_slice(bytemuck::cast_slice(&[header]));
        let mut start = 0u64;
        for key in &keys {
            let run = &groups[key];
            let monotonic = run.windows(2).all(|w| w[0].ts_recv <= w[1].ts_recv);
            let group = Group {
                instrument_id: key.0,
                rtype: key.1,
                monotonic: u8::from(monotonic),
                _pad: [0; 2],
                start,
                count: run.len() as u64,
            };
            words.extend_from_slice(bytemuck::cast_slice(&[group]));
            start += run.len() as u64;
        }
        for key in &keys {
            words.extend_from_slice(bytemuck::cast_slice(&groups[key]));
        }
        words.extend_from_slice(bytemuck::cast_slice(&problems));
        SegmentIndex {
            bytes: Bytes::Owned(words),
            header,
        }
    }

    /// Write the index to `path` through a temporary file and a rename. Not
    /// fsynced: it is a cache, checked on every use and rebuilt when wrong.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        write_replacing(path, self.bytes())
    }
}

/// Write `bytes` to `path` by writing a uniquely named temporary file next to it and
/// renaming it over `path`, so concurrent readers never see a partial file.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(
        ".tmp{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = PathBuf::from(tmp);
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Largest `ts_recv` a segment's saved index covers, if it has a readable one.
pub fn saved_max_ts_recv(segment: &Path) -> Option<u64> {
    let file = std::fs::File::open(idx_path(segment)).ok()?;
    let mut bytes = [0u8; HEADER_LEN];
    std::io::Read::read_exact(&mut &file, &mut bytes).ok()?;
    let header: IdxHeader = bytemuck::pod_read_unaligned(&bytes);
    (header.magic == IDX_MAGIC && header.postings > 0).then_some(header.max_ts_recv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_keep_eight_byte_alignment() {
        assert_eq!(HEADER_LEN, 64);
        assert_eq!(std::mem::size_of::<Group>(), 24);
        assert_eq!(std::mem::size_of::<Posting>(), 16);
        assert_eq!(std::mem::size_of::<IdxProblem>(), 24);
    }

    #[test]
    fn idx_path_drops_the_segment_extensions() {
        let p = Path::new("/j/binance/2026-01-01/000003.seg.zst");
        assert_eq!(idx_path(p), Path::new("/j/binance/2026-01-01/000003.idx"));
        assert_eq!(
            idx_path(Path::new("/j/000003.seg")),
            Path::new("/j/000003.idx")
        );
    }
}
