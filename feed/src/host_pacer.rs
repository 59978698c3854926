//! The one per-host budget mechanism: what a venue counts per client host (IP) over
//! all of its connections, as it declares it ([`HostBudget`], from
//! `VenueAdapter::host_budget`): connect attempts per window (Bybit: 500 per
//! 5 minutes; Coinbase: 8 a second) and control messages per window across every
//! connection (Coinbase: 8 a second). One [`HostPacer`] is shared by every
//! connection of this process to the same host, so a reconnect storm of many
//! connections waits instead of getting the host's IP refused.
//!
//! A connection reserves its connect slot together with slots for its subscribe
//! messages, so it opens only when its subscription can follow at once (a venue that
//! closes a connection not subscribed within a deadline, as Coinbase does after 5 s,
//! never sees one waiting for the message budget).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::engine::adapter::{HostBudget, RateLimit};

/// Added to every window: the venue counts at arrival, after network and scheduling
/// jitter, so grants spaced by exactly the window could land inside one of its
/// windows.
const ARRIVAL_MARGIN: Duration = Duration::from_millis(250);

/// At most `max` grants in any `per` + [`ARRIVAL_MARGIN`]; grants are handed out in
/// time order (some may lie ahead).
#[derive(Debug)]
struct RateWindow {
    max: usize,
    window: Duration,
    /// The last `max` grants, oldest first.
    granted: VecDeque<Instant>,
}

impl RateWindow {
    fn new(limit: Option<RateLimit>) -> Option<Self> {
        let limit = limit.filter(|l| l.max > 0)?;
        Some(Self {
            max: limit.max as usize,
            window: limit.per + ARRIVAL_MARGIN,
            granted: VecDeque::with_capacity(limit.max as usize + 1),
        })
    }

    /// The earliest time at or after `at` (and after every earlier grant) that
    /// leaves at most `max` grants in any window.
    fn next_free(&self, at: Instant) -> Instant {
        let mut t = at.max(self.granted.back().copied().unwrap_or(at));
        if self.granted.len() >= self.max {
            // The grant `max` back must have left the window.
            t = t.max(self.granted[self.granted.len() - self.max] + self.window);
        }
        t
    }

    fn reserve(&mut self, at: Instant) -> Instant {
        let t = self.next_free(at);
        self.granted.push_back(t);
        while self.granted.len() > self.max {
            self.granted.pop_front();
        }
        t
    }
}

/// One host's budget: its connect and message windows.
#[derive(Debug)]
pub struct HostPacer {
    // A panic elsewhere while holding the lock leaves valid windows.
    windows: Mutex<(Option<RateWindow>, Option<RateWindow>)>,
}

impl HostPacer {
    /// `None` when the budget counts nothing.
    pub fn new(budget: HostBudget) -> Option<Self> {
        let connects = RateWindow::new(budget.connects);
        let messages = RateWindow::new(budget.messages);
        (connects.is_some() || messages.is_some()).then(|| Self {
            windows: Mutex::new((connects, messages)),
        })
    }

    /// The pacer every connection of this process to `url`'s host with this budget
    /// shares (Bybit's category URLs share one host; the demo's simulator serves
    /// venues with different budgets on one port, each paced by its own).
    pub fn for_url(url: &str, budget: HostBudget) -> Option<Arc<HostPacer>> {
        /// By host (`host[:port]`, lower case) and budget.
        type Hosts = Mutex<HashMap<(String, HostBudget), Arc<HostPacer>>>;
        static HOSTS: OnceLock<Hosts> = OnceLock::new();
        let pacer = Self::new(budget)?;
        let host = authority(url).to_ascii_lowercase();
        let mut hosts = HOSTS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Some(
            hosts
                .entry((host, budget))
                .or_insert_with(|| Arc::new(pacer))
                .clone(),
        )
    }

    /// When to connect, and when each of the `messages` subscribe messages that
    /// follow may go out (all at or after the connect).
    pub fn reserve_connect(&self, messages: usize) -> (Instant, VecDeque<Instant>) {
        self.reserve_connect_at(Instant::now(), messages)
    }

    fn reserve_connect_at(&self, now: Instant, messages: usize) -> (Instant, VecDeque<Instant>) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let (connects, budget) = &mut *windows;
        // Not before the message budget can take the first subscribe message.
        let earliest = budget.as_ref().map_or(now, |b| b.next_free(now));
        let at = connects.as_mut().map_or(earliest, |c| c.reserve(earliest));
        let slots = match budget {
            Some(b) => (0..messages).map(|_| b.reserve(at)).collect(),
            None => VecDeque::new(),
        };
        (at, slots)
    }

    /// When one more control message may go out (now if no message budget).
    pub fn reserve_message(&self) -> Instant {
        self.reserve_message_at(Instant::now())
    }

    fn reserve_message_at(&self, now: Instant) -> Instant {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.1.as_mut().map_or(now, |b| b.reserve(now))
    }
}

/// `host[:port]` of a `ws://` / `wss://` URL.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connects(max: u32, per: Duration) -> HostBudget {
        HostBudget {
            connects: Some(RateLimit { max, per }),
            messages: None,
        }
    }

    fn connect_at(pacer: &HostPacer, now: Instant) -> Instant {
        pacer.reserve_connect_at(now, 2).0
    }

    /// No window of one second (the venue's count) holds more than `limit` of `times`.
    fn max_in_a_second(times: &[Instant]) -> usize {
        times
            .iter()
            .map(|&t| {
                times
                    .iter()
                    .filter(|&&u| u >= t && u < t + Duration::from_secs(1))
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn no_window_holds_more_than_max_connects() {
        let pacer = HostPacer::new(connects(3, Duration::from_secs(10))).expect("budget");
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let w = s(10) + ARRIVAL_MARGIN;
        // A burst of 3 goes at once; the 4th to 6th wait for the first ones to age out.
        let burst: Vec<Instant> = (0..7).map(|_| connect_at(&pacer, t0)).collect();
        assert_eq!(burst, [t0, t0, t0, t0 + w, t0 + w, t0 + w, t0 + w + w]);
        // Late enough, a connect goes when asked; no message budget, no slots.
        assert_eq!(
            pacer.reserve_connect_at(t0 + s(100), 2),
            (t0 + s(100), VecDeque::new())
        );
        assert_eq!(connect_at(&pacer, t0 + s(101)), t0 + s(101));
        assert_eq!(connect_at(&pacer, t0 + s(102)), t0 + s(102));
        assert_eq!(connect_at(&pacer, t0 + s(103)), t0 + s(100) + w);
        assert_eq!(pacer.reserve_message_at(t0), t0, "no message budget");
    }

    #[test]
    fn bybit_scale_500_in_5_minutes() {
        let pacer = HostPacer::new(connects(500, Duration::from_secs(300))).expect("budget");
        let t0 = Instant::now();
        let times: Vec<Instant> = (0..1200)
            .map(|i| connect_at(&pacer, t0 + Duration::from_millis(i * 10)))
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

    #[test]
    fn a_storm_of_connects_keeps_both_per_second_limits() {
        let budget = HostBudget {
            connects: Some(RateLimit::per_second(8)),
            messages: Some(RateLimit::per_second(8)),
        };
        let pacer = HostPacer::new(budget).expect("budget");
        let now = Instant::now();
        let mut connects = Vec::new();
        let mut messages = Vec::new();
        // 20 connections of 4 subscribe messages each, all at once.
        for _ in 0..20 {
            let (at, slots) = pacer.reserve_connect_at(now, 4);
            assert!(slots.iter().all(|s| *s >= at));
            // Each connection's subscription follows its connect within a second.
            assert!(slots
                .back()
                .is_some_and(|s| *s - at < Duration::from_secs(1)));
            connects.push(at);
            messages.extend(slots);
        }
        messages.push(pacer.reserve_message_at(now));
        assert!(max_in_a_second(&connects) <= 8);
        assert_eq!(max_in_a_second(&messages), 8);
        // 81 messages at 8 per 1.25 s: the storm takes about 12.5 s, not longer.
        let span = *messages.iter().max().expect("messages") - now;
        assert!(span <= Duration::from_millis(12_500), "{span:?}");
        // The first 8 go at once.
        assert_eq!(messages.iter().filter(|t| **t == now).count(), 8);
    }

    #[test]
    fn hosts_share_one_pacer_per_budget() {
        let now = Instant::now();
        let one = connects(1, Duration::from_secs(1));
        let a = HostPacer::for_url("ws://127.0.0.1:9/x", one).expect("budget");
        let b = HostPacer::for_url("WS://127.0.0.1:9?y", one).expect("budget");
        assert!(Arc::ptr_eq(&a, &b));
        let other = HostPacer::for_url("ws://127.0.0.1:9", connects(8, Duration::from_secs(1)));
        assert!(!Arc::ptr_eq(&a, &other.expect("budget")));
        let elsewhere = HostPacer::for_url("ws://127.0.0.1:10/x", one).expect("budget");
        assert!(!Arc::ptr_eq(&a, &elsewhere));
        assert!(HostPacer::for_url("ws://127.0.0.1:10", HostBudget::NONE).is_none());
        let (first, none) = a.reserve_connect_at(now, 3);
        assert!(none.is_empty());
        let (second, _) = b.reserve_connect_at(now, 3);
        assert_eq!(second - first, Duration::from_secs(1) + ARRIVAL_MARGIN);
    }
}
