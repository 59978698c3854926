//! The feed node's view of the books it has published: one [`BookReplay`] per
//! instrument, fed from the same records in the same order as the NATS messages, so a
//! snapshot it answers with is exactly the book after the last delta it published.

use std::collections::HashMap;

use tickd_bus::record::BookDeltaMsg;
use tickd_bus::{RecordBuf, Venue};
use tickd_normalizer::book::apply::{BookReplay, DeltaError};
use tickd_normalizer::book::image::{emit_image, Stamp};

#[derive(Default)]
struct Book {
    replay: BookReplay,
    /// Per-stream sequence of the last delta applied.
    sequence: u64,
}

#[derive(Default)]
pub struct PublishedBooks {
    books: HashMap<(Venue, u32), Book>,
}

impl PublishedBooks {
    /// Apply a record about to be published (anything but a book delta is ignored).
    /// A delta that cannot be applied leaves the book invalid until the next image.
    pub fn apply(&mut self, venue: Venue, record: &RecordBuf) -> Result<(), DeltaError> {
        let Some(delta) = record.get::<BookDeltaMsg>() else {
            return Ok(());
        };
        let book = self
            .books
            .entry((venue, delta.hd.instrument_id))
            .or_default();
        book.sequence = delta.hd.sequence;
        if let Err(err) = book.replay.apply(delta) {
            book.replay.invalidate();
            return Err(err);
        }
        Ok(())
    }

    /// Records of a venue were lost before publishing: its books are unknown until the
    /// feed's next image.
    pub fn invalidate_venue(&mut self, venue: Venue) {
        for ((v, _), book) in self.books.iter_mut() {
            if *v == venue {
                book.replay.invalidate();
            }
        }
    }

    /// The book as SNAPSHOT image records carrying the sequence of the last delta
    /// published (empty if there is no valid book).
    pub fn image(&self, venue: Venue, instrument_id: u32, now_ns: u64) -> Vec<RecordBuf> {
        let mut out = Vec::new();
        let Some(book) = self.books.get(&(venue, instrument_id)) else {
            return out;
        };
        if !book.replay.is_valid() {
            return out;
        }
        let stamp = Stamp {
            venue,
            instrument_id,
            ts_event: now_ns,
            ts_recv: now_ns,
        };
        emit_image(
            book.replay.book(),
            &stamp,
            book.replay.last_update_id(),
            &mut out,
        );
        for record in out.iter_mut() {
            record.header_mut().sequence = book.sequence;
        }
        out
    }
}
