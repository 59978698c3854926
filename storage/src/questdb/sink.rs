//! The sink thread: read, batch, send, retry.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use questdb::ingress::{Buffer, ProtocolVersion, Sender};
use tickd_bus::RecordBuf;

use super::ilp::{write_record_as, Decimals, InstrumentNames};

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
    /// questdb-rs configuration string, e.g. `http::addr=127.0.0.1:9000;`. Over HTTP
    /// without `protocol_version`, the ILP version is negotiated with the server.
    pub conf: String,
    /// What to send prices and sizes as when the server does not speak ILP v3
    /// (QuestDB before 9.2): `Exact` refuses to run against it.
    pub decimals: Decimals,
    /// Send when this many rows are buffered…
    pub batch_rows: usize,
    /// …or when the oldest buffered row is this old.
    pub flush_interval: Duration,
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// On a clean stop, how long the sink may keep sending to reach the journal's end.
    pub stop_timeout: Duration,
}

impl Default for QuestDbConfig {
    fn default() -> Self {
        Self {
            conf: "http::addr=127.0.0.1:9000;".into(),
            decimals: Decimals::Exact,
            batch_rows: 1000,
            flush_interval: Duration::from_millis(500),
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(10),
            stop_timeout: Duration::from_secs(10),
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
    /// The ILP version in use (1, 2 or 3; 0 before the first connection).
    pub protocol_version: AtomicU64,
    /// The sink stopped for good: the server cannot take what it must send.
    pub failed: AtomicBool,
}

/// Why the sink cannot use a server.
#[derive(Debug, thiserror::Error)]
pub enum QuestDbError {
    #[error("QuestDB sink: invalid configuration string {conf:?}: {message}")]
    Conf { conf: String, message: String },
    #[error("QuestDB sink: cannot connect: {0}")]
    Connect(String),
    /// Connected, but the server cannot take exact decimals and no fallback was chosen.
    #[error("{0}")]
    Version(String),
}

/// Check a configuration string without connecting (for `check-config`): it must
/// parse, and with `Decimals::Exact` a TCP conf must ask for ILP v3 explicitly (TCP
/// cannot ask the server which versions it speaks).
pub fn check_conf(conf: &str, decimals: Decimals) -> Result<(), QuestDbError> {
    let bad = |message: String| QuestDbError::Conf {
        conf: conf.to_string(),
        message,
    };
    questdb::ingress::SenderBuilder::from_conf(conf).map_err(|e| bad(e.msg().to_string()))?;
    let setting = |name: &str| {
        conf.split(';')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let tcp = conf.starts_with("tcp::") || conf.starts_with("tcps::");
    let version = setting("protocol_version");
    if decimals == Decimals::Exact {
        match version.as_deref() {
            Some("1") | Some("2") => {
                return Err(bad(format!(
                    "protocol_version={} cannot carry exact decimals: use 3 (QuestDB 9.2 or newer), \
                     or set decimals = \"string\" or \"double\"",
                    version.unwrap_or_default()
                )))
            }
            None if tcp => {
                return Err(bad(
                    "over TCP the ILP version cannot be negotiated: add protocol_version=3; \
                     (QuestDB 9.2 or newer), use http::, or set decimals = \"string\" or \"double\""
                        .into(),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Connect and settle the ILP version: v3 (exact decimals) when the server speaks
/// it, otherwise the configured fallback, or an error naming the QuestDB needed.
pub fn connect(conf: &str, decimals: Decimals) -> Result<(Sender, Decimals), QuestDbError> {
    let sender = Sender::from_conf(conf).map_err(|e| match e.code() {
        questdb::ErrorCode::ConfigError => QuestDbError::Conf {
            conf: conf.to_string(),
            message: e.msg().to_string(),
        },
        _ => QuestDbError::Connect(e.msg().to_string()),
    })?;
    let version = sender.protocol_version();
    if version == ProtocolVersion::V3 {
        return Ok((sender, Decimals::Exact));
    }
    match decimals {
        Decimals::Exact => Err(QuestDbError::Version(format!(
            "QuestDB sink: the server speaks ILP protocol {version} only, which has no \
             decimal type: tickd sends prices and sizes as exact decimals, which needs \
             QuestDB 9.2 or newer (ILP protocol version 3). Upgrade QuestDB, or set \
             decimals = \"string\" (exact text) or \"double\" (inexact) in \
             [storage.questdb]{}",
            if conf.starts_with("tcp") {
                "; over TCP the version cannot be negotiated: if the server is 9.2 or newer, \
                 add protocol_version=3; to the conf"
            } else {
                ""
            }
        ))),
        fallback => Ok((sender, fallback)),
    }
}

fn version_number(version: ProtocolVersion) -> u64 {
    match version {
        ProtocolVersion::V1 => 1,
        ProtocolVersion::V2 => 2,
        ProtocolVersion::V3 => 3,
    }
}

/// A running sink. Dropping it without [`QuestDbSink::stop`] detaches the thread.
pub struct QuestDbSink {
    stop: mpsc::Sender<()>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<QuestDbStats>,
}

impl QuestDbSink {
    /// Start the sink. If QuestDB answers now and cannot take what the sink must
    /// send (see [`connect`]), this fails with the reason; if it does not answer,
    /// the sink starts and keeps trying (QuestDB may come up later).
    pub fn start<S, N>(config: QuestDbConfig, source: S, names: N) -> Result<Self, QuestDbError>
    where
        S: RecordSource + 'static,
        N: InstrumentNames + Send + 'static,
    {
        let first = match connect(&config.conf, config.decimals) {
            Ok(connected) => Some(connected),
            Err(QuestDbError::Connect(err)) => {
                tracing::warn!("questdb sink: {err}; retrying in the background");
                None
            }
            Err(err) => return Err(err),
        };
        let (stop, stop_rx) = mpsc::channel();
        let stats = Arc::new(QuestDbStats::default());
        let stopping = Arc::new(AtomicBool::new(false));
        let mut worker = Worker {
            config,
            source,
            names,
            stop: stop_rx,
            stopping: stopping.clone(),
            stop_deadline: None,
            stats: stats.clone(),
            sender: None,
            decimals: Decimals::Exact,
            buffer: Buffer::new(ProtocolVersion::V3),
            batch: Vec::new(),
            records: Vec::new(),
        };
        if let Some((sender, decimals)) = first {
            worker.use_sender(sender, decimals);
        }
        let thread = std::thread::Builder::new()
            .name("tickd-questdb".into())
            .spawn(move || worker.run())
            .map_err(|e| QuestDbError::Connect(format!("cannot start the sink thread: {e}")))?;
        Ok(Self {
            stop,
            stopping,
            thread: Some(thread),
            stats,
        })
    }

    pub fn stats(&self) -> &Arc<QuestDbStats> {
        &self.stats
    }

    /// A clean stop: send on to the journal's end (for at most `stop_timeout`), so
    /// QuestDB holds everything journaled before the stop, then join.
    pub fn stop(mut self) {
        self.stopping.store(true, Ordering::Release);
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
    stopping: Arc<AtomicBool>,
    stop_deadline: Option<Instant>,
    stats: Arc<QuestDbStats>,
    sender: Option<Sender>,
    /// How decimals are written on the current connection.
    decimals: Decimals,
    buffer: Buffer,
    /// The records encoded in `buffer`, to encode again if a reconnection settles
    /// on another ILP version.
    batch: Vec<RecordBuf>,
    records: Vec<RecordBuf>,
}

/// How a send attempt ended.
enum Flushed {
    Done,
    /// Asked to stop (or past the stop deadline) while QuestDB was unreachable.
    Stopped,
    /// The server cannot take the rows: the sink stops.
    Failed,
}

impl<S: RecordSource, N: InstrumentNames> Worker<S, N> {
    fn stopping(&mut self) -> bool {
        if self.stopping.load(Ordering::Acquire) && self.stop_deadline.is_none() {
            self.stop_deadline = Some(Instant::now() + self.config.stop_timeout);
        }
        self.stop_deadline.is_some()
    }

    fn past_deadline(&self) -> bool {
        self.stop_deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn run(mut self) {
        let mut oldest_row: Option<Instant> = None;
        loop {
            let stopping = self.stopping();
            let room = self
                .config
                .batch_rows
                .saturating_sub(self.buffer.row_count());
            let (mut ended, mut drained) = (false, false);
            if room > 0 {
                self.records.clear();
                match self.source.read(room, &mut self.records) {
                    Ok(SourceBatch::Read(_)) => self.encode_records(&mut oldest_row),
                    Ok(SourceBatch::Idle) => drained = true,
                    Ok(SourceBatch::End) => ended = true,
                    Err(err) => {
                        drained = true;
                        tracing::warn!("questdb sink: reading the journal failed: {err}")
                    }
                }
            }
            let full = self.buffer.row_count() >= self.config.batch_rows;
            let due = oldest_row.is_some_and(|t| t.elapsed() >= self.config.flush_interval);
            // Stopping: send on until the journal has nothing more, then stop.
            let finish = ended || (stopping && drained) || self.past_deadline();
            if (full || due || finish) && self.buffer.row_count() > 0 {
                match self.flush_with_retry() {
                    Flushed::Done => oldest_row = None,
                    Flushed::Stopped | Flushed::Failed => return,
                }
            }
            if finish {
                return;
            }
            if !full && room > 0 && self.records.is_empty() && !stopping {
                match self.stop.recv_timeout(Duration::from_millis(10)) {
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                        self.stopping.store(true, Ordering::Release)
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                }
            }
        }
    }

    fn encode_records(&mut self, oldest_row: &mut Option<Instant>) {
        let records = std::mem::take(&mut self.records);
        for record in &records {
            if self.encode(record) && oldest_row.is_none() {
                *oldest_row = Some(Instant::now());
            }
        }
        self.batch.extend_from_slice(&records);
        self.records = records;
        self.buffer.clear_marker();
    }

    /// Encode one record into the buffer; whether a row was added.
    fn encode(&mut self, record: &RecordBuf) -> bool {
        let Ok(view) = record.as_ref() else {
            self.stats.encode_errors.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        self.buffer.set_marker().ok();
        match write_record_as(&mut self.buffer, view, &self.names, self.decimals) {
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

    /// Take a (re)connected sender; re-encode the batch if the ILP version changed.
    fn use_sender(&mut self, sender: Sender, decimals: Decimals) {
        let version = sender.protocol_version();
        self.stats
            .protocol_version
            .store(version_number(version), Ordering::Relaxed);
        self.stats.connected.store(true, Ordering::Relaxed);
        if version != self.buffer.protocol_version() || decimals != self.decimals {
            self.buffer = Buffer::new(version);
            self.decimals = decimals;
            let batch = std::mem::take(&mut self.batch);
            let counted = |stats: &QuestDbStats| {
                (
                    stats.skipped_records.load(Ordering::Relaxed),
                    stats.encode_errors.load(Ordering::Relaxed),
                )
            };
            let before = counted(&self.stats);
            for record in &batch {
                self.encode(record);
            }
            self.buffer.clear_marker();
            // These records were counted when first encoded.
            let after = counted(&self.stats);
            self.stats
                .skipped_records
                .fetch_sub(after.0 - before.0, Ordering::Relaxed);
            self.stats
                .encode_errors
                .fetch_sub(after.1 - before.1, Ordering::Relaxed);
            self.batch = batch;
        }
        self.sender = Some(sender);
    }

    /// Send the buffer, retrying with capped exponential backoff until it is
    /// acknowledged.
    fn flush_with_retry(&mut self) -> Flushed {
        let mut delay = self.config.retry_initial;
        loop {
            match self.try_flush() {
                Ok(()) => {
                    let rows = self.buffer.row_count() as u64;
                    self.buffer.clear();
                    self.batch.clear();
                    self.stats.rows_sent.fetch_add(rows, Ordering::Relaxed);
                    self.stats.batches_sent.fetch_add(1, Ordering::Relaxed);
                    if let Err(err) = self.source.commit() {
                        tracing::warn!("questdb sink: could not save its journal position: {err}");
                    }
                    return Flushed::Done;
                }
                Err(QuestDbError::Version(msg)) => {
                    tracing::error!("{msg}; the sink stopped (the journal keeps everything)");
                    self.stats.failed.store(true, Ordering::Relaxed);
                    self.stats.connected.store(false, Ordering::Relaxed);
                    return Flushed::Failed;
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
                    let wait = match self.stop_deadline {
                        Some(deadline) => {
                            delay.min(deadline.saturating_duration_since(Instant::now()))
                        }
                        None => delay,
                    };
                    if self.past_deadline() {
                        return Flushed::Stopped;
                    }
                    match self.stop.recv_timeout(wait) {
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                            self.stopping.store(true, Ordering::Release);
                            self.stopping();
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                    }
                    delay = (delay * 2).min(self.config.retry_max);
                }
            }
        }
    }

    fn try_flush(&mut self) -> Result<(), QuestDbError> {
        if self.sender.is_none() {
            let (sender, decimals) = connect(&self.config.conf, self.config.decimals)?;
            self.use_sender(sender, decimals);
        }
        let sender = self
            .sender
            .as_mut()
            .ok_or_else(|| QuestDbError::Connect("no connection".into()))?;
        sender
            .flush_and_keep(&self.buffer)
            .map_err(|e| QuestDbError::Connect(e.msg().to_string()))
    }
}
