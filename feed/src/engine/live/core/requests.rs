//! Book images asked for again, each counted in `book_requests_retried`:
//! - a request the venue refused for its rate (HTX spot `req`: one per 100 ms
//!   per connection, else `429 too many request`), after an exponential backoff;
//! - an image that comes on the stream but did not within the adapter's
//!   `image_timeout` (the frame carrying it was lost: HTX swap images are
//!   data frames like any other).

use std::time::Duration;

use tokio::time::Instant;

use tickd_bus::Channel;
use tickd_normalizer::engine::{SequenceRule, SnapshotSource, SyncAction, SyncState};

use super::Core;
use crate::backoff::Backoff;
use crate::engine::adapter::VenueAdapter;
use crate::stats::VenueStats;

/// From a little over the venue's request interval up to a few seconds.
pub(super) fn backoff() -> Backoff {
    Backoff::new(Duration::from_millis(150), Duration::from_secs(5))
}

impl<A: VenueAdapter> Core<A> {
    /// The venue throttled `instrument_id`'s image request on `slot`: ask again
    /// later (one pending retry per book).
    pub(super) fn retry_book_request(&mut self, slot: usize, instrument_id: u32) {
        let Some(book) = self.books.get_mut(&instrument_id) else {
            return;
        };
        if book.request_again.is_none() {
            let delay = book.request_retry.next_delay();
            book.request_again = Some((Instant::now() + delay, slot));
        }
    }

    /// Send the throttled requests that are due; a synced book starts its backoff
    /// afresh.
    pub(super) fn pump_book_requests(&mut self, now: Instant) {
        self.check_image_waits(now);
        if !self.books.values().any(|b| b.request_retry.attempts() > 0) {
            return;
        }
        for (id, sync) in self.core.books() {
            if let Some(book) = self.books.get_mut(id) {
                if sync.state() == SyncState::Synced && book.request_again.is_none() {
                    book.request_retry.reset();
                }
            }
        }
        let mut due = Vec::new();
        for (id, book) in &mut self.books {
            if let Some((at, slot)) = book.request_again {
                if at <= now {
                    book.request_again = None;
                    due.push((slot, *id));
                }
            }
        }
        for (slot, id) in due {
            VenueStats::add(&self.core.stats().counters.book_requests_retried, 1);
            self.on_book_action(slot, id, SyncAction::RequestSnapshot);
        }
    }

    /// Books waiting for a streamed image longer than the adapter's timeout, on a
    /// connection that is up: ask again.
    fn check_image_waits(&mut self, now: Instant) {
        let Some(timeout) = self.adapter.image_timeout(self.venue) else {
            return;
        };
        let mut due = Vec::new();
        let (slots, conns) = (&self.slots, &self.conns);
        for (id, sync) in self.core.books() {
            let Some(book) = self.books.get_mut(id) else {
                continue;
            };
            // The slot carrying the book, while its connection is up.
            let slot = slots.iter().position(|s| {
                s.streams
                    .iter()
                    .any(|st| st.instrument_id == *id && st.channel == Channel::Book)
                    && s.primary.and_then(|p| conns.get(&p)).is_some_and(|c| c.up)
            });
            let streamed = sync.rule().snapshot_source() != SnapshotSource::Rest;
            let waiting = streamed && sync.state() != SyncState::Synced;
            let (Some(slot), true, None) = (slot, waiting, book.request_again) else {
                book.awaiting_since = None;
                continue;
            };
            let since = *book.awaiting_since.get_or_insert(now);
            if now.duration_since(since) >= timeout {
                book.awaiting_since = Some(now);
                due.push((slot, *id));
            }
        }
        for (slot, id) in due {
            tracing::warn!(venue = %self.venue, instrument_id = id, "no book image within {timeout:?}; asking again");
            VenueStats::add(&self.core.stats().counters.book_requests_retried, 1);
            self.on_book_action(slot, id, SyncAction::RequestSnapshot);
        }
    }
}
