//! Live `bars.<interval>` streams, built in the router from the trades it routes.
//!
//! Only instruments with a bars subscriber are tracked. Their trades go through a
//! [`BarBuilder`] (1-second bars, as storage builds them for the journal); each
//! 1-second bar is folded into one open bar per subscribed interval, UTC-aligned by
//! [`bucket_start`]. An interval's bar is emitted when it closes: when a 1-second bar
//! or trade of a later interval arrives, or when the timer finds the exchange clock
//! (extrapolated from the last trade) past its end.
//!
//! A late trade re-emits its second's bar amended; the amendment is applied to the
//! interval bar as the difference from the version already folded (kept for
//! [`AMEND_WINDOW_SECS`]), so the live bar equals the bar folded from the final
//! 1-second bars. Amendments for an interval already emitted are counted and dropped.

use std::collections::{BTreeMap, HashMap};

use tickd_bus::record::{BarMsg, TradeMsg};
use tickd_bus::Size;
use tickd_storage::bars::{
    bucket_start, merge, trade_time, BarBuilder, AMEND_WINDOW_SECS, NANOS_PER_SEC,
};

/// One interval's bar being built for one instrument.
struct IntervalBar {
    interval_s: u32,
    open: Option<BarMsg>,
    /// Starts of the first and last 1-second bars folded into `open`: a second
    /// arriving out of order must not become the bar's close (or open, unless earlier).
    first_second: u64,
    last_second: u64,
    /// Buckets starting before this were emitted: their amendments are late.
    closed_before: u64,
}

struct InstrumentBars {
    generation: u64,
    ring: usize,
    builder: BarBuilder,
    intervals: Vec<IntervalBar>,
    /// The 1-second bars folded recently, by start, to turn amendments into differences.
    recent: BTreeMap<u64, BarMsg>,
    /// Newest exchange time seen, and the wall clock when it was seen.
    last_event: u64,
    last_wall: u64,
}

/// Every tracked instrument's bars.
#[derive(Default)]
pub struct LiveBars {
    instruments: HashMap<(u8, u32), InstrumentBars>,
    /// Bumped when bars subscriptions change: instruments re-check their intervals.
    generation: u64,
    /// Late trades that could no longer change an emitted bar.
    pub late_dropped: u64,
}

impl LiveBars {
    /// Bars subscriptions changed; `any_left` is false once none remain.
    pub fn subscriptions_changed(&mut self, any_left: bool) {
        self.generation += 1;
        if !any_left {
            self.instruments.clear();
        }
    }

    /// Feeds a trade routed on `ring`. `wanted` lists the intervals subscribed for
    /// its instrument (called only when the subscriptions changed). Closed bars are
    /// appended to `out` with the ring they belong to.
    pub fn on_trade(
        &mut self,
        ring: usize,
        trade: &TradeMsg,
        now_wall: u64,
        wanted: impl FnOnce() -> Vec<u32>,
        out: &mut Vec<(usize, BarMsg)>,
    ) {
        let key = (trade.hd.venue, trade.hd.instrument_id);
        let generation = self.generation;
        let stale = self
            .instruments
            .get(&key)
            .is_none_or(|i| i.generation != generation);
        if stale {
            let mut intervals = wanted();
            intervals.sort_unstable();
            intervals.dedup();
            if intervals.is_empty() {
                self.instruments.remove(&key);
                return;
            }
            let entry = self
                .instruments
                .entry(key)
                .or_insert_with(|| InstrumentBars {
                    generation,
                    ring,
                    builder: BarBuilder::new(),
                    intervals: Vec::new(),
                    recent: BTreeMap::new(),
                    last_event: 0,
                    last_wall: now_wall,
                });
            entry.generation = generation;
            entry
                .intervals
                .retain(|b| intervals.contains(&b.interval_s));
            for interval_s in intervals {
                if !entry.intervals.iter().any(|b| b.interval_s == interval_s) {
                    entry.intervals.push(IntervalBar {
                        interval_s,
                        open: None,
                        first_second: 0,
                        last_second: 0,
                        closed_before: 0,
                    });
                }
            }
        }
        let Some(bars) = self.instruments.get_mut(&key) else {
            return;
        };
        let at = trade_time(trade);
        if at >= bars.last_event {
            bars.last_event = at;
            bars.last_wall = now_wall;
        }
        let mut seconds = Vec::new();
        bars.builder.on_trade(trade, &mut seconds);
        for second in seconds {
            self.late_dropped += bars.fold(second, out);
        }
        // The trade itself opens its interval: earlier intervals are complete.
        bars.close_before(bucket_start(at, 1), out);
    }

    /// Closes what the exchange clock, extrapolated from each instrument's last trade,
    /// has passed.
    pub fn on_timer(&mut self, now_wall: u64, out: &mut Vec<(usize, BarMsg)>) {
        for bars in self.instruments.values_mut() {
            if bars.last_event == 0 {
                continue;
            }
            let event_now = bars.last_event + now_wall.saturating_sub(bars.last_wall);
            let mut seconds = Vec::new();
            bars.builder.flush_before(event_now, &mut seconds);
            for second in seconds {
                self.late_dropped += bars.fold(second, out);
            }
            bars.close_before(event_now, out);
        }
    }
}

impl InstrumentBars {
    /// Folds one (possibly amended) 1-second bar; returns 1 if it came too late.
    fn fold(&mut self, second: BarMsg, out: &mut Vec<(usize, BarMsg)>) -> u64 {
        let start = second.hd.ts_event;
        let previous = self.recent.insert(start, second);
        let keep_from = start.saturating_sub(AMEND_WINDOW_SECS * NANOS_PER_SEC);
        self.recent = self.recent.split_off(&keep_from.min(start));
        let mut late = 0;
        for interval in &mut self.intervals {
            let bucket = bucket_start(start, interval.interval_s);
            if bucket < interval.closed_before {
                late = 1;
                continue;
            }
            match &mut interval.open {
                Some(open) if open.hd.ts_event == bucket => match &previous {
                    Some(before) => amend(open, before, &second),
                    None if start > interval.last_second => {
                        merge(open, &second);
                        interval.last_second = start;
                    }
                    None => {
                        // A second with no trades until now, earlier than the last.
                        let mut empty = second;
                        empty.trade_count = 0;
                        empty.volume = Size::ZERO;
                        empty.set_notional(tickd_bus::decimal::Notional::ZERO);
                        amend(open, &empty, &second);
                        if start < interval.first_second {
                            open.open = second.open;
                            interval.first_second = start;
                        }
                    }
                },
                Some(open) if open.hd.ts_event > bucket => late = 1,
                _ => {
                    let mut next = second;
                    next.hd.ts_event = bucket;
                    next.interval_s = interval.interval_s;
                    interval.first_second = start;
                    interval.last_second = start;
                    if let Some(done) = interval.open.replace(next) {
                        interval.closed_before = done.hd.ts_event;
                        out.push((self.ring, done));
                    }
                }
            }
        }
        late
    }

    /// Emits the interval bars that end at or before `ts`.
    fn close_before(&mut self, ts: u64, out: &mut Vec<(usize, BarMsg)>) {
        for interval in &mut self.intervals {
            let width = u64::from(interval.interval_s) * NANOS_PER_SEC;
            if let Some(open) = interval.open {
                let end = open.hd.ts_event + width;
                if end <= ts {
                    interval.open = None;
                    interval.closed_before = end;
                    out.push((self.ring, open));
                }
            }
        }
    }
}

/// Replaces `before` (a 1-second bar already folded into `open`) by its amended
/// version `after`. Amendments only add trades, so high and low only widen.
fn amend(open: &mut BarMsg, before: &BarMsg, after: &BarMsg) {
    open.high = open.high.max(after.high);
    open.low = open.low.min(after.low);
    open.trade_count = open
        .trade_count
        .saturating_add(after.trade_count.saturating_sub(before.trade_count));
    let added = after.volume.raw().saturating_sub(before.volume.raw());
    open.volume = Size::from_raw(open.volume.raw().saturating_add(added));
    let added = after
        .notional()
        .checked_sub(before.notional())
        .unwrap_or_default();
    open.set_notional(open.notional().saturating_add(added));
    open.hd.ts_recv = open.hd.ts_recv.max(after.hd.ts_recv);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tickd_bus::record::RecordHeader;
    use tickd_bus::{Price, Venue};
    use tickd_storage::bars::{aggregate, FillPolicy};

    const T0: u64 = 1_699_999_980 * NANOS_PER_SEC;

    fn trade(at: u64, price: i64, size: i64) -> TradeMsg {
        TradeMsg {
            hd: RecordHeader::new::<TradeMsg>(Venue::Binance, 3, at, at),
            price: Price::from_raw(price.into()),
            size: Size::from_raw(size.into()),
            trade_id: 0,
            trade_id_hi: 0,
            side: 0,
            _reserved: [0; 7],
        }
    }

    proptest! {
        /// Trades a few seconds out of order (well inside the amend window, never
        /// across an interval already closed by a later one): the live bars equal the
        /// bars folded from the final 1-second bars.
        #[test]
        fn live_bars_equal_aggregate(
            steps in proptest::collection::vec((0u64..4, 0u64..3, 1i64..1000, 1i64..100), 1..200),
            interval_s in prop_oneof![Just(5u32), Just(60), Just(90)],
        ) {
            let mut clock = 0u64;
            let mut trades = Vec::new();
            for (advance, back, price, size) in steps {
                clock += advance;
                // Stay inside the current interval when going back.
                let now = T0 / NANOS_PER_SEC + clock;
                let bucket = now - now % u64::from(interval_s);
                let second = now.saturating_sub(back).max(bucket);
                trades.push(trade(second * NANOS_PER_SEC + 1, price, size));
            }
            let mut live = LiveBars::default();
            let mut out = Vec::new();
            for t in &trades {
                live.on_trade(0, t, 0, || vec![interval_s], &mut out);
            }
            live.on_timer(u64::MAX / 2, &mut out);
            let got: Vec<BarMsg> = out.into_iter().map(|(_, bar)| bar).collect();

            let mut builder = BarBuilder::new();
            let mut seconds = Vec::new();
            for t in &trades {
                builder.on_trade(t, &mut seconds);
            }
            builder.flush_all(&mut seconds);
            let want: Vec<BarMsg> =
                aggregate(seconds.into_iter(), interval_s, 0, u64::MAX, FillPolicy::Omit).collect();
            prop_assert_eq!(live.late_dropped, 0);
            prop_assert_eq!(got, want);
        }
    }
}
