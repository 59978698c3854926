//! Per-IP limits a venue declares (new connections a second, control messages a
//! second across all of the IP's connections: Coinbase allows 8 of each), shared by
//! every connection to the same host in this process, so a reconnect storm of many
//! connections stays within them.
//!
//! A connection reserves its connect slot together with slots for its subscribe
//! messages, so it opens only when its subscription can follow at once (a venue that
//! closes a connection not subscribed within a deadline, as Coinbase does after 5 s,
//! never sees one waiting for the message budget).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::engine::adapter::IpLimits;

/// The window a per-second limit is counted over: a quarter longer than a second,
/// so the venue's own count (at arrival, after network and scheduling jitter) never
/// sees more than the limit in one second.
const WINDOW: Duration = Duration::from_millis(1250);

/// At most `limit` grants in any [`WINDOW`]; grants are handed out in time order.
#[derive(Debug)]
struct RateWindow {
    limit: usize,
    /// The last `limit` grants, oldest first.
    granted: VecDeque<Instant>,
}

impl RateWindow {
    fn new(limit: u32) -> Option<Self> {
        (limit > 0).then(|| Self {
            limit: limit as usize,
            granted: VecDeque::with_capacity(limit as usize),
        })
    }

    /// The earliest time at or after `at` a grant is free.
    fn next_free(&self, at: Instant) -> Instant {
        let mut t = at.max(self.granted.back().copied().unwrap_or(at));
        if self.granted.len() >= self.limit {
            t = t.max(self.granted[self.granted.len() - self.limit] + WINDOW);
        }
        t
    }

    fn reserve(&mut self, at: Instant) -> Instant {
        let t = self.next_free(at);
        self.granted.push_back(t);
        while self.granted.len() > self.limit {
            self.granted.pop_front();
        }
        t
    }
}

/// One host's per-IP budget.
#[derive(Debug)]
pub struct HostPacer {
    state: Mutex<(Option<RateWindow>, Option<RateWindow>)>,
}

impl HostPacer {
    /// `None` when neither limit is stated (0).
    pub fn new(connects_per_second: u32, messages_per_second: u32) -> Option<Self> {
        let connects = RateWindow::new(connects_per_second);
        let messages = RateWindow::new(messages_per_second);
        (connects.is_some() || messages.is_some()).then(|| Self {
            state: Mutex::new((connects, messages)),
        })
    }

    /// The pacer every connection of this process to `url`'s host with these limits
    /// shares (venues on one host, as Bybit's markets, declare the same limits; the
    /// demo's simulator serves venues with different ones on one port).
    pub fn for_url(url: &str, limits: IpLimits) -> Option<Arc<HostPacer>> {
        let IpLimits {
            connections_per_second: connects_per_second,
            messages_per_second,
        } = limits;
        type Key = (String, u32, u32);
        static HOSTS: OnceLock<Mutex<HashMap<Key, Arc<HostPacer>>>> = OnceLock::new();
        let pacer = Self::new(connects_per_second, messages_per_second)?;
        let host = authority(url).to_ascii_lowercase();
        let mut hosts = HOSTS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let key = (host, connects_per_second, messages_per_second);
        Some(hosts.entry(key).or_insert_with(|| Arc::new(pacer)).clone())
    }

    /// When to connect, and when each of the `messages` subscribe messages that
    /// follow may go out (all at or after the connect).
    pub fn reserve_connect(&self, messages: usize) -> (Instant, VecDeque<Instant>) {
        self.reserve_connect_at(Instant::now(), messages)
    }

    fn reserve_connect_at(&self, now: Instant, messages: usize) -> (Instant, VecDeque<Instant>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (connects, budget) = &mut *state;
        // Not before the message budget can take the first subscribe message.
        let earliest = budget.as_ref().map_or(now, |b| b.next_free(now));
        let at = connects.as_mut().map_or(earliest, |c| c.reserve(earliest));
        let slots = match budget {
            Some(b) => (0..messages).map(|_| b.reserve(at)).collect(),
            None => VecDeque::new(),
        };
        (at, slots)
    }

    /// When one more control message may go out (now if no message limit).
    pub fn reserve_message(&self) -> Instant {
        self.reserve_message_at(Instant::now())
    }

    fn reserve_message_at(&self, now: Instant) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1.as_mut().map_or(now, |b| b.reserve(now))
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
    fn a_storm_of_connects_keeps_both_per_second_limits() {
        let pacer = HostPacer::new(8, 8).expect("limits");
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
    fn connects_alone_are_paced_and_hosts_are_shared() {
        let now = Instant::now();
        let ip = |connections_per_second, messages_per_second| IpLimits {
            connections_per_second,
            messages_per_second,
        };
        let a = HostPacer::for_url("ws://127.0.0.1:9/x", ip(1, 0)).expect("limit");
        let b = HostPacer::for_url("ws://127.0.0.1:9?y", ip(1, 0)).expect("limit");
        assert!(Arc::ptr_eq(&a, &b));
        let other = HostPacer::for_url("ws://127.0.0.1:9", ip(8, 8)).expect("limits");
        assert!(!Arc::ptr_eq(&a, &other));
        assert!(HostPacer::for_url("ws://127.0.0.1:10", IpLimits::NONE).is_none());
        let (first, none) = a.reserve_connect_at(now, 3);
        assert!(none.is_empty());
        let (second, _) = b.reserve_connect_at(now, 3);
        assert_eq!(second - first, WINDOW);
        assert_eq!(a.reserve_message_at(now), now);
    }
}
