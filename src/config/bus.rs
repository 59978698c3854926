//! `[bus]`: the in-process broadcast rings between feeds and consumers.

use serde::{Deserialize, Serialize};

use super::error::ConfigErrors;

/// Ring sizes of the record bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// Records each ring holds; a power of two from 1024 to 16777216. A consumer that falls
    /// this far behind loses records (and is told how many).
    pub ring_capacity: u64,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            ring_capacity: 65_536,
        }
    }
}

pub const MIN_RING_CAPACITY: u64 = 1 << 10;
pub const MAX_RING_CAPACITY: u64 = 1 << 24;

impl BusConfig {
    pub fn validate(&self, errs: &mut ConfigErrors) {
        let n = self.ring_capacity;
        if !n.is_power_of_two() || !(MIN_RING_CAPACITY..=MAX_RING_CAPACITY).contains(&n) {
            let nearest = n
                .clamp(MIN_RING_CAPACITY, MAX_RING_CAPACITY)
                .next_power_of_two();
            errs.push(
                "bus.ring_capacity",
                format!(
                    "{n} is not a power of two from {MIN_RING_CAPACITY} to {MAX_RING_CAPACITY}"
                ),
                format!("e.g. {}", nearest.min(MAX_RING_CAPACITY)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_capacity_must_be_power_of_two_in_range() {
        let check = |n| {
            let mut errs = ConfigErrors::default();
            BusConfig { ring_capacity: n }.validate(&mut errs);
            errs.iter().map(|e| e.to_string()).collect::<Vec<_>>()
        };
        assert!(check(65_536).is_empty());
        assert!(check(1024).is_empty());
        assert_eq!(
            check(65_000),
            ["bus.ring_capacity: 65000 is not a power of two from 1024 to 16777216 — e.g. 65536"]
        );
        assert_eq!(check(0).len(), 1);
        assert_eq!(check(1 << 30).len(), 1);
    }
}
