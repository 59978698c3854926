//! The consumer side of book deltas: rebuild an [`L2Book`] from a stream of
//! [`BookDeltaMsg`] records, as subscribers, tests and the journal's book-at-time query do.
//!
//! Rules (the contract [`super::image`] writes):
//! - `Clear` empties the book; flagged SNAPSHOT it opens an image, which is complete at
//!   the record flagged LAST. Until a complete image has been seen the book is not valid.
//! - `Set` sets one level; size 0 deletes it.
//! - A record flagged LAST closes an exchange event: only between events is the book a
//!   state the venue actually had, so [`BookReplay::is_valid`] is false mid-event.
//! - A `Gap` or `BookResync` status means the deltas stopped describing the book: the
//!   book is invalid until the next image.

use tickd_bus::record::{BookAction, BookDeltaMsg, BookSide, StatusKind, StatusMsg};
use tickd_bus::{Price, RecordBuf};

use super::L2Book;

/// A delta that cannot be applied (input from outside is hostile: these are counted
/// by the caller, never a panic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeltaError {
    #[error("unknown book action {0}")]
    UnknownAction(u8),
    #[error("unknown book side {0}")]
    UnknownSide(u8),
    #[error("book delta without a price")]
    UndefinedPrice,
    #[error("negative size in a book delta")]
    NegativeSize,
}

/// What one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Applied; the event continues (no LAST yet).
    Partial,
    /// Applied and the event is complete.
    EventComplete,
    /// A status that invalidated the book.
    Invalidated,
    /// Not a book record: nothing done.
    Ignored,
}

/// Rebuilds one instrument's book from its delta records.
#[derive(Debug, Clone, Default)]
pub struct BookReplay {
    book: L2Book,
    has_image: bool,
    in_image: bool,
    mid_event: bool,
    last_update_id: u64,
}

impl BookReplay {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one delta.
    pub fn apply(&mut self, delta: &BookDeltaMsg) -> Result<Applied, DeltaError> {
        let flags = delta.hd.flags;
        match BookAction::from_repr(delta.action) {
            Some(BookAction::Clear) => {
                self.book.clear();
                self.in_image = flags.is_snapshot();
                self.has_image = false;
            }
            Some(BookAction::Set) => {
                let side =
                    BookSide::from_repr(delta.side).ok_or(DeltaError::UnknownSide(delta.side))?;
                if delta.price == Price::UNDEF {
                    return Err(DeltaError::UndefinedPrice);
                }
                if delta.size.is_negative() {
                    return Err(DeltaError::NegativeSize);
                }
                self.book.apply(side, delta.price, delta.size);
            }
            None => return Err(DeltaError::UnknownAction(delta.action)),
        }
        self.last_update_id = delta.update_id;
        if flags.is_last() {
            self.mid_event = false;
            if self.in_image {
                self.in_image = false;
                self.has_image = true;
            }
            Ok(Applied::EventComplete)
        } else {
            self.mid_event = true;
            Ok(Applied::Partial)
        }
    }

    /// Applies a book delta, honours `Gap`/`BookResync` statuses, ignores anything else.
    /// The caller passes one instrument's records.
    pub fn apply_record(&mut self, record: &RecordBuf) -> Result<Applied, DeltaError> {
        if let Some(delta) = record.get::<BookDeltaMsg>() {
            return self.apply(delta);
        }
        if let Some(status) = record.get::<StatusMsg>() {
            if matches!(
                status.kind(),
                Some(StatusKind::Gap | StatusKind::BookResync)
            ) {
                self.invalidate();
                return Ok(Applied::Invalidated);
            }
        }
        Ok(Applied::Ignored)
    }

    /// Marks the book unusable until the next complete image.
    pub fn invalidate(&mut self) {
        self.has_image = false;
        self.in_image = false;
    }

    /// A complete image was seen, no gap since, and no event is half-applied.
    pub fn is_valid(&self) -> bool {
        self.has_image && !self.mid_event
    }

    pub fn book(&self) -> &L2Book {
        &self.book
    }

    /// `update_id` of the last delta applied.
    pub fn last_update_id(&self) -> u64 {
        self.last_update_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::image::{clear_delta, emit_image, set_delta, Stamp};
    use crate::book::Level;
    use tickd_bus::{Flags, Size, Venue};

    fn stamp() -> Stamp {
        Stamp {
            venue: Venue::BinanceUsdm,
            instrument_id: 3,
            ts_event: 0,
            ts_recv: 0,
        }
    }
    fn lv(p: i64, s: i64) -> Level {
        Level::new(Price::from_int(p).unwrap(), Size::from_int(s).unwrap())
    }

    #[test]
    fn image_then_event_rebuilds_the_book_and_validity_follows_last() {
        let mut book = L2Book::new();
        book.replace([lv(100, 1), lv(99, 2)], [lv(101, 1)]);
        let mut records: Vec<RecordBuf> = Vec::new();
        emit_image(&book, &stamp(), 10, &mut records);
        let mut replay = BookReplay::new();
        for r in &records {
            assert!(!replay.is_valid());
            replay.apply_record(r).unwrap();
        }
        assert!(replay.is_valid());
        assert_eq!(replay.book(), &book);

        let first = set_delta(&stamp(), BookSide::Bid, lv(100, 0), 11, Flags::NONE);
        assert_eq!(replay.apply(&first), Ok(Applied::Partial));
        assert!(!replay.is_valid(), "mid-event");
        let last = set_delta(&stamp(), BookSide::Ask, lv(102, 4), 11, Flags::LAST);
        assert_eq!(replay.apply(&last), Ok(Applied::EventComplete));
        assert!(replay.is_valid());
        assert_eq!(replay.book().bids().collect::<Vec<_>>(), [lv(99, 2)]);
        assert_eq!(replay.last_update_id(), 11);
    }

    #[test]
    fn status_gap_invalidates_and_bad_deltas_are_errors() {
        let mut replay = BookReplay::new();
        replay
            .apply(&clear_delta(&stamp(), 1, Flags::SNAPSHOT | Flags::LAST))
            .unwrap();
        assert!(replay.is_valid());
        let status = StatusMsg {
            hd: tickd_bus::RecordHeader::new::<StatusMsg>(Venue::BinanceUsdm, 3, 0, 0),
            kind: StatusKind::Gap as u8,
            _reserved: 0,
            reason: 0,
            conn: 0,
            lost: 0,
            detail: 0,
        };
        assert_eq!(
            replay.apply_record(&RecordBuf::new(&status)),
            Ok(Applied::Invalidated)
        );
        assert!(!replay.is_valid());

        let mut bad = set_delta(&stamp(), BookSide::Bid, lv(1, 1), 2, Flags::LAST);
        bad.side = 9;
        assert_eq!(replay.apply(&bad), Err(DeltaError::UnknownSide(9)));
        bad.side = BookSide::Bid as u8;
        bad.action = 7;
        assert_eq!(replay.apply(&bad), Err(DeltaError::UnknownAction(7)));
        bad.action = BookAction::Set as u8;
        bad.price = Price::UNDEF;
        assert_eq!(replay.apply(&bad), Err(DeltaError::UndefinedPrice));
        // A Clear that is not a snapshot empties the book but does not make it valid.
        replay
            .apply(&clear_delta(&stamp(), 3, Flags::LAST))
            .unwrap();
        assert!(!replay.is_valid());
    }
}
