//! [`CaptureWriter`]: a thread that turns tapped frames into capture lines, plain or
//! zstd (by file name). It flushes about once a second so a killed recorder leaves
//! a readable file (the reader counts the torn tail), and [`CaptureWriter::finish`]
//! ends the zstd frame properly.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;
use tickd_bus::Venue;

use super::line::CaptureLineRef;
use super::tap::{FrameTap, TapItem};
use super::CaptureKind;

/// Queue length between the taps and the writer thread.
pub const DEFAULT_QUEUE: usize = 64 * 1024;
const FLUSH_EVERY: Duration = Duration::from_secs(1);
const ZSTD_LEVEL: i32 = 3;

/// What a finished capture holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CaptureSummary {
    pub path: PathBuf,
    pub ws_frames: u64,
    pub rest_bodies: u64,
    /// Bytes of raw frame text (before JSON escaping and compression).
    pub data_bytes: u64,
    /// Frames the taps dropped because the writer fell behind: the capture is lossy.
    pub dropped: u64,
    /// Text frames that were not valid UTF-8 (stored with replacement characters).
    pub not_utf8: u64,
    /// Connect and disconnect lines.
    pub connection_events: u64,
}

/// Live counters (for status lines while recording).
#[derive(Debug, Default)]
struct Counters {
    ws_frames: AtomicU64,
    rest_bodies: AtomicU64,
    data_bytes: AtomicU64,
}

type DropCounters = Arc<Mutex<Vec<(Venue, Arc<AtomicU64>, u64)>>>;

pub struct CaptureWriter {
    path: PathBuf,
    tx: SyncSender<TapItem>,
    stop: Arc<AtomicBool>,
    drops: DropCounters,
    counters: Arc<Counters>,
    thread: JoinHandle<io::Result<CaptureSummary>>,
}

enum Output {
    Plain(BufWriter<File>),
    Zstd(zstd::Encoder<'static, BufWriter<File>>),
}

impl Output {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Plain(w) => w,
            Output::Zstd(w) => w,
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Output::Plain(mut w) => w.flush(),
            Output::Zstd(w) => w.finish()?.flush(),
        }
    }
}

impl CaptureWriter {
    /// Create `path` (truncating it) and start the writer thread.
    pub fn create(path: &Path) -> io::Result<Self> {
        Self::with_queue(path, DEFAULT_QUEUE)
    }

    pub fn with_queue(path: &Path, queue: usize) -> io::Result<Self> {
        let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let output = if super::is_zstd(path) {
            Output::Zstd(zstd::Encoder::new(file, ZSTD_LEVEL)?)
        } else {
            Output::Plain(file)
        };
        let (tx, rx) = sync_channel(queue.max(1));
        let stop = Arc::new(AtomicBool::new(false));
        let drops: DropCounters = Arc::default();
        let counters = Arc::new(Counters::default());
        let thread = {
            let (stop, drops, counters) = (stop.clone(), drops.clone(), counters.clone());
            let path = path.to_path_buf();
            std::thread::Builder::new()
                .name("capture-writer".into())
                .spawn(move || write_loop(path, output, rx, &stop, &drops, &counters))?
        };
        Ok(Self {
            path: path.to_path_buf(),
            tx,
            stop,
            drops,
            counters,
            thread,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A tap for `venue`'s feed (put it in `VenueSettings::tap`).
    pub fn tap(&self, venue: Venue) -> FrameTap {
        let dropped = Arc::new(AtomicU64::new(0));
        self.drops.lock().push((venue, dropped.clone(), 0));
        FrameTap::new(venue, self.tx.clone(), dropped)
    }

    /// Lines written so far (ws frames + REST bodies).
    pub fn lines(&self) -> u64 {
        self.counters.ws_frames.load(Relaxed) + self.counters.rest_bodies.load(Relaxed)
    }

    /// Frames dropped so far by every tap.
    pub fn dropped(&self) -> u64 {
        self.drops
            .lock()
            .iter()
            .map(|(_, d, _)| d.load(Relaxed))
            .sum()
    }

    /// Write what is queued, end the file properly and report. Stop the feeds first:
    /// frames tapped after this are dropped (and counted by their tap).
    pub fn finish(self) -> io::Result<CaptureSummary> {
        self.stop.store(true, Relaxed);
        drop(self.tx);
        match self.thread.join() {
            Ok(result) => result,
            Err(_) => Err(io::Error::other("capture writer thread panicked")),
        }
    }
}

fn write_loop(
    path: PathBuf,
    mut output: Output,
    rx: Receiver<TapItem>,
    stop: &AtomicBool,
    drops: &DropCounters,
    counters: &Counters,
) -> io::Result<CaptureSummary> {
    let mut summary = CaptureSummary {
        path,
        ..CaptureSummary::default()
    };
    let mut last_flush = Instant::now();
    let mut last_ts = 0u64;
    loop {
        let item = if stop.load(Relaxed) {
            match rx.try_recv() {
                Ok(item) => Some(item),
                Err(_) => break,
            }
        } else {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(item) => Some(item),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        };
        if let Some(item) = &item {
            last_ts = item.ts_recv;
            write_item(output.writer(), item, &mut summary)?;
            match item.kind {
                CaptureKind::Rest => counters.rest_bodies.fetch_add(1, Relaxed),
                CaptureKind::Ws => counters.ws_frames.fetch_add(1, Relaxed),
                _ => 0,
            };
            counters
                .data_bytes
                .fetch_add(item.data.len() as u64, Relaxed);
        }
        if item.is_none() || last_flush.elapsed() >= FLUSH_EVERY {
            write_losses(output.writer(), drops, last_ts, &mut summary)?;
            output.writer().flush()?;
            last_flush = Instant::now();
        }
    }
    write_losses(output.writer(), drops, last_ts, &mut summary)?;
    output.finish()?;
    Ok(summary)
}

fn write_item(out: &mut dyn Write, item: &TapItem, summary: &mut CaptureSummary) -> io::Result<()> {
    use base64::Engine as _;
    let lossy;
    let b64 = item
        .binary
        .then(|| base64::engine::general_purpose::STANDARD.encode(&item.data));
    let data = match std::str::from_utf8(&item.data) {
        _ if item.binary => "",
        Ok(text) => text,
        Err(_) => {
            summary.not_utf8 += 1;
            lossy = String::from_utf8_lossy(&item.data).into_owned();
            &lossy
        }
    };
    match item.kind {
        CaptureKind::Rest => summary.rest_bodies += 1,
        CaptureKind::Ws => summary.ws_frames += 1,
        _ => summary.connection_events += 1,
    }
    summary.data_bytes += item.data.len() as u64;
    write_line(
        out,
        &CaptureLineRef {
            ts_recv: item.ts_recv,
            venue: item.venue.as_str(),
            conn: u64::from(item.conn),
            kind: item.kind,
            url: &item.url,
            data,
            data_b64: b64.as_deref(),
        },
    )
}

fn write_line(out: &mut dyn Write, line: &CaptureLineRef<'_>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, line).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// One `loss` line per venue whose tap dropped frames since the last check.
fn write_losses(
    out: &mut dyn Write,
    drops: &DropCounters,
    ts_recv: u64,
    summary: &mut CaptureSummary,
) -> io::Result<()> {
    let mut drops = drops.lock();
    for (venue, counter, reported) in drops.iter_mut() {
        let now = counter.load(Relaxed);
        if now <= *reported {
            continue;
        }
        let lost = now - *reported;
        *reported = now;
        summary.dropped += lost;
        tracing::error!(%venue, lost, "capture queue full: frames dropped, this capture is lossy");
        write_line(
            out,
            &CaptureLineRef {
                ts_recv,
                venue: venue.as_str(),
                conn: 0,
                kind: CaptureKind::Loss,
                url: "",
                data: &lost.to_string(),
                data_b64: None,
            },
        )?;
    }
    Ok(())
}
