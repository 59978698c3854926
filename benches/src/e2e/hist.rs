//! Latency histograms and their summaries (all values in nanoseconds).

use hdrhistogram::Histogram;

/// 1 ns .. 60 s at 3 significant digits.
pub fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("constant bounds are valid")
}

/// A smaller histogram (2 significant digits) for the many per-subscriber copies.
pub fn new_small_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 2).expect("constant bounds are valid")
}

/// Record `later - earlier` (ns) when both are set and ordered.
#[inline]
pub fn record_delta(h: &mut Histogram<u64>, earlier: u64, later: u64) {
    if earlier > 0 && later >= earlier {
        let _ = h.record((later - earlier).max(1));
    }
}

/// What the report prints per latency: percentiles in ns.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Summary {
    pub fn of(h: &Histogram<u64>) -> Summary {
        if h.is_empty() {
            return Summary::default();
        }
        Summary {
            count: h.len(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "count": self.count, "p50_ns": self.p50, "p90_ns": self.p90,
            "p99_ns": self.p99, "p999_ns": self.p999, "max_ns": self.max,
        })
    }
}

/// Wall-clock nanoseconds since the Unix epoch: the clock the feed stamps `ts_recv`
/// with and the simulator stamps its send time with (same process, same clock).
#[inline]
pub fn now_ns() -> u64 {
    tickd_feed::runtime::now_ns()
}
