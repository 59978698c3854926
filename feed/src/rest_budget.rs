//! A venue's REST request budget: request weight spent in a sliding one-minute
//! window, plus a pause the venue imposed (429/418 `Retry-After`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct RestBudget {
    per_minute: u32,
    spent: VecDeque<(Instant, u32)>,
    spent_total: u32,
    paused_until: Option<Instant>,
}

impl RestBudget {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            spent: VecDeque::new(),
            spent_total: 0,
            paused_until: None,
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(at, w)) = self.spent.front() {
            if now.saturating_duration_since(at) < WINDOW {
                break;
            }
            self.spent.pop_front();
            self.spent_total -= w;
        }
        if self.paused_until.is_some_and(|until| now >= until) {
            self.paused_until = None;
        }
    }

    /// Spend `weight` now if the window and any pause allow it.
    pub fn try_spend(&mut self, weight: u32, now: Instant) -> bool {
        self.expire(now);
        if self.paused_until.is_some() {
            return false;
        }
        // A request heavier than the whole budget still goes, alone in its window.
        if self.spent_total > 0 && self.spent_total.saturating_add(weight) > self.per_minute {
            return false;
        }
        self.spent.push_back((now, weight));
        self.spent_total = self.spent_total.saturating_add(weight);
        true
    }

    /// The venue said to wait (429/418): nothing goes out before `now + wait`.
    pub fn pause(&mut self, now: Instant, wait: Duration) {
        let until = now + wait;
        self.paused_until = Some(self.paused_until.map_or(until, |u| u.max(until)));
    }

    pub fn paused_until(&self) -> Option<Instant> {
        self.paused_until
    }

    /// Weight spent in the current window.
    pub fn spent(&mut self, now: Instant) -> u32 {
        self.expire(now);
        self.spent_total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides_and_pauses_hold() {
        let t0 = Instant::now();
        let mut b = RestBudget::new(100);
        assert!(b.try_spend(50, t0));
        assert!(b.try_spend(50, t0 + Duration::from_secs(1)));
        assert!(!b.try_spend(1, t0 + Duration::from_secs(2)));
        assert_eq!(b.spent(t0 + Duration::from_secs(59)), 100);
        assert!(b.try_spend(50, t0 + Duration::from_secs(60)));
        b.pause(t0 + Duration::from_secs(60), Duration::from_secs(7));
        assert!(!b.try_spend(1, t0 + Duration::from_secs(66)));
        assert!(b.try_spend(1, t0 + Duration::from_secs(67)));
        // Heavier than the budget: alone.
        let mut b = RestBudget::new(10);
        assert!(b.try_spend(250, t0));
        assert!(!b.try_spend(1, t0));
    }
}
