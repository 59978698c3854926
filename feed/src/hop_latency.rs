//! The feed hop's latency per venue: from a frame's read off the socket to its records
//! being on the bus (decode, books and publish included). A fixed-bucket histogram of
//! relaxed atomics: the venue thread adds one sample per data frame (a clock read and
//! two adds, no allocation), `/metrics` and `/v1/status` read it.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Bucket upper bounds, in ns: 1 µs to 10 s, then everything above.
pub const BOUNDS_NS: [u64; 19] = [
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    50_000_000,
    100_000_000,
    500_000_000,
    1_000_000_000,
    5_000_000_000,
    10_000_000_000,
];

#[derive(Debug, Default)]
pub struct HopLatency {
    /// Per bucket of [`BOUNDS_NS`], the last one for everything above.
    buckets: [AtomicU64; BOUNDS_NS.len() + 1],
    sum_ns: AtomicU64,
}

/// A copy of [`HopLatency`] at one moment, in Prometheus' shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopSnapshot {
    /// (upper bound in ns, samples at or below it), cumulative, for each bound.
    pub cumulative: Vec<(u64, u64)>,
    pub count: u64,
    pub sum_ns: u64,
}

impl HopLatency {
    #[inline]
    pub fn record(&self, ns: u64) {
        let bucket = BOUNDS_NS.partition_point(|&bound| bound < ns);
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    pub fn snapshot(&self) -> HopSnapshot {
        let mut total = 0;
        let cumulative = BOUNDS_NS
            .iter()
            .zip(&self.buckets)
            .map(|(&bound, bucket)| {
                total += bucket.load(Relaxed);
                (bound, total)
            })
            .collect();
        let count = total + self.buckets[BOUNDS_NS.len()].load(Relaxed);
        HopSnapshot {
            cumulative,
            count,
            sum_ns: self.sum_ns.load(Relaxed),
        }
    }
}

impl HopSnapshot {
    /// The bucket bound under which the fraction `q` of samples fall (an upper
    /// estimate), or `None` without samples or when they are above every bound.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let wanted = (self.count as f64 * q).ceil().max(1.0) as u64;
        if self.count == 0 {
            return None;
        }
        self.cumulative
            .iter()
            .find(|(_, below)| *below >= wanted)
            .map(|(bound, _)| *bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_land_in_their_buckets() {
        let hop = HopLatency::default();
        assert_eq!(hop.snapshot().quantile(0.5), None);
        for ns in [500, 1_000, 1_001, 40_000, 40_000, 20_000_000_000] {
            hop.record(ns);
        }
        let s = hop.snapshot();
        assert_eq!(s.count, 6);
        assert_eq!(s.sum_ns, 20_000_082_501);
        assert_eq!(s.cumulative[0], (1_000, 2));
        assert_eq!(s.cumulative[1], (2_000, 3));
        assert_eq!(s.cumulative[5], (50_000, 5));
        assert_eq!(s.cumulative.last(), Some(&(10_000_000_000, 5)));
        assert_eq!(s.quantile(0.5), Some(2_000));
        assert_eq!(s.quantile(0.8), Some(50_000));
        assert_eq!(s.quantile(1.0), None);
    }
}
