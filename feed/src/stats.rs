//! Per-venue counters, written by the venue thread and read by anyone (the serve
//! status line, the gateway's /metrics) through relaxed atomics.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use tickd_bus::Venue;

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
}

pub type SharedStats = Arc<VenueStats>;

impl VenueStats {
    pub fn new(venue: Venue) -> SharedStats {
        Arc::new(Self {
            venue,
            counters: VenueCounters::default(),
        })
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
}
