//! OHLCV bars built from trades.
//!
//! Trades become 1-second bars as they arrive ([`BarBuilder`]); those are stored in the
//! journal like any record. A query for any whole-second interval (1s, 5s, 1m, 4h, 1d,
//! custom) folds the stored 1-second bars into UTC-aligned buckets ([`aggregate`]).
//! Because notional (Σ price × size) is kept exactly (256 bits at scale 42), folding bars loses
//! nothing: an aggregated bar equals the bar computed straight from the trades.

mod aggregate;
mod builder;
mod row;

pub use aggregate::{aggregate, Aggregator, FillPolicy};
pub use builder::{BarBuilder, BarBuilderStats, AMEND_WINDOW_SECS};
pub use row::{BarRow, CSV_HEADER};

use tickd_bus::decimal::{notional, Notional, Price};
use tickd_bus::record::{BarMsg, TradeMsg};
use tickd_bus::{Flags, RecordHeader, Venue};

/// Nanoseconds per second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// The time a trade counts at: the exchange's event time, or receive time when the
/// venue sent none.
pub fn trade_time(trade: &TradeMsg) -> u64 {
    if trade.hd.ts_event != 0 {
        trade.hd.ts_event
    } else {
        trade.hd.ts_recv
    }
}

/// Start of the `interval_s` bucket holding `ts` (ns), aligned to the Unix epoch,
/// which is UTC midnight-aligned for every interval that divides a day.
pub fn bucket_start(ts: u64, interval_s: u32) -> u64 {
    let width = u64::from(interval_s) * NANOS_PER_SEC;
    ts - ts % width
}

/// A bar opened by one trade.
pub fn bar_from_trade(trade: &TradeMsg, start: u64, interval_s: u32) -> BarMsg {
    let mut bar = BarMsg {
        hd: bar_header(
            trade.hd.venue,
            trade.hd.instrument_id,
            start,
            trade.hd.ts_recv,
        ),
        interval_s,
        trade_count: 1,
        open: trade.price,
        high: trade.price,
        low: trade.price,
        close: trade.price,
        volume: trade.size,
        notional: Notional::ZERO,
    };
    bar.set_notional(notional(trade.price, trade.size));
    bar
}

fn bar_header(venue: u8, instrument_id: u32, start: u64, ts_recv: u64) -> RecordHeader {
    let venue = Venue::from_u8(venue).unwrap_or(Venue::Binance);
    let mut hd = RecordHeader::new::<BarMsg>(venue, instrument_id, start, ts_recv);
    hd.venue = venue as u8;
    hd.flags = Flags::NONE;
    hd
}

/// Add one trade that happened after everything already in `bar`.
pub fn add_trade(bar: &mut BarMsg, trade: &TradeMsg) {
    bar.high = bar.high.max(trade.price);
    bar.low = bar.low.min(trade.price);
    bar.close = trade.price;
    bar.trade_count = bar.trade_count.saturating_add(1);
    bar.volume = bar
        .volume
        .checked_add(trade.size)
        .unwrap_or(tickd_bus::Size::MAX);
    bar.set_notional(
        bar.notional()
            .saturating_add(notional(trade.price, trade.size)),
    );
    bar.hd.ts_recv = bar.hd.ts_recv.max(trade.hd.ts_recv);
}

/// Fold `later` (a bar whose interval starts after `into`'s trades) into `into`.
pub fn merge(into: &mut BarMsg, later: &BarMsg) {
    into.high = into.high.max(later.high);
    into.low = into.low.min(later.low);
    into.close = later.close;
    into.trade_count = into.trade_count.saturating_add(later.trade_count);
    into.volume = into
        .volume
        .checked_add(later.volume)
        .unwrap_or(tickd_bus::Size::MAX);
    into.set_notional(into.notional().saturating_add(later.notional()));
    into.hd.ts_recv = into.hd.ts_recv.max(later.hd.ts_recv);
}

/// Volume-weighted average price, truncated toward zero to the price scale (display
/// only: the exact value is `notional / volume`). `None` for an empty bar.
pub fn vwap(bar: &BarMsg) -> Option<Price> {
    bar.vwap()
}
