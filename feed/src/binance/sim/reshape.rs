//! Depth faults that keep the book correct but test the client's rules: overlapping
//! ranges (spot: an event re-sent merged with the next, `U <= book_id` must be applied)
//! and deletions of levels the client never had (must be ignored).

use std::sync::atomic::Ordering::Relaxed;

use tickd_bus::{Price, Size, Venue};
use tickd_normalizer::Level;

use crate::sim::{EventKind, FaultConfig, FaultCounters, SimEvent};

pub(crate) struct DepthReshaper {
    /// Last depth event sent per symbol (only kept while the overlap fault is on).
    prev: Vec<Option<SimEvent>>,
    sent: Vec<u64>,
}

fn every(n: u64, every: Option<u32>) -> bool {
    matches!(every, Some(e) if e > 0 && n.is_multiple_of(u64::from(e)))
}

impl DepthReshaper {
    pub fn new(symbols: usize) -> Self {
        Self {
            prev: vec![None; symbols],
            sent: vec![0; symbols],
        }
    }

    /// A skipped event breaks the chain: never merge across a gap (it would hide it).
    pub fn forget(&mut self, sym: usize) {
        if let Some(p) = self.prev.get_mut(sym) {
            *p = None;
        }
    }

    /// The event to send instead of `ev`, if a fault applies to it.
    pub fn reshape(
        &mut self,
        ev: &SimEvent,
        venue: Venue,
        faults: &FaultConfig,
        counters: &FaultCounters,
    ) -> Option<SimEvent> {
        let overlap = faults.overlap_every.filter(|_| venue == Venue::Binance);
        if overlap.is_none() && faults.unknown_delete_every.is_none() {
            return None;
        }
        let idx = ev.sym as usize;
        let n = self.sent.get_mut(idx).map(|n| {
            *n += 1;
            *n
        })?;
        let mut out = None;
        if every(n, overlap) {
            if let Some(prev) = self.prev.get(idx).and_then(Option::as_ref) {
                out = merge(prev, ev);
                counters.overlaps.fetch_add(1, Relaxed);
            }
        }
        if every(n, faults.unknown_delete_every) {
            let mut e = out.take().unwrap_or_else(|| ev.clone());
            if let EventKind::Depth { bids, .. } = &mut e.kind {
                // One tick above zero: far below any synthetic bid.
                bids.push(Level::new(Price::from_raw(1), Size::ZERO));
                counters.unknown_deletes.fetch_add(1, Relaxed);
            }
            out = Some(e);
        }
        if overlap.is_some() {
            if let Some(p) = self.prev.get_mut(idx) {
                *p = Some(ev.clone());
            }
        }
        out
    }
}

/// `prev` and `cur` as one event spanning both id ranges; `cur`'s sizes win.
fn merge(prev: &SimEvent, cur: &SimEvent) -> Option<SimEvent> {
    let (
        EventKind::Depth {
            first,
            prev: pu,
            bids: pb,
            asks: pa,
            ..
        },
        EventKind::Depth {
            last,
            bids: cb,
            asks: ca,
            ..
        },
    ) = (&prev.kind, &cur.kind)
    else {
        return None;
    };
    let join = |a: &[Level], b: &[Level]| {
        let mut out: Vec<Level> = a
            .iter()
            .filter(|l| !b.iter().any(|m| m.price == l.price))
            .copied()
            .collect();
        out.extend_from_slice(b);
        out
    };
    Some(SimEvent {
        sym: cur.sym,
        time_ns: cur.time_ns,
        kind: EventKind::Depth {
            first: *first,
            last: *last,
            prev: *pu,
            bids: join(pb, cb),
            asks: join(pa, ca),
        },
    })
}
