//! Fault injection: what can go wrong on purpose, and how often it did.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Drop a range of depth events on each connection (the gap a client must detect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipDepth {
    /// After this many depth events of a symbol on a connection, skip the next `count`.
    pub every: u32,
    pub count: u32,
    /// Only this raw symbol (upper case); `None` = every symbol.
    pub symbol: Option<String>,
    /// Gaps per connection at most (0 = unlimited).
    pub max_per_connection: u32,
}

/// Stop writing to each connection for `duration`, `after` it opened. Events keep
/// queueing meanwhile (up to `SimConfig::queue_len`; past that the connection is closed
/// as a slow consumer, as Binance does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    pub after: Duration,
    pub duration: Duration,
}

/// Answer REST requests with an error status and `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestError {
    /// 429 (rate limited) or 418 (IP banned).
    pub status: u16,
    /// Applies to the first `first` requests (0 = every request).
    pub first: u32,
    pub retry_after_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultConfig {
    /// Close every connection abruptly (no close frame) this long after it opened.
    pub drop_after: Option<Duration>,
    pub skip_depth: Option<SkipDepth>,
    /// Every Nth data frame of a connection is replaced by invalid JSON.
    pub malformed_every: Option<u32>,
    /// Every Nth data frame is cut in half.
    pub truncated_every: Option<u32>,
    /// Every Nth data frame is padded to `oversized_bytes`.
    pub oversized_every: Option<u32>,
    pub oversized_bytes: usize,
    pub stall: Option<Stall>,
    /// Refuse (accept, then close at once) the first N connection attempts.
    pub refuse_first: u32,
    /// Refuse every Nth connection attempt.
    pub refuse_every: Option<u32>,
    pub rest_error: Option<RestError>,
    /// REST depth snapshots are this many depth events old (a snapshot whose
    /// `lastUpdateId` may be behind the client's first buffered `U`).
    pub stale_snapshot_events: Option<u32>,
    /// Spot: every Nth depth event of a symbol is sent merged with the previous one
    /// (an overlapping `U..u` range the client must apply).
    pub overlap_every: Option<u32>,
    /// Every Nth depth event also deletes a price level no book has.
    pub unknown_delete_every: Option<u32>,
    /// Venues whose books carry a checksum (OKX): every Nth book update of a
    /// connection carries a wrong one.
    pub bad_checksum_every: Option<u32>,
    /// Venues that push the first book image on the stream (OKX): leave it out, so
    /// the client must splice a REST snapshot (OKX announced the image's removal).
    pub no_initial_snapshot: bool,
    /// Venues whose pushed book ids restart after a service restart (Bybit `u == 1`):
    /// every Nth book update of a connection is replaced by a fresh image numbered 1.
    pub restart_snapshot_every: Option<u32>,
    /// Venues whose heartbeats carry a counter (Coinbase `heartbeat_counter`): every
    /// Nth heartbeat of a connection skips one value (the venue missed a beat; the
    /// connection's message numbers stay continuous).
    pub skip_heartbeat_every: Option<u32>,
    /// From its Nth server ping on (the venue's own or a WebSocket ping), a
    /// connection's pings are lost on the way (a client that stopped hearing
    /// them): none is sent, no pong comes, and the connection is cut at the pong
    /// deadline.
    pub lose_pings_from: Option<u32>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            drop_after: None,
            skip_depth: None,
            malformed_every: None,
            truncated_every: None,
            oversized_every: None,
            oversized_bytes: 2 << 20,
            stall: None,
            refuse_first: 0,
            refuse_every: None,
            rest_error: None,
            stale_snapshot_events: None,
            overlap_every: None,
            unknown_delete_every: None,
            bad_checksum_every: None,
            no_initial_snapshot: false,
            restart_snapshot_every: None,
            skip_heartbeat_every: None,
            lose_pings_from: None,
        }
    }
}

/// How often each fault fired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub drops: u64,
    pub skipped_depth_events: u64,
    pub malformed: u64,
    pub truncated: u64,
    pub oversized: u64,
    pub stalls: u64,
    pub refused: u64,
    pub rest_errors: u64,
    pub stale_snapshots: u64,
    pub overlaps: u64,
    pub unknown_deletes: u64,
    pub bad_checksums: u64,
    /// Book subscriptions answered without the initial image.
    pub snapshots_withheld: u64,
    /// Restart images sent (`restart_snapshot_every`).
    pub restart_snapshots: u64,
    /// Heartbeat counter values skipped (`skip_heartbeat_every`).
    pub heartbeats_skipped: u64,
    /// Server pings not sent (`lose_pings_from`).
    pub lost_pings: u64,
}

/// Live fault counts (venue protocols count the faults they apply).
#[derive(Debug, Default)]
pub struct FaultCounters {
    pub drops: AtomicU64,
    pub skipped_depth_events: AtomicU64,
    pub malformed: AtomicU64,
    pub truncated: AtomicU64,
    pub oversized: AtomicU64,
    pub stalls: AtomicU64,
    pub refused: AtomicU64,
    pub rest_errors: AtomicU64,
    pub stale_snapshots: AtomicU64,
    pub overlaps: AtomicU64,
    pub unknown_deletes: AtomicU64,
    pub bad_checksums: AtomicU64,
    pub snapshots_withheld: AtomicU64,
    pub restart_snapshots: AtomicU64,
    pub heartbeats_skipped: AtomicU64,
    pub lost_pings: AtomicU64,
}

impl FaultCounters {
    pub fn snapshot(&self) -> FaultCounts {
        FaultCounts {
            drops: self.drops.load(Relaxed),
            skipped_depth_events: self.skipped_depth_events.load(Relaxed),
            malformed: self.malformed.load(Relaxed),
            truncated: self.truncated.load(Relaxed),
            oversized: self.oversized.load(Relaxed),
            stalls: self.stalls.load(Relaxed),
            refused: self.refused.load(Relaxed),
            rest_errors: self.rest_errors.load(Relaxed),
            stale_snapshots: self.stale_snapshots.load(Relaxed),
            overlaps: self.overlaps.load(Relaxed),
            unknown_deletes: self.unknown_deletes.load(Relaxed),
            bad_checksums: self.bad_checksums.load(Relaxed),
            snapshots_withheld: self.snapshots_withheld.load(Relaxed),
            restart_snapshots: self.restart_snapshots.load(Relaxed),
            heartbeats_skipped: self.heartbeats_skipped.load(Relaxed),
            lost_pings: self.lost_pings.load(Relaxed),
        }
    }
}

/// What to do to the `n`th (1-based) data frame of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Corruption {
    Malformed,
    Truncated,
    Oversized,
}

fn hits(every: Option<u32>, n: u64) -> bool {
    matches!(every, Some(e) if e > 0 && n.is_multiple_of(u64::from(e)))
}

impl FaultConfig {
    pub(crate) fn corruption_for(&self, n: u64) -> Option<Corruption> {
        if hits(self.malformed_every, n) {
            Some(Corruption::Malformed)
        } else if hits(self.truncated_every, n) {
            Some(Corruption::Truncated)
        } else if hits(self.oversized_every, n) {
            Some(Corruption::Oversized)
        } else {
            None
        }
    }

    /// Whether the `n`th (1-based) connection attempt is refused.
    pub(crate) fn refuses(&self, n: u64) -> bool {
        n <= u64::from(self.refuse_first) || hits(self.refuse_every, n)
    }

    pub(crate) fn rest_error_for(&self, n: u64) -> Option<RestError> {
        self.rest_error
            .filter(|e| e.first == 0 || n <= u64::from(e.first))
    }
}

/// Rewrite `frame` in place as the fault says, and count it.
pub(crate) fn corrupt(
    frame: &mut Vec<u8>,
    how: Corruption,
    oversized_bytes: usize,
    c: &FaultCounters,
) {
    match how {
        Corruption::Malformed => {
            frame.clear();
            frame.extend_from_slice(b"{\"e\":\"trade\",\"E\":,,\"s\":}}");
            c.malformed.fetch_add(1, Relaxed);
        }
        Corruption::Truncated => {
            let mut cut = frame.len() / 2;
            // Keep the text valid UTF-8: a WebSocket text frame must be.
            while cut > 0 && (frame[cut] & 0xC0) == 0x80 {
                cut -= 1;
            }
            frame.truncate(cut);
            c.truncated.fetch_add(1, Relaxed);
        }
        Corruption::Oversized => {
            // Valid JSON, just too big: a padding field before the closing brace.
            if frame.last() == Some(&b'}') {
                frame.pop();
                frame.extend_from_slice(b",\"pad\":\"");
            } else {
                frame.clear();
                frame.extend_from_slice(b"{\"pad\":\"");
            }
            let fill = oversized_bytes.saturating_sub(frame.len() + 2);
            frame.resize(frame.len() + fill, b'x');
            frame.extend_from_slice(b"\"}");
            c.oversized.fetch_add(1, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corruptions_change_the_frame_as_named() {
        let c = FaultCounters::default();
        let mut f = br#"{"e":"trade","s":"BTCUSDT"}"#.to_vec();
        corrupt(&mut f, Corruption::Oversized, 1000, &c);
        assert_eq!(f.len(), 1000);
        assert!(f.starts_with(br#"{"e":"trade","s":"BTCUSDT","pad":"xx"#));
        let mut f = br#"{"e":"trade","s":"BTCUSDT"}"#.to_vec();
        corrupt(&mut f, Corruption::Truncated, 0, &c);
        assert_eq!(f, br#"{"e":"trade","#);
        let fc = FaultConfig {
            malformed_every: Some(3),
            refuse_first: 1,
            ..Default::default()
        };
        assert_eq!(fc.corruption_for(3), Some(Corruption::Malformed));
        assert_eq!(fc.corruption_for(4), None);
        assert!(fc.refuses(1) && !fc.refuses(2));
        assert_eq!(c.snapshot().oversized, 1);
    }
}
