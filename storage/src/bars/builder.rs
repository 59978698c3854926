//! Trades → 1-second bars, as they arrive.

use std::collections::HashMap;

use tickd_bus::record::{BarMsg, TradeMsg};

use super::{add_trade, bar_from_trade, bucket_start, trade_time, NANOS_PER_SEC};

/// How far behind the open second a late trade may be and still amend its bar.
/// Readers rely on it: a bar for second S is never re-emitted after a bar for a
/// second later than S + AMEND_WINDOW_SECS, so they reorder with bounded memory.
pub const AMEND_WINDOW_SECS: u64 = 60;

/// Builds 1-second bars per instrument from a trade stream.
///
/// A bar is emitted when its second closes: on the first trade of a later second, or
/// by [`BarBuilder::flush_before`] once the clock has passed it. Exchange trade times
/// are not perfectly ordered, so a trade for a second that already closed (within the
/// last [`AMEND_WINDOW_SECS`]) re-emits that second's bar amended; readers keep the last bar for a
/// given (instrument, start). Older late trades are counted and dropped.
#[derive(Debug, Default)]
pub struct BarBuilder {
    open: HashMap<(u8, u32), InstrumentBars>,
    stats: BarBuilderStats,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BarBuilderStats {
    pub trades: u64,
    pub bars_emitted: u64,
    pub amended: u64,
    pub late_dropped: u64,
}

#[derive(Debug)]
struct InstrumentBars {
    current: BarMsg,
    /// Recently closed bars, oldest first, for amendments.
    closed: std::collections::VecDeque<BarMsg>,
}

impl BarBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn stats(&self) -> BarBuilderStats {
        self.stats
    }

    /// Add a trade; closed or amended bars are appended to `out`.
    pub fn on_trade(&mut self, trade: &TradeMsg, out: &mut Vec<BarMsg>) {
        self.stats.trades += 1;
        let start = bucket_start(trade_time(trade), 1);
        let key = (trade.hd.venue, trade.hd.instrument_id);
        let Some(bars) = self.open.get_mut(&key) else {
            self.open.insert(
                key,
                InstrumentBars {
                    current: bar_from_trade(trade, start, 1),
                    closed: Default::default(),
                },
            );
            return;
        };
        let current_start = bars.current.hd.ts_event;
        let placeholder = bars.current.trade_count == 0;
        if start == current_start && !placeholder {
            add_trade(&mut bars.current, trade);
        } else if start > current_start {
            let next = bar_from_trade(trade, start, 1);
            let finished = std::mem::replace(&mut bars.current, next);
            if !placeholder {
                self.stats.bars_emitted += 1;
                out.push(finished);
                bars.closed.push_back(finished);
            }
            bars.prune(start);
        } else if start + AMEND_WINDOW_SECS * NANOS_PER_SEC <= current_start {
            self.stats.late_dropped += 1;
        } else if let Some(bar) = bars.closed.iter_mut().find(|b| b.hd.ts_event == start) {
            amend(bar, trade);
            self.stats.amended += 1;
            out.push(*bar);
        } else {
            // A second with no trades until now, inside the window.
            let bar = bar_from_trade(trade, start, 1);
            let at = bars.closed.partition_point(|b| b.hd.ts_event < start);
            bars.closed.insert(at, bar);
            self.stats.amended += 1;
            out.push(bar);
        }
    }

    /// Emit every open bar whose second ended before `now` (ns): call on a timer so
    /// quiet instruments' bars are not held back until their next trade.
    pub fn flush_before(&mut self, now: u64, out: &mut Vec<BarMsg>) {
        for bars in self.open.values_mut() {
            let end = bars.current.hd.ts_event + NANOS_PER_SEC;
            if end <= now && bars.current.trade_count > 0 {
                let finished = bars.current;
                out.push(finished);
                self.stats.bars_emitted += 1;
                bars.closed.push_back(finished);
                // An empty placeholder: the next trade replaces it.
                bars.current.trade_count = 0;
            }
        }
    }

    /// Emit every open bar (at shutdown).
    pub fn flush_all(&mut self, out: &mut Vec<BarMsg>) {
        self.flush_before(u64::MAX, out);
    }
}

/// Add a late trade to a closed bar: open/close keep trade-time order, so a late trade
/// can only change high, low, volume, notional and count — except when it is earlier
/// or later than every trade in the bar, which we cannot know from the bar alone, so
/// the bar's open and close stay as first seen. Documented as the price of lateness.
fn amend(bar: &mut BarMsg, trade: &TradeMsg) {
    let (open, close) = (bar.open, bar.close);
    add_trade(bar, trade);
    bar.open = open;
    bar.close = close;
}

impl InstrumentBars {
    /// Forget closed bars that can no longer be amended.
    fn prune(&mut self, current_start: u64) {
        let window = AMEND_WINDOW_SECS * NANOS_PER_SEC;
        while self
            .closed
            .front()
            .is_some_and(|b| b.hd.ts_event + window <= current_start)
        {
            self.closed.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::record::RecordHeader;
    use tickd_bus::{Price, Size, Venue};

    fn trade(ts_s: f64, price: &str, size: &str) -> TradeMsg {
        let ts = (ts_s * 1e9) as u64;
        TradeMsg {
            hd: RecordHeader::new::<TradeMsg>(Venue::Binance, 1, ts, ts),
            price: Price::parse_str(price).unwrap(),
            size: Size::parse_str(size).unwrap(),
            trade_id: 0,
            trade_id_hi: 0,
            side: 0,
            _reserved: [0; 7],
        }
    }

    #[test]
    fn closes_a_second_on_the_next_seconds_trade() {
        let mut builder = BarBuilder::new();
        let mut out = Vec::new();
        builder.on_trade(&trade(10.1, "100", "1"), &mut out);
        builder.on_trade(&trade(10.5, "102", "2"), &mut out);
        builder.on_trade(&trade(10.9, "99", "1"), &mut out);
        assert!(out.is_empty());
        builder.on_trade(&trade(12.0, "101", "1"), &mut out);
        assert_eq!(out.len(), 1);
        let bar = out[0];
        assert_eq!(bar.hd.ts_event, 10 * NANOS_PER_SEC);
        assert_eq!(
            (bar.open.to_string(), bar.high.to_string()),
            ("100".into(), "102".into())
        );
        assert_eq!(
            (bar.low.to_string(), bar.close.to_string()),
            ("99".into(), "99".into())
        );
        assert_eq!(bar.volume.to_string(), "4");
        assert_eq!(bar.trade_count, 3);
        assert_eq!(super::super::vwap(&bar).unwrap().to_string(), "100.75");
    }

    #[test]
    fn late_trades_amend_recent_bars_and_old_ones_are_counted() {
        let mut builder = BarBuilder::new();
        let mut out = Vec::new();
        builder.on_trade(&trade(10.0, "100", "1"), &mut out);
        builder.on_trade(&trade(11.0, "100", "1"), &mut out);
        builder.on_trade(&trade(12.0, "100", "1"), &mut out);
        out.clear();
        builder.on_trade(&trade(10.5, "105", "1"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].high.to_string(), "105");
        assert_eq!(out[0].trade_count, 2);
        builder.on_trade(&trade(200.0, "100", "1"), &mut out);
        builder.on_trade(&trade(1.0, "100", "1"), &mut out);
        assert_eq!(builder.stats().late_dropped, 1);
    }

    #[test]
    fn flush_emits_quiet_instruments() {
        let mut builder = BarBuilder::new();
        let mut out = Vec::new();
        builder.on_trade(&trade(10.2, "100", "1"), &mut out);
        builder.flush_before(10 * NANOS_PER_SEC + 999_999_999, &mut out);
        assert!(out.is_empty());
        builder.flush_before(11 * NANOS_PER_SEC, &mut out);
        assert_eq!(out.len(), 1);
        builder.flush_before(20 * NANOS_PER_SEC, &mut out);
        assert_eq!(out.len(), 1, "an emitted bar is not emitted twice");
        builder.on_trade(&trade(21.0, "100", "1"), &mut out);
        assert_eq!(out.len(), 1, "placeholder is replaced, not emitted");
    }
}
