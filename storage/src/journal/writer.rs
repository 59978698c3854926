//! The journal writer: appends records to per-venue, per-day segments.
//!
//! Records go into an in-memory block (one per open segment, allocated once);
//! a block is sealed (checksummed and written with one `write`) when it reaches
//! `block_bytes` or, on [`Journal::tick`], when it is older than `block_max_age`.
//! The [`FsyncPolicy`] decides when written blocks are made durable, and
//! [`Journal::durable_position`] says how many appended records that covers.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tickd_bus::{RecordBuf, RecordRef, Venue};

use super::layout::{day_of, list_segments, segment_path, sync_dir};
use super::recovery::{recover, RecoveryReport};
use super::retention::{self, RetentionPolicy, RetentionReport};
use super::segment::{padded, BlockHeader, FileHeader, BLOCK_HEADER_LEN, BLOCK_MAGIC};
use super::JournalError;

/// When written blocks are fsynced. "Acknowledged" means made durable by this policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// fsync every written block at most this long after it was written (checked on
    /// each sealed block and each [`Journal::tick`]).
    Interval(Duration),
    /// fsync after every block: the smallest loss window, the most fsyncs.
    EveryBlock,
    /// Leave flushing to the OS; fsync only when a segment closes or on
    /// [`Journal::sync`]/[`Journal::close`].
    Never,
}

impl std::str::FromStr for FsyncPolicy {
    type Err = String;

    /// `every-block`, `never`, or an interval in milliseconds: `100ms`.
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "every-block" => Ok(FsyncPolicy::EveryBlock),
            "never" => Ok(FsyncPolicy::Never),
            _ => text
                .strip_suffix("ms")
                .and_then(|ms| ms.parse::<u64>().ok())
                .map(|ms| FsyncPolicy::Interval(Duration::from_millis(ms)))
                .ok_or_else(|| {
                    format!("unknown fsync policy {text:?}; use every-block, never or e.g. 100ms")
                }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalConfig {
    pub dir: PathBuf,
    pub fsync: FsyncPolicy,
    /// Seal a block once its payload reaches this many bytes.
    pub block_bytes: usize,
    /// [`Journal::tick`] seals blocks older than this, so slow venues are written too.
    pub block_max_age: Duration,
    /// Start a new segment once one reaches this size.
    pub segment_max_bytes: u64,
}

impl JournalConfig {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            fsync: FsyncPolicy::Interval(Duration::from_millis(100)),
            block_bytes: 64 * 1024,
            block_max_age: Duration::from_millis(50),
            segment_max_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Counters since the journal was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JournalStats {
    pub appended: u64,
    pub rejected: u64,
    pub blocks_written: u64,
    pub bytes_written: u64,
    pub syncs: u64,
    pub segments_opened: u64,
    pub write_errors: u64,
    /// Records appended but never written: their block's write (or their segment's
    /// creation) failed, e.g. on a full disk.
    pub records_lost: u64,
}

/// The block being filled for one segment: its header slot, then the records.
struct BlockBuilder {
    buf: Vec<u8>,
    header: BlockHeader,
    /// Journal-wide index of the block's first record.
    first_index: u64,
    opened_at: Option<Instant>,
}

impl BlockBuilder {
    fn new(block_bytes: usize) -> Self {
        let capacity = BLOCK_HEADER_LEN + block_bytes + tickd_bus::record::MAX_RECORD_SIZE;
        let mut buf = Vec::with_capacity(capacity);
        buf.resize(BLOCK_HEADER_LEN, 0);
        Self {
            buf,
            header: Self::empty_header(),
            first_index: 0,
            opened_at: None,
        }
    }

    fn empty_header() -> BlockHeader {
        BlockHeader {
            magic: BLOCK_MAGIC,
            min_ts_recv: u64::MAX,
            min_ts_event: u64::MAX,
            ..BlockHeader::default()
        }
    }

    fn is_empty(&self) -> bool {
        self.header.record_count == 0
    }

    fn payload_len(&self) -> usize {
        self.buf.len() - BLOCK_HEADER_LEN
    }

    /// Copy one record in; within the buffer's capacity, so it never allocates.
    fn push(&mut self, record: RecordRef<'_>, index: u64) {
        let bytes = record.as_bytes();
        let hd = record.header();
        if self.is_empty() {
            self.first_index = index;
        }
        self.buf.extend_from_slice(bytes);
        self.buf
            .resize(BLOCK_HEADER_LEN + padded(self.payload_len()), 0);
        let h = &mut self.header;
        h.record_count += 1;
        h.min_ts_recv = h.min_ts_recv.min(hd.ts_recv);
        h.max_ts_recv = h.max_ts_recv.max(hd.ts_recv);
        h.min_ts_event = h.min_ts_event.min(hd.ts_event);
        h.max_ts_event = h.max_ts_event.max(hd.ts_event);
    }

    /// Fill in the header and checksum; the whole buffer is then the block's bytes.
    fn finish(&mut self) -> &[u8] {
        self.header.payload_len = self.payload_len() as u32;
        self.header.crc = 0;
        self.header.crc = self.header.compute_crc(&self.buf[BLOCK_HEADER_LEN..]);
        self.buf[..BLOCK_HEADER_LEN].copy_from_slice(bytemuck::bytes_of(&self.header));
        &self.buf
    }

    fn reset(&mut self) {
        self.buf.truncate(BLOCK_HEADER_LEN);
        self.header = Self::empty_header();
        self.opened_at = None;
    }
}

/// The segment a venue's records currently go to.
struct OpenSegment {
    day: u32,
    path: PathBuf,
    file: File,
    len: u64,
    block: BlockBuilder,
    /// Index of the first record written to the file but not yet fsynced.
    unsynced_first: Option<u64>,
}

impl OpenSegment {
    fn create(cfg: &JournalConfig, venue: Venue, day: u32) -> Result<Self, JournalError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| JournalError::Io { path, source }
        };
        let seq = match list_segments(&cfg.dir, venue, day) {
            Ok(existing) => existing.last().map_or(0, |s| s.seq + 1),
            Err(source) => return Err(io(&cfg.dir)(source)),
        };
        let path = segment_path(&cfg.dir, venue, day, seq);
        let day_dir = path.parent().unwrap_or(&cfg.dir).to_path_buf();
        if !day_dir.exists() {
            std::fs::create_dir_all(&day_dir).map_err(io(&day_dir))?;
            // Make the new folders' entries durable, or a crash could lose them.
            for dir in day_dir.ancestors().skip(1).take(2) {
                sync_dir(dir).map_err(io(dir))?;
            }
        }
        let mut file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io(&path))?;
        let created_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let header = FileHeader::new(venue as u8, day, seq, created_ns);
        if let Err(source) = file.write_all(bytemuck::bytes_of(&header)) {
            // A headerless file is no segment: leave none behind (a full disk would
            // otherwise collect one per attempt).
            drop(file);
            let _ = std::fs::remove_file(&path);
            return Err(io(&path)(source));
        }
        sync_dir(&day_dir).map_err(io(&day_dir))?;
        Ok(Self {
            day,
            path,
            file,
            len: std::mem::size_of::<FileHeader>() as u64,
            block: BlockBuilder::new(cfg.block_bytes),
            unsynced_first: None,
        })
    }

    /// Write the open block, if any. On error the block's records are lost and
    /// the caller must drop this segment (its tail may be torn).
    fn seal(&mut self, stats: &mut JournalStats) -> Result<(), JournalError> {
        if self.block.is_empty() {
            return Ok(());
        }
        let first = self.block.first_index;
        let bytes = self.block.finish();
        let written = bytes.len() as u64;
        let result = self.file.write_all(bytes);
        self.block.reset();
        if let Err(source) = result {
            // Cut what part of the block got out, so the segment ends on a whole block
            // (best effort: recovery cuts a torn tail on the next open anyway).
            let _ = self.file.set_len(self.len);
            return Err(JournalError::Io {
                path: self.path.clone(),
                source,
            });
        }
        self.len += written;
        self.unsynced_first.get_or_insert(first);
        stats.blocks_written += 1;
        stats.bytes_written += written;
        Ok(())
    }

    fn sync(&mut self, stats: &mut JournalStats) -> Result<(), JournalError> {
        if self.unsynced_first.is_some() {
            self.file.sync_data().map_err(|source| JournalError::Io {
                path: self.path.clone(),
                source,
            })?;
            self.unsynced_first = None;
            stats.syncs += 1;
        }
        Ok(())
    }

    /// Smallest record index in this segment that is not yet durable.
    fn first_pending(&self) -> Option<u64> {
        let open = (!self.block.is_empty()).then_some(self.block.first_index);
        match (self.unsynced_first, open) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Take `<dir>/LOCK` exclusively. The OS releases it when the process dies,
/// however it dies, so a crashed writer never leaves the journal locked.
fn lock_dir(dir: &Path) -> Result<File, JournalError> {
    let path = dir.join("LOCK");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| JournalError::Io {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(JournalError::Locked(path)),
        Err(std::fs::TryLockError::Error(source)) => Err(JournalError::Io { path, source }),
    }
}

/// Venue ids are 1..=6 today; slots are indexed by the id byte.
const VENUE_SLOTS: usize = 8;

/// The embedded journal's writer. Single-threaded: the bus writer thread owns it.
pub struct Journal {
    cfg: JournalConfig,
    segments: [Option<OpenSegment>; VENUE_SLOTS],
    /// Per venue slot: records lost to failed writes, not yet taken by [`Journal::take_lost`].
    lost: [u64; VENUE_SLOTS],
    appended: u64,
    /// First record lost to a write error: nothing from here on is acknowledged.
    failed_first: Option<u64>,
    last_sync: Instant,
    stats: JournalStats,
    /// Held (flock) while open: one writer per journal, and no recovery under a live one.
    _lock: File,
}

impl Journal {
    /// Open (creating) the journal at `cfg.dir`, recovering any torn tails first.
    pub fn open(cfg: JournalConfig) -> Result<(Self, RecoveryReport), JournalError> {
        std::fs::create_dir_all(&cfg.dir).map_err(|source| JournalError::Io {
            path: cfg.dir.clone(),
            source,
        })?;
        let lock = lock_dir(&cfg.dir)?;
        let report = recover(&cfg.dir)?;
        let journal = Self {
            cfg,
            segments: std::array::from_fn(|_| None),
            lost: [0; VENUE_SLOTS],
            appended: 0,
            failed_first: None,
            last_sync: Instant::now(),
            stats: JournalStats::default(),
            _lock: lock,
        };
        Ok((journal, report))
    }

    pub fn config(&self) -> &JournalConfig {
        &self.cfg
    }

    pub fn stats(&self) -> JournalStats {
        self.stats
    }

    /// Append one record; returns its index (0-based, counting appends since open).
    /// Allocation-free except when a new segment is opened.
    pub fn append(&mut self, record: &RecordBuf) -> Result<u64, JournalError> {
        match RecordRef::from_bytes(record.as_bytes()) {
            Ok(record) => self.append_ref(record),
            Err(err) => {
                self.stats.rejected += 1;
                Err(JournalError::InvalidRecord(err))
            }
        }
    }

    /// Append a validated record view (e.g. one read from another journal).
    pub fn append_ref(&mut self, record: RecordRef<'_>) -> Result<u64, JournalError> {
        let hd = record.header();
        let Some(venue) = Venue::from_u8(hd.venue) else {
            self.stats.rejected += 1;
            return Err(JournalError::UnknownVenue(hd.venue));
        };
        let day = day_of(hd.ts_recv);
        let slot = venue as usize;
        // A record from an earlier day (a clock step back) stays in the current
        // segment: segments only move forward, so at most one is open per venue.
        let roll = self.segments[slot]
            .as_ref()
            .is_none_or(|s| day > s.day || s.len >= self.cfg.segment_max_bytes);
        if roll {
            if let Some(old) = self.segments[slot].take() {
                if let Err(err) = self.close_segment(old, slot) {
                    self.count_lost(slot, 1);
                    return Err(err);
                }
            }
            match OpenSegment::create(&self.cfg, venue, day) {
                Ok(seg) => self.segments[slot] = Some(seg),
                Err(err) => {
                    self.count_lost(slot, 1);
                    return Err(err);
                }
            }
            self.stats.segments_opened += 1;
        }
        let index = self.appended;
        let mut sealed = false;
        if let Some(seg) = self.segments[slot].as_mut() {
            if seg.block.is_empty() {
                seg.block.opened_at = Some(Instant::now());
            }
            seg.block.push(record, index);
            if seg.block.payload_len() >= self.cfg.block_bytes {
                sealed = true;
            }
        }
        self.appended += 1;
        self.stats.appended += 1;
        if sealed {
            self.seal_slot(slot)?;
            self.after_seal(slot)?;
        }
        Ok(index)
    }

    /// Seal blocks older than `block_max_age` and run an `Interval` fsync when due.
    /// Call it regularly (the bus writer does, also when idle).
    pub fn tick(&mut self) -> Result<(), JournalError> {
        let now = Instant::now();
        for slot in 0..VENUE_SLOTS {
            let due = self.segments[slot].as_ref().is_some_and(|s| {
                s.block
                    .opened_at
                    .is_some_and(|t| now.duration_since(t) >= self.cfg.block_max_age)
            });
            if due {
                self.seal_slot(slot)?;
                self.after_seal(slot)?;
            }
        }
        if let FsyncPolicy::Interval(every) = self.cfg.fsync {
            if now.duration_since(self.last_sync) >= every {
                self.sync_written()?;
            }
        }
        Ok(())
    }

    /// Write every open block (no fsync).
    pub fn flush(&mut self) -> Result<(), JournalError> {
        for slot in 0..VENUE_SLOTS {
            self.seal_slot(slot)?;
        }
        Ok(())
    }

    /// Write every open block and fsync: everything appended so far is durable.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.flush()?;
        self.sync_written()
    }

    /// Sync and close every segment.
    pub fn close(mut self) -> Result<(), JournalError> {
        self.sync()?;
        for slot in 0..VENUE_SLOTS {
            self.segments[slot] = None;
        }
        Ok(())
    }

    /// Records `0..n` (by append index) are durable under the fsync policy.
    pub fn durable_position(&self) -> u64 {
        let mut durable = self.failed_first.unwrap_or(self.appended);
        for seg in self.segments.iter().flatten() {
            if let Some(first) = seg.first_pending() {
                durable = durable.min(first);
            }
        }
        durable
    }

    /// Records lost to failed writes since the last call, per venue (then reset):
    /// the caller journals them as a gap once the journal writes again.
    pub fn take_lost(&mut self) -> Vec<(Venue, u64)> {
        let mut out = Vec::new();
        for (slot, lost) in self.lost.iter_mut().enumerate() {
            let n = std::mem::take(lost);
            if let (true, Some(venue)) = (n > 0, u8::try_from(slot).ok().and_then(Venue::from_u8)) {
                out.push((venue, n));
            }
        }
        out
    }

    /// Records appended since open.
    pub fn appended(&self) -> u64 {
        self.appended
    }

    /// Paths of the segments currently open for writing.
    pub fn active_segments(&self) -> Vec<PathBuf> {
        self.segments
            .iter()
            .flatten()
            .map(|s| s.path.clone())
            .collect()
    }

    /// Apply retention to this journal's folder, leaving open segments alone.
    pub fn run_retention(
        &mut self,
        policy: &RetentionPolicy,
        today: u32,
    ) -> Result<RetentionReport, JournalError> {
        retention::apply(&self.cfg.dir, policy, today, &self.active_segments())
    }

    fn seal_slot(&mut self, slot: usize) -> Result<(), JournalError> {
        let Some(seg) = self.segments[slot].as_mut() else {
            return Ok(());
        };
        let first = seg.block.first_index;
        let had_records = !seg.block.is_empty();
        let records = u64::from(seg.block.header.record_count);
        if let Err(err) = seg.seal(&mut self.stats) {
            self.count_lost(slot, records);
            self.on_write_error(slot, first, had_records);
            return Err(err);
        }
        Ok(())
    }

    fn after_seal(&mut self, slot: usize) -> Result<(), JournalError> {
        match self.cfg.fsync {
            FsyncPolicy::EveryBlock => self.sync_slot(slot),
            FsyncPolicy::Interval(every) if self.last_sync.elapsed() >= every => {
                self.sync_written()
            }
            _ => Ok(()),
        }
    }

    fn sync_slot(&mut self, slot: usize) -> Result<(), JournalError> {
        let Some(seg) = self.segments[slot].as_mut() else {
            return Ok(());
        };
        let first = seg.unsynced_first;
        if let Err(err) = seg.sync(&mut self.stats) {
            self.on_write_error(slot, first.unwrap_or(self.appended), true);
            return Err(err);
        }
        Ok(())
    }

    /// fsync every segment with written, unsynced blocks.
    fn sync_written(&mut self) -> Result<(), JournalError> {
        for slot in 0..VENUE_SLOTS {
            self.sync_slot(slot)?;
        }
        self.last_sync = Instant::now();
        Ok(())
    }

    fn close_segment(&mut self, mut seg: OpenSegment, slot: usize) -> Result<(), JournalError> {
        let first = seg.first_pending();
        let records = u64::from(seg.block.header.record_count);
        let result = match seg.seal(&mut self.stats) {
            Ok(()) => seg.sync(&mut self.stats),
            Err(err) => {
                self.count_lost(slot, records);
                Err(err)
            }
        };
        if result.is_err() {
            self.stats.write_errors += 1;
            self.fail_from(first.unwrap_or(self.appended));
        }
        result
    }

    /// A failed write or fsync leaves the segment's tail unknown: drop it (the
    /// next record opens a fresh segment; recovery cuts the tail on next open).
    fn on_write_error(&mut self, slot: usize, first_lost: u64, lost: bool) {
        self.stats.write_errors += 1;
        if let Some(seg) = self.segments[slot].take() {
            let pending = seg.first_pending().unwrap_or(first_lost);
            self.fail_from(if lost {
                first_lost.min(pending)
            } else {
                pending
            });
        }
    }

    fn count_lost(&mut self, slot: usize, records: u64) {
        self.stats.records_lost += records;
        self.lost[slot] += records;
    }

    fn fail_from(&mut self, index: u64) {
        self.failed_first = Some(self.failed_first.map_or(index, |f| f.min(index)));
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Best effort: write and sync what is buffered. `close` reports errors.
        if self.segments.iter().any(Option::is_some) {
            let _ = self.sync();
        }
    }
}
