//! The edge node's side: per venue, an ordered JetStream consumer on
//! `<prefix>.<venue>.>` whose records go, unchanged, into the venue's local bus ring.
//! The gateway and the journal read those rings exactly as in `tickd serve`, so the
//! protocol (sequences, gaps, slow-consumer policies, history) is the same code.
//!
//! - Books: after creating its consumer the edge asks the feed node for each
//!   instrument's image (NATS request/reply). An image with sequence `S` goes into the
//!   ring right before the first delta after `S` (or once the consumer has caught up);
//!   deltas up to `S` that come after it are dropped, so the seam has no gap and no
//!   duplicate.
//! - Lost records: each message says how many records its publisher had sent for the
//!   venue, so a jump (messages gone beyond the stream's retention) becomes a `Gap`
//!   status record (`reason = RelayLost`, `lost` = the exact count), and the books are
//!   asked for again.
//! - Silence: no message and no heartbeat from the venue's feed node for
//!   `settings.silence` gives a `Disconnected` status (`reason = StaleStream`); the
//!   next message or heartbeat gives `Connected`.
//! - Position: the last stream sequence per venue is kept in `settings.position_file`,
//!   so a restarted edge resumes right after it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use async_nats::jetstream::{self, kv, stream};
use async_nats::Client;
use futures_util::StreamExt;
use parking_lot::Mutex;
use tickd_bus::record::{BookDeltaMsg, StatusKind, StatusMsg, StatusReason};
use tickd_bus::ring::Producer;
use tickd_bus::{RecordBuf, RecordHeader, SharedRegistry, Venue};
use tokio::sync::watch;

use crate::position::{Positions, VenuePosition};
use crate::settings::NatsSettings;
use crate::{registry_kv, subject, wire};

/// How long a snapshot request waits for the feed node.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(2);
/// Images not yet placed are placed after this long without a later delta.
const SEED_PLACE_AFTER: Duration = Duration::from_millis(200);
const POSITION_SAVE_EVERY: Duration = Duration::from_secs(1);

/// Live counters (read from any thread).
#[derive(Debug, Default)]
pub struct EdgeStats {
    pub messages: AtomicU64,
    pub records: AtomicU64,
    pub gaps: AtomicU64,
    pub records_lost: AtomicU64,
    pub bad_messages: AtomicU64,
    pub unknown_instruments: AtomicU64,
    pub images_placed: AtomicU64,
    pub stale_deltas_dropped: AtomicU64,
    pub disconnects: AtomicU64,
    /// Venues whose consumer exists and whose books were asked for.
    pub venues_ready: AtomicU64,
}

pub struct EdgeHandle {
    stats: Arc<EdgeStats>,
    stop: watch::Sender<bool>,
    thread: JoinHandle<Result<(), String>>,
}

impl EdgeHandle {
    pub fn stats(&self) -> &Arc<EdgeStats> {
        &self.stats
    }

    /// Stop consuming and save the stream position. Dropping the producers closes
    /// the rings, so the gateway and the journal writer drain and end.
    pub fn stop(self) -> Result<(), String> {
        let _ = self.stop.send(true);
        self.thread
            .join()
            .map_err(|_| "the NATS edge thread panicked".to_string())?
    }
}

/// The venues named in the registry bucket, waiting up to `wait` for one to appear
/// (an edge node whose config lists none).
pub async fn discover_venues(
    settings: &NatsSettings,
    wait: Duration,
) -> Result<Vec<Venue>, String> {
    let client = settings.connect().await.map_err(|e| e.to_string())?;
    let js = jetstream::new(client);
    let deadline = Instant::now() + wait;
    loop {
        if let Ok(store) = js.get_key_value(&settings.registry_bucket).await {
            if let Ok(venues) = registry_kv::venues(&store).await {
                if !venues.is_empty() {
                    return Ok(venues);
                }
            }
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no venue in NATS bucket {} after {wait:?}: start a feed node first, or list \
                 the venues in [nats] venues",
                settings.registry_bucket
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Start consuming: one task per venue, each publishing into its ring's producer.
pub fn spawn_edge(
    settings: NatsSettings,
    rings: Vec<(Venue, Producer)>,
    registry: SharedRegistry,
) -> std::io::Result<EdgeHandle> {
    let stats = Arc::new(EdgeStats::default());
    let (stop, stopped) = watch::channel(false);
    let thread_stats = Arc::clone(&stats);
    let thread = std::thread::Builder::new()
        .name("nats-edge".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(run(settings, rings, registry, thread_stats, stopped))
        })?;
    Ok(EdgeHandle {
        stats,
        stop,
        thread,
    })
}

struct Shared {
    settings: NatsSettings,
    client: Client,
    registry: SharedRegistry,
    stats: Arc<EdgeStats>,
    positions: Mutex<Positions>,
}

async fn run(
    settings: NatsSettings,
    rings: Vec<(Venue, Producer)>,
    registry: SharedRegistry,
    stats: Arc<EdgeStats>,
    stopped: watch::Receiver<bool>,
) -> Result<(), String> {
    let client = settings
        .connect()
        .await
        .map_err(|e| format!("NATS connect options: {e}"))?;
    let positions = settings
        .position_file
        .as_deref()
        .map(Positions::load)
        .unwrap_or_default();
    let shared = Arc::new(Shared {
        settings,
        client,
        registry,
        stats,
        positions: Mutex::new(positions),
    });
    // All on this thread: the venues' consumers and the position saver.
    let consumers = rings.into_iter().map(|(venue, producer)| {
        let shared = Arc::clone(&shared);
        let stopped = stopped.clone();
        async move {
            VenueConsumer::new(shared, venue, producer)
                .run(stopped)
                .await
        }
    });
    let saver = {
        let shared = Arc::clone(&shared);
        let mut stopped = stopped.clone();
        async move {
            let mut save = tokio::time::interval(POSITION_SAVE_EVERY);
            loop {
                tokio::select! {
                    _ = stopped.wait_for(|s| *s) => break,
                    _ = save.tick() => save_positions(&shared),
                }
            }
        }
    };
    tokio::join!(futures_util::future::join_all(consumers), saver);
    save_positions(&shared);
    let _ = tokio::time::timeout(Duration::from_secs(1), shared.client.flush()).await;
    Ok(())
}

fn save_positions(shared: &Shared) {
    if let Some(path) = &shared.settings.position_file {
        let positions = shared.positions.lock().clone();
        if let Err(err) = positions.save(path) {
            tracing::warn!(path = %path.display(), "saving the NATS stream position: {err}");
        }
    }
}

/// An image waiting for its place in the ring.
struct PendingImage {
    sequence: u64,
    records: Vec<RecordBuf>,
}

struct VenueConsumer {
    shared: Arc<Shared>,
    venue: Venue,
    producer: Producer,
    position: Option<VenuePosition>,
    pending: HashMap<u32, PendingImage>,
    pending_since: Instant,
    /// Sequence of the image placed per instrument, until a later delta arrives.
    placed: HashMap<u32, u64>,
    last_heard: Instant,
    silent: bool,
    /// The client's connection state at the last tick.
    connected: bool,
    scratch: Vec<RecordBuf>,
}

impl VenueConsumer {
    fn new(shared: Arc<Shared>, venue: Venue, producer: Producer) -> Self {
        let position = shared.positions.lock().venues.get(&venue).copied();
        VenueConsumer {
            shared,
            venue,
            producer,
            position,
            pending: HashMap::new(),
            pending_since: Instant::now(),
            placed: HashMap::new(),
            last_heard: Instant::now(),
            silent: false,
            connected: true,
            scratch: Vec::new(),
        }
    }

    async fn run(mut self, mut stopped: watch::Receiver<bool>) {
        let settings = &self.shared.settings;
        let js = jetstream::new(self.shared.client.clone());
        let (stream, store) = loop {
            match (
                js.get_stream(&settings.stream.name).await,
                js.get_key_value(&settings.registry_bucket).await,
            ) {
                (Ok(stream), Ok(store)) => break (stream, store),
                (stream, store) => {
                    tracing::info!(
                        venue = %self.venue,
                        stream_ok = stream.is_ok(),
                        bucket_ok = store.is_ok(),
                        "waiting for the NATS stream and registry bucket"
                    );
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
        };
        if let Err(err) = registry_kv::load(&store, self.venue, &self.shared.registry).await {
            tracing::warn!(venue = %self.venue, "reading the instrument registry: {err}");
        }
        let watcher = tokio::spawn(watch_registry(
            store.clone(),
            self.venue,
            self.shared.registry.clone(),
        ));
        let heartbeats = self
            .shared
            .client
            .subscribe(subject::heartbeat(&settings.subject_prefix, self.venue))
            .await;
        let mut heartbeats = match heartbeats {
            Ok(sub) => Some(sub),
            Err(err) => {
                tracing::warn!(venue = %self.venue, "heartbeat subscription: {err}");
                None
            }
        };
        let mut first = true;
        while !*stopped.borrow() {
            let Some(mut messages) = self.consume(&stream).await else {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => continue,
                    _ = stopped.wait_for(|s| *s) => break,
                }
            };
            if first {
                self.ask_for_books().await;
                self.shared
                    .stats
                    .venues_ready
                    .fetch_add(1, Ordering::Relaxed);
                first = false;
            }
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            // Reconnections are counted from here (the client may still be connecting).
            self.connected =
                self.shared.client.connection_state() == async_nats::connection::State::Connected;
            loop {
                tokio::select! {
                    biased;
                    _ = stopped.wait_for(|s| *s) => break,
                    message = messages.next() => match message {
                        Some(Ok(message)) => self.on_message(message, &store).await,
                        Some(Err(err)) => {
                            tracing::debug!(venue = %self.venue, "NATS consumer: {err}");
                        }
                        None => {
                            tracing::info!(venue = %self.venue, "NATS consumer ended; recreating it");
                            break;
                        }
                    },
                    Some(_) = next_heartbeat(&mut heartbeats) => self.heard(),
                    _ = tick.tick() => {
                        self.on_tick();
                        if self.reconnected() {
                            // A restarted server may have dropped our ephemeral consumer:
                            // make a new one from the last message handled.
                            tracing::info!(venue = %self.venue, "reconnected to NATS; resuming after stream sequence {:?}", self.position.map(|p| p.stream_sequence));
                            break;
                        }
                    }
                }
            }
        }
        watcher.abort();
        self.save_position();
    }

    /// An ordered consumer from just after the saved position, or from now.
    async fn consume(&mut self, stream: &stream::Stream) -> Option<pull::Ordered> {
        let deliver_policy = match self.position {
            Some(p) => DeliverPolicy::ByStartSequence {
                start_sequence: p.stream_sequence + 1,
            },
            None => DeliverPolicy::New,
        };
        let config = pull::OrderedConfig {
            filter_subject: subject::venue_filter(&self.shared.settings.subject_prefix, self.venue),
            deliver_policy,
            ..Default::default()
        };
        let consumer = match stream.create_consumer(config).await {
            Ok(consumer) => consumer,
            Err(err) => {
                tracing::warn!(venue = %self.venue, "creating the NATS consumer: {err}");
                return None;
            }
        };
        match consumer.messages().await {
            Ok(messages) => Some(messages),
            Err(err) => {
                tracing::warn!(venue = %self.venue, "NATS consumer messages: {err}");
                None
            }
        }
    }

    /// Ask the feed node for every instrument's book; the images wait for their place.
    async fn ask_for_books(&mut self) {
        let ids: Vec<u32> = match self.shared.registry.read() {
            Ok(r) => r.venue_instruments(self.venue).map(|i| i.id).collect(),
            Err(_) => return,
        };
        let subject = subject::book_request(&self.shared.settings.subject_prefix, self.venue);
        let mut asked = 0;
        for id in ids {
            let request = self
                .shared
                .client
                .request(subject.clone(), id.to_string().into());
            let reply = match tokio::time::timeout(SNAPSHOT_TIMEOUT, request).await {
                Ok(Ok(reply)) => reply,
                Ok(Err(err)) => {
                    tracing::info!(venue = %self.venue, "no book snapshots from the feed node: {err}");
                    break;
                }
                Err(_) => {
                    tracing::info!(venue = %self.venue, "book snapshot request timed out");
                    break;
                }
            };
            asked += 1;
            let mut records = Vec::new();
            if wire::decode_records(&reply.payload, &mut records).is_err() || records.is_empty() {
                continue;
            }
            let sequence = records[0].header().sequence;
            self.pending.insert(id, PendingImage { sequence, records });
        }
        self.pending_since = Instant::now();
        tracing::info!(venue = %self.venue, asked, images = self.pending.len(), "book snapshots from the feed node");
    }

    async fn on_message(&mut self, message: jetstream::Message, store: &kv::Store) {
        let stats = Arc::clone(&self.shared.stats);
        stats.messages.fetch_add(1, Ordering::Relaxed);
        self.heard();
        let (stream_sequence, pending) = match message.info() {
            Ok(info) => (info.stream_sequence, info.pending),
            Err(_) => {
                stats.bad_messages.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        let mut records = std::mem::take(&mut self.scratch);
        let header = match wire::decode(&message.payload, &mut records) {
            Ok(header) => header,
            Err(err) => {
                stats.bad_messages.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(venue = %self.venue, "bad NATS message: {err}");
                self.scratch = records;
                return;
            }
        };
        let first = header.cumulative.saturating_sub(u64::from(header.count)) + 1;
        let mut skip = 0usize;
        if let Some(p) = self.position.filter(|p| p.epoch == header.epoch) {
            let expected = p.cumulative + 1;
            if first > expected {
                self.gap(first - expected, header).await;
            } else if first < expected {
                // Already seen (a consumer recreated at an older sequence).
                skip = usize::try_from(expected - first).unwrap_or(usize::MAX);
            }
        }
        for record in records.iter().skip(skip) {
            self.forward(record, store).await;
        }
        stats
            .records
            .fetch_add(records.len().saturating_sub(skip) as u64, Ordering::Relaxed);
        self.scratch = records;
        self.position = Some(VenuePosition {
            stream_sequence,
            epoch: header.epoch,
            cumulative: header.cumulative,
        });
        if pending == 0 {
            self.place_all_pending();
        }
    }

    async fn forward(&mut self, record: &RecordBuf, store: &kv::Store) {
        let hd = *record.header();
        if hd.venue != self.venue as u8 {
            self.shared
                .stats
                .bad_messages
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        if hd.instrument_id != 0 && !self.known(hd.instrument_id) {
            // The feed node writes the bucket before the first record with a new id.
            let _ = registry_kv::load(store, self.venue, &self.shared.registry).await;
            if !self.known(hd.instrument_id) {
                self.shared
                    .stats
                    .unknown_instruments
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        if record.get::<BookDeltaMsg>().is_some() {
            let id = hd.instrument_id;
            if let Some(image) = self.pending.get(&id) {
                if hd.sequence > image.sequence {
                    self.place(id);
                }
            }
            if let Some(&placed) = self.placed.get(&id) {
                if hd.sequence <= placed {
                    self.shared
                        .stats
                        .stale_deltas_dropped
                        .fetch_add(1, Ordering::Relaxed);
                    return;
                }
                self.placed.remove(&id);
            }
        }
        self.producer.publish(record);
    }

    /// True once after the client got its connection back.
    fn reconnected(&mut self) -> bool {
        let connected =
            self.shared.client.connection_state() == async_nats::connection::State::Connected;
        let was = std::mem::replace(&mut self.connected, connected);
        connected && !was
    }

    fn known(&self, id: u32) -> bool {
        self.shared
            .registry
            .read()
            .map(|r| r.get(id).is_some())
            .unwrap_or(false)
    }

    fn place(&mut self, id: u32) {
        if let Some(image) = self.pending.remove(&id) {
            for record in &image.records {
                self.producer.publish(record);
            }
            self.placed.insert(id, image.sequence);
            self.shared
                .stats
                .images_placed
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    fn place_all_pending(&mut self) {
        let ids: Vec<u32> = self.pending.keys().copied().collect();
        for id in ids {
            self.place(id);
        }
    }

    /// Records the stream no longer had: say so, then ask for the books again.
    async fn gap(&mut self, lost: u64, header: wire::BatchHeader) {
        let stats = &self.shared.stats;
        stats.gaps.fetch_add(1, Ordering::Relaxed);
        stats.records_lost.fetch_add(lost, Ordering::Relaxed);
        tracing::warn!(venue = %self.venue, lost, "records lost between feed node and edge");
        let mut gap = self.status(StatusKind::Gap, StatusReason::RelayLost);
        gap.lost = lost;
        gap.detail = header.cumulative;
        self.producer.publish(&RecordBuf::new(&gap));
        self.ask_for_books().await;
    }

    fn status(&self, kind: StatusKind, reason: StatusReason) -> StatusMsg {
        let now = now_ns();
        let mut status: StatusMsg = bytemuck::Zeroable::zeroed();
        status.hd = RecordHeader::new::<StatusMsg>(self.venue, 0, now, now);
        status.kind = kind as u8;
        status.reason = reason as u16;
        status
    }

    fn heard(&mut self) {
        self.last_heard = Instant::now();
        if self.silent {
            self.silent = false;
            tracing::info!(venue = %self.venue, "feed node heard again");
            let status = self.status(StatusKind::Connected, StatusReason::None);
            self.producer.publish(&RecordBuf::new(&status));
        }
    }

    fn on_tick(&mut self) {
        if !self.pending.is_empty() && self.pending_since.elapsed() >= SEED_PLACE_AFTER {
            self.place_all_pending();
        }
        if !self.silent && self.last_heard.elapsed() >= self.shared.settings.silence {
            self.silent = true;
            self.shared
                .stats
                .disconnects
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(venue = %self.venue, silence = ?self.shared.settings.silence, "feed node silent: disconnected");
            let status = self.status(StatusKind::Disconnected, StatusReason::StaleStream);
            self.producer.publish(&RecordBuf::new(&status));
        }
        self.save_position();
    }

    fn save_position(&self) {
        if let Some(p) = self.position {
            self.shared.positions.lock().venues.insert(self.venue, p);
        }
    }
}

async fn next_heartbeat(sub: &mut Option<async_nats::Subscriber>) -> Option<async_nats::Message> {
    match sub {
        Some(sub) => sub.next().await,
        None => std::future::pending().await,
    }
}

/// Adopt every change of the venue's registry entry.
async fn watch_registry(store: kv::Store, venue: Venue, registry: SharedRegistry) {
    let Ok(mut watch) = store.watch(venue.as_str()).await else {
        return;
    };
    while let Some(Ok(entry)) = watch.next().await {
        match registry_kv::VenueRegistry::decode(&entry.key, &entry.value) {
            Ok(value) => {
                if let Err(err) = value.adopt_into(&registry) {
                    tracing::warn!(%venue, "instrument registry update: {err}");
                }
            }
            Err(err) => tracing::warn!(%venue, "{err}"),
        }
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
