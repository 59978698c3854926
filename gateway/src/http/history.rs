//! History queries, answered by `tickd_storage::history` over the journal directory.
//! Symbols are resolved by the HTTP layer against the live registry; this only maps ids.

use std::path::Path;

use tickd_bus::record::{BarMsg, TradeMsg};
use tickd_bus::Venue;
use tickd_storage::bars::FillPolicy;
use tickd_storage::history::{BarQuery, BookAt, History, HistoryError as StorageError, RangeQuery};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("this server has no journal configured")]
    NoJournal,
    #[error("bad query: {0}")]
    BadQuery(String),
    #[error("reading the journal: {0}")]
    Journal(String),
}

impl From<StorageError> for HistoryError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::BadRange { .. } | StorageError::BadInterval => {
                HistoryError::BadQuery(e.to_string())
            }
            other => HistoryError::Journal(other.to_string()),
        }
    }
}

fn open(dir: Option<&Path>) -> Result<History, HistoryError> {
    let dir = dir.ok_or(HistoryError::NoJournal)?;
    if !dir.is_dir() {
        return Err(HistoryError::NoJournal);
    }
    Ok(History::open(dir)?)
}

/// Trades of one instrument with time in `[from, to)`, at most `limit`.
pub fn trades(
    dir: Option<&Path>,
    venue: Venue,
    instrument_id: u32,
    (from_ns, to_ns): (u64, u64),
    limit: usize,
) -> Result<Vec<TradeMsg>, HistoryError> {
    let query = RangeQuery {
        venue,
        instrument_id,
        from_ns,
        to_ns,
    };
    Ok(open(dir)?.trades(&query)?.take(limit).collect())
}

/// Bars of `interval_s` seconds starting in `[from, to)`.
pub fn bars(
    dir: Option<&Path>,
    venue: Venue,
    instrument_id: u32,
    interval_s: u32,
    (from_ns, to_ns): (u64, u64),
) -> Result<Vec<BarMsg>, HistoryError> {
    let query = BarQuery {
        venue,
        instrument_id,
        interval_s,
        from_ns,
        to_ns,
        fill: FillPolicy::Omit,
    };
    let mut bars = open(dir)?.bars(&query)?;
    let out: Vec<BarMsg> = bars.by_ref().collect();
    match bars.take_error() {
        Some(e) => Err(e.into()),
        None => Ok(out),
    }
}

/// The book as of `at` (ns), or `None` if no snapshot image precedes it.
pub fn book_at(
    dir: Option<&Path>,
    venue: Venue,
    instrument_id: u32,
    at: u64,
    depth: usize,
) -> Result<Option<BookAt>, HistoryError> {
    match open(dir)?.book_at(venue, instrument_id, at, depth) {
        Ok(book) => Ok(Some(book)),
        Err(StorageError::NoSnapshot { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
