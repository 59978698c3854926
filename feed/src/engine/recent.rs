//! The last few thousand opaque trade ids (Bybit UUIDs), to drop duplicates from
//! overlapping connections when ids have no order.

use std::collections::{HashSet, VecDeque};

/// `(instrument, id low 64 bits, id high 64 bits)`.
pub type TradeKey = (u32, u64, u64);

/// Ids remembered; older ones are forgotten first.
const REMEMBERED: usize = 8192;

#[derive(Debug, Default)]
pub struct RecentIds {
    set: HashSet<TradeKey>,
    order: VecDeque<TradeKey>,
}

impl RecentIds {
    /// True when `key` was not seen lately (and remembers it).
    pub fn insert(&mut self, key: TradeKey) -> bool {
        if !self.set.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_and_old_ids_forgotten() {
        let mut recent = RecentIds::default();
        assert!(recent.insert((1, 7, 9)));
        assert!(!recent.insert((1, 7, 9)));
        assert!(recent.insert((2, 7, 9)), "per instrument");
        for i in 0..REMEMBERED as u64 {
            recent.insert((3, i, 0));
        }
        assert!(
            recent.insert((1, 7, 9)),
            "forgotten after {REMEMBERED} newer ids"
        );
    }
}
