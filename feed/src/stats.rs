//! Per-venue counters, written by the venue thread and read by anyone (the serve
//! status line, the gateway's /metrics) through relaxed atomics.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tickd_bus::Venue;
use tickd_normalizer::error::DecodeErrorKind;

use crate::hop_latency::HopLatency;

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {
        /// Live counters of one venue. Cheap to share: wrap in an `Arc`.
        #[derive(Debug, Default)]
        pub struct VenueCounters {
            $($(#[$doc])* pub $name: AtomicU64,)+
        }

        /// A plain copy of [`VenueCounters`] at one moment.
        #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
        pub struct CounterSnapshot {
            $(pub $name: u64,)+
        }

        impl VenueCounters {
            pub fn snapshot(&self) -> CounterSnapshot {
                CounterSnapshot { $($name: self.$name.load(Relaxed),)+ }
            }
        }

        impl CounterSnapshot {
            /// Names and values, for metrics exporters.
            pub fn fields(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($name), self.$name),)+]
            }
        }
    };
}

counters! {
    /// Data frames received (heartbeats and acks excluded).
    messages,
    /// Bytes of data frames received.
    bytes,
    /// Records published on the bus.
    records,
    /// Connections opened after the first one (failures, stalls, rotations).
    reconnects,
    /// Connection attempts that failed.
    connect_failures,
    /// Proactive rotations before the venue's connection lifetime.
    rotations,
    /// Gap status records published (sequence breaks, lost trades).
    gaps,
    /// Book resyncs started.
    resyncs,
    /// Frames that could not be decoded.
    decode_errors,
    /// Records dropped as duplicates (overlapping connections during a rotation).
    duplicates,
    /// Subscriptions the venue rejected.
    rejected_subscriptions,
    /// Heartbeats the venue skipped by its own counter (Coinbase
    /// `heartbeat_counter` jumps), all connections.
    heartbeats_missed,
    /// Book image requests the venue throttled, sent again after a backoff.
    book_requests_retried,
    /// Stale-stream watchdog trips.
    stale_reconnects,
    /// REST requests sent / answered 429 or 418.
    rest_requests,
    rest_rate_limited,
    rest_failures,
    /// Connections currently open.
    connections_up,
    /// Books in sync / books configured.
    books_synced,
    books_total,
    /// Levels held in all books (current total): bounded by the books' depth.
    book_levels,
    /// Times a book's pre-snapshot buffer hit its cap and dropped its oldest event.
    buffer_overflows,
    /// Snapshots fetched again (stale or not bridging the stream).
    snapshots_refetched,
}

/// Counters with the venue they belong to.
#[derive(Debug)]
pub struct VenueStats {
    pub venue: Venue,
    pub counters: VenueCounters,
    /// Undecodable frames by kind (their sum is `counters.decode_errors`).
    decode_errors_by_kind: [AtomicU64; DecodeErrorKind::COUNT],
    /// Frame read → records on the bus.
    pub hop: HopLatency,
    health: Mutex<Health>,
    ever_connected: std::sync::atomic::AtomicBool,
}

/// What the counters cannot say: why the venue is down and since when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// The last connection failure or disconnect reason, and when (ns since the epoch).
    pub last_error: Option<(String, u64)>,
    /// When the venue last had no open connection (ns since the epoch); 0 while one is up.
    pub down_since_ns: u64,
}

/// Long error texts are cut: the state is for people and dashboards.
const MAX_ERROR_LEN: usize = 300;

pub type SharedStats = Arc<VenueStats>;

impl VenueStats {
    pub fn new(venue: Venue) -> SharedStats {
        Arc::new(Self {
            venue,
            counters: VenueCounters::default(),
            decode_errors_by_kind: Default::default(),
            hop: HopLatency::default(),
            health: Mutex::new(Health {
                last_error: None,
                down_since_ns: now_ns(),
            }),
            ever_connected: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// A connection opened: the venue is up.
    pub fn connection_up(&self) {
        Self::add(&self.counters.connections_up, 1);
        self.ever_connected.store(true, Relaxed);
        if let Ok(mut health) = self.health.lock() {
            health.down_since_ns = 0;
        }
    }

    /// A connection closed; the venue is down once none is left.
    pub fn connection_down(&self) {
        Self::sub(&self.counters.connections_up, 1);
        self.mark_down_if_none_up();
    }

    /// A connection attempt failed or a connection ended with `error`.
    pub fn connection_error(&self, error: &str) {
        let mut text = error.to_string();
        if text.len() > MAX_ERROR_LEN {
            let mut cut = MAX_ERROR_LEN;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        if let Ok(mut health) = self.health.lock() {
            health.last_error = Some((text, now_ns()));
        }
        self.mark_down_if_none_up();
    }

    fn mark_down_if_none_up(&self) {
        if self.counters.connections_up.load(Relaxed) == 0 {
            if let Ok(mut health) = self.health.lock() {
                if health.down_since_ns == 0 {
                    health.down_since_ns = now_ns();
                }
            }
        }
    }

    /// A frame (or REST body) that did not decode.
    pub fn decode_error(&self, kind: DecodeErrorKind) {
        Self::add(&self.counters.decode_errors, 1);
        Self::add(&self.decode_errors_by_kind[kind.index()], 1);
    }

    /// Undecodable frames so far, for every kind (zeros included).
    pub fn decode_errors_by_kind(&self) -> Vec<(DecodeErrorKind, u64)> {
        DecodeErrorKind::ALL
            .iter()
            .map(|&kind| (kind, self.decode_errors_by_kind[kind.index()].load(Relaxed)))
            .collect()
    }

    /// Whether any connection of this venue ever opened.
    pub fn ever_connected(&self) -> bool {
        self.ever_connected.load(Relaxed)
    }

    pub fn health(&self) -> Health {
        self.health.lock().map(|h| h.clone()).unwrap_or_default()
    }

    #[inline]
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    /// Decrement, saturating at zero.
    #[inline]
    pub fn sub(counter: &AtomicU64, n: u64) {
        let _ = counter.fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(n)));
    }

    #[inline]
    pub fn set(counter: &AtomicU64, n: u64) {
        counter.store(n, Relaxed);
    }
}

/// One compact line per venue from two snapshots `elapsed` apart.
pub fn status_line(
    venue: Venue,
    prev: &CounterSnapshot,
    now: &CounterSnapshot,
    elapsed: Duration,
) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    let rate = |a: u64, b: u64| (b.saturating_sub(a)) as f64 / secs;
    format!(
        "{venue}: {:.0} msg/s {:.0} rec/s {:.1} KiB/s | conns {} reconnects {} rotations {} stale {} | gaps {} resyncs {} decode_errors {} dup {} | books {}/{} | rest {} (429/418: {})",
        rate(prev.messages, now.messages),
        rate(prev.records, now.records),
        rate(prev.bytes, now.bytes) / 1024.0,
        now.connections_up,
        now.reconnects,
        now.rotations,
        now.stale_reconnects,
        now.gaps,
        now.resyncs,
        now.decode_errors,
        now.duplicates,
        now.books_synced,
        now.books_total,
        now.rest_requests,
        now.rest_rate_limited,
    )
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_and_line() {
        let stats = VenueStats::new(Venue::Binance);
        let before = stats.counters.snapshot();
        VenueStats::add(&stats.counters.messages, 500);
        VenueStats::add(&stats.counters.gaps, 2);
        VenueStats::set(&stats.counters.books_total, 3);
        VenueStats::set(&stats.counters.books_synced, 2);
        let after = stats.counters.snapshot();
        assert_eq!(after.messages, 500);
        let line = status_line(Venue::Binance, &before, &after, Duration::from_secs(5));
        assert!(line.starts_with("binance: 100 msg/s"), "{line}");
        assert!(
            line.contains("gaps 2") && line.contains("books 2/3"),
            "{line}"
        );
        assert!(after.fields().contains(&("gaps", 2)));
    }

    #[test]
    fn health_says_why_and_since_when_a_venue_is_down() {
        let stats = VenueStats::new(Venue::Binance);
        let start = stats.health();
        assert!(start.down_since_ns > 0, "down until the first connection");
        assert!(!stats.ever_connected());
        stats.connection_up();
        stats.connection_up();
        assert!(stats.ever_connected());
        assert_eq!(stats.health().down_since_ns, 0);
        stats.connection_down();
        assert_eq!(
            stats.health().down_since_ns,
            0,
            "one connection is still up"
        );
        stats.connection_error(&"x".repeat(1000));
        let health = stats.health();
        assert_eq!(health.down_since_ns, 0);
        let (error, at) = health.last_error.expect("the error is kept");
        assert!(error.len() <= MAX_ERROR_LEN + '…'.len_utf8() && at > 0);
        stats.connection_down();
        assert!(stats.health().down_since_ns > 0, "no connection left");
    }
}
