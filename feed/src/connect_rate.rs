//! A venue's connection-rate limit, shared by all of its connections (Bybit: 500
//! connects per 5 minutes per host). Each connect attempt, the first and every one
//! after a reconnect backoff, reserves a slot: at most `max` slots fall in any
//! `window`, so a reconnect storm of many connections waits instead of getting the
//! host's IP refused.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// A sliding-window connect budget; clones share it.
#[derive(Debug, Clone)]
pub struct ConnectRate {
    max: usize,
    window: Duration,
    /// The last `max` reserved connect times, oldest first (some may lie ahead).
    slots: Arc<Mutex<VecDeque<Instant>>>,
}

impl ConnectRate {
    /// At most `max` (at least 1) connects per `window`.
    pub fn new(max: u32, window: Duration) -> Self {
        let max = (max as usize).max(1);
        Self {
            max,
            window,
            slots: Arc::new(Mutex::new(VecDeque::with_capacity(max + 1))),
        }
    }

    /// Reserve the next connect: the earliest time at or after `now` (and after
    /// every earlier reservation) that leaves at most `max` connects in any window.
    pub fn reserve(&self, now: Instant) -> Instant {
        // A panic elsewhere while holding the lock leaves a valid deque.
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let at = if slots.len() < self.max {
            now
        } else {
            // The connect `max` back must have left the window.
            slots[slots.len() - self.max] + self.window
        };
        let at = at.max(now).max(slots.back().copied().unwrap_or(now));
        slots.push_back(at);
        while slots.len() > self.max {
            slots.pop_front();
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_window_holds_more_than_max_connects() {
        let rate = ConnectRate::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        let s = Duration::from_secs;
        // A burst of 3 goes at once; the 4th to 6th wait for the first ones to age out.
        let burst: Vec<Instant> = (0..7).map(|_| rate.reserve(t0)).collect();
        assert_eq!(
            burst,
            [t0, t0, t0, t0 + s(10), t0 + s(10), t0 + s(10), t0 + s(20)]
        );
        // Late enough, a connect goes when asked.
        assert_eq!(rate.reserve(t0 + s(100)), t0 + s(100));
        let clone = rate.clone();
        assert_eq!(
            clone.reserve(t0 + s(101)),
            t0 + s(101),
            "clones share one budget"
        );
        assert_eq!(rate.reserve(t0 + s(102)), t0 + s(102));
        assert_eq!(rate.reserve(t0 + s(103)), t0 + s(110));
    }

    #[test]
    fn bybit_scale_500_in_5_minutes() {
        let rate = ConnectRate::new(500, Duration::from_secs(300));
        let t0 = Instant::now();
        let times: Vec<Instant> = (0..1200)
            .map(|i| rate.reserve(t0 + Duration::from_millis(i * 10)))
            .collect();
        for (i, t) in times.iter().enumerate() {
            let in_window = times[..=i]
                .iter()
                .filter(|e| **e + Duration::from_secs(300) > *t)
                .count();
            assert!(
                in_window <= 500,
                "{in_window} connects in the window at {i}"
            );
        }
        assert!(times[499] < t0 + Duration::from_secs(5));
        assert!(times[500] >= t0 + Duration::from_secs(300));
        assert!(times[1000] >= t0 + Duration::from_secs(600));
    }
}
