//! `tickd bars`: OHLCV bars of any whole-second interval, read from the journal.

use std::io::Write;

use tickd_bus::record::BarMsg;
use tickd_storage::bars::{BarRow, FillPolicy, CSV_HEADER};
use tickd_storage::history::time::{format_time, parse_interval};
use tickd_storage::history::BarQuery;

use super::trades::{emit, resolve, warn_damage, Format, RangeArgs};
use crate::exit::{CmdResult, Failure};

/// Print OHLCV bars of one instrument over a time range, read from the journal
///
/// Bars start at UTC-aligned multiples of the interval; a bar is printed when its
/// start is in [--from, --to) and covers its whole interval. Prices, volume, VWAP
/// and notional are exact decimals (VWAP truncated to the price's 24 places). A bar
/// whose interval is still open, or closed less than 60 s ago (late trades may still
/// amend it), is flagged partial. CSV and JSON have the columns of the HTTP API's
/// /v1/bars.
///
/// Times: RFC 3339 (2026-01-01T00:00:00Z), a date (2026-01-01, midnight UTC) or
/// nanoseconds since the Unix epoch.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n    tickd bars --data ./data --venue binance --symbol BTC-USDT \
                        --interval 1m --from 2026-01-01 --to 2026-01-02 --format csv"
)]
pub struct Args {
    #[command(flatten)]
    pub range: RangeArgs,
    /// Bar length: 1s, 5s, 1m, 5m, 15m, 1h, 4h, 1d, or any whole number of seconds (90s, 90)
    #[arg(long, default_value = "1m")]
    pub interval: String,
    /// Intervals without trades: omit them, or carry the previous close forward
    #[arg(long, value_enum, default_value_t = Fill::Omit)]
    pub fill: Fill,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fill {
    Omit,
    Carry,
}

pub fn run(args: Args) -> CmdResult {
    let interval_s =
        parse_interval(&args.interval).map_err(|e| Failure::Invalid(format!("--interval: {e}")))?;
    let r = resolve(&args.range)?;
    let q = BarQuery {
        venue: r.venue,
        instrument_id: r.instrument.id,
        interval_s,
        from_ns: r.from_ns,
        to_ns: r.to_ns,
        fill: match args.fill {
            Fill::Omit => FillPolicy::Omit,
            Fill::Carry => FillPolicy::CarryForward,
        },
    };
    let mut bars = r
        .history
        .bars(&q)
        .map_err(|e| Failure::Invalid(e.to_string()))?;
    let format = args.range.format;
    let problems = bars.problems_handle();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let written = emit(
        bars.by_ref(),
        |out, bar| write_bar(out, format, &BarRow::new(bar, now)),
        |out| match format {
            Format::Table => writeln!(
                out,
                "{:<22} {:>18} {:>18} {:>18} {:>18} {:>20} {:>28} {:>8}",
                "time", "open", "high", "low", "close", "volume", "vwap", "trades"
            ),
            Format::Csv => writeln!(out, "{CSV_HEADER}"),
            Format::Json => Ok(()),
        },
    )?;
    warn_damage(&problems.get());
    if let Some(err) = bars.take_error() {
        return Err(Failure::Runtime(err.into()));
    }
    if written == 0 {
        return Err(r.empty("bars"));
    }
    Ok(())
}

fn write_bar(out: &mut dyn Write, format: Format, row: &BarRow) -> std::io::Result<()> {
    match format {
        Format::Table => {
            let bar: &BarMsg = row.bar;
            writeln!(
                out,
                "{:<22} {:>18} {:>18} {:>18} {:>18} {:>20} {:>28} {:>8}{}",
                format_time(bar.hd.ts_event),
                bar.open.to_string(),
                bar.high.to_string(),
                bar.low.to_string(),
                bar.close.to_string(),
                bar.volume.to_string(),
                row.vwap().unwrap_or_default(),
                bar.trade_count,
                if row.partial { "  (partial)" } else { "" }
            )
        }
        Format::Csv => out.write_all(row.csv().as_bytes()),
        Format::Json => writeln!(out, "{}", row.json()),
    }
}
