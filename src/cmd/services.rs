//! What runs beside the feeds in `tickd serve` and `tickd demo`: the journal writer
//! (with 1-second bars), the optional QuestDB sink, and the gateway.
//!
//! Each consumes the venues' bus rings with its own cursor, so none can slow the feeds.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tickd_bus::instrument::SharedRegistry;
use tickd_bus::ring::{Bus, RingHandle};
use tickd_bus::Venue;
use tickd_gateway::{Gateway, GatewayHandle};
use tickd_storage::bar_writer::BarTap;
use tickd_storage::journal::{
    BusWriter, BusWriterConfig, FsyncPolicy, Journal, JournalConfig, RetentionPolicy,
};
use tickd_storage::questdb::{JournalTail, QuestDbConfig, QuestDbSink};

use super::gateway_runtime::runtime_config;
use super::observe::{FeedSide, FeedView};
use crate::config::{self, Config};
use crate::exit::Failure;

/// How often retention (delete old days, compress closed segments) runs.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

pub(crate) struct Services {
    writer: Option<BusWriter>,
    questdb: Option<QuestDbSink>,
    gateway: Option<GatewayHandle>,
}

impl Services {
    /// Start the services the config enables. Call inside the tokio runtime.
    pub async fn start(
        config: &Config,
        rings: &[(Venue, RingHandle)],
        registry: &SharedRegistry,
    ) -> Result<Services, Failure> {
        let bus = rings.iter().fold(Bus::new(), |mut bus, (_, ring)| {
            bus.add(ring.clone());
            bus
        });
        let storage = &config.storage;
        let writer = if storage.enabled {
            let (journal, recovery) = Journal::open(journal_config(storage)).map_err(|e| {
                Failure::Runtime(anyhow::anyhow!(
                    "opening the journal in {}: {e}",
                    storage.dir.display()
                ))
            })?;
            for line in recovery.describe() {
                tracing::warn!("journal recovery: {line}");
            }
            // From the oldest record still in each ring: the feeds started first.
            let source = BarTap::new(bus.subscribe_all_oldest().named("journal"));
            let writer_config = BusWriterConfig {
                retention: Some((retention_policy(storage), RETENTION_EVERY)),
                ..BusWriterConfig::default()
            };
            tracing::info!(dir = %storage.dir.display(), "journal writer started");
            Some(BusWriter::spawn(source, journal, writer_config)?)
        } else {
            None
        };
        let questdb = if storage.enabled && storage.questdb.enabled {
            let tail = JournalTail::open(&storage.dir, &storage.dir.join("questdb.position"))?;
            let names = registry.clone();
            let sink = QuestDbSink::start(
                QuestDbConfig {
                    conf: storage.questdb.conf.clone(),
                    batch_rows: storage.questdb.batch_rows as usize,
                    flush_interval: Duration::from_millis(storage.questdb.flush_interval_ms),
                    decimals: storage.questdb.decimals(),
                    ..QuestDbConfig::default()
                },
                tail,
                move |_venue: Venue, id: u32| names.read().ok()?.get(id).map(|i| i.symbol.clone()),
            )
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("{e}")))?;
            tracing::info!(conf = %storage.questdb.conf, "QuestDB sink started");
            Some(sink)
        } else {
            None
        };
        let journal_dir = storage.enabled.then(|| storage.dir.clone());
        let gateway = Gateway::start(
            runtime_config(&config.gateway)?,
            bus,
            registry.clone(),
            journal_dir,
        )
        .await
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("gateway: {e}")))?;
        let quic = gateway
            .quic_addr()
            .map_or_else(|| "off".to_string(), |addr| addr.to_string());
        tracing::info!(
            http = %format!("http://{}", gateway.local_addr()),
            ws = %format!("ws://{}/v1/stream", gateway.local_addr()),
            %quic,
            "gateway listening (dashboard at the http address)"
        );
        Ok(Services {
            writer,
            questdb,
            gateway: Some(gateway),
        })
    }

    /// Adds the feeds, the journal writer, the QuestDB sink and the process to the
    /// gateway's `/metrics` and `/v1/status`.
    pub fn observe(&self, feeds: Vec<FeedView>, config: &Config) {
        let Some(gateway) = &self.gateway else {
            return;
        };
        let side = FeedSide::new(
            feeds,
            self.writer.as_ref().map(|w| Arc::clone(w.stats())),
            config.storage.enabled.then(|| config.storage.dir.clone()),
            self.questdb.as_ref().map(|q| Arc::clone(q.stats())),
        );
        gateway.metrics().add_source(Arc::new(side));
    }

    /// First step of a shutdown, before the feeds stop: close subscriber connections.
    pub async fn stop_gateway(&mut self) {
        if let Some(gateway) = self.gateway.take() {
            gateway.shutdown().await;
        }
    }

    /// Last step, after the feeds stopped: the writer, which drains the rings and
    /// syncs, so everything the feeds published is journaled; then the QuestDB sink,
    /// which sends on to the journal's end before it stops.
    pub fn stop_storage(mut self) {
        if let Some(writer) = self.writer.take() {
            let stats = writer.stats().clone();
            match writer.stop() {
                Ok(()) => {
                    let count = |c: &std::sync::atomic::AtomicU64| c.load(Relaxed);
                    tracing::info!(
                        records = count(&stats.records),
                        records_lost = count(&stats.records_lost),
                        gaps_written = count(&stats.gaps_written),
                        append_errors = count(&stats.append_errors),
                        records_unwritten = count(&stats.records_unwritten),
                        "journal writer stopped"
                    )
                }
                Err(err) => tracing::error!("journal writer: {err}"),
            }
        }
        if let Some(sink) = self.questdb.take() {
            sink.stop();
        }
    }
}

fn journal_config(storage: &config::StorageConfig) -> JournalConfig {
    let mut journal = JournalConfig::new(&storage.dir);
    journal.fsync = match storage.fsync {
        config::FsyncPolicy::Interval => {
            FsyncPolicy::Interval(Duration::from_millis(storage.fsync_interval_ms.max(1)))
        }
        config::FsyncPolicy::Block => FsyncPolicy::EveryBlock,
        config::FsyncPolicy::Never => FsyncPolicy::Never,
    };
    journal
}

fn retention_policy(storage: &config::StorageConfig) -> RetentionPolicy {
    RetentionPolicy {
        keep_days: if storage.retention_days == 0 {
            u32::MAX
        } else {
            storage.retention_days
        },
        compress_after_days: (storage.compress_after_days > 0)
            .then_some(storage.compress_after_days),
        ..RetentionPolicy::default()
    }
}
