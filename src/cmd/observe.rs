//! What `/metrics` and `/v1/status` show beyond the gateway: each venue's feed (counters
//! with a `venue` label, connection state), the bus, the journal writer and its disk,
//! the QuestDB sink, and the process. Read from the same atomics the status line uses;
//! rendering costs nothing on the hot path.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tickd_bus::ring::RingHandle;
use tickd_bus::Venue;
use tickd_feed::stats::SharedStats;
use tickd_gateway::metrics::MetricsSource;
use tickd_storage::journal::BusWriterStats;
use tickd_storage::questdb::QuestDbStats;

/// Counters that only ever go up are `_total` counters; these are levels.
const GAUGES: [&str; 4] = [
    "connections_up",
    "books_synced",
    "books_total",
    "book_levels",
];

/// A venue without a message for this long while connected is "stale".
const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(30);
/// A venue down for longer than this is "down", before it is "connecting".
const DOWN_AFTER: Duration = Duration::from_secs(30);

pub(crate) struct FeedSide {
    pub feeds: Vec<FeedView>,
    pub writer: Option<Arc<BusWriterStats>>,
    pub journal_dir: Option<PathBuf>,
    pub questdb: Option<Arc<QuestDbStats>>,
    started_ns: u64,
    /// Per venue: (messages seen, when that count last grew), to tell "stale" apart.
    progress: Mutex<Vec<(u64, u64)>>,
}

pub(crate) struct FeedView {
    pub venue: Venue,
    pub stats: SharedStats,
    pub ring: RingHandle,
    pub stale_after: Duration,
}

impl FeedSide {
    pub fn new(
        feeds: Vec<FeedView>,
        writer: Option<Arc<BusWriterStats>>,
        journal_dir: Option<PathBuf>,
        questdb: Option<Arc<QuestDbStats>>,
    ) -> Self {
        let now = now_ns();
        let progress = feeds.iter().map(|_| (0, now)).collect();
        Self {
            feeds,
            writer,
            journal_dir,
            questdb,
            started_ns: now,
            progress: Mutex::new(progress),
        }
    }

    /// Each venue's state from its counters and health, updating the progress marks.
    fn states(&self) -> Vec<VenueState> {
        let now = now_ns();
        let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        self.feeds
            .iter()
            .zip(progress.iter_mut())
            .map(|(feed, (seen, at))| {
                let counters = feed.stats.counters.snapshot();
                if counters.messages != *seen {
                    *seen = counters.messages;
                    *at = now;
                }
                let health = feed.stats.health();
                let silent = Duration::from_nanos(now.saturating_sub(*at));
                let down_for = (health.down_since_ns > 0)
                    .then(|| Duration::from_nanos(now.saturating_sub(health.down_since_ns)));
                let state = match down_for {
                    None if silent > feed.stale_after => "stale",
                    None => "connected",
                    Some(d) if d > DOWN_AFTER => "down",
                    Some(_) => "connecting",
                };
                VenueState {
                    venue: feed.venue,
                    state,
                    silent,
                    down_since_ns: health.down_since_ns,
                    last_error: health.last_error,
                    counters,
                    published: feed.ring.published(),
                }
            })
            .collect()
    }
}

struct VenueState {
    venue: Venue,
    state: &'static str,
    silent: Duration,
    down_since_ns: u64,
    last_error: Option<(String, u64)>,
    counters: tickd_feed::stats::CounterSnapshot,
    published: u64,
}

impl MetricsSource for FeedSide {
    fn render(&self, out: &mut String) {
        let states = self.states();
        if let Some(first) = states.first() {
            for (i, (name, _)) in first.counters.fields().into_iter().enumerate() {
                if name == "decode_errors" {
                    continue; // by kind, below
                }
                let gauge = GAUGES.contains(&name);
                let metric = if gauge {
                    format!("tickd_feed_{name}")
                } else {
                    format!("tickd_feed_{name}_total")
                };
                let kind = if gauge { "gauge" } else { "counter" };
                let _ = writeln!(
                    out,
                    "# HELP {metric} feed {}\n# TYPE {metric} {kind}",
                    name.replace('_', " ")
                );
                for s in &states {
                    let value = s.counters.fields().get(i).map_or(0, |(_, v)| *v);
                    let _ = writeln!(out, "{metric}{{venue=\"{}\"}} {value}", s.venue);
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP tickd_feed_decode_errors_total feed frames that did not decode, by kind\n\
             # TYPE tickd_feed_decode_errors_total counter"
        );
        for feed in &self.feeds {
            for (kind, n) in feed.stats.decode_errors_by_kind() {
                let _ = writeln!(
                    out,
                    "tickd_feed_decode_errors_total{{venue=\"{}\",kind=\"{}\"}} {n}",
                    feed.venue,
                    kind.as_str()
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP tickd_feed_hop_seconds feed hop latency: frame read off the socket to its records on the bus\n\
             # TYPE tickd_feed_hop_seconds histogram"
        );
        for feed in &self.feeds {
            let hop = feed.stats.hop.snapshot();
            let venue = feed.venue;
            for (bound_ns, below) in &hop.cumulative {
                let le = *bound_ns as f64 / 1e9;
                let _ = writeln!(
                    out,
                    "tickd_feed_hop_seconds_bucket{{venue=\"{venue}\",le=\"{le}\"}} {below}"
                );
            }
            let _ = writeln!(
                out,
                "tickd_feed_hop_seconds_bucket{{venue=\"{venue}\",le=\"+Inf\"}} {}\n\
                 tickd_feed_hop_seconds_sum{{venue=\"{venue}\"}} {}\n\
                 tickd_feed_hop_seconds_count{{venue=\"{venue}\"}} {}",
                hop.count,
                hop.sum_ns as f64 / 1e9,
                hop.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP tickd_bus_consumer_lag_records records published on the venue's ring that a consumer has not read yet\n\
             # TYPE tickd_bus_consumer_lag_records gauge"
        );
        for feed in &self.feeds {
            for lag in feed.ring.consumer_lags() {
                let _ = writeln!(
                    out,
                    "tickd_bus_consumer_lag_records{{venue=\"{}\",consumer=\"{}\"}} {}",
                    feed.venue, lag.name, lag.behind
                );
            }
        }
        family(
            out,
            "tickd_feed_up",
            "gauge",
            "1 while the venue has an open connection",
            &states,
            |s| u64::from(s.down_since_ns == 0) as f64,
        );
        family(
            out,
            "tickd_feed_seconds_since_message",
            "gauge",
            "seconds since the venue's last data message",
            &states,
            |s| s.silent.as_secs_f64(),
        );
        family(
            out,
            "tickd_feed_down_seconds",
            "gauge",
            "seconds the venue has had no open connection (0 while up)",
            &states,
            |s| {
                if s.down_since_ns == 0 {
                    0.0
                } else {
                    now_ns().saturating_sub(s.down_since_ns) as f64 / 1e9
                }
            },
        );
        family(
            out,
            "tickd_bus_published_total",
            "counter",
            "records published on the venue's bus ring",
            &states,
            |s| s.published as f64,
        );

        if let Some(w) = &self.writer {
            let load = |c: &AtomicU64| c.load(Relaxed);
            for (name, help, value) in [
                (
                    "tickd_journal_records_total",
                    "records appended to the journal (gap records included)",
                    load(&w.records),
                ),
                (
                    "tickd_journal_lag_events_total",
                    "times the journal writer was lapped by a feed",
                    load(&w.lag_events),
                ),
                (
                    "tickd_journal_records_lost_total",
                    "records the journal writer lost to those laps",
                    load(&w.records_lost),
                ),
                (
                    "tickd_journal_gaps_written_total",
                    "gap records the journal writer wrote for its losses",
                    load(&w.gaps_written),
                ),
                (
                    "tickd_journal_append_errors_total",
                    "failed journal appends (disk full, I/O errors)",
                    load(&w.append_errors),
                ),
                (
                    "tickd_journal_pauses_total",
                    "times the journal paused after a failed write (disk full, I/O error)",
                    load(&w.pauses),
                ),
                (
                    "tickd_journal_records_unwritten_total",
                    "records lost to failed journal writes (journaled as journal_write_failed gaps)",
                    load(&w.records_unwritten),
                ),
            ] {
                single(out, name, "counter", help, value as f64);
            }
            single(
                out,
                "tickd_journal_paused",
                "gauge",
                "1 while the journal is paused after a failed write; it retries until the disk has room",
                load(&w.paused) as f64,
            );
        }
        if let Some(dir) = &self.journal_dir {
            single(
                out,
                "tickd_journal_bytes",
                "gauge",
                "bytes of journal files on disk",
                dir_bytes(dir) as f64,
            );
            if let Some((free, total)) = tickd_storage::journal::space::disk_space(dir) {
                single(
                    out,
                    "tickd_journal_disk_free_bytes",
                    "gauge",
                    "free bytes on the journal's file system",
                    free as f64,
                );
                single(
                    out,
                    "tickd_journal_disk_size_bytes",
                    "gauge",
                    "size of the journal's file system",
                    total as f64,
                );
            }
        }
        if let Some(q) = &self.questdb {
            let load = |c: &AtomicU64| c.load(Relaxed) as f64;
            let flag = |c: &AtomicBool| u8::from(c.load(Relaxed)) as f64;
            single(
                out,
                "tickd_questdb_rows_sent_total",
                "counter",
                "rows sent to QuestDB",
                load(&q.rows_sent),
            );
            single(
                out,
                "tickd_questdb_send_errors_total",
                "counter",
                "failed sends to QuestDB",
                load(&q.send_errors),
            );
            single(
                out,
                "tickd_questdb_skipped_records_total",
                "counter",
                "records the QuestDB sink could not map",
                load(&q.skipped_records),
            );
            single(
                out,
                "tickd_questdb_connected",
                "gauge",
                "1 while connected to QuestDB",
                flag(&q.connected),
            );
            single(
                out,
                "tickd_questdb_failed",
                "gauge",
                "1 once the sink stopped for good",
                flag(&q.failed),
            );
        }
        process_metrics(out, self.started_ns);
    }

    fn status(&self) -> Vec<(&'static str, Value)> {
        let venues: Vec<Value> = self
            .states()
            .into_iter()
            .zip(&self.feeds)
            .map(|(s, feed)| {
                let c = &s.counters;
                let hop = feed.stats.hop.snapshot();
                let us = |q| hop.quantile(q).map(|ns| ns as f64 / 1e3);
                let errors: serde_json::Map<String, Value> = feed
                    .stats
                    .decode_errors_by_kind()
                    .into_iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(kind, n)| (kind.as_str().to_string(), n.into()))
                    .collect();
                let consumers: serde_json::Map<String, Value> = feed
                    .ring
                    .consumer_lags()
                    .into_iter()
                    .map(|lag| (lag.name, lag.behind.into()))
                    .collect();
                json!({
                    "venue": s.venue.as_str(),
                    "state": s.state,
                    "connections": c.connections_up,
                    "down_since_ns": (s.down_since_ns > 0).then_some(s.down_since_ns),
                    "last_error": s.last_error.as_ref().map(|(e, _)| e),
                    "last_error_ns": s.last_error.as_ref().map(|(_, at)| at),
                    "seconds_since_message": s.silent.as_secs_f64(),
                    "books_synced": c.books_synced,
                    "books_total": c.books_total,
                    "messages": c.messages,
                    "records": c.records,
                    "gaps": c.gaps,
                    "resyncs": c.resyncs,
                    "reconnects": c.reconnects,
                    "decode_errors": c.decode_errors,
                    "decode_errors_by_kind": errors,
                    // Bucket bounds (upper estimates), null before the first frame.
                    "hop_p50_us": us(0.5),
                    "hop_p99_us": us(0.99),
                    "bus_consumers_behind": consumers,
                })
            })
            .collect();
        vec![
            ("venues", Value::Array(venues)),
            ("journal", self.journal_status()),
        ]
    }
}

impl FeedSide {
    /// The journal writer and its disk for `/v1/status` (`null` without a journal):
    /// the same numbers as the `tickd_journal_*` metrics.
    fn journal_status(&self) -> Value {
        let Some(dir) = &self.journal_dir else {
            return Value::Null;
        };
        let space = tickd_storage::journal::space::disk_space(dir);
        let mut journal = json!({
            "dir": dir.display().to_string(),
            "bytes": dir_bytes(dir),
            "disk_free_bytes": space.map(|(free, _)| free),
            "disk_size_bytes": space.map(|(_, total)| total),
        });
        if let (Some(w), Value::Object(fields)) = (&self.writer, &mut journal) {
            let load = |c: &AtomicU64| Value::from(c.load(Relaxed));
            fields.extend([
                (
                    "paused".to_string(),
                    Value::Bool(w.paused.load(Relaxed) != 0),
                ),
                ("records".to_string(), load(&w.records)),
                ("records_lost".to_string(), load(&w.records_lost)),
                ("append_errors".to_string(), load(&w.append_errors)),
                ("pauses".to_string(), load(&w.pauses)),
                ("records_unwritten".to_string(), load(&w.records_unwritten)),
            ]);
        }
        journal
    }
}

impl FeedView {
    pub fn new(venue: Venue, stats: SharedStats, ring: RingHandle, stale_after_secs: u64) -> Self {
        let stale_after = if stale_after_secs == 0 {
            DEFAULT_STALE_AFTER
        } else {
            Duration::from_secs(stale_after_secs)
        };
        Self {
            venue,
            stats,
            ring,
            stale_after,
        }
    }
}

fn family(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    states: &[VenueState],
    value: impl Fn(&VenueState) -> f64,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for s in states {
        let _ = writeln!(out, "{name}{{venue=\"{}\"}} {}", s.venue, value(s));
    }
}

fn single(out: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

/// The standard process metrics (Linux /proc) and the build.
fn process_metrics(out: &mut String, started_ns: u64) {
    single(
        out,
        "process_start_time_seconds",
        "gauge",
        "start time of the process since the epoch",
        started_ns as f64 / 1e9,
    );
    if let Ok(statm) = std::fs::read_to_string("/proc/self/statm") {
        if let Some(pages) = statm
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u64>().ok())
        {
            single(
                out,
                "process_resident_memory_bytes",
                "gauge",
                "resident memory",
                (pages * page_size()) as f64,
            );
        }
    }
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let cpu = (ticks(11) + ticks(12)) as f64 / clock_ticks() as f64;
        single(
            out,
            "process_cpu_seconds_total",
            "counter",
            "user and system CPU time",
            cpu,
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        single(
            out,
            "process_open_fds",
            "gauge",
            "open file descriptors",
            fds.count() as f64,
        );
    }
    let _ = writeln!(
        out,
        "# HELP tickd_build_info the running build\n# TYPE tickd_build_info gauge\ntickd_build_info{{version=\"{}\",record_layout=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        tickd_bus::record::RECORD_VERSION,
    );
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|t| *t > 0).unwrap_or(100)
}

/// Total size of the files under `dir` (the journal is a few hundred files at most).
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
