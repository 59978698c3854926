//! One record → one ILP row.

use questdb::ingress::{Buffer, TimestampNanos};
use tickd_bus::record::{BookAction, BookSide, Side, StatusKind, StatusReason};
use tickd_bus::{Fixed, RecordRef, Venue};

/// The tables the sink writes, in `docs/questdb.md` order.
pub const TABLES: [&str; 8] = [
    "trades",
    "bbo",
    "book_deltas",
    "bars_1s",
    "status",
    "mark_funding",
    "liquidations",
    "open_interest",
];

/// How prices, sizes and rates are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decimals {
    /// ILP v3 decimals (`58942.01d`): exact. Needs QuestDB 9.2 or newer.
    #[default]
    Exact,
    /// Strings (`"58942.01"`): exact text, for a `VARCHAR` column (ILP v1/v2 servers).
    String,
    /// Doubles: the nearest `f64`, not exact (ILP v1/v2 servers; the user's choice).
    Double,
}

impl std::str::FromStr for Decimals {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "exact" => Ok(Decimals::Exact),
            "string" => Ok(Decimals::String),
            "double" => Ok(Decimals::Double),
            _ => Err(format!(
                "unknown decimals {text:?}: use \"exact\" (ILP v3, QuestDB 9.2+), \"string\" or \"double\""
            )),
        }
    }
}

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

/// Append `record` to `buffer` as one row with exact decimals (ILP v3). Records with
/// no table here (bars longer than 1 s) are skipped: returns `Ok(false)`.
pub fn write_record(
    buffer: &mut Buffer,
    record: RecordRef<'_>,
    names: &dyn InstrumentNames,
) -> Result<bool, IlpError> {
    write_record_as(buffer, record, names, Decimals::Exact)
}

/// [`write_record`] with prices, sizes and rates written as `decimals` says.
pub fn write_record_as(
    buffer: &mut Buffer,
    record: RecordRef<'_>,
    names: &dyn InstrumentNames,
    decimals: Decimals,
) -> Result<bool, IlpError> {
    let hd = record.header();
    let venue = Venue::from_u8(hd.venue).ok_or(IlpError::UnknownVenue(hd.venue))?;
    let table = match record {
        RecordRef::Trade(_) => "trades",
        RecordRef::Bbo(_) => "bbo",
        RecordRef::BookDelta(_) => "book_deltas",
        RecordRef::Bar(bar) if bar.interval_s == 1 => "bars_1s",
        RecordRef::Status(_) => "status",
        RecordRef::MarkFunding(_) => "mark_funding",
        RecordRef::Liquidation(_) => "liquidations",
        RecordRef::OpenInterest(_) => "open_interest",
        RecordRef::Bar(_) => return Ok(false),
    };
    buffer.table(table)?.symbol("venue", venue.as_str())?;
    // Instrument 0 is the venue itself (connection and writer status): no symbol.
    if hd.instrument_id != 0 {
        let symbol = names
            .symbol(venue, hd.instrument_id)
            .unwrap_or_else(|| format!("id:{}", hd.instrument_id));
        buffer.symbol("symbol", &symbol)?;
    }
    let d = decimals;
    match record {
        RecordRef::Trade(t) => {
            buffer.symbol("side", side_name(t.side()))?;
            dec(buffer, d, "price", t.price)?;
            dec(buffer, d, "size", t.size)?;
            buffer.column_str("trade_id", t.trade_id_string())?;
        }
        RecordRef::Bbo(b) => {
            opt_dec(buffer, d, "bid_price", b.bid_price)?;
            dec(buffer, d, "bid_size", b.bid_size)?;
            opt_dec(buffer, d, "ask_price", b.ask_price)?;
            dec(buffer, d, "ask_size", b.ask_size)?;
        }
        RecordRef::BookDelta(d) => {
            let side = d.side().map_or("unknown", BookSide::as_str);
            let action = d.action().map_or("unknown", BookAction::as_str);
            buffer.symbol("side", side)?.symbol("action", action)?;
            dec(buffer, decimals, "price", d.price)?;
            dec(buffer, decimals, "size", d.size)?;
            buffer.column_i64("update_id", d.update_id as i64)?;
            buffer.column_i64("flags", i64::from(hd.flags.0))?;
        }
        RecordRef::Bar(b) => {
            dec(buffer, d, "open", b.open)?;
            dec(buffer, d, "high", b.high)?;
            dec(buffer, d, "low", b.low)?;
            dec(buffer, d, "close", b.close)?;
            dec(buffer, d, "volume", b.volume)?;
            // DECIMAL(76, 42) holds 34 integer digits; beyond that (never reached by a
            // real market) the column is left out, as for prices and sizes.
            let notional = b.notional().to_string();
            let int_digits = notional
                .trim_start_matches('-')
                .split('.')
                .next()
                .map_or(0, str::len);
            if int_digits <= 34 {
                dec_text(buffer, d, "notional", &notional)?;
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
        RecordRef::MarkFunding(m) => {
            opt_dec(buffer, d, "mark_price", m.mark_price)?;
            opt_dec(buffer, d, "index_price", m.index_price)?;
            opt_dec(buffer, d, "funding_rate", m.funding_rate)?;
            if m.next_funding_time != 0 {
                buffer.column_ts(
                    "next_funding_time",
                    TimestampNanos::new(m.next_funding_time as i64),
                )?;
            }
        }
        RecordRef::Liquidation(l) => {
            buffer.symbol("side", side_name(l.side()))?;
            dec(buffer, d, "price", l.price)?;
            dec(buffer, d, "size", l.size)?;
        }
        RecordRef::OpenInterest(o) => {
            opt_dec(buffer, d, "open_interest", o.open_interest)?;
            opt_dec(buffer, d, "open_interest_value", o.open_interest_value)?;
        }
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
fn dec<const S: u32>(
    buffer: &mut Buffer,
    decimals: Decimals,
    name: &str,
    value: Fixed<S>,
) -> Result<(), IlpError> {
    if value.raw().unsigned_abs() < COLUMN_LIMIT {
        dec_text(buffer, decimals, name, &value.to_string())?;
    }
    Ok(())
}

/// A decimal's exact text, written as `decimals` says.
fn dec_text(
    buffer: &mut Buffer,
    decimals: Decimals,
    name: &str,
    text: &str,
) -> Result<(), IlpError> {
    match decimals {
        Decimals::Exact => buffer.column_dec(name, text)?,
        Decimals::String => buffer.column_str(name, text)?,
        // The user chose doubles: the nearest f64 of the exact text.
        Decimals::Double => buffer.column_f64(name, text.parse::<f64>().unwrap_or(f64::NAN))?,
    };
    Ok(())
}

/// `UNDEF` (not sent by the venue) becomes NULL: the column is left out of the row.
fn opt_dec<const S: u32>(
    buffer: &mut Buffer,
    decimals: Decimals,
    name: &str,
    value: Fixed<S>,
) -> Result<(), IlpError> {
    match value.defined() {
        Some(value) => dec(buffer, decimals, name, value),
        None => Ok(()),
    }
}
