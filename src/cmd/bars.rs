//! `tickd bars`: OHLCV bars of any whole-second interval, read from the journal.

use std::io::Write;

use tickd_bus::record::BarMsg;
use tickd_storage::bars::{vwap, FillPolicy};
use tickd_storage::history::time::{format_time, parse_interval};
use tickd_storage::history::BarQuery;

use super::trades::{emit, resolve, warn_damage, Format, RangeArgs};
use crate::exit::{CmdResult, Failure};

/// Print OHLCV bars of one instrument over a time range, read from the journal
///
/// Bars start at UTC-aligned multiples of the interval; a bar is printed when its
/// start is in [--from, --to) and covers its whole interval. Prices, volume, VWAP
/// and notional are exact decimals (VWAP truncated to the price's 24 places).
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
    let written = emit(
        bars.by_ref(),
        |out, bar| write_bar(out, format, bar),
        |out| match format {
            Format::Table => writeln!(
                out,
                "{:<22} {:>18} {:>18} {:>18} {:>18} {:>20} {:>28} {:>8}",
                "time", "open", "high", "low", "close", "volume", "vwap", "trades"
            ),
            Format::Csv => writeln!(out, "time,open,high,low,close,volume,vwap,trades,notional"),
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

fn write_bar(out: &mut dyn Write, format: Format, bar: &BarMsg) -> std::io::Result<()> {
    let time = format_time(bar.hd.ts_event);
    let vwap = vwap(bar).map_or(String::new(), |p| p.to_string());
    let notional = bar.notional();
    let (o, h, l, c, v) = (bar.open, bar.high, bar.low, bar.close, bar.volume);
    let n = bar.trade_count;
    match format {
        Format::Table => writeln!(
            out,
            "{time:<22} {:>18} {:>18} {:>18} {:>18} {:>20} {vwap:>28} {n:>8}",
            o.to_string(),
            h.to_string(),
            l.to_string(),
            c.to_string(),
            v.to_string()
        ),
        Format::Csv => writeln!(out, "{time},{o},{h},{l},{c},{v},{vwap},{n},{notional}"),
        Format::Json => writeln!(
            out,
            r#"{{"time":"{time}","open":"{o}","high":"{h}","low":"{l}","close":"{c}","volume":"{v}","vwap":{},"trades":{n},"notional":"{notional}"}}"#,
            if vwap.is_empty() {
                "null".to_string()
            } else {
                format!("\"{vwap}\"")
            }
        ),
    }
}
