//! Reading the journal: memory-mapped segments, records viewed in place.
//!
//! [`JournalReader::open`] maps every segment the filter may need (decompressing
//! `.seg.zst` ones into an 8-byte-aligned buffer), rebuilds each one's block index,
//! verifies the checksum of every block the filter's time range touches, and
//! keeps the good ones. [`JournalReader::records`] then yields `RecordRef`s that
//! point into the maps: no copy, no allocation per record. Damaged blocks and
//! torn tails are listed in [`JournalReader::problems`] and skipped; the blocks
//! after a damaged one are still read.
//!
//! Records come out segment by segment (venue, then day, then seq), each segment
//! in append order; they are not merged by time across venues.
//!
//! A filter that names instruments reads through each segment's posting index
//! ([`super::postings`]): only the named instruments' records are touched, and
//! segments with none in the range are not read at all. Indexed records come from
//! blocks whose checksums were verified when the index was built; bytes a segment
//! gained since are walked and verified as above.

use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use memmap2::Mmap;
use tickd_bus::{RecordHeader, RecordRef, RecordType, Venue};

use super::index::BlockIndex;
use super::layout::{list_all, SegmentFile, NS_PER_DAY};
use super::postings::{idx_path, SegmentIndex, PROBLEM_BAD_CHECKSUM, REBUILD_SUFFIX_BYTES};
use super::segment::{
    padded, read_block, walk_blocks, walk_blocks_from, BlockRead, FileHeader, HeaderError,
};
use super::JournalError;

/// Which records to read. Empty sets mean "all"; time ranges are half-open, in ns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    venues: u64,
    instrument_ids: Option<Vec<u32>>,
    rtypes: u32,
    pub ts_recv: Range<u64>,
    pub ts_event: Range<u64>,
}

impl Default for Filter {
    fn default() -> Self {
        Self::all()
    }
}

impl Filter {
    pub fn all() -> Self {
        Self {
            venues: 0,
            instrument_ids: None,
            rtypes: 0,
            ts_recv: 0..u64::MAX,
            ts_event: 0..u64::MAX,
        }
    }

    pub fn venue(mut self, venue: Venue) -> Self {
        self.venues |= 1 << venue as u8;
        self
    }

    pub fn instrument(mut self, id: u32) -> Self {
        let ids = self.instrument_ids.get_or_insert_with(Vec::new);
        if let Err(at) = ids.binary_search(&id) {
            ids.insert(at, id);
        }
        self
    }

    pub fn rtype(mut self, rtype: RecordType) -> Self {
        self.rtypes |= 1 << rtype as u8;
        self
    }

    /// Records with `ts_recv` in `range`.
    pub fn ts_recv(mut self, range: Range<u64>) -> Self {
        self.ts_recv = range;
        self
    }

    /// Records with `ts_event` in `range`.
    pub fn ts_event(mut self, range: Range<u64>) -> Self {
        self.ts_event = range;
        self
    }

    fn wants_venue(&self, venue: Venue) -> bool {
        self.venues == 0 || self.venues & (1 << venue as u8) != 0
    }

    pub fn matches(&self, hd: &RecordHeader) -> bool {
        (self.venues == 0 || hd.venue < 64 && self.venues & (1 << hd.venue) != 0)
            && (self.rtypes == 0 || hd.rtype < 32 && self.rtypes & (1 << hd.rtype) != 0)
            && self.ts_recv.contains(&hd.ts_recv)
            && self.ts_event.contains(&hd.ts_event)
            && self
                .instrument_ids
                .as_ref()
                .is_none_or(|ids| ids.binary_search(&hd.instrument_id).is_ok())
    }
}

/// Something wrong found while opening a segment; the rest is still read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadProblem {
    pub path: PathBuf,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The file header is unusable: the whole segment is skipped.
    Header(HeaderError),
    /// Bytes between good blocks that are not a block (damaged header).
    Damaged { start: u64, end: u64 },
    /// A block whose checksum does not match: its records are skipped.
    BadChecksum { offset: u64 },
    /// Bytes after the last whole block (or a file shorter than its header):
    /// a torn write, or a live writer's block in progress. Recovery on the
    /// writer's next open cuts it.
    Tail { offset: u64, len: u64 },
    /// The file could not be read or decompressed (a damaged `.seg.zst`): the
    /// whole segment is skipped, the other segments are still read.
    Unreadable(String),
}

impl std::fmt::Display for ReadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        match &self.kind {
            ProblemKind::Header(e) => write!(f, "{path}: {e}; the whole segment was skipped"),
            ProblemKind::Damaged { start, end } => {
                write!(f, "{path}: bytes {start}..{end} are damaged; their records were skipped")
            }
            ProblemKind::BadChecksum { offset } => write!(
                f,
                "{path}: the block at byte {offset} fails its checksum; its records were skipped"
            ),
            ProblemKind::Tail { offset, len } => write!(
                f,
                "{path}: {len} bytes after byte {offset} are not a whole block (a torn write, or a block being written)"
            ),
            ProblemKind::Unreadable(e) => {
                write!(f, "{path}: unreadable ({e}); the whole segment was skipped")
            }
        }
    }
}

impl ReadProblem {
    /// Records were lost to this problem (a torn tail may be a block still being written).
    pub fn is_damage(&self) -> bool {
        !matches!(self.kind, ProblemKind::Tail { .. })
    }
}

pub(crate) enum SegmentData {
    Mapped(Arc<Mmap>),
    /// A decompressed segment, in `u64`s so records stay 8-byte aligned.
    Owned {
        words: Vec<u64>,
        len: usize,
    },
}

impl SegmentData {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            SegmentData::Mapped(map) => map,
            SegmentData::Owned { words, len } => &bytemuck::cast_slice(words)[..*len],
        }
    }
}

struct LoadedSegment {
    file: SegmentFile,
    data: SegmentData,
    /// Offsets of matching records found through the posting index, read first.
    hits: Vec<u64>,
    /// Checksum-verified blocks that may hold records the filter wants.
    index: BlockIndex,
}

/// A read-only view of the journal for one filter.
pub struct JournalReader {
    filter: Filter,
    segments: Vec<LoadedSegment>,
    problems: Vec<ReadProblem>,
    use_index: bool,
    /// `IndexUse::Off` also maps each segment afresh, as readers did before.
    cache_maps: bool,
}

/// Whether a reader may use (and build) posting indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IndexUse {
    /// Use them for filters that name instruments (the default).
    #[default]
    Auto,
    /// Walk every block and map every segment afresh, as readers did before posting
    /// indexes and the map cache existed (benchmarks compare the two).
    Off,
}

impl JournalReader {
    pub fn open(dir: &Path, filter: Filter) -> Result<Self, JournalError> {
        Self::open_with(dir, filter, IndexUse::Auto)
    }

    pub fn open_with(dir: &Path, filter: Filter, index: IndexUse) -> Result<Self, JournalError> {
        let files = list_all(dir).map_err(|source| JournalError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        prune_map_cache();
        let mut reader = Self {
            use_index: index == IndexUse::Auto && filter.instrument_ids.is_some(),
            cache_maps: index == IndexUse::Auto,
            filter,
            segments: Vec::new(),
            problems: Vec::new(),
        };
        for file in files {
            // A segment of day D holds no ts_recv from day D+1 on (the writer
            // rolls forward), so whole days before the range are skipped unopened.
            let day_end = (u64::from(file.day) + 1).saturating_mul(NS_PER_DAY);
            if !reader.filter.wants_venue(file.venue) || day_end <= reader.filter.ts_recv.start {
                continue;
            }
            reader.load(file)?;
        }
        Ok(reader)
    }

    fn load(&mut self, file: SegmentFile) -> Result<(), JournalError> {
        let problem = |kind| ReadProblem {
            path: file.path.clone(),
            kind,
        };
        let data = if self.cache_maps {
            load_data(&file.path, file.compressed)
        } else {
            load_data_uncached(&file.path, file.compressed)
        };
        let data = match data {
            Ok(data) => data,
            // One bad file must not hide the rest of the venue's history.
            Err(e) => {
                self.problems
                    .push(problem(ProblemKind::Unreadable(e.to_string())));
                return Ok(());
            }
        };
        let bytes = data.bytes();
        match FileHeader::parse(bytes) {
            Ok(header) if self.use_index => {
                self.load_indexed(file, data, header.created_ns);
                return Ok(());
            }
            Ok(_) => {}
            // The writer died creating the file: a torn tail like any other.
            Err(HeaderError::Short) => {
                self.problems.push(problem(ProblemKind::Tail {
                    offset: 0,
                    len: bytes.len() as u64,
                }));
                return Ok(());
            }
            Err(err) => {
                self.problems.push(problem(ProblemKind::Header(err)));
                return Ok(());
            }
        }
        let mut walk = walk_blocks(bytes, false);
        for bad in &walk.bad {
            self.problems.push(problem(ProblemKind::Damaged {
                start: bad.start,
                end: bad.end,
            }));
        }
        if walk.tail_len(bytes.len()) > 0 {
            self.problems.push(problem(ProblemKind::Tail {
                offset: walk.valid_end as u64,
                len: walk.tail_len(bytes.len()) as u64,
            }));
        }
        let (recv, event) = (&self.filter.ts_recv, &self.filter.ts_event);
        walk.blocks.retain(|block| {
            let h = &block.header;
            let wanted = h.min_ts_recv < recv.end
                && h.max_ts_recv >= recv.start
                && h.min_ts_event < event.end
                && h.max_ts_event >= event.start;
            if !wanted {
                return false;
            }
            let good = matches!(read_block(bytes, block.offset, true), BlockRead::Block(_));
            if !good {
                self.problems.push(problem(ProblemKind::BadChecksum {
                    offset: block.offset as u64,
                }));
            }
            good
        });
        let index = BlockIndex::from_walk(&walk);
        self.segments.push(LoadedSegment {
            file,
            data,
            hits: Vec::new(),
            index,
        });
        Ok(())
    }

    /// Read a segment through its posting index (built and saved first if it has
    /// none, or if the segment grew well past it); walk only the bytes after it.
    fn load_indexed(&mut self, file: SegmentFile, data: SegmentData, created_ns: u64) {
        let bytes = data.bytes();
        let path = idx_path(&file.path);
        let len = bytes.len() as u64;
        let index = match SegmentIndex::open(&path, created_ns, len) {
            Some(index) if len - index.valid_end() < REBUILD_SUFFIX_BYTES => index,
            _ => {
                let built = SegmentIndex::build(bytes, created_ns);
                if let Err(err) = built.save(&path) {
                    tracing::debug!("journal index {} not saved: {err}", path.display());
                }
                built
            }
        };
        let problem = |kind| ReadProblem {
            path: file.path.clone(),
            kind,
        };
        for p in index.problems() {
            self.problems
                .push(problem(if p.kind == PROBLEM_BAD_CHECKSUM {
                    ProblemKind::BadChecksum { offset: p.start }
                } else {
                    ProblemKind::Damaged {
                        start: p.start,
                        end: p.end,
                    }
                }));
        }
        let ids = self.filter.instrument_ids.as_deref().unwrap_or_default();
        let hits = index.offsets(ids, self.filter.rtypes, &self.filter.ts_recv);
        // The bytes after the index, walked and verified like an unindexed segment.
        let mut walk = walk_blocks_from(bytes, index.valid_end() as usize, false);
        for bad in &walk.bad {
            self.problems.push(problem(ProblemKind::Damaged {
                start: bad.start,
                end: bad.end,
            }));
        }
        if walk.tail_len(bytes.len()) > 0 {
            self.problems.push(problem(ProblemKind::Tail {
                offset: walk.valid_end as u64,
                len: walk.tail_len(bytes.len()) as u64,
            }));
        }
        let (recv, event) = (&self.filter.ts_recv, &self.filter.ts_event);
        walk.blocks.retain(|block| {
            let h = &block.header;
            let wanted = h.min_ts_recv < recv.end
                && h.max_ts_recv >= recv.start
                && h.min_ts_event < event.end
                && h.max_ts_event >= event.start;
            if !wanted {
                return false;
            }
            let good = matches!(read_block(bytes, block.offset, true), BlockRead::Block(_));
            if !good {
                self.problems.push(problem(ProblemKind::BadChecksum {
                    offset: block.offset as u64,
                }));
            }
            good
        });
        if hits.is_empty() && walk.blocks.is_empty() {
            return; // nothing wanted here: the segment's records are never touched
        }
        let index = BlockIndex::from_walk(&walk);
        self.segments.push(LoadedSegment {
            file,
            data,
            hits,
            index,
        });
    }

    /// Damaged blocks, unusable segments and torn tails met while opening.
    pub fn problems(&self) -> &[ReadProblem] {
        &self.problems
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// The segments opened, in read order.
    pub fn segment_files(&self) -> impl Iterator<Item = &SegmentFile> {
        self.segments.iter().map(|s| &s.file)
    }

    /// Every record the filter matches, viewed in place.
    pub fn records(&self) -> Records<'_> {
        Records {
            reader: self,
            segment: 0,
            entry: 0,
            data: &[],
            pos: 0,
            end: 0,
        }
    }
}

/// A segment's bytes, in place where possible; layout-1 segments come back
/// rewritten as the current layout (see [`super::upgrade`]).
pub(crate) fn load_data(path: &Path, compressed: bool) -> std::io::Result<SegmentData> {
    upgraded(load_raw(path, compressed, true)?)
}

/// [`load_data`] without the map cache: for readers that pass through segments once
/// (the QuestDB sink's tail), whose maps are better dropped as they move on.
pub(crate) fn load_data_uncached(path: &Path, compressed: bool) -> std::io::Result<SegmentData> {
    upgraded(load_raw(path, compressed, false)?)
}

fn upgraded(data: SegmentData) -> std::io::Result<SegmentData> {
    match FileHeader::parse(data.bytes()) {
        Ok(header) if header.record_version == 1 => {
            Ok(owned(super::upgrade::segment(data.bytes(), &header)))
        }
        _ => Ok(data),
    }
}

fn load_raw(path: &Path, compressed: bool, cached: bool) -> std::io::Result<SegmentData> {
    if compressed {
        return read_compressed(path);
    }
    if cached {
        return map_cached(path).map(SegmentData::Mapped);
    }
    let file = std::fs::File::open(path)?;
    // SAFETY: as in `map_cached`.
    Ok(SegmentData::Mapped(Arc::new(unsafe { Mmap::map(&file)? })))
}

fn read_compressed(path: &Path) -> std::io::Result<SegmentData> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    zstd::stream::read::Decoder::new(file)?.read_to_end(&mut bytes)?;
    Ok(owned(bytes))
}

/// Bytes copied into `u64`s, so records stay 8-byte aligned.
fn owned(bytes: Vec<u8>) -> SegmentData {
    let mut words = vec![0u64; bytes.len().div_ceil(8)];
    bytemuck::cast_slice_mut(&mut words)[..bytes.len()].copy_from_slice(&bytes);
    SegmentData::Owned {
        words,
        len: bytes.len(),
    }
}

/// Maps of segment files kept between readers of this process, so repeated queries
/// (the gateway's history, benchmarks) do not pay to map and unmap the pages they
/// read each time: for a query reading a few thousand scattered records, page faults
/// and `munmap` were most of its time. An entry is used only while the path still
/// names the same file (inode) at the same length; a grown, replaced or deleted
/// segment is mapped anew and the old map dropped once no reader holds it.
const MAP_CACHE_ENTRIES: usize = 128;

type MapKey = (u64, u64, u64); // device, inode, length

static MAP_CACHE: Mutex<Vec<(PathBuf, MapKey, Arc<Mmap>)>> = Mutex::new(Vec::new());

/// A shared read-only map of the file at `path`.
pub(crate) fn map_cached(path: &Path) -> std::io::Result<Arc<Mmap>> {
    use std::os::unix::fs::MetadataExt;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let key = (meta.dev(), meta.ino(), meta.len());
    let mut cache = MAP_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(at) = cache.iter().position(|(p, _, _)| p == path) {
        let (_, cached_key, map) = cache.remove(at);
        if cached_key == key {
            cache.push((path.to_path_buf(), key, Arc::clone(&map)));
            return Ok(map);
        }
    }
    // SAFETY: segment files are never shrunk in place: a live writer only appends
    // past the mapped length, and recovery (in this or another process) replaces a
    // torn segment by a rename, leaving this map's inode whole. Retention deletes
    // or replaces whole files, which maps also survive.
    let map = Arc::new(unsafe { Mmap::map(&file)? });
    if cache.len() >= MAP_CACHE_ENTRIES {
        cache.remove(0); // the least recently used
    }
    cache.push((path.to_path_buf(), key, Arc::clone(&map)));
    Ok(map)
}

/// Drop every cached map whose file is gone or changed (retention deleted it, say),
/// so its disk space is freed once no reader holds it. Every reader's open does
/// this, and so does retention after deleting.
pub fn prune_map_cache() {
    use std::os::unix::fs::MetadataExt;
    let mut cache = MAP_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.retain(|(path, key, _)| {
        std::fs::metadata(path).is_ok_and(|m| (m.dev(), m.ino(), m.len()) == *key)
    });
}

/// Where an iteration over a reader's records stands, kept apart from the reader so
/// a struct can own both (an iterator returned by value, e.g. history queries).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordCursor {
    segment: usize,
    entry: usize,
    pos: usize,
    end: usize,
}

impl JournalReader {
    /// The next matching record after `cursor` (start with `RecordCursor::default()`),
    /// advancing it: the same sequence [`JournalReader::records`] yields.
    pub fn next_at(&self, cursor: &mut RecordCursor) -> Option<RecordRef<'_>> {
        let data = self
            .segments
            .get(cursor.segment)
            .map_or(&[][..], |s| s.data.bytes());
        let mut records = Records {
            reader: self,
            segment: cursor.segment,
            entry: cursor.entry,
            data,
            pos: cursor.pos,
            end: cursor.end,
        };
        let next = records.next();
        *cursor = RecordCursor {
            segment: records.segment,
            entry: records.entry,
            pos: records.pos,
            end: records.end,
        };
        next
    }
}

/// Iterator over the matching records of a [`JournalReader`].
pub struct Records<'a> {
    reader: &'a JournalReader,
    segment: usize,
    entry: usize,
    data: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Records<'a> {
    /// Move to the next indexed record or block payload; false when there is none.
    /// Entries `0..hits.len()` of a segment are its indexed records (each read as a
    /// one-record range), the ones after them its walked blocks.
    fn next_block(&mut self) -> bool {
        while let Some(seg) = self.reader.segments.get(self.segment) {
            if let Some(&offset) = seg.hits.get(self.entry) {
                self.entry += 1;
                let bytes = seg.data.bytes();
                let at = offset as usize;
                let Some(record) = bytes.get(at..).and_then(|b| RecordRef::from_bytes(b).ok())
                else {
                    continue;
                };
                self.data = bytes;
                self.pos = at;
                self.end = at + padded(record.header().record_size());
                return true;
            }
            if let Some(entry) = seg.index.entries.get(self.entry - seg.hits.len()) {
                self.entry += 1;
                let bytes = seg.data.bytes();
                if let BlockRead::Block(block) = read_block(bytes, entry.offset as usize, false) {
                    self.data = bytes;
                    self.pos = block.payload_range().start;
                    self.end = block.payload_range().end;
                    return true;
                }
            } else {
                self.segment += 1;
                self.entry = 0;
            }
        }
        false
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = RecordRef<'a>;

    fn next(&mut self) -> Option<RecordRef<'a>> {
        loop {
            while self.pos < self.end {
                let Ok(record) = RecordRef::from_bytes(&self.data[self.pos..self.end]) else {
                    // Unreachable for checksummed blocks the writer validated;
                    // skip the rest of the block rather than guess a length.
                    self.pos = self.end;
                    break;
                };
                self.pos += padded(record.header().record_size());
                if self.reader.filter.matches(record.header()) {
                    return Some(record);
                }
            }
            if !self.next_block() {
                return None;
            }
        }
    }
}
