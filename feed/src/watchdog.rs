//! Stale-stream watchdog: a connection that delivers no *data* for too long is
//! reconnected. Heartbeats (ping/pong, subscription acks) never reset it.
//!
//! Two thresholds apply: one for the whole connection (nothing at all arrived),
//! and one per stream, set from its channel (a quiet symbol's trade stream may be
//! silent for minutes while its depth stream is never silent for long). A stream
//! that trips its threshold gets it doubled (up to [`MAX_STRETCH`]×) until it
//! delivers data again, so a symbol that is simply quiet is not restarted forever.

use std::time::{Duration, Instant};

/// Largest factor a quiet stream's threshold is stretched to.
pub const MAX_STRETCH: u32 = 16;

#[derive(Debug, Clone)]
struct StreamWatch {
    threshold: Duration,
    stretch: u32,
    last: Instant,
}

/// Why the watchdog wants a reconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// No data frame on the connection at all.
    Connection { silent_for: Duration },
    /// This stream (index from [`Watchdog::add_stream`]) went silent.
    Stream { index: usize, silent_for: Duration },
}

#[derive(Debug, Clone)]
pub struct Watchdog {
    conn_threshold: Duration,
    /// Stretch of the connection-wide threshold: a connection that only carries quiet
    /// streams (liquidations, say) must not be restarted every threshold forever.
    conn_stretch: u32,
    last_any: Instant,
    streams: Vec<StreamWatch>,
}

impl Watchdog {
    pub fn new(conn_threshold: Duration, now: Instant) -> Self {
        Self {
            conn_threshold,
            conn_stretch: 1,
            last_any: now,
            streams: Vec::new(),
        }
    }

    /// Watch one more stream; returns its index. A zero threshold disables it.
    pub fn add_stream(&mut self, threshold: Duration, now: Instant) -> usize {
        self.streams.push(StreamWatch {
            threshold,
            stretch: 1,
            last: now,
        });
        self.streams.len() - 1
    }

    /// A data frame arrived (for `stream` when it is known).
    #[inline]
    pub fn on_data(&mut self, stream: Option<usize>, now: Instant) {
        self.last_any = now;
        self.conn_stretch = 1;
        if let Some(watch) = stream.and_then(|i| self.streams.get_mut(i)) {
            watch.last = now;
            watch.stretch = 1;
        }
    }

    /// A (re)connect: every clock starts over; stretched thresholds are kept.
    pub fn reset(&mut self, now: Instant) {
        self.last_any = now;
        for watch in &mut self.streams {
            watch.last = now;
        }
    }

    /// The current threshold of a stream, stretch included.
    pub fn stream_threshold(&self, index: usize) -> Option<Duration> {
        self.streams
            .get(index)
            .map(|w| w.threshold.saturating_mul(w.stretch))
    }

    /// Whether the connection should be restarted now. A tripped stream's
    /// threshold is doubled before returning.
    pub fn check(&mut self, now: Instant) -> Option<Stale> {
        let silent = now.saturating_duration_since(self.last_any);
        if !self.conn_threshold.is_zero()
            && silent >= self.conn_threshold.saturating_mul(self.conn_stretch)
        {
            self.conn_stretch = (self.conn_stretch * 2).min(MAX_STRETCH);
            return Some(Stale::Connection { silent_for: silent });
        }
        for (index, watch) in self.streams.iter_mut().enumerate() {
            if watch.threshold.is_zero() {
                continue;
            }
            let silent_for = now.saturating_duration_since(watch.last);
            if silent_for >= watch.threshold.saturating_mul(watch.stretch) {
                watch.stretch = (watch.stretch * 2).min(MAX_STRETCH);
                return Some(Stale::Stream { index, silent_for });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn data_resets_and_heartbeats_do_not() {
        let t0 = Instant::now();
        let mut w = Watchdog::new(10 * S, t0);
        assert_eq!(w.check(t0 + 9 * S), None);
        // A heartbeat is simply not reported to the watchdog: it trips at 10 s.
        assert!(matches!(
            w.check(t0 + 10 * S),
            Some(Stale::Connection { .. })
        ));
        // Still silent after the reconnect: the next trip waits twice as long.
        w.reset(t0 + 10 * S);
        assert_eq!(w.check(t0 + 29 * S), None);
        assert!(w.check(t0 + 30 * S).is_some());
        w.on_data(None, t0 + 30 * S);
        assert_eq!(w.check(t0 + 39 * S), None);
        assert!(w.check(t0 + 40 * S).is_some());
    }

    #[test]
    fn quiet_stream_threshold_stretches_until_data() {
        let t0 = Instant::now();
        let mut w = Watchdog::new(Duration::ZERO, t0);
        let busy = w.add_stream(2 * S, t0);
        let quiet = w.add_stream(5 * S, t0);
        w.on_data(Some(busy), t0 + S);
        assert_eq!(w.check(t0 + 2 * S), None);
        assert_eq!(
            w.check(t0 + 3 * S),
            Some(Stale::Stream {
                index: busy,
                silent_for: 2 * S
            })
        );
        w.reset(t0 + 3 * S);
        for i in 0..10u32 {
            w.on_data(Some(busy), t0 + S * (3 + i));
        }
        assert!(matches!(w.check(t0 + 8 * S), Some(Stale::Stream { index, .. }) if index == quiet));
        assert_eq!(w.stream_threshold(quiet), Some(10 * S));
        w.reset(t0 + 8 * S);
        w.on_data(Some(busy), t0 + 17 * S);
        assert_eq!(w.check(t0 + 17 * S), None, "stretched to 10 s");
        // Stretch is capped.
        let mut now = t0 + 17 * S;
        for _ in 0..10 {
            now += S * 200;
            w.on_data(Some(busy), now);
            w.check(now);
            w.reset(now);
        }
        assert_eq!(w.stream_threshold(quiet), Some(5 * S * MAX_STRETCH));
        w.on_data(Some(quiet), now);
        assert_eq!(w.stream_threshold(quiet), Some(5 * S));
    }

    #[test]
    fn zero_thresholds_disable() {
        let t0 = Instant::now();
        let mut w = Watchdog::new(Duration::ZERO, t0);
        w.add_stream(Duration::ZERO, t0);
        assert_eq!(w.check(t0 + 1000 * S), None);
    }
}
