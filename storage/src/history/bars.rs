//! Bars for any whole-second interval, from stored 1-second bars or, where the journal
//! has none (written before bar writing existed), from its trades on the fly.
//!
//! The range is cut into UTC days. Per day, the first stored 1-second bar found marks
//! the cutover: seconds after it come from stored bars; it and the seconds before it
//! (and whole days without stored bars) are built from the trades with the same
//! [`BarBuilder`] the writer uses, so both paths give the same bars. The 1-second
//! stream then goes through [`aggregate`].
//!
//! Known limit: a writer that restarts (or crashes) after the cutover loses or splits
//! the bars of the seconds it had open (the bus writer's `BarTap` flushes on a clean
//! stop; a second that spans two sessions keeps the later session's bar). The trades
//! are all in the journal; a query over such a second is exact only from trades.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tickd_bus::record::BarMsg;
use tickd_bus::{RecordRef, RecordType, Venue};

use super::scan::Scan;
use super::{check_range, HistoryError, RangeQuery, CLOCK_SLACK_NS};
use crate::bars::{
    aggregate, bucket_start, trade_time, Aggregator, BarBuilder, FillPolicy, AMEND_WINDOW_SECS,
    NANOS_PER_SEC,
};
use crate::journal::layout::{list_days, NS_PER_DAY};

/// Bars of `interval_s` seconds whose start is in `[from_ns, to_ns)`; each bar covers
/// its whole interval, also past `to_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarQuery {
    pub venue: Venue,
    pub instrument_id: u32,
    pub interval_s: u32,
    pub from_ns: u64,
    pub to_ns: u64,
    pub fill: FillPolicy,
}

type ErrorSlot = Arc<Mutex<Option<HistoryError>>>;

/// The bars of a [`BarQuery`], streamed. A journal error met after the first day ends
/// the stream early; [`Bars::take_error`] returns it.
pub struct Bars {
    inner: Aggregator<SecondBars>,
    error: ErrorSlot,
}

impl Bars {
    /// The error that ended the stream early, if any.
    pub fn take_error(&self) -> Option<HistoryError> {
        self.error.lock().ok().and_then(|mut slot| slot.take())
    }

    /// Takes the error after the iterator itself has moved (into a streamed response).
    pub fn error_handle(&self) -> BarsError {
        BarsError(Arc::clone(&self.error))
    }
}

/// See [`Bars::error_handle`].
pub struct BarsError(ErrorSlot);

impl BarsError {
    pub fn take(&self) -> Option<HistoryError> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

impl Iterator for Bars {
    type Item = BarMsg;

    fn next(&mut self) -> Option<BarMsg> {
        self.inner.next()
    }
}

fn ceil_to(ts: u64, width: u64) -> u64 {
    ts.div_ceil(width).saturating_mul(width)
}

pub(super) fn query(dir: &Path, q: &BarQuery) -> Result<Bars, HistoryError> {
    if q.interval_s == 0 {
        return Err(HistoryError::BadInterval);
    }
    check_range(q.from_ns, q.to_ns)?;
    let width = u64::from(q.interval_s) * NANOS_PER_SEC;
    // Whole buckets whose start is in [from, to).
    let from = ceil_to(q.from_ns, width);
    let to = ceil_to(q.to_ns, width);
    // Days that may hold the range's records: a day folder, or the next one (late receipt).
    let days: VecDeque<u64> = list_days(dir, q.venue)
        .map_err(|source| crate::journal::JournalError::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .into_iter()
        .flat_map(|(day, _)| [u64::from(day).saturating_sub(1), u64::from(day)])
        .filter(|&day| day * NS_PER_DAY < to && (day + 1) * NS_PER_DAY > from)
        .collect::<std::collections::BTreeSet<u64>>()
        .into_iter()
        .collect();
    let error = ErrorSlot::default();
    let mut seconds = SecondBars {
        dir: dir.to_path_buf(),
        venue: q.venue,
        instrument_id: q.instrument_id,
        from,
        to,
        days,
        current: None,
        error: error.clone(),
    };
    // Open the first day now so that errors there are the caller's, not the stream's.
    seconds.current = seconds.open_next_day()?;
    let inner = aggregate(seconds, q.interval_s, from, to, q.fill);
    Ok(Bars { inner, error })
}

/// One instrument's 1-second bars over `[from, to)`, day by day.
struct SecondBars {
    dir: PathBuf,
    venue: Venue,
    instrument_id: u32,
    from: u64,
    to: u64,
    days: VecDeque<u64>,
    current: Option<DayBars>,
    error: ErrorSlot,
}

impl SecondBars {
    fn open_next_day(&mut self) -> Result<Option<DayBars>, HistoryError> {
        let Some(day) = self.days.pop_front() else {
            return Ok(None);
        };
        let start = (day * NS_PER_DAY).max(self.from);
        let end = ((day + 1) * NS_PER_DAY).min(self.to);
        let q = RangeQuery {
            venue: self.venue,
            instrument_id: self.instrument_id,
            from_ns: start,
            to_ns: end,
        };
        let after = CLOCK_SLACK_NS + (AMEND_WINDOW_SECS + 1) * NANOS_PER_SEC;
        let kinds = [RecordType::Trade, RecordType::Bar];
        let scan = Scan::open_recv(&self.dir, &q, &kinds, CLOCK_SLACK_NS, after, &[])?;
        Ok(Some(DayBars::new(scan)))
    }
}

impl Iterator for SecondBars {
    type Item = BarMsg;

    fn next(&mut self) -> Option<BarMsg> {
        loop {
            if let Some(bar) = self.current.as_mut()?.next() {
                return Some(bar);
            }
            match self.open_next_day() {
                Ok(next) => self.current = next,
                Err(err) => {
                    if let Ok(mut slot) = self.error.lock() {
                        *slot = Some(err);
                    }
                    self.current = None;
                }
            }
        }
    }
}

/// One day's 1-second bars: stored ones from the cutover on, built ones before it.
struct DayBars {
    scan: Scan,
    /// Seconds at or after this come from stored bars.
    cutover: u64,
    builder: BarBuilder,
    built: Vec<BarMsg>,
    ready: VecDeque<BarMsg>,
    done: bool,
    /// The builder was flushed at the first stored bar.
    flushed: bool,
}

impl DayBars {
    fn new(mut scan: Scan) -> Self {
        let (start, end) = (scan.from_ns, scan.to_ns);
        let mut cutover = end;
        while let Some(record) = scan.next_ref() {
            if let RecordRef::Bar(bar) = record {
                if bar.interval_s == 1 && (start..end).contains(&bar.hd.ts_event) {
                    // The first stored second itself may hold trades journaled before
                    // bar writing started (a restart mid-second): build it from trades.
                    cutover = bar.hd.ts_event.saturating_add(NANOS_PER_SEC).min(end);
                    break;
                }
            }
        }
        scan.rewind();
        Self {
            scan,
            cutover,
            builder: BarBuilder::new(),
            built: Vec::new(),
            ready: VecDeque::new(),
            done: false,
            flushed: false,
        }
    }

    fn keep(&mut self, bar: BarMsg) {
        let (start, end) = (self.scan.from_ns, self.scan.to_ns);
        if (start..end).contains(&bar.hd.ts_event) {
            self.ready.push_back(bar);
        }
    }
}

impl Iterator for DayBars {
    type Item = BarMsg;

    fn next(&mut self) -> Option<BarMsg> {
        loop {
            if let Some(bar) = self.ready.pop_front() {
                return Some(bar);
            }
            if self.done {
                return None;
            }
            let (start, cutover) = (self.scan.from_ns, self.cutover);
            match self.scan.next_ref() {
                Some(RecordRef::Bar(bar)) => {
                    if bar.interval_s == 1 && bar.hd.ts_event >= cutover {
                        let bar = *bar;
                        if !self.flushed {
                            // Built bars end at the cutover: out with them now, in
                            // time order ahead of the stored ones.
                            self.flushed = true;
                            self.builder.flush_before(cutover, &mut self.built);
                        }
                        self.built.push(bar);
                    }
                }
                Some(RecordRef::Trade(trade)) => {
                    let second = bucket_start(trade_time(trade), 1);
                    if second >= start && second < cutover {
                        let trade = *trade;
                        self.builder.on_trade(&trade, &mut self.built);
                    }
                }
                Some(_) => {}
                None => {
                    self.done = true;
                    self.builder.flush_all(&mut self.built);
                }
            }
            let built = std::mem::take(&mut self.built);
            for bar in &built {
                self.keep(*bar);
            }
            self.built = built;
            self.built.clear();
        }
    }
}
