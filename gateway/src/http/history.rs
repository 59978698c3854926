//! History queries straight from the journal (storage has no query layer yet): trades
//! by instrument and time, bars built from those trades (1-second bars via
//! `BarBuilder`, then `bars::aggregate` to the asked interval), and a book at a time
//! replayed from book deltas.

use std::path::Path;

use tickd_bus::record::{BarMsg, TradeMsg};
use tickd_bus::{RecordBuf, RecordRef, RecordType, Venue};
use tickd_normalizer::book::apply::BookReplay;
use tickd_storage::bars::{aggregate, BarBuilder, FillPolicy};
use tickd_storage::journal::{Filter, JournalReader};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("this server has no journal configured")]
    NoJournal,
    #[error("reading the journal: {0}")]
    Journal(String),
}

fn open(dir: Option<&Path>, filter: Filter) -> Result<JournalReader, HistoryError> {
    let dir = dir.ok_or(HistoryError::NoJournal)?;
    if !dir.exists() {
        return Err(HistoryError::NoJournal);
    }
    JournalReader::open(dir, filter).map_err(|e| HistoryError::Journal(e.to_string()))
}

/// Trades of one instrument with event time in `[from, to)`, at most `limit`.
pub fn trades(
    dir: Option<&Path>,
    venue: Venue,
    instrument_id: u32,
    from: u64,
    to: u64,
    limit: usize,
) -> Result<Vec<TradeMsg>, HistoryError> {
    let filter = Filter::all()
        .venue(venue)
        .instrument(instrument_id)
        .rtype(RecordType::Trade);
    let reader = open(dir, filter)?;
    let mut out = Vec::new();
    for record in reader.records() {
        if let RecordRef::Trade(trade) = record {
            let t = tickd_storage::bars::trade_time(trade);
            if (from..to).contains(&t) {
                out.push(*trade);
                if out.len() >= limit {
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// Bars of `interval_s` seconds starting in `[from, to)`.
pub fn bars(
    dir: Option<&Path>,
    venue: Venue,
    instrument_id: u32,
    interval_s: u32,
    from: u64,
    to: u64,
) -> Result<Vec<BarMsg>, HistoryError> {
    // Trades just before `from` cannot land in a bucket starting at or after `from`
    // once `from` is aligned; read from the aligned start.
    let start = tickd_storage::bars::bucket_start(from, interval_s);
    let trades = trades(dir, venue, instrument_id, start, to, usize::MAX)?;
    let mut builder = BarBuilder::new();
    let mut seconds = Vec::new();
    for trade in &trades {
        builder.on_trade(trade, &mut seconds);
    }
    builder.flush_all(&mut seconds);
    Ok(aggregate(seconds.into_iter(), interval_s, from, to, FillPolicy::Omit).collect())
}

/// The book as of `at` (ns, by receive time), or `None` if no complete image precedes it.
pub fn book_at(
    dir: Option<&Path>,
    venue: Venue,
    instrument_id: u32,
    at: u64,
) -> Result<Option<BookReplay>, HistoryError> {
    let filter = Filter::all()
        .venue(venue)
        .instrument(instrument_id)
        .ts_recv(0..at.saturating_add(1));
    let reader = open(dir, filter)?;
    let mut book = BookReplay::new();
    for record in reader.records() {
        if matches!(record, RecordRef::BookDelta(_) | RecordRef::Status(_)) {
            if let Ok(buf) = RecordBuf::from_bytes(record.as_bytes()) {
                let _ = book.apply_record(&buf);
            }
        }
    }
    Ok(book.is_valid().then_some(book))
}
