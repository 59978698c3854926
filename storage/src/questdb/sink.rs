//! The sink thread: read, batch, send, retry.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use questdb::ingress::{Buffer, Sender};
use tickd_bus::RecordBuf;

use super::ilp::{write_record, InstrumentNames};

/// Where the sink reads records from: the journal in production.
///
/// The sink stops reading while QuestDB is down, so the source's position *is* the
/// sink's memory of what is still to be sent; `commit` makes it durable after each
/// acknowledged batch so a restart resumes there too.
pub trait RecordSource: Send {
    /// Append up to `max` records after the current position to `out`.
    fn read(&mut self, max: usize, out: &mut Vec<RecordBuf>) -> std::io::Result<SourceBatch>;
    /// Everything read so far is in QuestDB: remember that.
    fn commit(&mut self) -> std::io::Result<()>;
}

/// What a [`RecordSource::read`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceBatch {
    /// This many records were appended.
    Read(usize),
    /// Nothing new yet; more may come.
    Idle,
    /// The source has ended (a finite replay): flush and stop.
    End,
}

#[derive(Debug, Clone)]
pub struct QuestDbConfig {
    /// questdb-rs configuration string, e.g. `http::addr=127.0.0.1:9000;protocol_version=3;`.
    pub conf: String,
    /// Send when this many rows are buffered…
    pub batch_rows: usize,
    /// …or when the oldest buffered row is this old.
    pub flush_interval: Duration,
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

impl Default for QuestDbConfig {
    fn default() -> Self {
        Self {
            conf: "http::addr=127.0.0.1:9000;protocol_version=3;".into(),
            batch_rows: 1000,
            flush_interval: Duration::from_millis(500),
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(10),
        }
    }
}

/// Counters, readable while the sink runs (for `/metrics`).
#[derive(Debug, Default)]
pub struct QuestDbStats {
    pub rows_sent: AtomicU64,
    pub batches_sent: AtomicU64,
    pub send_errors: AtomicU64,
    pub skipped_records: AtomicU64,
    pub encode_errors: AtomicU64,
    pub connected: AtomicBool,
}

/// A running sink. Dropping it without [`QuestDbSink::stop`] detaches the thread.
pub struct QuestDbSink {
    stop: mpsc::Sender<()>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<QuestDbStats>,
}

impl QuestDbSink {
    pub fn start<S, N>(config: QuestDbConfig, source: S, names: N) -> std::io::Result<Self>
    where
        S: RecordSource + 'static,
        N: InstrumentNames + Send + 'static,
    {
        let (stop, stop_rx) = mpsc::channel();
        let stats = Arc::new(QuestDbStats::default());
        let worker = Worker {
            config,
            source,
            names,
            stop: stop_rx,
            stats: stats.clone(),
            sender: None,
            buffer: Buffer::new(questdb::ingress::ProtocolVersion::V3),
            records: Vec::new(),
        };
        let thread = std::thread::Builder::new()
            .name("tickd-questdb".into())
            .spawn(move || worker.run())?;
        Ok(Self {
            stop,
            thread: Some(thread),
            stats,
        })
    }

    pub fn stats(&self) -> &Arc<QuestDbStats> {
        &self.stats
    }

    /// Flush what is buffered (one attempt per retry step until stopped) and join.
    pub fn stop(mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Wait for a finite source to be fully sent.
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Worker<S, N> {
    config: QuestDbConfig,
    source: S,
    names: N,
    stop: mpsc::Receiver<()>,
    stats: Arc<QuestDbStats>,
    sender: Option<Sender>,
    buffer: Buffer,
    records: Vec<RecordBuf>,
}

impl<S: RecordSource, N: InstrumentNames> Worker<S, N> {
    fn run(mut self) {
        let mut oldest_row: Option<Instant> = None;
        let mut stopping = false;
        loop {
            let room = self
                .config
                .batch_rows
                .saturating_sub(self.buffer.row_count());
            let mut ended = false;
            if room > 0 {
                self.records.clear();
                match self.source.read(room, &mut self.records) {
                    Ok(SourceBatch::Read(_)) => self.encode_records(&mut oldest_row),
                    Ok(SourceBatch::Idle) => {}
                    Ok(SourceBatch::End) => ended = true,
                    Err(err) => tracing::warn!("questdb sink: reading the journal failed: {err}"),
                }
            }
            let full = self.buffer.row_count() >= self.config.batch_rows;
            let due = oldest_row.is_some_and(|t| t.elapsed() >= self.config.flush_interval);
            if (full || due || ended || stopping) && self.buffer.row_count() > 0 {
                if self.flush_with_retry() {
                    oldest_row = None;
                } else {
                    return; // asked to stop while QuestDB was unreachable
                }
            }
            if ended || (stopping && self.buffer.row_count() == 0) {
                return;
            }
            if !full && room > 0 && self.records.is_empty() {
                match self.stop.recv_timeout(Duration::from_millis(10)) {
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => stopping = true,
                    Err(RecvTimeoutError::Timeout) => {}
                }
            }
        }
    }

    fn encode_records(&mut self, oldest_row: &mut Option<Instant>) {
        for record in &self.records {
            let encoded = match record.as_ref() {
                Ok(view) => {
                    self.buffer.set_marker().ok();
                    match write_record(&mut self.buffer, view, &self.names) {
                        Ok(true) => true,
                        Ok(false) => {
                            self.stats.skipped_records.fetch_add(1, Ordering::Relaxed);
                            false
                        }
                        Err(err) => {
                            // Drop the half-written row, count it, go on.
                            self.buffer.rewind_to_marker().ok();
                            self.stats.encode_errors.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!("questdb sink: record not encodable: {err}");
                            false
                        }
                    }
                }
                Err(_) => {
                    self.stats.encode_errors.fetch_add(1, Ordering::Relaxed);
                    false
                }
            };
            if encoded && oldest_row.is_none() {
                *oldest_row = Some(Instant::now());
            }
        }
        self.buffer.clear_marker();
    }

    /// Send the buffer, retrying with capped exponential backoff until it is
    /// acknowledged. Returns false if stopped first.
    fn flush_with_retry(&mut self) -> bool {
        let mut delay = self.config.retry_initial;
        loop {
            match self.try_flush() {
                Ok(()) => {
                    let rows = self.buffer.row_count() as u64;
                    self.buffer.clear();
                    self.stats.rows_sent.fetch_add(rows, Ordering::Relaxed);
                    self.stats.batches_sent.fetch_add(1, Ordering::Relaxed);
                    if let Err(err) = self.source.commit() {
                        tracing::warn!("questdb sink: could not save its journal position: {err}");
                    }
                    return true;
                }
                Err(err) => {
                    self.stats.send_errors.fetch_add(1, Ordering::Relaxed);
                    self.stats.connected.store(false, Ordering::Relaxed);
                    self.sender = None;
                    tracing::warn!(
                        "questdb sink: send failed ({err}); {} rows kept, retrying in {:?}",
                        self.buffer.row_count(),
                        delay
                    );
                    match self.stop.recv_timeout(delay) {
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return false,
                        Err(RecvTimeoutError::Timeout) => {}
                    }
                    delay = (delay * 2).min(self.config.retry_max);
                }
            }
        }
    }

    fn try_flush(&mut self) -> Result<(), questdb::Error> {
        if self.sender.is_none() {
            self.sender = Some(Sender::from_conf(&self.config.conf)?);
            self.stats.connected.store(true, Ordering::Relaxed);
        }
        let sender = self.sender.as_mut().ok_or_else(|| {
            questdb::Error::new(questdb::ErrorCode::SocketError, "no connection".to_string())
        })?;
        sender.flush_and_keep(&self.buffer)
    }
}
