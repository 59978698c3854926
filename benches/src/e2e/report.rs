//! The terminal table and the JSON file of a sweep.

use std::fmt::Write as _;

use super::hist::Summary;
use super::scenario::{Outcome, Scenario};

/// One row: a scenario and what it measured.
pub struct Row {
    pub scenario: Scenario,
    pub outcome: Result<Outcome, String>,
}

pub struct Report {
    pub quick: bool,
    pub message_size: usize,
    pub floor: Summary,
    pub load_before: f64,
    pub load_after: f64,
    pub rows: Vec<Row>,
    /// Highest rate (feed only) that kept up, when the sweep searched for it.
    pub max_sustained: Option<u32>,
}

fn us(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1_000.0)
}

fn ratio(ns: u64, floor: u64) -> String {
    if floor == 0 {
        "-".into()
    } else {
        format!("{:.1}x", ns as f64 / floor as f64)
    }
}

fn transport(s: &Scenario) -> String {
    match s.transport {
        Some(t) => format!("{}/{}", t.name(), s.encoding.name()),
        None => "bus".into(),
    }
}

impl Report {
    // The column titles go through the same width specs as the values they head.
    #[allow(clippy::write_literal)]
    pub fn table(&self) -> String {
        let f = &self.floor;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "floor: TCP ping-pong {} B over loopback, one way (RTT/2): p50 {} µs  p99 {} µs  p99.9 {} µs  max {} µs  ({} trips)",
            self.message_size, us(f.p50), us(f.p99), us(f.p999), us(f.max), f.count
        );
        let _ = writeln!(
            out,
            "load average: {:.2} before, {:.2} after (2 cores: numbers are noisy above ~1)",
            self.load_before, self.load_after
        );
        let _ = writeln!(
            out,
            "{:<26} {:>8} {:>5} {:>11} {:>9} {:>7} {:>7} {:>7} {:>7} {:>8} {:>6} {:>6} {:>5} {:>6} {}",
            "scenario", "rate/s", "subs", "via", "msgs/s", "p50µs", "p90µs", "p99µs", "p99.9µs", "maxµs", "p50/fl", "cpu%", "rssMB", "deliv/s", "kept up"
        );
        for row in &self.rows {
            let s = &row.scenario;
            match &row.outcome {
                Ok(o) => {
                    let e = &o.e2e;
                    let _ = writeln!(
                        out,
                        "{:<26} {:>8} {:>5} {:>11} {:>9.0} {:>7} {:>7} {:>7} {:>7} {:>8} {:>6} {:>6.0} {:>5} {:>6.0} {}",
                        s.name, s.rate, s.subscribers, transport(s), o.frames_per_sec,
                        us(e.p50), us(e.p90), us(e.p99), us(e.p999), us(e.max), ratio(e.p50, f.p50),
                        o.server_cpu_pct, o.rss_bytes / (1 << 20), o.deliveries_per_sec,
                        if o.sustained() { "yes".to_string() } else { format!("NO (behind {} lag {} drops {} gaps {} slow {}{})", o.sim_behind, o.bus_lagged, o.gateway_drops, o.subscriber_gaps, o.sim_slow_closes, o.subscriber_errors.first().map_or(String::new(), |e| format!("; subscriber ended: {e}"))) },
                    );
                }
                Err(e) => {
                    let _ = writeln!(
                        out,
                        "{:<26} {:>8} {:>5} {:>11} FAILED: {e}",
                        s.name,
                        s.rate,
                        s.subscribers,
                        transport(s)
                    );
                }
            }
        }
        let _ = writeln!(out, "\nper hop (p50 / p99 / p99.9 µs):");
        for row in &self.rows {
            if let Ok(o) = &row.outcome {
                let hops: Vec<String> = o
                    .hops
                    .iter()
                    .map(|(name, h)| format!("{name} {}/{}/{}", us(h.p50), us(h.p99), us(h.p999)))
                    .collect();
                let _ = writeln!(out, "  {:<26} {}", row.scenario.name, hops.join(" | "));
            }
        }
        if let Some(max) = self.max_sustained {
            let _ = writeln!(
                out,
                "\nhighest sustained rate (feed → bus, no skipped events, no lag): {max} events/s"
            );
        }
        out
    }

    pub fn json(&self) -> serde_json::Value {
        let floor = self.floor.p50;
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|row| {
                let s = &row.scenario;
                let mut v = serde_json::json!({
                    "name": s.name, "rate": s.rate, "symbols": s.symbols,
                    "subscribers": s.subscribers, "via": transport(s),
                    "warmup_s": s.warmup.as_secs_f64(), "duration_s": s.duration.as_secs_f64(),
                });
                match &row.outcome {
                    Ok(o) => {
                        let hops: serde_json::Map<String, serde_json::Value> =
                            o.hops.iter().map(|(n, h)| ((*n).to_string(), h.to_json())).collect();
                        v["result"] = serde_json::json!({
                            "events_per_sec": o.events_per_sec,
                            "frames_per_sec": o.frames_per_sec,
                            "records_per_sec": o.records_per_sec,
                            "deliveries_per_sec": o.deliveries_per_sec,
                            "e2e": o.e2e.to_json(),
                            "p50_over_floor": if floor > 0 { o.e2e.p50 as f64 / floor as f64 } else { 0.0 },
                            "p999_over_floor": if floor > 0 { o.e2e.p999 as f64 / floor as f64 } else { 0.0 },
                            "hops": hops,
                            "server_cpu_pct": o.server_cpu_pct,
                            "rss_bytes": o.rss_bytes,
                            "sustained": o.sustained(),
                            "sim_behind": o.sim_behind, "sim_slow_closes": o.sim_slow_closes,
                            "bus_lagged": o.bus_lagged, "gateway_drops": o.gateway_drops,
                            "subscriber_gaps": o.subscriber_gaps,
                            "subscriber_errors": o.subscriber_errors,
                            "books_synced": o.books_synced, "books_total": o.books_total,
                        });
                    }
                    Err(e) => v["error"] = serde_json::Value::String(e.clone()),
                }
                v
            })
            .collect();
        serde_json::json!({
            "tool": "tickd-bench",
            "quick": self.quick,
            "unix_time": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            "load_before": self.load_before, "load_after": self.load_after,
            "floor": { "message_bytes": self.message_size, "one_way": self.floor.to_json() },
            "max_sustained_rate": self.max_sustained,
            "scenarios": rows,
        })
    }
}
