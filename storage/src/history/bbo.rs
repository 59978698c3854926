//! Best bid/offer updates over a time range.

use tickd_bus::record::BboMsg;
use tickd_bus::RecordRef;

use super::scan::Scan;

/// Best bid/offer records whose time is in the query's range, in journal order.
pub struct BboIter {
    scan: Scan,
}

impl BboIter {
    pub(super) fn new(scan: Scan) -> Self {
        Self { scan }
    }
}

impl Iterator for BboIter {
    type Item = BboMsg;

    fn next(&mut self) -> Option<BboMsg> {
        let (from, to) = (self.scan.from_ns, self.scan.to_ns);
        while let Some(record) = self.scan.next_ref() {
            if let RecordRef::Bbo(bbo) = record {
                let t = super::scan::record_time(&bbo.hd);
                if (from..to).contains(&t) {
                    return Some(*bbo);
                }
            }
        }
        None
    }
}
