//! An independent reference book for the Bybit book tests: serde_json and integer
//! maps, no tickd code, by the rules in `bybit.md` §7 (size 0 deletes).

use std::collections::BTreeMap;

use tickd_normalizer::book::L2Book;
use tickd_normalizer::Level;

/// A decimal string as an integer count of 1e-8 (every sample value fits).
pub fn fixed(text: &str) -> i128 {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    assert!(frac.len() <= 8, "{text}");
    let frac = format!("{frac:0<8}");
    int.parse::<i128>().unwrap() * 100_000_000 + frac.parse::<i128>().unwrap()
}

/// An integer count of 1e-8 as a decimal string.
pub fn text(v: i128) -> String {
    format!("{}.{:08}", v / 100_000_000, v % 100_000_000)
}

fn as_fixed(level: Level) -> (i128, i128) {
    let scale = |raw: i128, one: i128| raw * 100_000_000 / one;
    (
        scale(level.price.raw(), tickd_bus::Price::ONE_RAW),
        scale(level.size.raw(), tickd_bus::Size::ONE_RAW),
    )
}

/// price → size per side, and the `u` and `seq` of the last message applied.
#[derive(Default, Clone)]
pub struct Reference {
    pub bids: BTreeMap<i128, i128>,
    pub asks: BTreeMap<i128, i128>,
    pub u: u64,
    pub seq: u64,
}

impl Reference {
    /// One `orderbook.N` frame: a snapshot replaces, a delta updates.
    pub fn apply(&mut self, line: &str) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["type"] == "snapshot" {
            *self = Reference::default();
        }
        for (key, side) in [("b", &mut self.bids), ("a", &mut self.asks)] {
            for level in v["data"][key].as_array().unwrap() {
                let (price, size) = (
                    fixed(level[0].as_str().unwrap()),
                    fixed(level[1].as_str().unwrap()),
                );
                if size == 0 {
                    side.remove(&price);
                } else {
                    side.insert(price, size);
                }
            }
        }
        self.u = v["data"]["u"].as_u64().unwrap();
        self.seq = v["data"]["seq"].as_u64().unwrap();
    }

    /// `book` holds exactly these levels, and is not crossed.
    pub fn assert_equals(&self, book: &L2Book, at: &str) {
        assert!(!book.is_crossed(), "{at}");
        let bids: Vec<(i128, i128)> = book.bids().map(as_fixed).collect();
        let asks: Vec<(i128, i128)> = book.asks().map(as_fixed).collect();
        let want_bids: Vec<(i128, i128)> = self.bids.iter().rev().map(|(p, s)| (*p, *s)).collect();
        let want_asks: Vec<(i128, i128)> = self.asks.iter().map(|(p, s)| (*p, *s)).collect();
        assert_eq!(bids, want_bids, "bids {at}");
        assert_eq!(asks, want_asks, "asks {at}");
    }
}
