//! History queries over the journal: bars, trades, best bid/offer, the book at a time.
//!
//! Used by the gateway's HTTP API and the CLI. Every query streams: iterators hold a
//! [`JournalReader`] and a cursor into it and copy out one record at a time, so a
//! query's memory does not grow with its range.
//!
//! Times are ns since the Unix epoch, ranges half-open `[from, to)`. A record's time is
//! the exchange's `ts_event`, or `ts_recv` where the venue sent none (as for bars:
//! [`crate::bars::trade_time`]). The journal is laid out by `ts_recv`, so queries read
//! `ts_recv` in the range widened by [`CLOCK_SLACK_NS`]; a record whose exchange time is
//! further than that from its receive time is not found by range queries.
//! [`History::book_at`] works in `ts_recv`: the book as tickd held it at that instant.

mod bars;
mod bbo;
mod book;
mod scan;
mod series;
pub mod time;
mod trades;

pub use bars::{BarQuery, Bars, BarsError, BarsProblems};
pub use bbo::BboIter;
pub use book::BookAt;
pub use tickd_normalizer::book::Level;
pub use trades::{TradeCursor, TradeIter};

use std::path::{Path, PathBuf};

use tickd_bus::instrument::{Instrument, InstrumentRegistry, RegistryError, REGISTRY_FILE_NAME};
use tickd_bus::{RecordType, Venue};

use crate::journal::layout::list_days;
use crate::journal::{IndexUse, JournalError};
use scan::{record_time, Scan};

/// How far a record's exchange time may be from its receive time and still be found.
pub const CLOCK_SLACK_NS: u64 = 5 * 60 * 1_000_000_000;

/// A time range of one instrument's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeQuery {
    pub venue: Venue,
    pub instrument_id: u32,
    pub from_ns: u64,
    pub to_ns: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{}", unknown_symbol(.venue, .symbol, .known, .registry, *.registry_exists))]
    UnknownSymbol {
        venue: Venue,
        symbol: String,
        /// The venue's symbols in the registry.
        known: Vec<String>,
        registry: PathBuf,
        registry_exists: bool,
    },
    #[error("empty time range: from {} is not before to {}", time::format_time(*.from_ns), time::format_time(*.to_ns))]
    BadRange { from_ns: u64, to_ns: u64 },
    #[error("interval must be at least 1 second")]
    BadInterval,
    #[error(
        "no book snapshot for {venue} instrument {instrument_id} at or before {}: the book cannot be rebuilt", time::format_time(*.at_ns)
    )]
    NoSnapshot {
        venue: Venue,
        instrument_id: u32,
        at_ns: u64,
    },
    #[error("instrument registry: {0}")]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

fn unknown_symbol(
    venue: &Venue,
    symbol: &str,
    known: &[String],
    registry: &Path,
    exists: bool,
) -> String {
    let mut msg = format!("unknown symbol {symbol:?} on {venue}; ");
    if !exists {
        msg += &format!(
            "there is no instrument registry at {} (is --data the journal's directory?)",
            registry.display()
        );
    } else if known.is_empty() {
        msg += &format!(
            "the instrument registry at {} has no {venue} instruments",
            registry.display()
        );
    } else {
        msg += &format!("{venue} symbols: {}", known.join(", "));
    }
    msg
}

/// The journal in a data directory and the instrument registry next to it.
pub struct History {
    dir: PathBuf,
    registry: InstrumentRegistry,
    registry_path: PathBuf,
    registry_exists: bool,
    index: IndexUse,
}

impl History {
    /// Open the data directory (the journal's `dir`, holding `instruments.json`).
    pub fn open(data_dir: &Path) -> Result<History, HistoryError> {
        let registry_path = data_dir.join(REGISTRY_FILE_NAME);
        let registry_exists = registry_path.is_file();
        let registry = InstrumentRegistry::open(&registry_path)?;
        Ok(History {
            dir: data_dir.to_path_buf(),
            registry,
            registry_path,
            registry_exists,
            index: IndexUse::Auto,
        })
    }

    /// Whether queries use (and build) the posting indexes and bar series: on by
    /// default; `IndexUse::Off` reads the journal as before they existed.
    pub fn with_index(mut self, index: IndexUse) -> History {
        self.index = index;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn registry(&self) -> &InstrumentRegistry {
        &self.registry
    }

    /// The instrument a user's symbol (normalized or the venue's raw one) names.
    pub fn resolve(&self, venue: Venue, symbol: &str) -> Result<Instrument, HistoryError> {
        if let Some(found) = self.registry.resolve(venue, symbol) {
            return Ok(found.clone());
        }
        let mut known: Vec<String> = self
            .registry
            .venue_instruments(venue)
            .map(|i| i.symbol.clone())
            .collect();
        known.sort();
        Err(HistoryError::UnknownSymbol {
            venue,
            symbol: symbol.to_string(),
            known,
            registry: self.registry_path.clone(),
            registry_exists: self.registry_exists,
        })
    }

    /// Venues with at least one day folder in the journal.
    pub fn venues_with_data(&self) -> Vec<Venue> {
        Venue::ALL
            .into_iter()
            .filter(|&v| list_days(&self.dir, v).is_ok_and(|days| !days.is_empty()))
            .collect()
    }

    /// 1-second bars folded into `q.interval_s` bars starting in `[from, to)`.
    pub fn bars(&self, q: &BarQuery) -> Result<Bars, HistoryError> {
        bars::query(&self.dir, q, self.index)
    }

    /// Trades with trade time in the range, in journal order.
    pub fn trades(&self, q: &RangeQuery) -> Result<TradeIter, HistoryError> {
        self.trades_from(q, None)
    }

    /// The same, resuming after an earlier page's [`TradeCursor`].
    pub fn trades_from(
        &self,
        q: &RangeQuery,
        cursor: Option<TradeCursor>,
    ) -> Result<TradeIter, HistoryError> {
        check_range(q.from_ns, q.to_ns)?;
        let Some(cursor) = cursor else {
            let scan = Scan::open(&self.dir, q, &[RecordType::Trade], self.index)?;
            return Ok(TradeIter::new(scan, None));
        };
        // Read from the cursor's receive time, not the range's start.
        let start = q.from_ns.saturating_sub(CLOCK_SLACK_NS).max(cursor.ts_recv);
        let narrowed = RangeQuery {
            from_ns: start,
            ..*q
        };
        let mut scan = Scan::open_recv(
            &self.dir,
            &narrowed,
            &[RecordType::Trade],
            0,
            CLOCK_SLACK_NS,
            &[],
            self.index,
        )?;
        scan.from_ns = q.from_ns;
        Ok(TradeIter::new(scan, Some(cursor)))
    }

    /// Best bid/offer updates with time in the range, in journal order.
    pub fn bbo(&self, q: &RangeQuery) -> Result<BboIter, HistoryError> {
        check_range(q.from_ns, q.to_ns)?;
        Ok(BboIter::new(Scan::open(
            &self.dir,
            q,
            &[RecordType::Bbo],
            self.index,
        )?))
    }

    /// The book at `at_ns` (`ts_recv`): the last SNAPSHOT image at or before it plus
    /// the deltas after it, best `depth` levels per side.
    pub fn book_at(
        &self,
        venue: Venue,
        instrument_id: u32,
        at_ns: u64,
        depth: usize,
    ) -> Result<BookAt, HistoryError> {
        book::book_at(&self.dir, venue, instrument_id, at_ns, depth, self.index)
    }

    /// Earliest and latest record time of the instrument (trades, bbo, book, bars).
    /// Reads all of the venue's journal: for error messages and tools, not hot paths.
    pub fn time_range(&self, venue: Venue, instrument_id: u32) -> Option<(u64, u64)> {
        let q = RangeQuery {
            venue,
            instrument_id,
            from_ns: 0,
            to_ns: u64::MAX,
        };
        let kinds = [
            RecordType::Trade,
            RecordType::Bbo,
            RecordType::BookDelta,
            RecordType::Bar,
        ];
        let mut scan = Scan::open(&self.dir, &q, &kinds, self.index).ok()?;
        let mut range: Option<(u64, u64)> = None;
        while let Some(record) = scan.next_ref() {
            let t = record_time(record.header());
            range = Some(range.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
        }
        range
    }
}

fn check_range(from_ns: u64, to_ns: u64) -> Result<(), HistoryError> {
    if from_ns >= to_ns {
        return Err(HistoryError::BadRange { from_ns, to_ns });
    }
    Ok(())
}
