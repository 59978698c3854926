//! Exponential backoff with full jitter and a cap, for reconnects and REST retries.

use std::time::Duration;

/// Delays grow `base, 2·base, 4·base, …` up to `cap`; each actual delay is drawn
/// uniformly from `[step/2, step]` so many clients restarting together spread out.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base: base.max(Duration::from_millis(1)),
            cap: cap.max(base),
            attempt: 0,
            rng: fastrand::Rng::new(),
        }
    }

    /// Deterministic jitter, for tests.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = fastrand::Rng::with_seed(seed);
        self
    }

    /// The un-jittered delay of the next step.
    pub fn next_step(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(30)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delay before the next attempt; advances the step.
    pub fn next_delay(&mut self) -> Duration {
        let step = self.next_step();
        self.attempt = self.attempt.saturating_add(1);
        let half = step / 2;
        let jitter_ns = self.rng.u64(0..=(step - half).as_nanos() as u64);
        half + Duration::from_nanos(jitter_ns)
    }

    /// Failed attempts since the last success.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Call after a success: the next failure starts from `base` again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_doubles_and_caps_with_jitter_in_range() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2)).with_seed(7);
        let expected_steps = [100u64, 200, 400, 800, 1600, 2000, 2000, 2000];
        for step in expected_steps {
            assert_eq!(b.next_step(), Duration::from_millis(step));
            let d = b.next_delay();
            assert!(
                d >= Duration::from_millis(step / 2),
                "{d:?} < half of {step}"
            );
            assert!(d <= Duration::from_millis(step), "{d:?} > {step}");
        }
        assert_eq!(b.attempts(), 8);
        b.reset();
        assert_eq!(b.next_step(), Duration::from_millis(100));
    }

    #[test]
    fn many_attempts_never_overflow() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        for _ in 0..200 {
            assert!(b.next_delay() <= Duration::from_secs(60));
        }
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut b = Backoff::new(Duration::from_secs(8), Duration::from_secs(8)).with_seed(1);
        let delays: std::collections::HashSet<_> = (0..20).map(|_| b.next_delay()).collect();
        assert!(delays.len() > 10, "jitter should vary delays: {delays:?}");
    }
}
