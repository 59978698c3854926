//! An L2 (price-aggregated) order book: one sorted `Vec` per side, best level at the
//! END of each `Vec`.
//!
//! Why a `Vec` and best-at-the-end: almost every update on a real feed lands within the
//! top ~20 levels, so an insert or delete there moves only the few elements behind it,
//! and finding a level is a binary search over contiguous memory (no pointer chasing).
//! `benches/benches/book.rs` measures this against a `BTreeMap` book; see
//! `benches/BENCHMARKS-book.md`.

use tickd_bus::record::BookSide;
use tickd_bus::{Price, Size};

use super::Level;

/// One side of the book, sorted so the best level is last. `ASKS` picks the order:
/// bids ascending (highest = best at the end), asks descending (lowest = best at the end).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ladder<const ASKS: bool> {
    levels: Vec<Level>,
}

impl<const ASKS: bool> Ladder<ASKS> {
    /// Position of `price` in the ladder's storage order.
    #[inline]
    fn search(&self, price: Price) -> Result<usize, usize> {
        // Most updates touch the top of the book: search the best `HOT` levels first
        // (4 probes instead of 10 on a 1000-level side), the rest only when needed.
        const HOT: usize = 16;
        let split = self.levels.len().saturating_sub(HOT);
        let in_hot = match self.levels.get(split) {
            Some(edge) => Self::order(edge.price, price).is_le(),
            None => true,
        };
        let (offset, range) = if in_hot {
            (split, &self.levels[split..])
        } else {
            (0, &self.levels[..split])
        };
        range
            .binary_search_by(|l| Self::order(l.price, price))
            .map(|at| at + offset)
            .map_err(|at| at + offset)
    }

    /// Storage order of two prices: worse before better.
    #[inline]
    fn order(a: Price, b: Price) -> std::cmp::Ordering {
        if ASKS {
            b.cmp(&a)
        } else {
            a.cmp(&b)
        }
    }

    /// Sets `price` to `size` (0 removes it). Returns whether the side changed.
    #[inline]
    fn apply(&mut self, price: Price, size: Size) -> bool {
        match self.search(price) {
            Ok(at) if size.is_zero() => {
                self.levels.remove(at);
                true
            }
            Ok(at) => {
                let level = &mut self.levels[at];
                let changed = level.size != size;
                level.size = size;
                changed
            }
            // Deleting a level we do not hold is normal on every venue.
            Err(_) if size.is_zero() => false,
            Err(at) => {
                self.levels.insert(at, Level::new(price, size));
                true
            }
        }
    }

    fn best(&self) -> Option<Level> {
        self.levels.last().copied()
    }

    fn best_first(&self) -> impl ExactSizeIterator<Item = Level> + DoubleEndedIterator + '_ {
        self.levels.iter().rev().copied()
    }

    /// Replaces the side with `levels` (any order; zero sizes skipped; for a repeated
    /// price the later entry wins, as if the levels were applied in order).
    fn replace(&mut self, levels: impl IntoIterator<Item = Level>) {
        self.levels.clear();
        self.levels
            .extend(levels.into_iter().filter(|l| !l.size.is_zero()));
        // Stable sort keeps input order among equal prices, so `dedup` below can keep the last.
        if ASKS {
            self.levels.sort_by_key(|l| std::cmp::Reverse(l.price));
        } else {
            self.levels.sort_by_key(|l| l.price);
        }
        self.levels.reverse();
        self.levels.dedup_by_key(|l| l.price);
        self.levels.reverse();
    }

    fn truncate(&mut self, depth: usize) {
        let excess = self.levels.len().saturating_sub(depth);
        self.levels.drain(..excess);
    }
}

/// A price-aggregated order book for one instrument.
///
/// Levels with size 0 are never stored. Equality compares every level of both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct L2Book {
    bids: Ladder<false>,
    asks: Ladder<true>,
}

impl L2Book {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the level at `price` on `side` to `size`; size 0 removes it. Returns whether
    /// the book changed (false for a delete of an absent level or an unchanged size).
    #[inline]
    pub fn apply(&mut self, side: BookSide, price: Price, size: Size) -> bool {
        match side {
            BookSide::Bid => self.bids.apply(price, size),
            BookSide::Ask => self.asks.apply(price, size),
        }
    }

    pub fn best_bid(&self) -> Option<Level> {
        self.bids.best()
    }

    pub fn best_ask(&self) -> Option<Level> {
        self.asks.best()
    }

    /// Crossed or locked: best bid at or above best ask. A one-sided book is not crossed.
    pub fn is_crossed(&self) -> bool {
        match (self.best_bid(), self.best_ask()) {
            (Some(bid), Some(ask)) => bid.price >= ask.price,
            _ => false,
        }
    }

    /// Bids, best (highest) first.
    pub fn bids(&self) -> impl ExactSizeIterator<Item = Level> + DoubleEndedIterator + '_ {
        self.bids.best_first()
    }

    /// Asks, best (lowest) first.
    pub fn asks(&self) -> impl ExactSizeIterator<Item = Level> + DoubleEndedIterator + '_ {
        self.asks.best_first()
    }

    /// The best `n` levels of `side`, best first.
    pub fn top_n(&self, side: BookSide, n: usize) -> Vec<Level> {
        match side {
            BookSide::Bid => self.bids().take(n).collect(),
            BookSide::Ask => self.asks().take(n).collect(),
        }
    }

    pub fn bid_len(&self) -> usize {
        self.bids.levels.len()
    }

    pub fn ask_len(&self) -> usize {
        self.asks.levels.len()
    }

    /// Levels on both sides.
    pub fn len(&self) -> usize {
        self.bid_len() + self.ask_len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every level, keeping the allocations.
    pub fn clear(&mut self) {
        self.bids.levels.clear();
        self.asks.levels.clear();
    }

    /// Keeps only the best `depth` levels of each side.
    pub fn truncate(&mut self, depth: usize) {
        self.bids.truncate(depth);
        self.asks.truncate(depth);
    }

    /// Replaces the whole book with an image (levels in any order, zero sizes skipped).
    pub fn replace(
        &mut self,
        bids: impl IntoIterator<Item = Level>,
        asks: impl IntoIterator<Item = Level>,
    ) {
        self.bids.replace(bids);
        self.asks.replace(asks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(v: i64) -> Price {
        Price::from_int(v).unwrap()
    }
    fn sz(v: i64) -> Size {
        Size::from_int(v).unwrap()
    }
    fn lv(p: i64, s: i64) -> Level {
        Level::new(px(p), sz(s))
    }

    #[test]
    fn sides_iterate_best_first_and_zero_removes() {
        let mut book = L2Book::new();
        for p in [100, 102, 101] {
            assert!(book.apply(BookSide::Bid, px(p), sz(1)));
        }
        for p in [105, 103, 104] {
            assert!(book.apply(BookSide::Ask, px(p), sz(2)));
        }
        assert_eq!(
            book.bids().map(|l| l.price).collect::<Vec<_>>(),
            [px(102), px(101), px(100)]
        );
        assert_eq!(
            book.asks().map(|l| l.price).collect::<Vec<_>>(),
            [px(103), px(104), px(105)]
        );
        assert_eq!(book.best_bid(), Some(lv(102, 1)));
        assert_eq!(book.best_ask(), Some(lv(103, 2)));
        assert!(book.apply(BookSide::Bid, px(102), sz(0)));
        assert!(
            !book.apply(BookSide::Bid, px(99), sz(0)),
            "absent delete is a no-op"
        );
        assert!(
            !book.apply(BookSide::Ask, px(103), sz(2)),
            "same size is a no-op"
        );
        assert_eq!(book.best_bid(), Some(lv(101, 1)));
        assert_eq!(book.len(), 5);
        assert_eq!(book.top_n(BookSide::Ask, 2), vec![lv(103, 2), lv(104, 2)]);
    }

    #[test]
    fn crossed_and_locked_are_detected() {
        let mut book = L2Book::new();
        book.apply(BookSide::Bid, px(100), sz(1));
        assert!(!book.is_crossed(), "one-sided");
        book.apply(BookSide::Ask, px(101), sz(1));
        assert!(!book.is_crossed());
        book.apply(BookSide::Ask, px(100), sz(1));
        assert!(book.is_crossed(), "locked");
        book.apply(BookSide::Ask, px(100), sz(0));
        book.apply(BookSide::Bid, px(102), sz(1));
        assert!(book.is_crossed(), "crossed");
    }

    #[test]
    fn replace_sorts_dedups_and_truncate_keeps_best() {
        let mut book = L2Book::new();
        book.replace(
            [lv(100, 1), lv(102, 0), lv(101, 3), lv(100, 5)],
            [lv(110, 1), lv(108, 2), lv(109, 3)],
        );
        assert_eq!(book.bids().collect::<Vec<_>>(), [lv(101, 3), lv(100, 5)]);
        assert_eq!(
            book.asks().collect::<Vec<_>>(),
            [lv(108, 2), lv(109, 3), lv(110, 1)]
        );
        book.truncate(1);
        assert_eq!(book.bids().collect::<Vec<_>>(), [lv(101, 3)]);
        assert_eq!(book.asks().collect::<Vec<_>>(), [lv(108, 2)]);
        let mut other = L2Book::new();
        other.apply(BookSide::Ask, px(108), sz(2));
        assert_ne!(book, other);
        other.apply(BookSide::Bid, px(101), sz(3));
        assert_eq!(book, other);
        book.clear();
        assert!(book.is_empty());
    }
}
