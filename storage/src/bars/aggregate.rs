//! Stored 1-second bars → bars of any whole-second interval, UTC-aligned, streamed.

use std::collections::BTreeMap;

use tickd_bus::record::BarMsg;
use tickd_bus::{Price, Size};

use super::{bucket_start, merge, AMEND_WINDOW_SECS, NANOS_PER_SEC};

/// What to do with intervals that had no trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FillPolicy {
    /// Leave them out.
    #[default]
    Omit,
    /// Emit a bar at the previous close with zero volume, between the first and the
    /// last interval that had trades (never past the data: the future is unknown).
    CarryForward,
}

/// Fold a stream of one instrument's 1-second bars, in journal order, into bars of
/// `interval_s` seconds starting in `[from, to)` (ns).
///
/// The journal may hold a second's bar more than once (late trades re-emit it
/// amended); the last one wins. Amendments trail by at most [`AMEND_WINDOW_SECS`], so
/// the reorder buffer holds about a minute of bars, whatever the query's length.
pub fn aggregate<I: Iterator<Item = BarMsg>>(
    input: I,
    interval_s: u32,
    from: u64,
    to: u64,
    fill: FillPolicy,
) -> Aggregator<I> {
    Aggregator {
        input,
        interval_s: interval_s.max(1),
        from,
        to,
        fill,
        reorder: BTreeMap::new(),
        newest_seen: 0,
        input_done: false,
        open: None,
        last_close: None,
        next_expected: None,
        pending_out: std::collections::VecDeque::new(),
    }
}

/// Iterator returned by [`aggregate`].
pub struct Aggregator<I> {
    input: I,
    interval_s: u32,
    from: u64,
    to: u64,
    fill: FillPolicy,
    /// 1-second bars not yet safe to fold (a later amendment may still come).
    reorder: BTreeMap<u64, BarMsg>,
    newest_seen: u64,
    input_done: bool,
    /// The output bar being built.
    open: Option<BarMsg>,
    last_close: Option<Price>,
    /// Start of the bucket after the last one emitted (for carry-forward).
    next_expected: Option<u64>,
    pending_out: std::collections::VecDeque<BarMsg>,
}

impl<I: Iterator<Item = BarMsg>> Aggregator<I> {
    /// Pull input until a 1-second bar is safe to fold, or input ends.
    fn next_settled(&mut self) -> Option<BarMsg> {
        let settle = (AMEND_WINDOW_SECS + 1) * NANOS_PER_SEC;
        loop {
            if let Some((&start, _)) = self.reorder.first_key_value() {
                if self.input_done || start + settle <= self.newest_seen {
                    return self.reorder.pop_first().map(|(_, bar)| bar);
                }
            } else if self.input_done {
                return None;
            }
            match self.input.next() {
                Some(bar) => {
                    let start = bar.hd.ts_event;
                    if start < self.from || start >= self.to {
                        continue;
                    }
                    self.newest_seen = self.newest_seen.max(start);
                    self.reorder.insert(start, bar); // last one for a second wins
                }
                None => self.input_done = true,
            }
        }
    }

    fn emit(&mut self, bar: BarMsg) {
        let width = u64::from(self.interval_s) * NANOS_PER_SEC;
        if self.fill == FillPolicy::CarryForward {
            if let (Some(mut expected), Some(close)) = (self.next_expected, self.last_close) {
                while expected < bar.hd.ts_event {
                    self.pending_out
                        .push_back(self.carried(expected, close, &bar));
                    expected += width;
                }
            }
        }
        self.last_close = Some(bar.close);
        self.next_expected = Some(bar.hd.ts_event + width);
        self.pending_out.push_back(bar);
    }

    fn carried(&self, start: u64, close: Price, like: &BarMsg) -> BarMsg {
        let mut bar = *like;
        bar.hd.ts_event = start;
        bar.open = close;
        bar.high = close;
        bar.low = close;
        bar.close = close;
        bar.volume = Size::ZERO;
        bar.trade_count = 0;
        bar.set_notional(tickd_bus::decimal::Notional::ZERO);
        bar
    }
}

impl<I: Iterator<Item = BarMsg>> Iterator for Aggregator<I> {
    type Item = BarMsg;

    fn next(&mut self) -> Option<BarMsg> {
        loop {
            if let Some(bar) = self.pending_out.pop_front() {
                return Some(bar);
            }
            let Some(second) = self.next_settled() else {
                let last = self.open.take()?;
                self.emit(last);
                continue;
            };
            let bucket = bucket_start(second.hd.ts_event, self.interval_s);
            match &mut self.open {
                Some(open) if open.hd.ts_event == bucket => merge(open, &second),
                _ => {
                    let mut next = second;
                    next.hd.ts_event = bucket;
                    next.interval_s = self.interval_s;
                    if let Some(done) = self.open.replace(next) {
                        self.emit(done);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{bar_from_trade, BarBuilder};
    use super::*;
    use proptest::prelude::*;
    use tickd_bus::decimal::{notional, Notional};
    use tickd_bus::record::{RecordHeader, TradeMsg};
    use tickd_bus::Venue;

    fn trade(ts: u64, price_raw: i64, size_raw: i64) -> TradeMsg {
        TradeMsg {
            hd: RecordHeader::new::<TradeMsg>(Venue::Binance, 7, ts, ts),
            price: Price::from_raw(price_raw.into()),
            size: Size::from_raw(size_raw.into()),
            trade_id: 0,
            trade_id_hi: 0,
            side: 0,
            _reserved: [0; 7],
        }
    }

    /// Bars straight from trades, the slow obvious way.
    fn brute_force(trades: &[TradeMsg], interval_s: u32, from: u64, to: u64) -> Vec<BarMsg> {
        let mut buckets: BTreeMap<u64, Vec<&TradeMsg>> = BTreeMap::new();
        for t in trades {
            let ts = t.hd.ts_event;
            if ts >= bucket_start(from, 1) && ts < to && bucket_start(ts, 1) >= from {
                buckets
                    .entry(bucket_start(ts, interval_s))
                    .or_default()
                    .push(t);
            }
        }
        buckets
            .into_iter()
            .map(|(start, ts)| {
                let mut bar = bar_from_trade(ts[0], start, interval_s);
                bar.high = ts.iter().map(|t| t.price).max().unwrap();
                bar.low = ts.iter().map(|t| t.price).min().unwrap();
                bar.close = ts.last().unwrap().price;
                bar.volume = Size::from_raw(ts.iter().map(|t| t.size.raw()).sum());
                bar.trade_count = ts.len() as u32;
                bar.set_notional(
                    ts.iter()
                        .map(|t| notional(t.price, t.size))
                        .fold(Notional::ZERO, |a, n| a.checked_add(n).unwrap()),
                );
                bar
            })
            .collect()
    }

    fn built_bars(trades: &[TradeMsg]) -> Vec<BarMsg> {
        let mut builder = BarBuilder::new();
        let mut out = Vec::new();
        for t in trades {
            builder.on_trade(t, &mut out);
        }
        builder.flush_all(&mut out);
        out
    }

    fn key(bar: &BarMsg) -> (u64, u32, i128, i128, i128, i128, i128, u32, Notional) {
        (
            bar.hd.ts_event,
            bar.interval_s,
            bar.open.raw(),
            bar.high.raw(),
            bar.low.raw(),
            bar.close.raw(),
            bar.volume.raw(),
            bar.trade_count,
            bar.notional(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Queried bars equal bars computed by brute force from the raw trades.
        #[test]
        fn aggregated_bars_equal_brute_force(
            gaps in prop::collection::vec((0u64..3_000_000_000, 1i64..1_000_000_000_000, 1i64..10_000_000_000), 1..300),
            interval_s in prop::sample::select(vec![1u32, 2, 5, 60, 300, 3600]),
            from_offset in 0u64..200_000_000_000,
        ) {
            let base = 1_767_225_600 * NANOS_PER_SEC; // 2026-01-01T00:00:00Z
            let mut ts = base;
            let trades: Vec<TradeMsg> = gaps.iter().map(|&(gap, p, q)| { ts += gap; trade(ts, p, q) }).collect();
            let from = bucket_start(base + from_offset, interval_s);
            let to = u64::MAX;
            let got: Vec<_> = aggregate(built_bars(&trades).into_iter(), interval_s, from, to, FillPolicy::Omit).map(|b| key(&b)).collect();
            let want: Vec<_> = brute_force(&trades, interval_s, from, to).iter().map(key).collect();
            prop_assert_eq!(got, want);
        }

        /// Carry-forward fills exactly the empty buckets between the first and last, at the previous close.
        #[test]
        fn carry_forward_fills_every_gap(
            gaps in prop::collection::vec(0u64..400_000_000_000, 1..40),
            interval_s in prop::sample::select(vec![60u32, 300]),
        ) {
            let base = 1_767_225_600 * NANOS_PER_SEC;
            let mut ts = base;
            let trades: Vec<TradeMsg> = gaps.iter().enumerate().map(|(i, &gap)| { ts += gap; trade(ts, 1_000 + i as i64, 1) }).collect();
            let bars: Vec<_> = aggregate(built_bars(&trades).into_iter(), interval_s, 0, u64::MAX, FillPolicy::CarryForward).collect();
            let width = u64::from(interval_s) * NANOS_PER_SEC;
            for pair in bars.windows(2) {
                prop_assert_eq!(pair[1].hd.ts_event, pair[0].hd.ts_event + width);
                if pair[1].trade_count == 0 {
                    prop_assert_eq!(pair[1].open, pair[0].close);
                    prop_assert_eq!(pair[1].close, pair[0].close);
                }
            }
            let with_trades = bars.iter().filter(|b| b.trade_count > 0).count();
            prop_assert_eq!(with_trades, brute_force(&trades, interval_s, 0, u64::MAX).len());
        }
    }

    #[test]
    fn amended_seconds_replace_the_first_version() {
        let s = NANOS_PER_SEC;
        let trades = [
            trade(10 * s, 100, 1),
            trade(11 * s, 100, 1),
            trade(10 * s + 5, 500, 1), // late: amends second 10
            trade(12 * s, 100, 1),
        ];
        let bars: Vec<_> = aggregate(
            built_bars(&trades).into_iter(),
            60,
            0,
            u64::MAX,
            FillPolicy::Omit,
        )
        .collect();
        assert_eq!(bars.len(), 1);
        assert_eq!(bars[0].trade_count, 4);
        assert_eq!(bars[0].high.raw(), 500);
    }

    #[test]
    fn range_bounds_are_half_open() {
        let s = NANOS_PER_SEC;
        let trades = [
            trade(59 * s, 1, 1),
            trade(60 * s, 2, 1),
            trade(119 * s, 3, 1),
            trade(120 * s, 4, 1),
        ];
        let bars: Vec<_> = aggregate(
            built_bars(&trades).into_iter(),
            60,
            60 * s,
            120 * s,
            FillPolicy::Omit,
        )
        .collect();
        assert_eq!(bars.len(), 1);
        assert_eq!(
            (bars[0].open.raw(), bars[0].close.raw(), bars[0].trade_count),
            (2, 3, 2)
        );
    }
}
