//! One pair's book on one simulated Kraken connection (`kraken.md` §7.1): the true
//! book (every level, as of the last market update applied) and the window the
//! client holds (the best `depth` levels a side). An update carries what changed in
//! the window: new and resized levels, and deletions of levels that left the true
//! book. A level pushed below the window by a better one is not deleted on the wire
//! (the client truncates), and one that comes back into the window is sent again.

use std::collections::BTreeMap;

use tickd_bus::{Price, Size};
use tickd_normalizer::kraken::checksum::{self, Precision};
use tickd_normalizer::Level;

use crate::sim::apply_levels as apply;

type Side = BTreeMap<Price, Size>;

pub(crate) struct ClientBook {
    /// The market update id the true book is at.
    pub seq: u64,
    depth: usize,
    bids: Side,
    asks: Side,
    /// The client's window, best first.
    view_bids: Vec<Level>,
    view_asks: Vec<Level>,
}

fn top<'a>(levels: impl Iterator<Item = (&'a Price, &'a Size)>, depth: usize) -> Vec<Level> {
    levels
        .take(depth)
        .map(|(p, s)| Level::new(*p, *s))
        .collect()
}

/// The entries that turn window `old` into `new` (same side); `side` is the true book.
fn diff(old: &[Level], new: &[Level], side: &Side, out: &mut Vec<Level>) {
    out.clear();
    for l in new {
        if !old.contains(l) {
            out.push(*l);
        }
    }
    for l in old {
        if !side.contains_key(&l.price) {
            out.push(Level::new(l.price, Size::ZERO));
        }
    }
}

impl ClientBook {
    /// The book as of update `seq`, from every level of the true book (best first).
    pub fn new(seq: u64, depth: usize, bids: &[Level], asks: &[Level]) -> Self {
        let mut book = Self {
            seq,
            depth,
            bids: bids.iter().map(|l| (l.price, l.size)).collect(),
            asks: asks.iter().map(|l| (l.price, l.size)).collect(),
            view_bids: Vec::new(),
            view_asks: Vec::new(),
        };
        book.view_bids = top(book.bids.iter().rev(), depth);
        book.view_asks = top(book.asks.iter(), depth);
        book
    }

    pub fn bids(&self) -> &[Level] {
        &self.view_bids
    }

    pub fn asks(&self) -> &[Level] {
        &self.view_asks
    }

    /// Apply a market update (id `last`); `bids`/`asks` get the window's changes
    /// (empty when the window did not change).
    pub fn update(
        &mut self,
        last: u64,
        changes: (&[Level], &[Level]),
        bids: &mut Vec<Level>,
        asks: &mut Vec<Level>,
    ) {
        apply(&mut self.bids, changes.0);
        apply(&mut self.asks, changes.1);
        self.seq = last;
        let new_bids = top(self.bids.iter().rev(), self.depth);
        let new_asks = top(self.asks.iter(), self.depth);
        diff(&self.view_bids, &new_bids, &self.bids, bids);
        diff(&self.view_asks, &new_asks, &self.asks, asks);
        self.view_bids = new_bids;
        self.view_asks = new_asks;
    }

    pub fn checksum(&self, precision: Precision) -> u32 {
        checksum::of_levels(
            self.view_asks.iter().copied(),
            self.view_bids.iter().copied(),
            precision,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(p: i64, s: i64) -> Level {
        Level::new(
            Price::from_raw(i128::from(p) * Price::ONE_RAW),
            Size::from_raw(i128::from(s) * Size::ONE_RAW),
        )
    }

    /// The client's rule (apply in order, truncate) on the sent entries gives the window.
    fn client(view: &mut Side, entries: &[Level], depth: usize, best_high: bool) {
        apply(view, entries);
        while view.len() > depth {
            let worst = if best_high {
                view.keys().next().copied()
            } else {
                view.keys().next_back().copied()
            };
            if let Some(p) = worst {
                view.remove(&p);
            }
        }
    }

    #[test]
    fn the_client_rule_on_the_sent_entries_keeps_the_window() {
        let bids: Vec<Level> = (1..=6).map(|k| l(100 - k, k)).collect();
        let asks: Vec<Level> = (1..=6).map(|k| l(100 + k, k)).collect();
        let mut book = ClientBook::new(1, 3, &bids, &asks);
        let mut cb: Side = book.bids().iter().map(|l| (l.price, l.size)).collect();
        let mut ca: Side = book.asks().iter().map(|l| (l.price, l.size)).collect();
        let (mut ob, mut oa) = (Vec::new(), Vec::new());
        let steps: [(&[Level], &[Level]); 5] = [
            // A better bid pushes 97 out: no deletion is sent for it.
            (&[l(100, 9)], &[]),
            // The best bid goes: 97 comes back into the window.
            (&[l(100, 0)], &[]),
            // A level below the window changes: nothing to send.
            (&[l(95, 7)], &[]),
            // Asks: delete inside the window, resize another.
            (&[], &[l(101, 0), l(102, 5)]),
            (&[l(99, 0), l(98, 0)], &[l(90, 0)]),
        ];
        for (i, (b, a)) in steps.iter().enumerate() {
            book.update(2 + i as u64, (b, a), &mut ob, &mut oa);
            if i == 0 {
                assert_eq!(ob, [l(100, 9)], "no deletion for the level pushed out");
            }
            if i == 2 {
                assert!(ob.is_empty() && oa.is_empty());
            }
            client(&mut cb, &ob, 3, true);
            client(&mut ca, &oa, 3, false);
            let want_b: Vec<Level> = book.bids().to_vec();
            let got_b: Vec<Level> = cb.iter().rev().map(|(p, s)| Level::new(*p, *s)).collect();
            let got_a: Vec<Level> = ca.iter().map(|(p, s)| Level::new(*p, *s)).collect();
            assert_eq!(got_b, want_b, "step {i}");
            assert_eq!(got_a, book.asks(), "step {i}");
        }
    }
}
