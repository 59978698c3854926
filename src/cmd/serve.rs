//! `tickd serve`: connect to the configured venues and run until Ctrl-C.
//!
//! Each enabled venue gets its own feed thread (see `tickd_feed::venue`) publishing on
//! its own bus ring; every `--status-every` seconds one compact line per venue reports
//! message rates, reconnects, gaps, resyncs and books in sync.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tickd_bus::instrument::{InstrumentRegistry, SharedRegistry, REGISTRY_FILE_NAME};
use tickd_bus::ring::{ring, RingHandle};
use tickd_bus::Venue;
use tickd_feed::runtime::{shutdown_channel, ShutdownTrigger};
use tickd_feed::stats::{status_line, CounterSnapshot};
use tickd_feed::venue::{spawn_venue, VenueFeed, VenueHandle, VenueSettings};

use super::observe::FeedView;
use super::services::Services;
use crate::config::{load_config, Config, Overrides, TimeUnit, VenueConfig};
use crate::exit::{CmdResult, Failure};

/// Connect to the venues in a configuration and serve their data until Ctrl-C
///
/// Loads each venue's instruments (exchangeInfo), opens its WebSocket connections,
/// keeps its books in sync with REST snapshots, and logs one status line per venue
/// every --status-every seconds. Without network access it keeps retrying with
/// backoff and says why; `tickd demo` runs everything against a local simulator.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
    tickd serve -c configs/tickd.toml        # the real exchanges
    tickd serve -c configs/demo.toml         # against a running `tickd sim`
    TICKD_LISTEN=0.0.0.0:8080 TICKD_DATA=/var/lib/tickd tickd serve -c /etc/tickd/tickd.toml")]
pub struct Args {
    /// Configuration file
    #[arg(short, long, value_name = "FILE", default_value = "configs/tickd.toml")]
    pub config: PathBuf,

    /// Log each venue's status line every this many seconds (0 = never)
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub status_every: u64,

    /// Stop after this many seconds instead of waiting for Ctrl-C (scripts, CI)
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,

    #[command(flatten)]
    pub overrides: Overrides,
}

pub fn run(args: Args) -> CmdResult {
    let mut config =
        load_config(&args.config).map_err(|errs| Failure::config(&args.config, &errs))?;
    apply_overrides(&args.overrides, &mut config, &args.config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let duration = duration_arg(args.duration)?;
    runtime.block_on(async move {
        // Before anything starts, so a signal during start-up stops the run cleanly.
        let stop = crate::shutdown::StopListener::install();
        let mut engine = Engine::start_feed_node(&config).await?;
        engine.start_services(&config).await?;
        engine
            .run_until_stopped(args.status_every, duration, stop)
            .await
    })
}

/// How long a feed node waits for NATS at start-up before starting its feeds anyway.
const NATS_START_WAIT: Duration = Duration::from_secs(3);

/// The command line's `--listen`/`--data`/`--sim-listen` (or `TICKD_*`) over the file.
pub(crate) fn apply_overrides(
    overrides: &Overrides,
    config: &mut Config,
    file: &std::path::Path,
) -> Result<(), Failure> {
    overrides.apply(config).map_err(|errs| {
        let source = format!("{} with {}", file.display(), overrides.describe());
        Failure::config(std::path::Path::new(&source), &errs)
    })
}

pub(crate) fn duration_arg(secs: Option<f64>) -> Result<Option<Duration>, Failure> {
    secs.map(|s| {
        Duration::try_from_secs_f64(s)
            .map_err(|_| Failure::Invalid(format!("--duration {s}: expected seconds ≥ 0")))
    })
    .transpose()
}

/// The feed side of a running server: one thread and one ring per venue.
pub(crate) struct Engine {
    pub feeds: Vec<VenueHandle>,
    /// One ring per feed, same order: consumers (storage, gateway) subscribe here.
    pub rings: Vec<(Venue, RingHandle)>,
    pub registry: SharedRegistry,
    trigger: ShutdownTrigger,
    /// Journal, QuestDB sink and gateway, once started.
    services: Option<Services>,
    /// The NATS publisher of a feed node (`[nats]` in the config).
    publisher: Option<tickd_nats::PublisherHandle>,
}

impl Engine {
    /// Open the registry and start the feeds. With `[nats]` in the config (a feed node)
    /// the registry is prepared first: venue-scoped ids, this node's ids taken back
    /// from the bucket.
    pub async fn start_feed_node(config: &Config) -> Result<Self, Failure> {
        super::gateway_runtime::check_listen_free(&config.gateway)?;
        let registry = open_registry(config)?;
        if let Some(nats) = &config.nats {
            let venues: Vec<Venue> = config.enabled_venues().map(|(v, _)| v).collect();
            tickd_nats::registry_kv::prepare_feed_node(
                &nats.settings(None),
                &venues,
                &registry,
                NATS_START_WAIT,
            )
            .await
            .map_err(Failure::Invalid)?;
        }
        Self::start_with_registry(config, registry)
    }

    fn start_with_registry(config: &Config, registry: SharedRegistry) -> Result<Self, Failure> {
        let (trigger, shutdown) = shutdown_channel();
        let mut feeds = Vec::new();
        let mut rings = Vec::new();
        for (venue, venue_config) in config.enabled_venues() {
            let feed: Box<dyn VenueFeed> = match tickd_feed::engine::registry::feed(venue) {
                Some(feed) => feed,
                None => {
                    tracing::warn!(%venue, "no feed for this venue yet (see docs/adding-a-venue.md); skipped");
                    continue;
                }
            };
            let capacity = usize::try_from(config.bus.ring_capacity).unwrap_or(1 << 16);
            let (producer, handle) = ring(capacity);
            let settings = venue_settings(venue, venue_config);
            tracing::info!(
                %venue, symbols = settings.symbols.len(), ws = %settings.ws_url, rest = %settings.rest_url,
                "starting feed"
            );
            let feed = spawn_venue(feed, settings, producer, registry.clone(), shutdown.clone())
                .map_err(|e| Failure::Runtime(e.into()))?;
            feeds.push(feed);
            rings.push((venue, handle));
        }
        if feeds.is_empty() {
            return Err(Failure::Invalid(format!(
                "no enabled venue has a feed yet ({} do)",
                tickd_feed::engine::registry::registered_names()
            )));
        }
        Ok(Self {
            feeds,
            rings,
            registry,
            trigger,
            services: None,
            publisher: None,
        })
    }

    /// Start the journal writer, the QuestDB sink and the gateway on the rings.
    pub async fn start_services(&mut self, config: &Config) -> Result<(), Failure> {
        let services = Services::start(config, &self.rings, &self.registry).await?;
        let feeds = self
            .feeds
            .iter()
            .zip(&self.rings)
            .map(|(feed, (venue, ring))| {
                let stale_after = config.venues.get(venue).map_or(0, |v| v.stale_after_secs);
                FeedView::new(*venue, feed.stats.clone(), ring.clone(), stale_after)
            })
            .collect();
        services.observe(feeds, config);
        self.services = Some(services);
        if let Some(nats) = &config.nats {
            let settings = nats.settings(None);
            tracing::info!(
                servers = ?settings.servers, node = %settings.node, stream = %settings.stream.name,
                "feed node: publishing to NATS"
            );
            let publisher =
                tickd_nats::spawn_publisher(settings, self.rings.clone(), self.registry.clone())?;
            self.publisher = Some(publisher);
        }
        Ok(())
    }

    /// Log status lines until Ctrl-C (or `duration`), then stop every feed cleanly.
    pub async fn run_until_stopped(
        mut self,
        status_every: u64,
        duration: Option<Duration>,
        mut stop: crate::shutdown::StopListener,
    ) -> CmdResult {
        let every = Duration::from_secs(status_every.max(1));
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let deadline = duration.map(|d| tokio::time::Instant::now() + d);
        let mut last: HashMap<Venue, (Instant, CounterSnapshot)> = self
            .feeds
            .iter()
            .map(|f| (f.venue, (Instant::now(), f.stats.counters.snapshot())))
            .collect();
        let mut saved = false;
        let mut timed_out = false;
        let stop = stop.wait();
        tokio::pin!(stop);
        loop {
            let until_deadline = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                signal = &mut stop => {
                    tracing::info!("{signal}: stopping");
                    break;
                }
                _ = until_deadline => {
                    timed_out = true;
                    break;
                }
                _ = tick.tick(), if status_every > 0 => {
                    if let Some(publisher) = &self.publisher {
                        let s = publisher.stats();
                        tracing::info!(
                            "nats: {} records in {} messages, {} lost to lag, {} publish errors",
                            s.records.load(Ordering::Relaxed),
                            s.messages.load(Ordering::Relaxed),
                            s.records_lost.load(Ordering::Relaxed),
                            s.publish_errors.load(Ordering::Relaxed)
                        );
                    }
                    for (feed, (_, ring)) in self.feeds.iter().zip(&self.rings) {
                        let now = (Instant::now(), feed.stats.counters.snapshot());
                        if let Some((at, prev)) = last.insert(feed.venue, now) {
                            let line = status_line(feed.venue, &prev, &now.1, now.0 - at);
                            tracing::info!("{line} | bus {}", ring.published());
                        }
                    }
                    if !saved {
                        saved = self.save_registry();
                    }
                }
            }
        }
        if let Some(services) = self.services.as_mut() {
            services.stop_gateway().await;
        }
        let services = self.services.take();
        let publisher = self.publisher.take();
        let never_connected = self.never_connected();
        let result = self.stop();
        // After the feeds: the publisher sends what the rings still hold.
        if let Some(publisher) = publisher {
            let stats = publisher.stats().clone();
            match publisher.stop() {
                Ok(()) => tracing::info!(
                    records = stats.records.load(Ordering::Relaxed),
                    messages = stats.messages.load(Ordering::Relaxed),
                    records_lost = stats.records_lost.load(Ordering::Relaxed),
                    publish_errors = stats.publish_errors.load(Ordering::Relaxed),
                    "NATS publisher stopped"
                ),
                Err(err) => tracing::error!("NATS publisher: {err}"),
            }
        }
        if let Some(services) = services {
            services.stop_storage();
        }
        match (result, duration) {
            // A bounded run (scripts, CI) that never reached a venue did not do its job.
            (Ok(()), Some(d)) if timed_out && !never_connected.is_empty() => {
                Err(Failure::Runtime(anyhow::anyhow!(
                    "never connected during the {:.0} s run: {}",
                    d.as_secs_f64(),
                    never_connected.join("; ")
                )))
            }
            (result, _) => result,
        }
    }

    /// The venues whose feed never opened a connection, with their last error.
    fn never_connected(&self) -> Vec<String> {
        self.feeds
            .iter()
            .filter(|f| !f.stats.ever_connected())
            .map(|f| match f.stats.health().last_error {
                Some((error, _)) => format!("{} ({error})", f.venue),
                None => f.venue.to_string(),
            })
            .collect()
    }

    fn save_registry(&self) -> bool {
        let Ok(registry) = self.registry.read() else {
            return false;
        };
        if registry.path().is_none() || registry.is_empty() {
            return false;
        }
        match registry.save() {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!("cannot save the instrument registry: {err}");
                false
            }
        }
    }

    /// Stop every feed and wait for its thread.
    pub fn stop(self) -> CmdResult {
        self.trigger.trigger();
        self.save_registry();
        let mut failures = Vec::new();
        for feed in self.feeds {
            let venue = feed.venue;
            let counters = feed.stats.counters.snapshot();
            match feed.join() {
                Ok(()) => tracing::info!(
                    %venue, messages = counters.messages, records = counters.records,
                    reconnects = counters.reconnects, gaps = counters.gaps, "feed stopped"
                ),
                Err(err) => failures.push(format!("{venue}: {err}")),
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Failure::Runtime(anyhow::anyhow!(failures.join("; "))))
        }
    }
}

/// The registry lives next to the journal when storage is enabled, else in memory.
pub(crate) fn open_registry(config: &Config) -> Result<SharedRegistry, Failure> {
    if !config.storage.enabled {
        return Ok(InstrumentRegistry::new().into_shared());
    }
    let dir = &config.storage.dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("storage dir {}: {e}", dir.display())))?;
    let path = config.storage.dir.join(REGISTRY_FILE_NAME);
    let registry = InstrumentRegistry::open(&path)
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("{}: {e}", path.display())))?;
    Ok(registry.into_shared())
}

/// A venue's config section as the feed's settings.
pub(crate) fn venue_settings(venue: Venue, cfg: &VenueConfig) -> VenueSettings {
    let mut s = VenueSettings::new(venue, &cfg.ws_url, &cfg.rest_url);
    s.symbols = cfg.symbols.clone();
    s.channels = cfg
        .channels
        .iter()
        .filter_map(|c| c.as_str().parse::<tickd_bus::Channel>().ok())
        .collect();
    s.core = cfg.core;
    s.book_depth = cfg.book_depth;
    s.streams_per_connection = cfg.streams_per_connection as usize;
    s.snapshot_requests_per_minute = cfg.snapshot_requests_per_minute;
    s.stale_after = Duration::from_secs(cfg.stale_after_secs);
    // Per-stream silence limits only where the config names a channel: the
    // connection-wide limit already catches a dead socket, and quiet symbols' trade
    // streams should not be restarted on the connection-wide limit.
    s.stale_after_per_channel = cfg
        .stale_after_secs_per_channel
        .iter()
        .filter_map(|(c, secs)| {
            let channel = c.as_str().parse::<tickd_bus::Channel>().ok()?;
            Some((channel, Duration::from_secs(*secs)))
        })
        .collect();
    s.oi_poll = Duration::from_secs(cfg.oi_poll_secs_or_default().max(1));
    s.max_connection_age = Duration::from_secs(cfg.max_connection_age_secs.max(1));
    s.time_unit_micros = cfg.time_unit == TimeUnit::Us;
    s.venue_bars_minutes = cfg.venue_bars_minutes;
    s.book_images = cfg.book_images;
    s.full_book = cfg.full_book;
    s.inflate_limit = cfg
        .inflate_limit_bytes
        .and_then(|bytes| usize::try_from(bytes).ok());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_maps_onto_feed_settings() {
        let config = crate::config::parse_config(include_str!("../../configs/demo.toml"))
            .expect("demo config is valid");
        let (venue, cfg) = config
            .enabled_venues()
            .find(|(v, _)| *v == Venue::BinanceUsdm)
            .expect("usdm in the demo");
        let s = venue_settings(venue, cfg);
        assert_eq!(s.symbols.len(), 4);
        assert!(s.channels.contains(&tickd_bus::Channel::Oi));
        assert_eq!(s.stale_after, Duration::from_secs(10));
        assert_eq!(s.oi_poll, Duration::from_secs(10));
        assert!(s.ws_url.starts_with("ws://127.0.0.1"));
        assert!(duration_arg(Some(-1.0)).is_err());
        assert_eq!(
            duration_arg(Some(1.5)).ok().flatten(),
            Some(Duration::from_millis(1500))
        );
    }
}
