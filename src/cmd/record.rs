//! `tickd record`: run the configured venues' feeds with a capture tap, writing
//! every raw frame and REST body they use to a capture file (for `tickd replay`
//! and `tickd sim --replay`).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tickd_bus::instrument::InstrumentRegistry;
use tickd_bus::ring::ring;
use tickd_bus::Venue;
use tickd_feed::binance::BinanceFeed;
use tickd_feed::capture::{CaptureSummary, CaptureWriter};
use tickd_feed::runtime::shutdown_channel;
use tickd_feed::venue::{spawn_venue, VenueSettings};

use crate::cmd::serve::{duration_arg, venue_settings};
use crate::config::load_config;
use crate::exit::{CmdResult, Failure};

/// The feeds' own rings have no reader while recording: keep them small.
const RING: usize = 1 << 12;

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
    let summary = runtime.block_on(record(settings, &args.out, async move {
        let deadline = async {
            match duration {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: finishing the capture"),
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

/// Record `settings`' venues into `out` until `stop` completes, then stop the feeds
/// and finish the file.
pub async fn record(
    settings: Vec<VenueSettings>,
    out: &Path,
    stop: impl Future<Output = ()>,
) -> Result<CaptureSummary, Failure> {
    let writer = CaptureWriter::create(out)
        .map_err(|e| Failure::Invalid(format!("{}: {e}", out.display())))?;
    let registry = InstrumentRegistry::new().into_shared();
    let (trigger, shutdown) = shutdown_channel();
    let mut feeds = Vec::new();
    for mut s in settings {
        let venue = s.venue;
        let Some(feed) = BinanceFeed::for_venue(venue) else {
            tracing::warn!(%venue, "no feed for this venue yet; not recorded");
            continue;
        };
        s.tap = Some(writer.tap(venue));
        let (producer, _ring) = ring(RING);
        tracing::info!(%venue, symbols = s.symbols.len(), ws = %s.ws_url, "recording");
        let handle = spawn_venue(
            Box::new(feed),
            s,
            producer,
            registry.clone(),
            shutdown.clone(),
        )
        .map_err(|e| Failure::Runtime(e.into()))?;
        feeds.push(handle);
    }
    if feeds.is_empty() {
        return Err(Failure::Invalid(
            "no venue to record (binance and binance-usdm have feeds)".into(),
        ));
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
    let summary = writer
        .finish()
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("{}: {e}", out.display())))?;
    if !failures.is_empty() {
        tracing::warn!("feeds ended with errors: {}", failures.join("; "));
    }
    Ok(summary)
}
