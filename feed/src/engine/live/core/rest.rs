//! The venue core's REST side: book snapshots paced within the weight budget (and
//! paused on 429/418 for `Retry-After`), and open-interest polling.

use std::time::Duration;

use tokio::time::Instant;

use tickd_normalizer::engine::{RestKind, SyncAction, SyncState};

use super::Core;
use crate::engine::adapter::VenueAdapter;
use crate::rest::RestError;
use crate::runtime::now_ns;
use crate::stats::VenueStats;

const MAX_SNAPSHOTS_IN_FLIGHT: usize = 4;
/// When a 429/418 carries no `Retry-After`.
const DEFAULT_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(30);

/// A REST answer, back on the core's task.
pub(super) enum RestDone {
    Snapshot {
        instrument: u32,
        result: Result<Vec<u8>, RestError>,
    },
    OpenInterest {
        result: Result<Vec<u8>, RestError>,
    },
}

impl<A: VenueAdapter> Core<A> {
    pub(super) fn pump_snapshots(&mut self, now: Instant) {
        let mut deferred = Vec::new();
        while self.snapshots_in_flight < MAX_SNAPSHOTS_IN_FLIGHT {
            let Some(id) = self.snapshot_queue.pop_front() else {
                break;
            };
            let Some(book) = self.books.get_mut(&id) else {
                continue;
            };
            if book.not_before.is_some_and(|t| now < t) {
                deferred.push(id);
                continue;
            }
            if !self.budget.try_spend(self.snapshot_weight, now.into_std()) {
                deferred.push(id);
                break;
            }
            book.queued = false;
            book.in_flight = true;
            self.snapshots_in_flight += 1;
            VenueStats::add(&self.core.stats().counters.rest_requests, 1);
            let path = self
                .adapter
                .snapshot_path(self.venue, &book.raw, self.settings.book_depth);
            let url = format!("{}{path}", self.settings.rest_url);
            let rest = self.rest.clone();
            let tx = self.rest_tx.clone();
            tokio::task::spawn_local(async move {
                let result = rest.get(&url).await.map(|r| r.body);
                let _ = tx.send(RestDone::Snapshot {
                    instrument: id,
                    result,
                });
            });
        }
        // Keep the order of what could not go yet, ahead of anything newer.
        for id in deferred.into_iter().rev() {
            self.snapshot_queue.push_front(id);
        }
    }

    pub(super) fn poll_open_interest(&mut self, now: Instant) {
        if self.oi_polls.is_empty() || now < self.next_oi {
            return;
        }
        self.next_oi = now + self.settings.oi_poll;
        for (_, path) in &self.oi_polls {
            // Weight 1 each; skipped this round when the budget is spent.
            if !self.budget.try_spend(1, now.into_std()) {
                break;
            }
            VenueStats::add(&self.core.stats().counters.rest_requests, 1);
            let url = format!("{}{path}", self.settings.rest_url);
            let rest = self.rest.clone();
            let tx = self.rest_tx.clone();
            tokio::task::spawn_local(async move {
                let result = rest.get(&url).await.map(|r| r.body);
                let _ = tx.send(RestDone::OpenInterest { result });
            });
        }
    }

    pub(super) fn on_rest_error(&mut self, err: &RestError) {
        let counters = &self.core.stats().counters;
        if err.is_rate_limit() {
            VenueStats::add(&counters.rest_rate_limited, 1);
            let wait = err.retry_after().unwrap_or(DEFAULT_RATE_LIMIT_PAUSE);
            self.budget.pause(Instant::now().into_std(), wait);
            tracing::warn!(venue = %self.venue, "{err}; pausing REST for {} s", wait.as_secs());
        } else {
            VenueStats::add(&counters.rest_failures, 1);
            tracing::warn!(venue = %self.venue, "REST request failed: {err}");
        }
    }

    pub(super) fn on_rest(&mut self, done: RestDone) {
        let ts_recv = now_ns();
        match done {
            RestDone::Snapshot { instrument, result } => {
                self.snapshots_in_flight = self.snapshots_in_flight.saturating_sub(1);
                let parsed = match result {
                    Ok(body) => self
                        .core
                        .decode_snapshot(instrument, &body, ts_recv)
                        .map_err(|e| e.to_string()),
                    Err(err) => {
                        self.on_rest_error(&err);
                        Err(err.to_string())
                    }
                };
                let Some(book) = self.books.get_mut(&instrument) else {
                    return;
                };
                let was_in_flight = std::mem::replace(&mut book.in_flight, false);
                let action = match parsed {
                    Ok(snapshot) if was_in_flight => {
                        let action = self
                            .core
                            .apply_snapshot(instrument, snapshot, ts_recv)
                            .unwrap_or(SyncAction::None);
                        let synced = self
                            .core
                            .book(instrument)
                            .is_some_and(|b| b.state() == SyncState::Synced);
                        if synced {
                            book.retry.reset();
                            book.not_before = None;
                        } else {
                            // Stale snapshot: give the stream a moment to move on.
                            book.not_before = Some(Instant::now() + book.retry.next_delay());
                        }
                        action
                    }
                    // Answer to a request the book no longer waits for (disconnect).
                    Ok(_) => SyncAction::None,
                    Err(why) => {
                        tracing::debug!(venue = %self.venue, instrument, "snapshot failed: {why}");
                        book.not_before = Some(Instant::now() + book.retry.next_delay());
                        if was_in_flight {
                            self.core
                                .snapshot_failed(instrument)
                                .unwrap_or(SyncAction::None)
                        } else {
                            SyncAction::None
                        }
                    }
                };
                if action == SyncAction::FetchSnapshot && !book.queued {
                    book.queued = true;
                    self.snapshot_queue.push_back(instrument);
                }
            }
            RestDone::OpenInterest { result } => match result {
                Ok(body) => match self
                    .core
                    .on_rest_records(RestKind::OpenInterest, &body, ts_recv)
                {
                    Ok(_) => {}
                    Err(err) => {
                        self.core.stats().decode_error(err.kind());
                        tracing::debug!(venue = %self.venue, "open interest: {err}");
                    }
                },
                Err(err) => self.on_rest_error(&err),
            },
        }
    }
}
