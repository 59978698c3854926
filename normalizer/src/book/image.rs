//! Publishing a book: SNAPSHOT images, per-level deltas and the derived best bid/offer.
//!
//! The record shapes here are the contract [`super::apply`] reads back: an image is one
//! `Clear` then one `Set` per level, all flagged SNAPSHOT, the last also LAST; an empty
//! book is a single `Clear` with SNAPSHOT|LAST.

use tickd_bus::record::{BboMsg, BookAction, BookDeltaMsg, BookSide};
use tickd_bus::{Flags, Price, RecordHeader, Size, Venue};

use super::{L2Book, Level};
use crate::sink::RecordSink;

/// Where and when records are stamped: everything but the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub venue: Venue,
    pub instrument_id: u32,
    pub ts_event: u64,
    pub ts_recv: u64,
}

impl Stamp {
    fn header<R: tickd_bus::Record>(&self, flags: Flags) -> RecordHeader {
        let mut hd =
            RecordHeader::new::<R>(self.venue, self.instrument_id, self.ts_event, self.ts_recv);
        hd.flags = flags;
        hd
    }
}

/// One `Set` delta (size 0 deletes the level).
pub fn set_delta(
    stamp: &Stamp,
    side: BookSide,
    level: Level,
    update_id: u64,
    flags: Flags,
) -> BookDeltaMsg {
    BookDeltaMsg {
        hd: stamp.header::<BookDeltaMsg>(flags),
        price: level.price,
        size: level.size,
        update_id,
        side: side as u8,
        action: BookAction::Set as u8,
        _reserved: [0; 6],
    }
}

/// The `Clear` that opens an image. It has no side (0) and no price (`UNDEF`).
pub fn clear_delta(stamp: &Stamp, update_id: u64, flags: Flags) -> BookDeltaMsg {
    BookDeltaMsg {
        hd: stamp.header::<BookDeltaMsg>(flags),
        price: Price::UNDEF,
        size: Size::ZERO,
        update_id,
        side: 0,
        action: BookAction::Clear as u8,
        _reserved: [0; 6],
    }
}

/// Emits `book` as a SNAPSHOT image stamped with `update_id`. Returns the number of records.
pub fn emit_image(
    book: &L2Book,
    stamp: &Stamp,
    update_id: u64,
    out: &mut impl RecordSink,
) -> usize {
    let total = book.len();
    let clear_flags = if total == 0 {
        Flags::SNAPSHOT | Flags::LAST
    } else {
        Flags::SNAPSHOT
    };
    out.push_record(&clear_delta(stamp, update_id, clear_flags));
    let levels = book
        .bids()
        .map(|l| (BookSide::Bid, l))
        .chain(book.asks().map(|l| (BookSide::Ask, l)));
    for (i, (side, level)) in levels.enumerate() {
        let flags = if i + 1 == total {
            Flags::SNAPSHOT | Flags::LAST
        } else {
            Flags::SNAPSHOT
        };
        out.push_record(&set_delta(stamp, side, level, update_id, flags));
    }
    total + 1
}

/// Top of book as published: `None` on a side means that side is empty.
pub type Top = (Option<Level>, Option<Level>);

pub fn top_of(book: &L2Book) -> Top {
    (book.best_bid(), book.best_ask())
}

/// The best bid/offer derived from the book (flagged DERIVED); an empty side is
/// `Price::UNDEF` with size 0.
pub fn bbo_from_top(stamp: &Stamp, top: Top) -> BboMsg {
    let empty = Level::new(Price::UNDEF, Size::ZERO);
    let bid = top.0.unwrap_or(empty);
    let ask = top.1.unwrap_or(empty);
    BboMsg {
        hd: stamp.header::<BboMsg>(Flags::DERIVED),
        bid_price: bid.price,
        bid_size: bid.size,
        ask_price: ask.price,
        ask_size: ask.size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::RecordBuf;

    fn stamp() -> Stamp {
        Stamp {
            venue: Venue::Binance,
            instrument_id: 7,
            ts_event: 1,
            ts_recv: 2,
        }
    }

    #[test]
    fn empty_book_is_one_clear_with_snapshot_and_last() {
        let mut out: Vec<RecordBuf> = Vec::new();
        assert_eq!(emit_image(&L2Book::new(), &stamp(), 9, &mut out), 1);
        let d = out[0].get::<BookDeltaMsg>().unwrap();
        assert_eq!(d.action(), Some(BookAction::Clear));
        assert_eq!(d.hd.flags, Flags::SNAPSHOT | Flags::LAST);
        assert_eq!(d.update_id, 9);
    }

    #[test]
    fn image_is_clear_then_sets_best_first_last_flagged() {
        let mut book = L2Book::new();
        let p = |v| Price::from_int(v).unwrap();
        let s = |v| Size::from_int(v).unwrap();
        book.apply(BookSide::Bid, p(99), s(1));
        book.apply(BookSide::Bid, p(100), s(2));
        book.apply(BookSide::Ask, p(101), s(3));
        let mut out: Vec<RecordBuf> = Vec::new();
        assert_eq!(emit_image(&book, &stamp(), 5, &mut out), 4);
        let deltas: Vec<&BookDeltaMsg> = out
            .iter()
            .map(|r| r.get::<BookDeltaMsg>().unwrap())
            .collect();
        assert_eq!(deltas[0].action(), Some(BookAction::Clear));
        assert_eq!(
            (deltas[1].side(), deltas[1].price),
            (Some(BookSide::Bid), p(100))
        );
        assert_eq!(
            (deltas[2].side(), deltas[2].price),
            (Some(BookSide::Bid), p(99))
        );
        assert_eq!(
            (deltas[3].side(), deltas[3].size),
            (Some(BookSide::Ask), s(3))
        );
        for d in &deltas[..3] {
            assert_eq!(d.hd.flags, Flags::SNAPSHOT);
        }
        assert_eq!(deltas[3].hd.flags, Flags::SNAPSHOT | Flags::LAST);
        assert!(deltas
            .iter()
            .all(|d| d.update_id == 5 && d.hd.sequence == 0));
    }
}
