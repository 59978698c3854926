//! Gateway counters and per-hop latency histograms, exported in Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use hdrhistogram::Histogram;
use parking_lot::Mutex;

use crate::fanout::PushOutcome;

pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Latency hops, each measured from the record's `ts_recv` (when the feed read it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    /// Feed → gateway router.
    Router,
    /// Feed → written to the subscriber's socket.
    Send,
}

impl Hop {
    fn name(self) -> &'static str {
        match self {
            Hop::Router => "router",
            Hop::Send => "send",
        }
    }
}

/// One labelled series of a Prometheus histogram: the cumulative `buckets` as
/// (upper bound in seconds, observations at or below it), then `+Inf`, `_sum` and
/// `_count`. The `# HELP`/`# TYPE` lines are the caller's, once per metric.
pub fn write_histogram(
    out: &mut String,
    name: &str,
    (label, value): (&str, &str),
    buckets: &[(f64, u64)],
    count: u64,
    sum_seconds: f64,
) {
    for (le, below) in buckets {
        let _ = writeln!(
            out,
            "{name}_bucket{{{label}=\"{value}\",le=\"{le}\"}} {below}"
        );
    }
    let _ = writeln!(
        out,
        "{name}_bucket{{{label}=\"{value}\",le=\"+Inf\"}} {count}\n\
         {name}_sum{{{label}=\"{value}\"}} {sum_seconds}\n\
         {name}_count{{{label}=\"{value}\"}} {count}"
    );
}

/// Metrics and status from outside the gateway (the feeds, the journal writer, the
/// process), added by whoever runs the gateway: `/metrics` appends each source's text and
/// `/v1/status` adds its status object under the source's key.
pub trait MetricsSource: Send + Sync {
    /// Appends Prometheus text exposition lines (with their `# HELP`/`# TYPE`).
    fn render(&self, out: &mut String);
    /// Keys and JSON values for `/v1/status`, for the state the source has to show.
    fn status(&self) -> Vec<(&'static str, serde_json::Value)> {
        Vec::new()
    }
}

#[derive(Default)]
pub struct Metrics {
    pub records_in: AtomicU64,
    pub bytes_in: AtomicU64,
    pub messages_out: AtomicU64,
    pub bytes_out: AtomicU64,
    pub drops: AtomicU64,
    pub conflated: AtomicU64,
    pub slow_disconnects: AtomicU64,
    pub gaps: AtomicU64,
    pub bus_lagged: AtomicU64,
    pub resyncs: AtomicU64,
    pub reconnects: AtomicU64,
    pub connections: AtomicI64,
    pub connections_total: AtomicU64,
    pub subscribers: AtomicI64,
    pub http_requests: AtomicU64,
    /// Damaged journal blocks and unreadable segments history queries stepped over.
    pub journal_damaged: AtomicU64,
    /// Clients that dropped the connection without a close frame (not an error).
    pub disconnects_without_close: AtomicU64,
    errors: Mutex<BTreeMap<&'static str, u64>>,
    sources: parking_lot::RwLock<Vec<std::sync::Arc<dyn MetricsSource>>>,
    hops: Mutex<Option<[Histogram<u64>; 2]>>,
}

impl Metrics {
    pub fn error(&self, kind: &'static str) {
        *self.errors.lock().entry(kind).or_default() += 1;
    }

    pub fn errors(&self) -> BTreeMap<&'static str, u64> {
        self.errors.lock().clone()
    }

    /// Counts the damage one history query stepped over, and logs what it was.
    pub fn journal_skipped(&self, skipped: &crate::http::history::Skipped) {
        if skipped.damaged == 0 {
            return;
        }
        self.journal_damaged
            .fetch_add(skipped.damaged as u64, Relaxed);
        for line in &skipped.details {
            tracing::warn!("history query skipped journal damage: {line}");
        }
    }

    pub fn disconnected_without_close(&self) {
        self.disconnects_without_close.fetch_add(1, Relaxed);
    }

    /// Adds a source rendered after the gateway's own metrics.
    pub fn add_source(&self, source: std::sync::Arc<dyn MetricsSource>) {
        self.sources.write().push(source);
    }

    /// The sources' status objects, by key.
    pub fn source_status(&self) -> serde_json::Map<String, serde_json::Value> {
        self.sources
            .read()
            .iter()
            .flat_map(|s| s.status())
            .map(|(key, value)| (key.to_string(), value))
            .collect()
    }

    pub fn record_in(&self, bytes: usize) {
        self.records_in.fetch_add(1, Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Relaxed);
    }

    pub fn pushed(&self, outcome: PushOutcome) {
        if outcome.dropped > 0 {
            self.drops.fetch_add(outcome.dropped, Relaxed);
        }
        if outcome.conflated > 0 {
            self.conflated.fetch_add(outcome.conflated, Relaxed);
        }
        if outcome.disconnected {
            self.slow_disconnects.fetch_add(1, Relaxed);
        }
    }

    pub fn bus_lagged(&self, lost: u64) {
        self.bus_lagged.fetch_add(lost, Relaxed);
        self.gaps.fetch_add(1, Relaxed);
    }

    pub fn connection_opened(&self) {
        self.connections.fetch_add(1, Relaxed);
        self.connections_total.fetch_add(1, Relaxed);
    }

    pub fn connection_closed(&self) {
        self.connections.fetch_sub(1, Relaxed);
    }

    /// Counts the feeds' own status records: reconnects, gaps, book resyncs.
    pub fn feed_status(&self, kind: Option<tickd_bus::record::StatusKind>) {
        use tickd_bus::record::StatusKind;
        match kind {
            Some(StatusKind::Connected) => self.reconnects.fetch_add(1, Relaxed),
            Some(StatusKind::Gap) => self.gaps.fetch_add(1, Relaxed),
            Some(StatusKind::BookResync) => self.resyncs.fetch_add(1, Relaxed),
            _ => 0,
        };
    }

    pub fn subscribers_changed(&self, delta: i64) {
        self.subscribers.fetch_add(delta, Relaxed);
    }

    pub fn sent(&self, messages: u64, bytes: usize) {
        self.messages_out.fetch_add(messages, Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Relaxed);
    }

    /// Records latencies (ns since each record's `ts_recv`) for one hop.
    pub fn latencies(&self, hop: Hop, ts_recv: impl Iterator<Item = u64>) {
        let now = now_ns();
        let mut guard = self.hops.lock();
        if guard.is_none() {
            *guard = new_hops();
        }
        let Some(hops) = guard.as_mut() else {
            return;
        };
        let histogram = &mut hops[hop as usize];
        for ts in ts_recv {
            if ts > 0 && now >= ts {
                let _ = histogram.record((now - ts).max(1));
            }
        }
    }

    /// Forget the latencies recorded so far (a benchmark's warm-up, which
    /// includes the router catching up on the ring from its oldest record).
    pub fn reset_latencies(&self) {
        if let Some(hops) = self.hops.lock().as_mut() {
            hops.iter_mut().for_each(Histogram::reset);
        }
    }

    /// (p50, p99, p999, max, count) of a hop in nanoseconds.
    pub fn percentiles(&self, hop: Hop) -> (u64, u64, u64, u64, u64) {
        let guard = self.hops.lock();
        match guard.as_ref() {
            Some(hops) => {
                let h = &hops[hop as usize];
                (
                    h.value_at_quantile(0.5),
                    h.value_at_quantile(0.99),
                    h.value_at_quantile(0.999),
                    h.max(),
                    h.len(),
                )
            }
            None => (0, 0, 0, 0, 0),
        }
    }

    /// The Prometheus text exposition of everything.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let counters: [(&str, &str, u64); 14] = [
            (
                "tickd_gateway_records_in_total",
                "records read from the bus",
                self.records_in.load(Relaxed),
            ),
            (
                "tickd_gateway_bytes_in_total",
                "record bytes read from the bus",
                self.bytes_in.load(Relaxed),
            ),
            (
                "tickd_gateway_messages_out_total",
                "messages written to subscribers",
                self.messages_out.load(Relaxed),
            ),
            (
                "tickd_gateway_bytes_out_total",
                "bytes written to subscribers",
                self.bytes_out.load(Relaxed),
            ),
            (
                "tickd_gateway_drops_total",
                "records dropped for slow subscribers",
                self.drops.load(Relaxed),
            ),
            (
                "tickd_gateway_conflated_total",
                "records conflated for slow subscribers",
                self.conflated.load(Relaxed),
            ),
            (
                "tickd_gateway_slow_disconnects_total",
                "subscribers disconnected for being slow",
                self.slow_disconnects.load(Relaxed),
            ),
            (
                "tickd_gateway_gaps_total",
                "gaps: feed gap records plus the gateway's own bus lag",
                self.gaps.load(Relaxed),
            ),
            (
                "tickd_gateway_bus_lagged_records_total",
                "records the gateway's bus consumer lost",
                self.bus_lagged.load(Relaxed),
            ),
            (
                "tickd_gateway_resyncs_total",
                "book resync status records seen",
                self.resyncs.load(Relaxed),
            ),
            (
                "tickd_gateway_reconnects_total",
                "feed connected status records seen",
                self.reconnects.load(Relaxed),
            ),
            (
                "tickd_gateway_connections_total",
                "connections accepted",
                self.connections_total.load(Relaxed),
            ),
            (
                "tickd_gateway_journal_damaged_total",
                "damaged journal blocks and unreadable segments history queries skipped",
                self.journal_damaged.load(Relaxed),
            ),
            (
                "tickd_gateway_disconnects_without_close_total",
                "clients that dropped the connection without a close frame",
                self.disconnects_without_close.load(Relaxed),
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        let gauges = [
            (
                "tickd_gateway_connections",
                "open subscriber connections",
                self.connections.load(Relaxed),
            ),
            (
                "tickd_gateway_subscribers",
                "active subscriptions",
                self.subscribers.load(Relaxed),
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out.push_str("# HELP tickd_gateway_errors_total errors by kind\n# TYPE tickd_gateway_errors_total counter\n");
        for (kind, count) in self.errors() {
            let _ = writeln!(out, "tickd_gateway_errors_total{{kind=\"{kind}\"}} {count}");
        }
        out.push_str("# HELP tickd_gateway_latency_seconds latency from feed receive to each hop\n# TYPE tickd_gateway_latency_seconds histogram\n");
        let guard = self.hops.lock();
        if let Some(hops) = guard.as_ref() {
            for hop in [Hop::Router, Hop::Send] {
                let h = &hops[hop as usize];
                let name = hop.name();
                let total = h.len();
                let buckets = [
                    10u64, 50, 100, 250, 500, 1_000, 5_000, 10_000, 50_000, 100_000, 1_000_000,
                ]
                .map(|bound_us| (bound_us as f64 / 1e6, h.count_between(0, bound_us * 1_000)));
                write_histogram(
                    &mut out,
                    "tickd_gateway_latency_seconds",
                    ("hop", name),
                    &buckets,
                    total,
                    h.mean() * total as f64 / 1e9,
                );
            }
        }
        drop(guard);
        for source in self.sources.read().iter() {
            source.render(&mut out);
        }
        out
    }
}

/// 1 ns to 60 s at 3 significant digits (constant bounds: never fails in practice).
fn new_hops() -> Option<[Histogram<u64>; 2]> {
    let new = || Histogram::new_with_bounds(1, 60_000_000_000, 3).ok();
    Some([new()?, new()?])
}
