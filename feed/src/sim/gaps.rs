//! The "skip sequence range" fault: drop runs of depth events of a symbol on one
//! connection (the gap the client must detect), and record each run for tests.

use std::sync::atomic::Ordering::Relaxed;

use super::market::{EventKind, SimEvent};
use super::state::{GapRecord, Shared};

/// Past this many records gaps are still made and counted, not recorded.
const MAX_GAP_RECORDS: usize = 100_000;

#[derive(Default, Clone, Copy)]
struct SkipState {
    seen: u32,
    skipping: u32,
    gap_index: Option<usize>,
}

pub(crate) struct GapInjector {
    conn: u64,
    skips: Vec<SkipState>,
    made: u32,
}

impl GapInjector {
    pub fn new(conn: u64, symbols: usize) -> Self {
        Self {
            conn,
            skips: vec![SkipState::default(); symbols],
            made: 0,
        }
    }

    /// The "skip sequence range" fault: true when this depth event is dropped.
    pub fn skip(&mut self, ev: &SimEvent, shared: &Shared) -> bool {
        let EventKind::Depth { first, last, .. } = ev.kind else {
            return false;
        };
        let faults = shared.faults.read();
        let Some(rule) = faults.skip_depth.as_ref() else {
            return false;
        };
        let idx = ev.sym as usize;
        let Some(info) = shared.symbols.get(idx) else {
            return false;
        };
        if rule
            .symbol
            .as_ref()
            .is_some_and(|s| !s.eq_ignore_ascii_case(&info.raw))
        {
            return false;
        }
        let (venue, symbol) = (info.venue, info.raw.clone());
        let Some(st) = self.skips.get_mut(idx) else {
            return false;
        };
        if st.skipping > 0 {
            st.skipping -= 1;
            if let Some(i) = st.gap_index {
                if let Some(g) = shared.gaps.lock().get_mut(i) {
                    g.last_update_id = last;
                    g.events += 1;
                }
            }
            shared
                .fault_counters
                .skipped_depth_events
                .fetch_add(1, Relaxed);
            return true;
        }
        st.seen += 1;
        let limit_reached = rule.max_per_connection != 0 && self.made >= rule.max_per_connection;
        if rule.every == 0 || rule.count == 0 || st.seen % rule.every != 0 || limit_reached {
            return false;
        }
        self.made += 1;
        st.skipping = rule.count - 1;
        let mut gaps = shared.gaps.lock();
        // Bounded for long runs: past the cap, gaps are still made and counted.
        st.gap_index = (gaps.len() < MAX_GAP_RECORDS).then_some(gaps.len());
        if st.gap_index.is_some() {
            gaps.push(GapRecord {
                conn: self.conn,
                venue,
                symbol,
                first_update_id: first,
                last_update_id: last,
                events: 1,
            });
        }
        shared
            .fault_counters
            .skipped_depth_events
            .fetch_add(1, Relaxed);
        true
    }
}
