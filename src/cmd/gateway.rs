//! `tickd gateway -c FILE`: an edge node. No feeds: it reads the records of feed nodes
//! from NATS JetStream into local rings and serves them over WebSocket, QUIC and HTTP
//! exactly as `tickd serve` does (same gateway, same journal for history).

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tickd_bus::ring::ring;
use tickd_bus::Venue;

use super::serve::{duration_arg, open_registry};
use super::services::Services;
use crate::config::load_config;
use crate::exit::{CmdResult, Failure};

/// Serve subscribers from NATS JetStream: an edge node of a scale-out deployment
///
/// Reads every record the feed nodes (`tickd serve` with a [nats] section) publish for
/// the venues in [nats] venues (default: every venue in the registry bucket), keeps the
/// books of those venues (seeded by a snapshot from the feed node), writes its own
/// journal for history when [storage] is enabled, and serves WebSocket, QUIC and HTTP
/// with the same protocol as `tickd serve`. See docs/scale-out.md.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
    tickd gateway -c configs/edge.toml
    tickd gateway -c configs/edge.toml --duration 60    # bounded, for scripts and CI")]
pub struct Args {
    /// Configuration file with a [nats] section (and [gateway], [storage])
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,

    /// Log a status line every this many seconds (0 = never)
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub status_every: u64,

    /// Stop after this many seconds instead of waiting for Ctrl-C (scripts, CI)
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
}

/// How long an edge node with no venue list waits for a feed node to register one.
const DISCOVER_WAIT: Duration = Duration::from_secs(30);

pub fn run(args: Args) -> CmdResult {
    let config = load_config(&args.config).map_err(|errs| Failure::config(&args.config, &errs))?;
    let Some(nats) = config.nats.clone() else {
        return Err(Failure::Invalid(format!(
            "{}: an edge node needs a [nats] section (see docs/scale-out.md)",
            args.config.display()
        )));
    };
    let duration = duration_arg(args.duration)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let registry = open_registry(&config)?;
        let position = config
            .storage
            .enabled
            .then(|| config.storage.dir.join("nats-position.json"));
        let settings = nats.settings(position);
        let venues: Vec<Venue> = if settings.venues.is_empty() {
            tickd_nats::edge::discover_venues(&settings, DISCOVER_WAIT)
                .await
                .map_err(|e| Failure::Runtime(anyhow::anyhow!(e)))?
        } else {
            settings.venues.clone()
        };
        let capacity = usize::try_from(config.bus.ring_capacity).unwrap_or(1 << 16);
        let (producers, rings): (Vec<_>, Vec<_>) = venues
            .iter()
            .map(|venue| {
                let (producer, handle) = ring(capacity);
                ((*venue, producer), (*venue, handle))
            })
            .unzip();
        tracing::info!(servers = ?settings.servers, ?venues, stream = %settings.stream.name, "edge node: reading from NATS");
        let edge = tickd_nats::spawn_edge(settings, producers, registry.clone())?;
        let mut services = Services::start(&config, &rings, &registry).await?;
        wait(&edge, args.status_every, duration).await;
        services.stop_gateway().await;
        let stats = edge.stats().clone();
        let result = edge.stop();
        services.stop_storage();
        save_registry(&registry);
        tracing::info!(?stats, "edge node stopped");
        result.map_err(|e| Failure::Runtime(anyhow::anyhow!(e)))
    })
}

async fn wait(edge: &tickd_nats::EdgeHandle, status_every: u64, duration: Option<Duration>) {
    let every = Duration::from_secs(status_every.max(1));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let until = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(until);
    let stop = crate::shutdown::stop_requested();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            signal = &mut stop => {
                tracing::info!("{signal}: stopping");
                break;
            }
            _ = &mut until => break,
            _ = tick.tick(), if status_every > 0 => {
                let s = edge.stats();
                tracing::info!(
                    "nats: {} records in {} messages, {} gaps ({} records lost), {} images, {} disconnects",
                    s.records.load(Ordering::Relaxed),
                    s.messages.load(Ordering::Relaxed),
                    s.gaps.load(Ordering::Relaxed),
                    s.records_lost.load(Ordering::Relaxed),
                    s.images_placed.load(Ordering::Relaxed),
                    s.disconnects.load(Ordering::Relaxed),
                );
            }
        }
    }
}

fn save_registry(registry: &tickd_bus::SharedRegistry) {
    if let Ok(r) = registry.read() {
        if r.path().is_some() && !r.is_empty() {
            if let Err(err) = r.save() {
                tracing::warn!("cannot save the instrument registry: {err}");
            }
        }
    }
}
