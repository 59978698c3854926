//! `tickd trades`: trades of one instrument over a time range, read from the journal.
//! Also the pieces `tickd bars` shares: the range options, output formats, lookups.

use std::io::Write;
use std::path::{Path, PathBuf};

use tickd_bus::instrument::Instrument;
use tickd_bus::record::TradeMsg;
use tickd_bus::Venue;
use tickd_storage::history::time::{format_time, parse_time};
use tickd_storage::history::{History, RangeQuery};
use tickd_storage::journal::ReadProblem;

use crate::exit::{CmdResult, Failure};

/// Print the trades of one instrument over a time range, read from the journal
///
/// Reads the journal in --data directly (no server needed). Trades are printed in
/// journal order with exact decimal prices and sizes.
///
/// Times: RFC 3339 (2026-01-01T00:00:00Z), a date (2026-01-01, midnight UTC) or
/// nanoseconds since the Unix epoch. The range is [--from, --to).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n    tickd trades --data ./data --venue binance --symbol BTC-USDT \
                        --from 2026-01-01T00:00:00Z --to 2026-01-01T00:05:00Z --format csv"
)]
pub struct Args {
    #[command(flatten)]
    pub range: RangeArgs,
}

/// The options every history subcommand takes.
#[derive(Debug, clap::Args)]
pub struct RangeArgs {
    /// The data directory: the journal and its instruments.json
    #[arg(long, value_name = "DIR", default_value = "./data")]
    pub data: PathBuf,
    /// Venue: binance, binance-usdm, okx, bybit, coinbase or kraken
    #[arg(long)]
    pub venue: String,
    /// Symbol as tickd names it (BTC-USDT, BTC-USDT-PERP) or the venue's own (BTCUSDT)
    #[arg(long)]
    pub symbol: String,
    /// Start of the range (inclusive)
    #[arg(long, value_name = "TIME")]
    pub from: String,
    /// End of the range (exclusive); default: now
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for reading
    Table,
    /// Comma-separated with a header row
    Csv,
    /// One JSON object per line, decimals as strings
    Json,
}

/// What the range options name, checked against the journal.
pub struct Resolved {
    pub history: History,
    pub instrument: Instrument,
    pub venue: Venue,
    pub from_ns: u64,
    pub to_ns: u64,
}

impl Resolved {
    pub fn query(&self) -> RangeQuery {
        RangeQuery {
            venue: self.venue,
            instrument_id: self.instrument.id,
            from_ns: self.from_ns,
            to_ns: self.to_ns,
        }
    }

    /// The error for a range with nothing in it, saying what the journal holds.
    pub fn empty(&self, what: &str) -> Failure {
        let name = format!("{} {}", self.venue, self.instrument.symbol);
        let range = format!(
            "[{}, {})",
            format_time(self.from_ns),
            format_time(self.to_ns)
        );
        let held = match self.history.time_range(self.venue, self.instrument.id) {
            Some((lo, hi)) => format!(
                "the journal holds {name} from {} to {}",
                format_time(lo),
                format_time(hi)
            ),
            None => format!(
                "the journal in {} has no records for {name}",
                self.history.dir().display()
            ),
        };
        Failure::Invalid(format!("no {what} for {name} in {range}; {held}"))
    }
}

fn invalid(e: impl std::fmt::Display) -> Failure {
    Failure::Invalid(e.to_string())
}

/// Check the options: data directory, venue, symbol and times.
pub fn resolve(args: &RangeArgs) -> Result<Resolved, Failure> {
    if !args.data.is_dir() {
        return Err(Failure::Invalid(format!(
            "data directory {} does not exist (use --data DIR, the journal's directory)",
            args.data.display()
        )));
    }
    let history = History::open(&args.data).map_err(invalid)?;
    let venue: Venue = args.venue.parse().map_err(|e| {
        Failure::Invalid(format!("{e}; {}", venues_with_data(&history, &args.data)))
    })?;
    let instrument = history.resolve(venue, &args.symbol).map_err(invalid)?;
    let from_ns = parse_time(&args.from).map_err(|e| invalid(format!("--from: {e}")))?;
    let to_ns = match &args.to {
        Some(to) => parse_time(to).map_err(|e| invalid(format!("--to: {e}")))?,
        None => now_ns(),
    };
    if from_ns >= to_ns {
        return Err(Failure::Invalid(format!(
            "empty time range: --from {} is not before --to {}",
            format_time(from_ns),
            format_time(to_ns)
        )));
    }
    Ok(Resolved {
        history,
        instrument,
        venue,
        from_ns,
        to_ns,
    })
}

fn venues_with_data(history: &History, dir: &Path) -> String {
    let venues: Vec<&str> = history
        .venues_with_data()
        .into_iter()
        .map(Venue::as_str)
        .collect();
    if venues.is_empty() {
        format!("the journal in {} holds no venue yet", dir.display())
    } else {
        format!(
            "the journal in {} holds: {}",
            dir.display(),
            venues.join(", ")
        )
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Write rows to stdout; a closed pipe (`| head`) ends output quietly.
pub fn emit<T>(
    rows: impl Iterator<Item = T>,
    mut write: impl FnMut(&mut dyn Write, &T) -> std::io::Result<()>,
    header: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<u64, Failure> {
    let mut rows = rows.peekable();
    if rows.peek().is_none() {
        return Ok(0);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut count = 0;
    let result = header(&mut out).and_then(|()| {
        for row in rows {
            write(&mut out, &row)?;
            count += 1;
        }
        out.flush()
    });
    match result {
        Ok(()) => Ok(count),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(count),
        Err(e) => Err(e.into()),
    }
}

/// Damage is never skipped silently: say on stderr what was stepped over, and where.
pub fn warn_damage(problems: &[ReadProblem]) {
    for problem in problems.iter().filter(|p| p.is_damage()) {
        eprintln!("warning: {problem}");
    }
}

pub fn run(args: Args) -> CmdResult {
    let r = resolve(&args.range)?;
    let trades = r.history.trades(&r.query()).map_err(invalid)?;
    warn_damage(trades.problems());
    let format = args.range.format;
    let written = emit(
        trades,
        |out, t| write_trade(out, format, t),
        |out| match format {
            Format::Table => writeln!(
                out,
                "{:<32} {:>20} {:>20} {:<7} trade_id",
                "time", "price", "size", "side"
            ),
            Format::Csv => writeln!(out, "time,price,size,side,trade_id"),
            Format::Json => Ok(()),
        },
    )?;
    if written == 0 {
        return Err(r.empty("trades"));
    }
    Ok(())
}

fn write_trade(out: &mut dyn Write, format: Format, t: &TradeMsg) -> std::io::Result<()> {
    let time = format_time(tickd_storage::bars::trade_time(t));
    let side = t.side().as_str();
    let id = t.trade_id_string();
    match format {
        Format::Table => writeln!(
            out,
            "{time:<32} {:>20} {:>20} {side:<7} {id}",
            t.price.to_string(),
            t.size.to_string()
        ),
        Format::Csv => writeln!(out, "{time},{},{},{side},{id}", t.price, t.size),
        Format::Json => writeln!(
            out,
            r#"{{"time":"{time}","price":"{}","size":"{}","side":"{side}","trade_id":"{id}"}}"#,
            t.price, t.size
        ),
    }
}
