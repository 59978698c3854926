//! `tickd record`: run the configured venues' feeds with a capture tap, writing
//! every raw frame and REST body they use to a capture file (for `tickd replay`
//! and `tickd sim --replay`).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tickd_bus::instrument::{InstrumentRegistry, REGISTRY_FILE_NAME};
use tickd_bus::ring::{ring, Bus};
use tickd_bus::Venue;
use tickd_feed::capture::{CaptureSummary, CaptureWriter};
use tickd_feed::runtime::shutdown_channel;
use tickd_feed::venue::{spawn_venue, VenueSettings};
use tickd_storage::journal::{BusWriter, BusWriterConfig, Journal, JournalConfig};

use crate::cmd::serve::{duration_arg, venue_settings};
use crate::config::load_config;
use crate::exit::{CmdResult, Failure};

/// The feeds' rings: small when nothing reads them, roomy for a journal writer.
const RING: usize = 1 << 12;
const JOURNAL_RING: usize = 1 << 16;

/// Record raw frames from the configured venues into a capture file
///
/// Connects exactly as `tickd serve` does (same subscriptions, REST snapshots and
/// reconnects) and stores each WebSocket frame as received, with its receive time,
/// plus the REST responses the feeds used, as JSON Lines (zstd when FILE ends in
/// .zst). Stops on Ctrl-C or after --duration, and always finishes the file so it
/// is readable. Frames the writer could not keep up with are counted, written into
/// the capture as `loss` lines, and reported.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
    tickd record -c configs/tickd.toml --out day.jsonl.zst
    tickd record -c configs/demo.toml --out demo.jsonl --venue binance --duration 60")]
pub struct Args {
    /// Configuration file
    #[arg(short, long, value_name = "FILE", default_value = "configs/tickd.toml")]
    pub config: PathBuf,

    /// Capture file to write (`.zst` = zstd-compressed); replaced if it exists
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Record only this venue (repeat for more); default: every enabled venue
    #[arg(long = "venue", value_name = "VENUE")]
    pub venues: Vec<String>,

    /// Stop after this many seconds instead of waiting for Ctrl-C
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,

    /// Also write the normalized records to a journal in this directory
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
}

pub fn run(args: Args) -> CmdResult {
    let config = load_config(&args.config).map_err(|errs| Failure::config(&args.config, &errs))?;
    let duration = duration_arg(args.duration)?;
    let mut wanted = Vec::new();
    for name in &args.venues {
        let venue: Venue = name.parse().map_err(|_| {
            Failure::Invalid(format!(
                "--venue {name}: expected one of {}",
                Venue::names()
            ))
        })?;
        wanted.push(venue);
    }
    let settings: Vec<VenueSettings> = config
        .enabled_venues()
        .filter(|(venue, _)| wanted.is_empty() || wanted.contains(venue))
        .map(|(venue, cfg)| venue_settings(venue, cfg))
        .collect();
    if let Some(missing) = wanted
        .iter()
        .find(|v| !settings.iter().any(|s| s.venue == **v))
    {
        return Err(Failure::Invalid(format!(
            "--venue {missing} is not enabled in {}",
            args.config.display()
        )));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let journal = args.journal.as_deref();
    let summary = runtime.block_on(record(settings, &args.out, journal, async move {
        let deadline = async {
            match duration {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            signal = crate::shutdown::stop_requested() => tracing::info!("{signal}: finishing the capture"),
            _ = deadline => {}
        }
    }))?;
    eprintln!(
        "{}: {} frames, {} REST bodies, {} bytes of raw data",
        summary.path.display(),
        summary.ws_frames,
        summary.rest_bodies,
        summary.data_bytes
    );
    if summary.dropped > 0 {
        return Err(Failure::Runtime(anyhow::anyhow!(
            "LOSSY CAPTURE: {} frames were dropped because the writer fell behind \
             (marked in the file as `loss` lines); record fewer symbols or to a faster disk",
            summary.dropped
        )));
    }
    Ok(())
}

/// Record `settings`' venues into `out` (and their records into the journal at
/// `journal`, when given) until `stop` completes, then stop the feeds and finish
/// the file.
pub async fn record(
    settings: Vec<VenueSettings>,
    out: &Path,
    journal: Option<&Path>,
    stop: impl Future<Output = ()>,
) -> Result<CaptureSummary, Failure> {
    let registry = match journal {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            let path = dir.join(REGISTRY_FILE_NAME);
            InstrumentRegistry::open(&path)
                .map_err(|e| Failure::Invalid(format!("{}: {e}", path.display())))?
        }
        None => InstrumentRegistry::new(),
    }
    .into_shared();
    let writer = CaptureWriter::create(out)
        .map_err(|e| Failure::Invalid(format!("{}: {e}", out.display())))?;
    let (trigger, shutdown) = shutdown_channel();
    let mut planned = Vec::new();
    let mut bus = Bus::new();
    for mut s in settings {
        let venue = s.venue;
        let Some(feed) = tickd_feed::engine::registry::feed(venue) else {
            tracing::warn!(%venue, "no feed for this venue yet; not recorded");
            continue;
        };
        s.tap = Some(writer.tap(venue));
        let (producer, handle) = ring(if journal.is_some() {
            JOURNAL_RING
        } else {
            RING
        });
        bus.add(handle);
        planned.push((feed, s, producer));
    }
    if planned.is_empty() {
        return Err(Failure::Invalid(format!(
            "no venue to record ({} have feeds)",
            tickd_feed::engine::registry::registered_names()
        )));
    }
    let journal_writer = match journal {
        Some(dir) => {
            let (journal, _recovery) = Journal::open(JournalConfig::new(dir))
                .map_err(|e| Failure::Runtime(anyhow::anyhow!("journal: {e}")))?;
            Some(BusWriter::spawn(
                bus.subscribe_all(),
                journal,
                BusWriterConfig::default(),
            )?)
        }
        None => None,
    };
    let mut feeds = Vec::new();
    for (feed, s, producer) in planned {
        let venue = s.venue;
        tracing::info!(%venue, symbols = s.symbols.len(), ws = %s.ws_url, "recording");
        let handle = spawn_venue(feed, s, producer, registry.clone(), shutdown.clone())
            .map_err(|e| Failure::Runtime(e.into()))?;
        feeds.push(handle);
    }
    let status = async {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        tick.tick().await;
        loop {
            tick.tick().await;
            tracing::info!(
                lines = writer.lines(),
                dropped = writer.dropped(),
                "recording"
            );
        }
    };
    tokio::select! {
        _ = stop => {}
        _ = status => {}
    }
    trigger.trigger();
    let mut failures = Vec::new();
    for feed in feeds {
        let venue = feed.venue;
        if let Err(err) = feed.join() {
            failures.push(format!("{venue}: {err}"));
        }
    }
    if let Some(journal_writer) = journal_writer {
        if let Err(err) = journal_writer.stop() {
            failures.push(format!("journal: {err}"));
        }
        if let Ok(registry) = registry.read() {
            if let Err(err) = registry.save() {
                failures.push(format!("instrument registry: {err}"));
            }
        }
    }
    let summary = writer
        .finish()
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("{}: {e}", out.display())))?;
    if !failures.is_empty() {
        tracing::warn!("feeds ended with errors: {}", failures.join("; "));
    }
    Ok(summary)
}
