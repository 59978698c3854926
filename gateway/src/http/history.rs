//! History queries, answered by `tickd_storage::history` over the journal directory.
//! Symbols are resolved by the HTTP layer against the live registry; this only maps ids.

use std::path::Path;

use tickd_bus::Venue;
use tickd_storage::bars::FillPolicy;
use tickd_storage::history::{
    BarQuery, Bars, BookAt, History, HistoryError as StorageError, RangeQuery, TradeCursor,
    TradeIter,
};
use tickd_storage::journal::ReadProblem;

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

/// Trades of one instrument with time in `[from, to)`, streamed; after `cursor` when
/// this is a later page.
pub fn trades(
    dir: Option<&Path>,
    venue: Venue,
    instrument_id: u32,
    (from_ns, to_ns): (u64, u64),
    cursor: Option<TradeCursor>,
) -> Result<TradeIter, HistoryError> {
    let query = RangeQuery {
        venue,
        instrument_id,
        from_ns,
        to_ns,
    };
    Ok(open(dir)?.trades_from(&query, cursor)?)
}

/// The link to the page after this one: the request's own parameters with `cursor`.
pub fn next_page(path: &str, params: &super::params::Params, cursor: TradeCursor) -> String {
    let mut keys: Vec<&String> = params.keys().filter(|k| *k != "cursor").collect();
    keys.sort();
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for key in keys {
        query.append_pair(key, &params[key]);
    }
    query.append_pair("cursor", &cursor.to_string());
    format!("{path}?{}", query.finish())
}

/// The damaged parts of the journal a query stepped over, for its response.
#[derive(Debug, Default)]
pub struct Skipped {
    /// Damaged blocks and unreadable segments: their records are missing.
    pub damaged: usize,
    /// One line per problem (torn tails included), e.g. `okx/2026-01-01/000000.seg: ...`.
    pub details: Vec<String>,
}

pub fn skipped(problems: &[ReadProblem]) -> Skipped {
    let mut out = Skipped::default();
    for p in problems {
        if p.is_damage() {
            out.damaged += 1;
        }
        out.details.push(p.to_string());
    }
    out
}

impl Skipped {
    /// `X-Tickd-Journal-Skipped: N` when something was skipped.
    pub fn header(&self) -> Vec<(&'static str, String)> {
        if self.damaged == 0 {
            return Vec::new();
        }
        vec![("x-tickd-journal-skipped", self.damaged.to_string())]
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"damaged": self.damaged, "problems": self.details})
    }

    /// `# journal skipped: …` lines, for the end of a CSV body (empty when nothing was).
    pub fn csv_comments(&self) -> String {
        if self.damaged == 0 {
            return String::new();
        }
        let mut out = format!("# journal skipped: {} damaged\n", self.damaged);
        for line in &self.details {
            out.push_str(&format!("# journal skipped: {line}\n"));
        }
        out
    }
}

/// Bars of `interval_s` seconds starting in `[from, to)`, streamed; an error met
/// after the first day ends the stream ([`Bars::error_handle`]).
pub fn bars(
    dir: Option<&Path>,
    venue: Venue,
    instrument_id: u32,
    interval_s: u32,
    (from_ns, to_ns): (u64, u64),
) -> Result<Bars, HistoryError> {
    let query = BarQuery {
        venue,
        instrument_id,
        interval_s,
        from_ns,
        to_ns,
        fill: FillPolicy::Omit,
    };
    Ok(open(dir)?.bars(&query)?)
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
