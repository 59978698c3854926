//! Trades over a time range, in pages that resume exactly where the last one ended.

use tickd_bus::record::TradeMsg;
use tickd_bus::RecordRef;

use super::scan::Scan;
use super::CLOCK_SLACK_NS;

/// Where a page of trades ended, so the next page starts right after it.
///
/// Trades come in journal order, which is receive order up to small reorderings between
/// a venue's connections. The next page reads from `ts_recv` (the last trade's receive
/// time less [`CLOCK_SLACK_NS`]) and skips the first `skip` matching trades: those the
/// earlier pages already gave from that point on. That is exact unless the receive clock
/// stepped back by more than the slack between two trades of one instrument.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TradeCursor {
    pub ts_recv: u64,
    pub skip: u64,
}

impl std::fmt::Display for TradeCursor {
    /// `<ts_recv>.<skip>`, as a `cursor=` parameter carries it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.ts_recv, self.skip)
    }
}

impl std::str::FromStr for TradeCursor {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad =
            || format!("cursor {text:?}: pass the `next` link of the previous page as it came");
        let (ts, skip) = text.split_once('.').ok_or_else(bad)?;
        Ok(TradeCursor {
            ts_recv: ts.parse().map_err(|_| bad())?,
            skip: skip.parse().map_err(|_| bad())?,
        })
    }
}

/// Trades whose time is in the query's range, in journal order.
pub struct TradeIter {
    scan: Scan,
    /// Matching trades still to pass over (a page that resumes at a cursor).
    skip: u64,
    /// The receive time this scan starts from (a cursor's; 0 without one).
    start: u64,
    /// Receive times of every matching trade taken so far (passed over or returned),
    /// kept once [`TradeIter::track_cursor`] asks for them.
    seen: Option<Vec<u64>>,
    last_returned: Option<u64>,
    peeked: Option<TradeMsg>,
}

impl TradeIter {
    pub(super) fn new(scan: Scan, cursor: Option<TradeCursor>) -> Self {
        let cursor = cursor.unwrap_or_default();
        Self {
            scan,
            skip: cursor.skip,
            start: cursor.ts_recv,
            seen: None,
            last_returned: None,
            peeked: None,
        }
    }

    /// Damaged blocks, unreadable segments and torn tails skipped: these trades
    /// may be missing from the answer.
    pub fn problems(&self) -> &[crate::journal::ReadProblem] {
        self.scan.problems()
    }

    /// Keep what [`TradeIter::cursor`] needs (8 bytes per trade of the page, plus the
    /// trades of the slack window it passed over).
    pub fn track_cursor(&mut self) {
        self.seen.get_or_insert_with(Vec::new);
    }

    /// Whether another trade follows (read ahead, not taken).
    pub fn has_more(&mut self) -> bool {
        if self.peeked.is_none() {
            self.peeked = self.fetch();
        }
        self.peeked.is_some()
    }

    /// Where the next page starts: after the last trade returned so far.
    pub fn cursor(&self) -> Option<TradeCursor> {
        let seen = self.seen.as_ref()?;
        let ts_recv = self
            .last_returned?
            .saturating_sub(CLOCK_SLACK_NS)
            .max(self.start);
        let skip = seen.iter().filter(|&&t| t >= ts_recv).count() as u64;
        Some(TradeCursor { ts_recv, skip })
    }

    fn fetch(&mut self) -> Option<TradeMsg> {
        let (from, to) = (self.scan.from_ns, self.scan.to_ns);
        while let Some(record) = self.scan.next_ref() {
            let RecordRef::Trade(trade) = record else {
                continue;
            };
            if !(from..to).contains(&super::scan::record_time(&trade.hd)) {
                continue;
            }
            let trade = *trade;
            if self.skip > 0 {
                self.skip -= 1;
                if let Some(seen) = &mut self.seen {
                    seen.push(trade.hd.ts_recv);
                }
                continue;
            }
            return Some(trade);
        }
        None
    }
}

impl Iterator for TradeIter {
    type Item = TradeMsg;

    fn next(&mut self) -> Option<TradeMsg> {
        let trade = self.peeked.take().or_else(|| self.fetch())?;
        if let Some(seen) = &mut self.seen {
            seen.push(trade.hd.ts_recv);
        }
        self.last_returned = Some(trade.hd.ts_recv);
        Some(trade)
    }
}
