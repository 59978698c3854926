//! One record → one ILP row.

use questdb::ingress::{Buffer, TimestampNanos};
use tickd_bus::record::{BookAction, BookSide, Side, StatusKind, StatusReason};
use tickd_bus::{Fixed, RecordRef, Venue};

/// The tables the sink writes, in `docs/questdb.md` order.
pub const TABLES: [&str; 5] = ["trades", "bbo", "book_deltas", "bars_1s", "status"];

/// Instrument id → the symbol users type (`BTC-USDT`), from the instrument registry.
pub trait InstrumentNames {
    fn symbol(&self, venue: Venue, instrument_id: u32) -> Option<String>;
}

impl<F: Fn(Venue, u32) -> Option<String>> InstrumentNames for F {
    fn symbol(&self, venue: Venue, instrument_id: u32) -> Option<String> {
        self(venue, instrument_id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IlpError {
    #[error("record has an unknown venue id {0}")]
    UnknownVenue(u8),
    #[error(transparent)]
    Questdb(#[from] questdb::Error),
}

/// Append `record` to `buffer` as one row. Records with no table here (funding,
/// liquidations, open interest) are skipped: returns `Ok(false)`.
pub fn write_record(
    buffer: &mut Buffer,
    record: RecordRef<'_>,
    names: &dyn InstrumentNames,
) -> Result<bool, IlpError> {
    let hd = record.header();
    let venue = Venue::from_u8(hd.venue).ok_or(IlpError::UnknownVenue(hd.venue))?;
    let symbol = names
        .symbol(venue, hd.instrument_id)
        .unwrap_or_else(|| format!("id:{}", hd.instrument_id));
    let table = match record {
        RecordRef::Trade(_) => "trades",
        RecordRef::Bbo(_) => "bbo",
        RecordRef::BookDelta(_) => "book_deltas",
        RecordRef::Bar(bar) if bar.interval_s == 1 => "bars_1s",
        RecordRef::Status(_) => "status",
        _ => return Ok(false),
    };
    buffer
        .table(table)?
        .symbol("venue", venue.as_str())?
        .symbol("symbol", &symbol)?;
    match record {
        RecordRef::Trade(t) => {
            buffer.symbol("side", side_name(t.side()))?;
            dec(buffer, "price", t.price)?;
            dec(buffer, "size", t.size)?;
            buffer.column_str("trade_id", t.trade_id_string())?;
        }
        RecordRef::Bbo(b) => {
            opt_dec(buffer, "bid_price", b.bid_price)?;
            dec(buffer, "bid_size", b.bid_size)?;
            opt_dec(buffer, "ask_price", b.ask_price)?;
            dec(buffer, "ask_size", b.ask_size)?;
        }
        RecordRef::BookDelta(d) => {
            let side = d.side().map_or("unknown", BookSide::as_str);
            let action = d.action().map_or("unknown", BookAction::as_str);
            buffer.symbol("side", side)?.symbol("action", action)?;
            dec(buffer, "price", d.price)?;
            dec(buffer, "size", d.size)?;
            buffer.column_i64("update_id", d.update_id as i64)?;
            buffer.column_i64("flags", i64::from(hd.flags.0))?;
        }
        RecordRef::Bar(b) => {
            dec(buffer, "open", b.open)?;
            dec(buffer, "high", b.high)?;
            dec(buffer, "low", b.low)?;
            dec(buffer, "close", b.close)?;
            dec(buffer, "volume", b.volume)?;
            // DECIMAL(76, 42) holds 34 integer digits; beyond that (never reached by a
            // real market) the column is left out, as for prices and sizes.
            let notional = b.notional().to_string();
            let int_digits = notional
                .trim_start_matches('-')
                .split('.')
                .next()
                .map_or(0, str::len);
            if int_digits <= 34 {
                buffer.column_dec("notional", notional.as_str())?;
            }
            buffer.column_i64("trade_count", i64::from(b.trade_count))?;
        }
        RecordRef::Status(s) => {
            let kind = s.kind().map_or("unknown", StatusKind::as_str);
            let reason = s.reason().map_or("unknown", StatusReason::as_str);
            buffer.symbol("kind", kind)?.symbol("reason", reason)?;
            if s.lost != tickd_bus::record::LOST_UNKNOWN {
                buffer.column_i64("lost", s.lost as i64)?;
            }
            buffer.column_i64("detail", s.detail as i64)?;
        }
        RecordRef::MarkFunding(_) | RecordRef::Liquidation(_) | RecordRef::OpenInterest(_) => {}
    }
    buffer.column_i64("seq", hd.sequence as i64)?;
    buffer.column_ts("ts_recv", TimestampNanos::new(hd.ts_recv as i64))?;
    let ts = if hd.ts_event != 0 {
        hd.ts_event
    } else {
        hd.ts_recv
    };
    buffer.at(TimestampNanos::new(ts as i64))?;
    Ok(true)
}

fn side_name(side: Side) -> &'static str {
    side.as_str()
}

/// Raw magnitudes a `DECIMAL(38, S)` column holds (docs/questdb.md): below 10^38.
const COLUMN_LIMIT: u128 = 10u128.pow(38);

/// A decimal column. A value beyond its `DECIMAL(38, S)` column (a price of 1e14 or
/// more, a size of 1e20 or more: no market sends those) is left out (NULL) rather
/// than have QuestDB reject the whole batch.
fn dec<const S: u32>(buffer: &mut Buffer, name: &str, value: Fixed<S>) -> Result<(), IlpError> {
    if value.raw().unsigned_abs() < COLUMN_LIMIT {
        buffer.column_dec(name, value.to_string().as_str())?;
    }
    Ok(())
}

/// `UNDEF` (not sent by the venue) becomes NULL: the column is left out of the row.
fn opt_dec<const S: u32>(buffer: &mut Buffer, name: &str, value: Fixed<S>) -> Result<(), IlpError> {
    match value.defined() {
        Some(value) => dec(buffer, name, value),
        None => Ok(()),
    }
}
