//! Trades over a time range.

use tickd_bus::record::TradeMsg;
use tickd_bus::RecordRef;

use super::scan::Scan;

/// Trades whose time is in the query's range, in journal order.
pub struct TradeIter {
    scan: Scan,
}

impl TradeIter {
    pub(super) fn new(scan: Scan) -> Self {
        Self { scan }
    }

    /// Damaged blocks, unreadable segments and torn tails skipped: these trades
    /// may be missing from the answer.
    pub fn problems(&self) -> &[crate::journal::ReadProblem] {
        self.scan.problems()
    }
}

impl Iterator for TradeIter {
    type Item = TradeMsg;

    fn next(&mut self) -> Option<TradeMsg> {
        let (from, to) = (self.scan.from_ns, self.scan.to_ns);
        while let Some(record) = self.scan.next_ref() {
            if let RecordRef::Trade(trade) = record {
                let t = super::scan::record_time(&trade.hd);
                if (from..to).contains(&t) {
                    return Some(*trade);
                }
            }
        }
        None
    }
}
