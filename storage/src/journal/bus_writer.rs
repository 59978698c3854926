//! The journal's bus consumer: a thread that appends every bus record.
//!
//! The bus never waits for its consumers, so this thread cannot slow a producer:
//! if the disk falls behind, the ring laps the writer, which then learns exactly
//! how many records it lost. It counts them and journals a `Status` record
//! (`kind = Gap`, `reason = WriterLagged`, `lost = n`, `detail = ring index`)
//! stamped with the venue and `ts_recv` of the next record from the same ring, so
//! the gap sits in that venue's journal exactly where the records are missing.
//!
//! A failed write (a full disk, an I/O error) pauses the journal rather than retrying
//! record by record: the writer logs it once with the path and the free space, stops
//! taking records (the rings lap it, so the loss is counted as above), and retries with
//! backoff once the disk has room again. The records whose block never reached the disk
//! are journaled on resume as a `Status` record (`kind = Gap`, `reason =
//! JournalWriteFailed`, `lost = n`) per venue. The feeds and the gateway never notice.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tickd_bus::record::{StatusKind, StatusMsg, StatusReason};
use tickd_bus::ring::{Consumer, MultiConsumer, MultiRecv, TryRecv};
use tickd_bus::{RecordBuf, RecordHeader, Venue};

use super::layout::day_of;
use super::space::disk_space;
use super::{Journal, JournalError, RetentionPolicy};

/// A receive from one ring or many, as the writer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    Record { ring: usize, record: RecordBuf },
    Lagged { ring: usize, lost: u64 },
    Empty,
    Closed,
}

/// Where the writer reads records from: a ring's [`Consumer`] or a [`MultiConsumer`].
pub trait RecordSource: Send + 'static {
    /// Wait up to `timeout` for the next receive.
    fn recv_timeout(&mut self, timeout: Duration) -> Received;

    /// The next receive without waiting. Sources that can skip the waiting
    /// machinery (the ring consumers) override this.
    fn try_recv(&mut self) -> Received {
        self.recv_timeout(Duration::ZERO)
    }
}

/// Records taken per clock reading while the bus has a backlog.
const BATCH: usize = 256;
/// At most this many records are taken after a stop (several rings' worth).
const MAX_DRAIN: usize = 1 << 22;
/// After a failed write: first retry, and the longest wait between retries.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// Free space (beyond a few blocks) the journal's disk needs before the writer retries.
const RESUME_FREE_MARGIN: u64 = 1 << 20;

fn from_try(received: TryRecv, ring: usize) -> Received {
    match received {
        TryRecv::Record(record) => Received::Record { ring, record },
        TryRecv::Lagged(lost) => Received::Lagged { ring, lost },
        TryRecv::Empty => Received::Empty,
        TryRecv::Closed => Received::Closed,
    }
}

fn from_multi(received: MultiRecv) -> Received {
    match received {
        MultiRecv::Record { ring, record } => Received::Record { ring, record },
        MultiRecv::Lagged { ring, lost } => Received::Lagged { ring, lost },
        MultiRecv::Empty => Received::Empty,
        MultiRecv::Closed => Received::Closed,
    }
}

impl RecordSource for Consumer {
    fn try_recv(&mut self) -> Received {
        from_try(Consumer::try_recv(self), 0)
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Received {
        from_try(Consumer::recv_timeout(self, timeout), 0)
    }
}

impl RecordSource for MultiConsumer {
    fn try_recv(&mut self) -> Received {
        from_multi(MultiConsumer::try_recv(self))
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Received {
        from_multi(MultiConsumer::recv_timeout(self, timeout))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusWriterConfig {
    /// Longest wait for a record before the journal's timers run (block age, fsync).
    pub tick: Duration,
    /// Retention to apply, and how often.
    pub retention: Option<(RetentionPolicy, Duration)>,
}

impl Default for BusWriterConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_millis(10),
            retention: None,
        }
    }
}

/// Live counters of the writer thread (read them from any thread).
#[derive(Debug, Default)]
pub struct BusWriterStats {
    /// Records appended to the journal (gap records included).
    pub records: AtomicU64,
    /// Times the writer was lapped by a producer.
    pub lag_events: AtomicU64,
    /// Records lost to those laps.
    pub records_lost: AtomicU64,
    pub gaps_written: AtomicU64,
    /// Lost records whose gap could not be journaled (no record ever came from that ring).
    pub gaps_unwritten: AtomicU64,
    pub append_errors: AtomicU64,
    /// Appends (since start) the fsync policy has made durable.
    pub durable: AtomicU64,
    /// 1 while the journal is paused after a failed write (disk full, I/O error).
    pub paused: AtomicU64,
    /// Times the journal paused.
    pub pauses: AtomicU64,
    /// Records lost to failed writes (their block never reached the disk), plus any
    /// left on the bus at a stop while paused.
    pub records_unwritten: AtomicU64,
}

/// The running writer thread.
pub struct BusWriter {
    stats: Arc<BusWriterStats>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<(), JournalError>>,
}

impl BusWriter {
    /// Start the writer thread over `source`, appending into `journal`.
    pub fn spawn(
        source: impl RecordSource,
        journal: Journal,
        config: BusWriterConfig,
    ) -> std::io::Result<Self> {
        let stats = Arc::new(BusWriterStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let mut run = Run {
            journal,
            config,
            stats: Arc::clone(&stats),
            stop: Arc::clone(&stop),
            pending: Vec::new(),
            last_venue: None,
            outage: None,
        };
        let thread = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || run.run(source))?;
        Ok(Self {
            stats,
            stop,
            thread,
        })
    }

    pub fn stats(&self) -> &Arc<BusWriterStats> {
        &self.stats
    }

    /// Whether the thread has ended (its source closed, or it failed).
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Stop reading, sync and close the journal.
    pub fn stop(self) -> Result<(), JournalError> {
        self.stop.store(true, Ordering::Release);
        self.join()
    }

    /// Wait for the source to close and everything to be written and synced.
    pub fn join(self) -> Result<(), JournalError> {
        match self.thread.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Gap bookkeeping for one ring.
#[derive(Debug, Clone, Copy, Default)]
struct RingState {
    lost: u64,
    venue: Option<Venue>,
}

/// The journal is paused after a failed write.
#[derive(Debug, Clone, Copy)]
struct Outage {
    since: Instant,
    retry_at: Instant,
    backoff: Duration,
}

struct Run {
    journal: Journal,
    config: BusWriterConfig,
    stats: Arc<BusWriterStats>,
    stop: Arc<AtomicBool>,
    pending: Vec<RingState>,
    last_venue: Option<Venue>,
    outage: Option<Outage>,
}

impl Run {
    fn run(&mut self, mut source: impl RecordSource) -> Result<(), JournalError> {
        let mut last_tick = Instant::now();
        let mut last_retention = Instant::now();
        'outer: while !self.stop.load(Ordering::Acquire) {
            if let Some(outage) = self.outage {
                if !self.try_resume(false) {
                    self.retention(&mut last_retention);
                    let wait = outage.retry_at.saturating_duration_since(Instant::now());
                    std::thread::sleep(wait.min(self.config.tick));
                    continue;
                }
            }
            // Take what is there without blocking, a batch at a time, so the
            // clock is read once per batch rather than once per record.
            let mut idle = false;
            for _ in 0..BATCH {
                match source.try_recv() {
                    Received::Empty => {
                        idle = true;
                        break;
                    }
                    Received::Closed => break 'outer,
                    other => self.on_received(other),
                }
            }
            if last_tick.elapsed() >= self.config.tick {
                last_tick = Instant::now();
                self.tick();
            }
            self.retention(&mut last_retention);
            if idle && self.outage.is_none() {
                // Park until something arrives or the next tick is due.
                match source.recv_timeout(self.config.tick) {
                    Received::Closed => break,
                    other => self.on_received(other),
                }
            }
        }
        if self.outage.is_some() && !self.try_resume(true) {
            self.discard(&mut source);
        } else {
            self.drain(&mut source);
        }
        self.flush_gaps();
        let result = self.journal.sync();
        self.publish_durable();
        result
    }

    /// Retention runs on schedule, paused or not (it may be what frees the disk).
    fn retention(&mut self, last: &mut Instant) {
        let Some((policy, every)) = self.config.retention else {
            return;
        };
        if last.elapsed() >= every {
            *last = Instant::now();
            let today = day_of(now_ns());
            if self.journal.run_retention(&policy, today).is_err() {
                self.stats.append_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// A failed append or block write: a rejected record is only counted; an I/O
    /// failure pauses the journal (logged once, with the path and the free space).
    fn on_write_error(&mut self, err: &JournalError) {
        self.stats.append_errors.fetch_add(1, Ordering::Relaxed);
        self.stats
            .records_unwritten
            .store(self.journal.stats().records_lost, Ordering::Relaxed);
        if !matches!(err, JournalError::Io { .. }) || self.outage.is_some() {
            return;
        }
        let dir = self.journal.config().dir.clone();
        let free = disk_space(&dir).map_or("unknown".into(), |(free, _)| free.to_string());
        tracing::warn!(
            "journal paused: {err} ({free} bytes free on {}); the feeds go on, records \
             wait on the bus (what it laps is counted as a gap), retrying until the disk \
             has room",
            dir.display()
        );
        let now = Instant::now();
        self.outage = Some(Outage {
            since: now,
            retry_at: now + RETRY_FIRST,
            backoff: RETRY_FIRST,
        });
        self.stats.paused.store(1, Ordering::Release);
        self.stats.pauses.fetch_add(1, Ordering::Relaxed);
    }

    /// Paused: when the retry is due (or `now`) and the disk has room, resume and
    /// journal what the failure lost. Returns whether the journal writes again.
    fn try_resume(&mut self, now: bool) -> bool {
        let Some(mut outage) = self.outage else {
            return true;
        };
        let at = Instant::now();
        if !now && at < outage.retry_at {
            return false;
        }
        let need = 4 * self.journal.config().block_bytes as u64 + RESUME_FREE_MARGIN;
        let room = disk_space(&self.journal.config().dir).is_none_or(|(free, _)| free >= need);
        if !room {
            outage.backoff = (outage.backoff * 2).min(RETRY_MAX);
            outage.retry_at = at + outage.backoff;
            self.outage = Some(outage);
            return false;
        }
        self.outage = None;
        self.stats.paused.store(0, Ordering::Release);
        let lost = self.journal.take_lost();
        let total: u64 = lost.iter().map(|(_, n)| n).sum();
        tracing::info!(
            "journal resumed after {:.1} s; {total} records were lost to the failed writes \
             (journaled as gaps, reason journal_write_failed)",
            outage.since.elapsed().as_secs_f64()
        );
        for (venue, n) in lost {
            self.write_status(venue, StatusReason::JournalWriteFailed, n, 0, now_ns());
        }
        self.outage.is_none()
    }

    /// Stopping while paused: what the rings still hold cannot be journaled; count it.
    fn discard(&mut self, source: &mut impl RecordSource) {
        let mut discarded = 0u64;
        for _ in 0..MAX_DRAIN {
            match source.try_recv() {
                Received::Empty | Received::Closed => break,
                Received::Record { .. } => discarded += 1,
                Received::Lagged { lost, .. } => discarded += lost,
            }
        }
        self.stats
            .records_unwritten
            .fetch_add(discarded, Ordering::Relaxed);
        tracing::error!(
            "journal stopped while paused by a failed write: {} records are not in it",
            self.journal.stats().records_lost + discarded
        );
    }

    /// Stopping: take what the rings still hold. `stop` comes after the feeds have
    /// stopped, so this reaches the rings' end (`Closed`), where a source such as
    /// `BarTap` hands out its last open bars; without it, a writer behind at the stop
    /// lost the records still queued and the bars still open. Bounded: a producer
    /// still publishing ends it at the first empty read or after `MAX_DRAIN` records.
    fn drain(&mut self, source: &mut impl RecordSource) {
        for _ in 0..MAX_DRAIN {
            match source.try_recv() {
                Received::Empty | Received::Closed => return,
                other => self.on_received(other),
            }
        }
    }

    fn on_received(&mut self, received: Received) {
        match received {
            Received::Record { ring, record } => self.on_record(ring, &record),
            Received::Lagged { ring, lost } => {
                self.stats.lag_events.fetch_add(1, Ordering::Relaxed);
                self.stats.records_lost.fetch_add(lost, Ordering::Relaxed);
                self.ring(ring).lost += lost;
            }
            Received::Empty | Received::Closed => {}
        }
    }

    fn ring(&mut self, ring: usize) -> &mut RingState {
        if ring >= self.pending.len() {
            self.pending.resize(ring + 1, RingState::default());
        }
        &mut self.pending[ring]
    }

    fn on_record(&mut self, ring: usize, record: &RecordBuf) {
        let hd = *record.header();
        let venue = Venue::from_u8(hd.venue);
        let state = self.ring(ring);
        state.venue = venue.or(state.venue);
        let lost = std::mem::take(&mut state.lost);
        if lost > 0 {
            match venue {
                Some(venue) => self.write_gap(ring, venue, lost, hd.ts_recv),
                // An invalid record cannot carry the gap: keep it for the next one.
                None => self.ring(ring).lost = lost,
            }
        }
        self.last_venue = venue.or(self.last_venue);
        self.append(record);
    }

    fn write_gap(&mut self, ring: usize, venue: Venue, lost: u64, ts_recv: u64) {
        self.write_status(
            venue,
            StatusReason::WriterLagged,
            lost,
            ring as u64,
            ts_recv,
        );
    }

    fn write_status(
        &mut self,
        venue: Venue,
        reason: StatusReason,
        lost: u64,
        detail: u64,
        ts_recv: u64,
    ) {
        let mut gap: StatusMsg = bytemuck::Zeroable::zeroed();
        gap.hd = RecordHeader::new::<StatusMsg>(venue, 0, ts_recv, ts_recv);
        gap.kind = StatusKind::Gap as u8;
        gap.reason = reason as u16;
        gap.lost = lost;
        gap.detail = detail;
        self.append(&RecordBuf::new(&gap));
        self.stats.gaps_written.fetch_add(1, Ordering::Relaxed);
    }

    /// At the end: gaps no later record came to carry use the ring's (or any) last venue.
    fn flush_gaps(&mut self) {
        for ring in 0..self.pending.len() {
            let RingState { lost, venue } = self.pending[ring];
            if lost == 0 {
                continue;
            }
            self.pending[ring].lost = 0;
            match venue.or(self.last_venue) {
                Some(venue) => self.write_gap(ring, venue, lost, now_ns()),
                None => {
                    self.stats.gaps_unwritten.fetch_add(lost, Ordering::Relaxed);
                }
            }
        }
    }

    fn append(&mut self, record: &RecordBuf) {
        match self.journal.append(record) {
            Ok(_) => {
                self.stats.records.fetch_add(1, Ordering::Relaxed);
            }
            Err(err) => self.on_write_error(&err),
        }
    }

    fn tick(&mut self) {
        if let Err(err) = self.journal.tick() {
            self.on_write_error(&err);
        }
        self.publish_durable();
    }

    fn publish_durable(&self) {
        self.stats
            .durable
            .store(self.journal.durable_position(), Ordering::Release);
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
