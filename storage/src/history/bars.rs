//! Bars for any whole-second interval, from stored 1-second bars or, where the journal
//! has none (written before bar writing existed), from its trades on the fly.
//!
//! The range is cut into UTC days. Per day, the first stored 1-second bar found marks
//! the cutover: seconds after it come from stored bars; it and the seconds before it
//! (and whole days without stored bars) are built from the trades with the same
//! [`BarBuilder`] the writer uses, so both paths give the same bars. The 1-second
//! stream then goes through [`aggregate`].
//!
//! Each whole day read is also kept as the instrument's own bar series
//! ([`super::series`]: the day's final 1-second bars and their 1-minute rollup), so
//! later queries read only the bars they return: 1-minute rollups for intervals that
//! are whole minutes, 1-second bars otherwise. A day without a usable series, in a
//! query that covers only part of it, is answered from the journal as above.
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
use super::series::Series;
use super::{check_range, HistoryError, RangeQuery, CLOCK_SLACK_NS};
use crate::bars::{
    aggregate, bucket_start, trade_time, Aggregator, BarBuilder, FillPolicy, AMEND_WINDOW_SECS,
    NANOS_PER_SEC,
};
use crate::journal::layout::{list_days, NS_PER_DAY};
use crate::journal::{IndexUse, ReadProblem};

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
type ProblemSlot = Arc<Mutex<Vec<ReadProblem>>>;

/// The bars of a [`BarQuery`], streamed. A journal error met after the first day ends
/// the stream early; [`Bars::take_error`] returns it. Journal problems stepped over
/// (damaged blocks: their trades are missing from the bars) gather in
/// [`Bars::problems_handle`] as the days are read.
pub struct Bars {
    inner: Aggregator<SecondBars>,
    error: ErrorSlot,
    problems: ProblemSlot,
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

    /// The journal problems met in the days read so far (all of them once the
    /// iterator is done), also after the iterator itself has moved.
    pub fn problems_handle(&self) -> BarsProblems {
        BarsProblems(Arc::clone(&self.problems))
    }
}

/// See [`Bars::problems_handle`].
pub struct BarsProblems(ProblemSlot);

impl BarsProblems {
    pub fn get(&self) -> Vec<ReadProblem> {
        self.0.lock().map(|p| p.clone()).unwrap_or_default()
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

/// How long after a day's end a record can still change its bars.
const SLACK_AFTER_NS: u64 = CLOCK_SLACK_NS + (AMEND_WINDOW_SECS + 1) * NANOS_PER_SEC;

pub(super) fn query(dir: &Path, q: &BarQuery, index: IndexUse) -> Result<Bars, HistoryError> {
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
    let problems = ProblemSlot::default();
    let mut seconds = SecondBars {
        dir: dir.to_path_buf(),
        venue: q.venue,
        instrument_id: q.instrument_id,
        from,
        to,
        days,
        current: None,
        error: error.clone(),
        problems: problems.clone(),
        index,
        minutes: q.interval_s.is_multiple_of(60),
    };
    // Open the first day now so that errors there are the caller's, not the stream's.
    seconds.current = seconds.open_next_day()?;
    let inner = aggregate(seconds, q.interval_s, from, to, q.fill);
    Ok(Bars {
        inner,
        error,
        problems,
    })
}

/// One instrument's 1-second bars over `[from, to)`, day by day.
struct SecondBars {
    dir: PathBuf,
    venue: Venue,
    instrument_id: u32,
    from: u64,
    to: u64,
    days: VecDeque<u64>,
    current: Option<DaySource>,
    error: ErrorSlot,
    problems: ProblemSlot,
    index: IndexUse,
    /// The interval is whole minutes: stored series give their 1-minute rollup.
    minutes: bool,
}

impl SecondBars {
    fn open_next_day(&mut self) -> Result<Option<DaySource>, HistoryError> {
        let Some(day) = self.days.pop_front() else {
            return Ok(None);
        };
        let (day_start, day_end) = (day * NS_PER_DAY, (day + 1) * NS_PER_DAY);
        let start = day_start.max(self.from);
        let end = day_end.min(self.to);
        if self.index == IndexUse::Auto {
            let d = u32::try_from(day).unwrap_or(u32::MAX);
            let series = match Series::open(&self.dir, self.venue, self.instrument_id, d) {
                Some(series) => Some(series),
                // A whole day is read anyway: keep it as the series.
                None if (start, end) == (day_start, day_end) => {
                    let before = Series::deps_now(&self.dir, self.venue, d);
                    let stream = self.day_bars(day_start, day_end)?;
                    if stream.damaged() {
                        // Not kept: a series would hide the damage from later queries.
                        return Ok(Some(DaySource::Built(Box::new(stream))));
                    }
                    Some(Series::build(
                        &self.dir,
                        self.venue,
                        self.instrument_id,
                        d,
                        &before,
                        stream,
                        SLACK_AFTER_NS,
                    ))
                }
                None => None,
            };
            if let Some(series) = series {
                return Ok(Some(DaySource::stored(series, start, end, self.minutes)));
            }
        }
        Ok(Some(DaySource::Built(Box::new(self.day_bars(start, end)?))))
    }

    fn day_bars(&self, start: u64, end: u64) -> Result<DayBars, HistoryError> {
        let q = RangeQuery {
            venue: self.venue,
            instrument_id: self.instrument_id,
            from_ns: start,
            to_ns: end,
        };
        let kinds = [RecordType::Trade, RecordType::Bar];
        let scan = Scan::open_recv(
            &self.dir,
            &q,
            &kinds,
            CLOCK_SLACK_NS,
            SLACK_AFTER_NS,
            &[],
            self.index,
        )?;
        if let Ok(mut problems) = self.problems.lock() {
            problems.extend_from_slice(scan.problems());
        }
        Ok(DayBars::new(scan))
    }
}

/// One day's 1-second bars (or 1-minute rollups): from its series, or built.
enum DaySource {
    Stored {
        series: Series,
        minutes: bool,
        next: usize,
        end: usize,
    },
    Built(Box<DayBars>),
}

impl DaySource {
    fn stored(series: Series, start: u64, end: u64, minutes: bool) -> Self {
        let bars = if minutes {
            series.minutes()
        } else {
            series.seconds()
        };
        let (next, end) = (bars.lower_bound(start), bars.lower_bound(end));
        DaySource::Stored {
            series,
            minutes,
            next,
            end,
        }
    }
}

impl Iterator for DaySource {
    type Item = BarMsg;

    fn next(&mut self) -> Option<BarMsg> {
        match self {
            DaySource::Built(day) => day.next(),
            DaySource::Stored {
                series,
                minutes,
                next,
                end,
            } => {
                if *next >= *end {
                    return None;
                }
                let bars = if *minutes {
                    series.minutes()
                } else {
                    series.seconds()
                };
                *next += 1;
                Some(bars.get(*next - 1))
            }
        }
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

    /// Records of this day were skipped (damaged blocks, unreadable segments).
    fn damaged(&self) -> bool {
        self.scan.problems().iter().any(ReadProblem::is_damage)
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
