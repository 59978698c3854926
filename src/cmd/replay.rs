//! `tickd replay`: run a capture through the same decoders and book engine as the
//! live feed (`tickd_feed::replay::Replayer`) into a journal, deterministically.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tickd_bus::instrument::{InstrumentRegistry, REGISTRY_FILE_NAME};
use tickd_feed::capture::{CaptureReader, ReadStats};
use tickd_feed::replay::{ReplayStats, Replayer};
use tickd_storage::journal::{Filter, FsyncPolicy, Journal, JournalConfig, JournalReader};

use crate::exit::{CmdResult, Failure};

/// Files smaller than this replay too fast to need a progress bar.
const PROGRESS_MIN_BYTES: u64 = 8 << 20;

/// Re-normalize a capture (from `tickd record`) into a journal
///
/// Every frame and REST body goes through the venue's own decoder, exactly-once
/// merge, book sync and sequencer; ts_recv comes from the capture, instrument ids
/// from DIR/instruments.json plus the captured instrument lists, so the same capture
/// always gives the same records. Without --into nothing is written (a dry run that
/// still counts everything).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
    tickd replay day.jsonl.zst --into data/replayed
    tickd replay day.jsonl --stats json | jq .venues.binance.records")]
pub struct Args {
    /// Capture file (JSON Lines; `.zst` = zstd-compressed)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Journal directory to write the records into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub into: Option<PathBuf>,

    /// Print the counts as a JSON object on stdout instead of a table
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub stats: Option<StatsFormat>,

    /// Exit 0 even when capture lines are malformed (they are counted and skipped)
    #[arg(long)]
    pub allow_malformed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsFormat {
    Json,
    Table,
}

/// What a replay read, produced and wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ReplaySummary {
    pub file: PathBuf,
    pub into: Option<PathBuf>,
    /// Capture lines read, malformed and truncated.
    pub read: ReadStats,
    #[serde(flatten)]
    pub replay: ReplayStats,
    /// Records appended to the journal.
    pub journal_records: u64,
    /// Records not written because the journal already held them: per venue, those at
    /// or before the newest `ts_recv` the journal had for that venue.
    pub already_in_journal: u64,
    /// The first malformed line's error, for the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_malformed: Option<String>,
}

impl ReplaySummary {
    /// Frames the recorder itself dropped: the capture (and so the replay) is lossy.
    pub fn capture_dropped(&self) -> u64 {
        self.replay.venues.values().map(|v| v.capture_dropped).sum()
    }
}

pub fn run(args: Args) -> CmdResult {
    let progress = std::io::stderr().is_terminal();
    let summary = replay_file(&args.file, args.into.as_deref(), progress)?;
    let text = match args.stats {
        Some(StatsFormat::Json) => {
            let mut text =
                serde_json::to_string_pretty(&summary).map_err(|e| Failure::Runtime(e.into()))?;
            text.push('\n');
            text
        }
        _ => table(&summary),
    };
    // A closed pipe (`| head`) is the reader's choice, not a failure.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    let dropped = summary.capture_dropped();
    if dropped > 0 {
        tracing::error!(
            "the capture says its recorder dropped {dropped} frames: this data has holes"
        );
    }
    for (venue, v) in &summary.replay.venues {
        if !v.books_never_synced.is_empty() {
            eprintln!(
                "{venue}: {} book(s) never synced, their book records are missing: {}",
                v.books_never_synced.len(),
                v.books_never_synced.join(", ")
            );
        }
    }
    if summary.already_in_journal > 0 {
        eprintln!(
            "skipped {} records already in {} (at or before its newest record of each venue): \
             replaying the same capture twice does not double the data",
            summary.already_in_journal,
            args.into.as_deref().unwrap_or(Path::new("")).display()
        );
    }
    if summary.read.lines == 0 {
        return Err(Failure::Invalid(format!(
            "{}: no capture lines ({} malformed{}): is this a `tickd record` capture?",
            args.file.display(),
            summary.read.malformed,
            summary
                .first_malformed
                .as_deref()
                .map_or(String::new(), |e| format!("; first: {e}"))
        )));
    }
    let damaged = summary.read.malformed > 0 || summary.read.io_error.is_some();
    if damaged && !args.allow_malformed {
        return Err(Failure::Invalid(format!(
            "{}: {} malformed line(s){}{}; the other lines were replayed — pass \
             --allow-malformed to accept a damaged capture",
            args.file.display(),
            summary.read.malformed,
            summary
                .first_malformed
                .as_deref()
                .map_or(String::new(), |e| format!(" (first: {e})")),
            summary
                .read
                .io_error
                .as_deref()
                .map_or(String::new(), |e| format!(", reading stopped early: {e}"))
        )));
    }
    if !summary.replay.unsupported_venues.is_empty() {
        let venues: Vec<String> = summary
            .replay
            .unsupported_venues
            .iter()
            .map(|(venue, lines)| format!("{venue:?} ({lines} lines)"))
            .collect();
        return Err(Failure::Invalid(format!(
            "{}: tickd cannot replay {}; replayable venues: {}",
            args.file.display(),
            venues.join(", "),
            tickd_feed::engine::registry::registered_names()
        )));
    }
    Ok(())
}

/// Replay `file` (into the journal at `into`, when given); `progress` shows a bar on
/// stderr for large files.
pub fn replay_file(
    file: &Path,
    into: Option<&Path>,
    progress: bool,
) -> Result<ReplaySummary, Failure> {
    let mut reader = CaptureReader::open(file)
        .map_err(|e| Failure::Invalid(format!("{}: {e}", file.display())))?;
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let bar = (progress && size >= PROGRESS_MIN_BYTES).then(|| progress_bar(size));
    let newest = match into {
        Some(dir) => newest_per_venue(dir)?,
        None => [0; 256],
    };
    let (registry, mut journal) = match into {
        Some(dir) => open_output(dir)?,
        None => (InstrumentRegistry::new(), None),
    };
    let mut replayer = Replayer::new(registry);
    let mut written = 0u64;
    let mut already_in_journal = 0u64;
    let mut first_malformed = None;
    let mut append_error = None;
    let mut lines = 0u64;
    while let Some(item) = reader.next() {
        let line = match item {
            Ok(line) => line,
            Err(err) => {
                first_malformed.get_or_insert_with(|| err.to_string());
                continue;
            }
        };
        replayer.push(&line, &mut |record| {
            let hd = record.header();
            if hd.ts_recv <= newest[usize::from(hd.venue)] {
                already_in_journal += 1;
                return;
            }
            if let Some(journal) = journal.as_mut() {
                match journal.append(record) {
                    Ok(_) => written += 1,
                    Err(err) => {
                        append_error.get_or_insert(err);
                    }
                }
            }
        });
        if let Some(err) = append_error.take() {
            return Err(Failure::Runtime(anyhow::anyhow!("journal: {err}")));
        }
        lines += 1;
        if let Some(bar) = &bar {
            if lines.is_multiple_of(4096) {
                bar.set_position(reader.position());
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let (registry, replay) = replayer.finish();
    if let Some(journal) = journal {
        journal
            .close()
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("journal: {e}")))?;
        registry
            .save()
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("instrument registry: {e}")))?;
    }
    Ok(ReplaySummary {
        file: file.to_path_buf(),
        into: into.map(Path::to_path_buf),
        read: reader.stats().clone(),
        replay,
        journal_records: written,
        already_in_journal,
        first_malformed,
    })
}

/// The newest `ts_recv` the journal in `dir` holds for each venue (by venue code; 0 =
/// none), so records a replay would write again are recognised.
fn newest_per_venue(dir: &Path) -> Result<[u64; 256], Failure> {
    let mut newest = [0u64; 256];
    if !dir.exists() {
        return Ok(newest);
    }
    let reader = JournalReader::open(dir, Filter::all()).map_err(|e| {
        Failure::Runtime(anyhow::anyhow!(
            "reading the journal in {}: {e}",
            dir.display()
        ))
    })?;
    for record in reader.records() {
        let hd = record.header();
        let slot = &mut newest[usize::from(hd.venue)];
        *slot = (*slot).max(hd.ts_recv);
    }
    Ok(newest)
}

fn open_output(dir: &Path) -> Result<(InstrumentRegistry, Option<Journal>), Failure> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(REGISTRY_FILE_NAME);
    let registry = InstrumentRegistry::open(&path)
        .map_err(|e| Failure::Invalid(format!("{}: {e}", path.display())))?;
    let config = JournalConfig {
        // A replay can be run again: no fsync per block, one at close.
        fsync: FsyncPolicy::Never,
        ..JournalConfig::new(dir)
    };
    let (journal, _recovery) =
        Journal::open(config).map_err(|e| Failure::Runtime(anyhow::anyhow!("journal: {e}")))?;
    Ok((registry, Some(journal)))
}

fn progress_bar(size: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(size);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} replay [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// The readable form of the counts.
pub fn table(s: &ReplaySummary) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let r = &s.read;
    let _ = writeln!(
        out,
        "{}: {} lines, {} malformed, {} truncated{}",
        s.file.display(),
        r.lines,
        r.malformed,
        r.truncated,
        r.io_error
            .as_ref()
            .map_or(String::new(), |e| format!(", stopped early: {e}"))
    );
    for (venue, v) in &s.replay.venues {
        let records: Vec<String> = v.records.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(
            out,
            "{venue:<13} frames {} rest {} | records: {} | decode errors {} unknown symbols {} gaps {} resyncs {} snapshots {}{}{}",
            v.ws_frames,
            v.rest_bodies,
            if records.is_empty() { "none".into() } else { records.join(", ") },
            v.decode_errors,
            v.unknown_symbols,
            v.gaps,
            v.resyncs,
            v.snapshots_applied,
            if v.books_never_synced.is_empty() {
                String::new()
            } else {
                format!(" | books never synced: {}", v.books_never_synced.join(", "))
            },
            if v.capture_dropped > 0 {
                format!(" | LOSSY CAPTURE: {} frames dropped by the recorder", v.capture_dropped)
            } else {
                String::new()
            }
        );
    }
    if s.replay.unsupported_lines > 0 {
        let _ = writeln!(
            out,
            "lines of venues without a replayable feed: {}",
            s.replay.unsupported_lines
        );
    }
    match &s.into {
        Some(dir) => {
            let _ = writeln!(
                out,
                "{} records written to {}",
                s.journal_records,
                dir.display()
            );
        }
        None => {
            let _ = writeln!(out, "dry run: nothing written (use --into DIR)");
        }
    }
    out
}
