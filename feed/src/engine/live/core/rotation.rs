//! The venue core's connection upkeep: the stale-stream watchdog, and rotation before
//! the venue's connection lifetime (or on `serverShutdown`) with an overlapping
//! connection merged by venue ids (see `crate::merge`).

use std::time::Duration;

use tokio::time::Instant;

use tickd_bus::record::StatusReason;

use super::Core;
use crate::connection::ConnCommand;
use crate::engine::adapter::VenueAdapter;
use crate::runtime::now_ns;
use crate::stats::VenueStats;
use crate::status;
use crate::watchdog::Stale;

impl<A: VenueAdapter> Core<A> {
    /// Reconnect connections whose data stopped.
    pub(super) fn check_watchdogs(&mut self, now: Instant) {
        let mut stale = Vec::new();
        for (id, c) in &mut self.conns {
            if !c.up || c.pending_reason.is_some() {
                continue;
            }
            if let Some(why) = c.watchdog.check(now.into_std()) {
                stale.push((*id, why));
            }
        }
        for (id, why) in stale {
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            VenueStats::add(&self.core.stats().counters.stale_reconnects, 1);
            c.pending_reason = Some(StatusReason::StaleStream);
            let text = match why {
                Stale::Connection { silent_for } => format!("no data for {silent_for:.1?}"),
                Stale::Stream { index, silent_for } => {
                    let name = self.slots[c.slot]
                        .streams
                        .get(index)
                        .map_or("?", |s| s.name.as_str());
                    format!("stream {name} silent for {silent_for:.1?}")
                }
            };
            tracing::warn!(venue = %self.venue, conn = id, "stale: {text}; reconnecting");
            c.handle.send(ConnCommand::Reconnect { reason: text });
        }
    }

    /// Start rotations that are due; finish overlaps that have caught up.
    pub(super) fn check_rotations(&mut self, now: Instant) {
        for slot in 0..self.slots.len() {
            let s = &self.slots[slot];
            match s.secondary {
                None => {
                    let old_enough = s
                        .primary
                        .and_then(|p| self.conns.get(&p))
                        .and_then(|c| c.connected_at.filter(|_| c.up))
                        .is_some_and(|at| {
                            now.duration_since(at) >= self.settings.max_connection_age
                        });
                    let allowed = s.rotation_not_before.is_none_or(|t| now >= t);
                    if old_enough && allowed {
                        self.start_rotation(slot, StatusReason::LifetimeRotation);
                    }
                }
                Some(next) => {
                    let Some(c) = self.conns.get(&next) else {
                        continue;
                    };
                    let settled = c.subscribed_at.is_some_and(|at| {
                        c.data_frames > 0 || now.duration_since(at) >= Duration::from_secs(2)
                    });
                    let timed_out = s
                        .overlap_started
                        .is_some_and(|at| now.duration_since(at) >= self.settings.max_overlap);
                    if c.up && settled && (s.merge.overlap_complete() || timed_out) {
                        if timed_out && !s.merge.overlap_complete() {
                            tracing::warn!(venue = %self.venue, lagging = s.merge.lagging(), "rotation overlap timed out");
                        }
                        self.promote(slot, next);
                    }
                }
            }
        }
    }

    pub(super) fn abandon_rotation(&mut self, slot: usize) {
        let s = &mut self.slots[slot];
        if let Some(secondary) = s.secondary.take() {
            if let Some(c) = self.conns.get(&secondary) {
                c.handle.send(ConnCommand::Stop);
            }
            s.merge.end_overlap();
            s.overlap_started = None;
            s.rotation_not_before = Some(Instant::now() + Duration::from_secs(5));
        }
    }

    /// The secondary takes over; the old primary is closed.
    pub(super) fn promote(&mut self, slot: usize, next: u32) {
        let s = &mut self.slots[slot];
        let old = s.primary.replace(next);
        s.secondary = None;
        s.merge.end_overlap();
        s.overlap_started = None;
        if let Some(old) = old {
            if let Some(c) = self.conns.get_mut(&old) {
                c.handle.send(ConnCommand::Stop);
                if c.up {
                    c.up = false;
                    self.core.stats().connection_down();
                    self.core.publisher().publish(&status::disconnected(
                        self.venue,
                        old,
                        StatusReason::LifetimeRotation,
                        now_ns(),
                    ));
                }
            }
        }
        tracing::info!(venue = %self.venue, conn = next, "rotation complete");
    }

    pub(super) fn start_rotation(&mut self, slot: usize, why: StatusReason) {
        if self.slots[slot].secondary.is_some() {
            return;
        }
        let id = self.open(slot);
        let s = &mut self.slots[slot];
        s.secondary = Some(id);
        s.merge.begin_overlap();
        s.overlap_started = Some(Instant::now());
        VenueStats::add(&self.core.stats().counters.rotations, 1);
        tracing::info!(venue = %self.venue, slot, new_conn = id, ?why, "rotating connection with overlap");
    }
}
