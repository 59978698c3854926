//! The feed node's publisher: a bus consumer on its own thread that sends every record,
//! unchanged, to NATS. It never slows the bus: if NATS (or this thread) falls a ring
//! behind, the ring laps it and it publishes a `Gap` status record (`reason =
//! BusLagged`, `lost = n`) on the venue's status subject, as the journal writer does.
//!
//! Records are batched per subject: everything the rings hold when the thread looks is
//! taken (up to [`DRAIN`] records), grouped by subject into messages of at most
//! `max_records_per_message` records, and sent as core NATS publishes that the stream
//! captures (no per-message acknowledgement: the server's own ordering and the batch
//! counters tell an edge what it missed). At low rates a record goes out alone at once.
//!
//! The same thread answers book-snapshot requests from its own books, built from the
//! records it published, after sending everything taken so far: an image with sequence
//! `S` joins exactly the deltas after `S` in the stream.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use async_nats::{Client, Subject};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use tickd_bus::record::{StatusKind, StatusMsg, StatusReason};
use tickd_bus::ring::{Bus, MultiConsumer, MultiRecv, RingHandle};
use tickd_bus::{RecordBuf, RecordHeader, SharedRegistry, Venue};
use tokio::sync::watch;

use crate::books::PublishedBooks;
use crate::settings::{NatsSettings, HEARTBEAT_EVERY};
use crate::wire::{BatchHeader, HEADER_LEN};
use crate::{registry_kv, subject};

/// Most records taken from the rings before sending what was taken.
pub const DRAIN: usize = 4096;

/// Live counters (read from any thread).
#[derive(Debug, Default)]
pub struct PublisherStats {
    pub records: AtomicU64,
    pub messages: AtomicU64,
    pub bytes: AtomicU64,
    pub lag_events: AtomicU64,
    pub records_lost: AtomicU64,
    pub publish_errors: AtomicU64,
    pub snapshot_requests: AtomicU64,
    pub registry_updates: AtomicU64,
    /// 1 once the stream and bucket exist and the venues are claimed.
    pub ready: AtomicU64,
    /// Why the last attempt to set up the stream and bucket failed (while not ready),
    /// e.g. JetStream's "insufficient resources" when `max_bytes` exceeds its storage.
    pub setup_error: std::sync::Mutex<Option<String>>,
}

impl PublisherStats {
    /// The last set-up error, if the publisher is not ready because of one.
    pub fn setup_error(&self) -> Option<String> {
        self.setup_error.lock().ok().and_then(|e| e.clone())
    }
}

pub struct PublisherHandle {
    stats: Arc<PublisherStats>,
    stop: watch::Sender<bool>,
    thread: JoinHandle<Result<(), String>>,
}

impl PublisherHandle {
    pub fn stats(&self) -> &Arc<PublisherStats> {
        &self.stats
    }

    /// Publish what the rings still hold, flush, disconnect.
    pub fn stop(self) -> Result<(), String> {
        let _ = self.stop.send(true);
        self.thread
            .join()
            .map_err(|_| "the NATS publisher thread panicked".to_string())?
    }

    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }
}

/// Start publishing `rings` (one per venue) to NATS. Connects in the background:
/// the feeds run whether or not the server is up.
pub fn spawn_publisher(
    settings: NatsSettings,
    rings: Vec<(Venue, RingHandle)>,
    registry: SharedRegistry,
) -> std::io::Result<PublisherHandle> {
    let stats = Arc::new(PublisherStats::default());
    let (stop, stopped) = watch::channel(false);
    let mut bus = Bus::new();
    for (_, ring) in &rings {
        bus.add(ring.clone());
    }
    // From the oldest record still in each ring: the feeds started first.
    let consumer = bus.subscribe_all_oldest().named("nats");
    let venues: Vec<Venue> = rings.iter().map(|(v, _)| *v).collect();
    let thread_stats = Arc::clone(&stats);
    let thread = std::thread::Builder::new()
        .name("nats-publisher".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let run = Run::connect(settings, venues, registry, thread_stats, stopped).await?;
                run.run(consumer).await
            })
        })?;
    Ok(PublisherHandle {
        stats,
        stop,
        thread,
    })
}

/// A message ready to send.
struct Outgoing {
    venue_index: usize,
    subject: Subject,
    buf: BytesMut,
    count: u32,
}

/// One subject's records waiting to be sent.
struct Batch {
    subject: Subject,
    venue_index: usize,
    buf: BytesMut,
    count: u32,
}

struct VenueState {
    venue: Venue,
    cumulative: u64,
    /// Instrument ids whose registry entry is in the bucket.
    published_ids: std::collections::HashSet<u32>,
    registry_dirty: bool,
}

struct Run {
    settings: NatsSettings,
    client: Client,
    store: Option<kv::Store>,
    registry: SharedRegistry,
    stats: Arc<PublisherStats>,
    stopped: watch::Receiver<bool>,
    venues: Vec<VenueState>,
    epoch: u64,
    books: PublishedBooks,
    /// By (ring, rtype, instrument id): index into `batches`.
    batch_index: HashMap<(usize, u8, u32), usize>,
    batches: Vec<Batch>,
    /// Batches with records, in the order they were first filled.
    dirty: Vec<usize>,
    /// Messages to send at the next flush, in order.
    outgoing: Vec<Outgoing>,
}

impl Run {
    async fn connect(
        settings: NatsSettings,
        venues: Vec<Venue>,
        registry: SharedRegistry,
        stats: Arc<PublisherStats>,
        stopped: watch::Receiver<bool>,
    ) -> Result<Run, String> {
        let client = settings
            .connect()
            .await
            .map_err(|e| format!("NATS connect options: {e}"))?;
        Ok(Run {
            client,
            store: None,
            registry,
            stats,
            stopped,
            venues: venues
                .into_iter()
                .map(|venue| VenueState {
                    venue,
                    cumulative: 0,
                    published_ids: Default::default(),
                    registry_dirty: true,
                })
                .collect(),
            epoch: now_ns(),
            books: PublishedBooks::default(),
            batch_index: HashMap::new(),
            batches: Vec::new(),
            dirty: Vec::new(),
            outgoing: Vec::new(),
            settings,
        })
    }

    /// Stream, bucket and venue ownership, retried until they succeed (the server may
    /// start after the feed node). A venue another node owns stops the publisher.
    async fn set_up(&mut self) -> Result<bool, String> {
        let js = jetstream::new(self.client.clone());
        let mut delay = Duration::from_millis(100);
        let mut stopped = self.stopped.clone();
        loop {
            // A stop does not wait for a JetStream request that cannot be answered.
            let attempt = tokio::select! {
                attempt = self.settings.ensure_stream_and_bucket(&js) => attempt,
                _ = stopped.wait_for(|s| *s) => return Ok(false),
            };
            match attempt {
                Ok(store) => {
                    for venue in self.venues.iter().map(|v| v.venue) {
                        match registry_kv::claim(&store, venue, &self.settings.node, &self.registry)
                            .await
                        {
                            Ok(()) => {}
                            Err(err @ registry_kv::RegistryKvError::OwnedByAnother { .. }) => {
                                tracing::error!("{err}");
                                return Err(err.to_string());
                            }
                            // Ids that changed since the last run (no local registry
                            // file): this node's registry is the truth; it overwrites.
                            Err(err) => tracing::warn!(%venue, "registry bucket: {err}"),
                        }
                    }
                    self.store = Some(store);
                    if let Ok(mut last) = self.stats.setup_error.lock() {
                        *last = None;
                    }
                    self.stats.ready.store(1, Ordering::Release);
                    tracing::info!(
                        stream = %self.settings.stream.name,
                        bucket = %self.settings.registry_bucket,
                        node = %self.settings.node,
                        "NATS publisher ready"
                    );
                    return Ok(true);
                }
                Err(err) => {
                    tracing::warn!("NATS stream/bucket not ready, retrying in {delay:?}: {err}");
                    if let Ok(mut last) = self.stats.setup_error.lock() {
                        *last = Some(err.to_string());
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stopped.wait_for(|s| *s) => return Ok(false),
            }
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }

    async fn run(mut self, mut consumer: MultiConsumer) -> Result<(), String> {
        if !self.set_up().await? {
            return Ok(());
        }
        // Only this node's venues: another feed node answers for its own.
        let mut subscriptions = Vec::new();
        for venue in self.venues.iter().map(|v| v.venue) {
            let subject = subject::book_request(&self.settings.subject_prefix, venue);
            let subscription = self
                .client
                .subscribe(subject)
                .await
                .map_err(|e| format!("subscribing to snapshot requests: {e}"))?;
            subscriptions.push(subscription);
        }
        let mut requests = futures_util::stream::select_all(subscriptions);
        let mut heartbeat = tokio::time::interval(HEARTBEAT_EVERY);
        let mut stopped = self.stopped.clone();
        loop {
            tokio::select! {
                biased;
                _ = stopped.wait_for(|s| *s) => break,
                Some(request) = requests.next() => {
                    self.flush().await;
                    self.answer(request).await;
                }
                _ = heartbeat.tick() => self.heartbeat().await,
                received = consumer.recv() => {
                    if received == MultiRecv::Closed {
                        break;
                    }
                    self.take(received);
                    for _ in 1..DRAIN {
                        match consumer.try_recv() {
                            MultiRecv::Empty | MultiRecv::Closed => break,
                            other => self.take(other),
                        }
                    }
                    self.flush().await;
                }
            }
        }
        // Whatever the rings still hold, then make sure it left.
        loop {
            match consumer.try_recv() {
                MultiRecv::Empty | MultiRecv::Closed => break,
                other => self.take(other),
            }
        }
        self.flush().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.client.flush()).await;
        Ok(())
    }

    fn take(&mut self, received: MultiRecv) {
        match received {
            MultiRecv::Record { ring, record } => self.add(ring, &record),
            MultiRecv::Lagged { ring, lost } => {
                self.stats.lag_events.fetch_add(1, Ordering::Relaxed);
                self.stats.records_lost.fetch_add(lost, Ordering::Relaxed);
                let Some(venue) = self.venues.get(ring).map(|v| v.venue) else {
                    return;
                };
                tracing::warn!(%venue, lost, "NATS publisher fell a ring behind: publishing a gap");
                self.books.invalidate_venue(venue);
                let now = now_ns();
                let mut gap: StatusMsg = bytemuck::Zeroable::zeroed();
                gap.hd = RecordHeader::new::<StatusMsg>(venue, 0, now, now);
                gap.kind = StatusKind::Gap as u8;
                gap.reason = StatusReason::BusLagged as u16;
                gap.lost = lost;
                self.add(ring, &RecordBuf::new(&gap));
            }
            MultiRecv::Empty | MultiRecv::Closed => {}
        }
    }

    fn add(&mut self, ring: usize, record: &RecordBuf) {
        let Some(venue) = self.venues.get(ring).map(|v| v.venue) else {
            return;
        };
        let hd = *record.header();
        if self.books.apply(venue, record).is_err() {
            tracing::debug!(%venue, id = hd.instrument_id, "book delta could not be applied");
        }
        let key = (ring, hd.rtype, hd.instrument_id);
        let index = match self.batch_index.get(&key) {
            Some(&index) => index,
            None => self.new_batch(ring, venue, &hd),
        };
        let max = self.settings.max_records_per_message.max(1) as u32;
        let batch = &mut self.batches[index];
        if batch.count == 0 {
            batch.buf.put_bytes(0, HEADER_LEN);
            self.dirty.push(index);
        }
        batch.buf.extend_from_slice(record.as_bytes());
        batch.count += 1;
        if batch.count >= max {
            // Full: queued now, ahead of any later records of the same subject.
            let outgoing = Outgoing {
                venue_index: batch.venue_index,
                subject: batch.subject.clone(),
                buf: batch.buf.split(),
                count: std::mem::replace(&mut batch.count, 0),
            };
            self.outgoing.push(outgoing);
            self.dirty.retain(|&i| i != index);
        }
    }

    /// Send everything taken so far, in order, each message stamped with its venue's
    /// running record count. Registry entries for new ids go to the bucket first.
    async fn flush(&mut self) {
        for index in std::mem::take(&mut self.dirty) {
            let batch = &mut self.batches[index];
            if batch.count == 0 {
                continue;
            }
            self.outgoing.push(Outgoing {
                venue_index: batch.venue_index,
                subject: batch.subject.clone(),
                buf: batch.buf.split(),
                count: std::mem::replace(&mut batch.count, 0),
            });
        }
        if self.outgoing.is_empty() {
            return;
        }
        self.publish_registries().await;
        for mut out in std::mem::take(&mut self.outgoing) {
            let venue = &mut self.venues[out.venue_index];
            venue.cumulative += u64::from(out.count);
            BatchHeader {
                count: out.count,
                epoch: self.epoch,
                cumulative: venue.cumulative,
            }
            .write(&mut out.buf[..HEADER_LEN]);
            let bytes = out.buf.len() as u64;
            match self.client.publish(out.subject, out.buf.freeze()).await {
                Ok(()) => {
                    self.stats
                        .records
                        .fetch_add(u64::from(out.count), Ordering::Relaxed);
                    self.stats.messages.fetch_add(1, Ordering::Relaxed);
                    self.stats.bytes.fetch_add(bytes, Ordering::Relaxed);
                }
                Err(err) => {
                    self.stats.publish_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!("NATS publish failed: {err}");
                }
            }
        }
    }

    /// Venues with instruments not yet in the bucket: write them before their records.
    async fn publish_registries(&mut self) {
        let Some(store) = &self.store else {
            return;
        };
        for state in self.venues.iter_mut().filter(|v| v.registry_dirty) {
            match registry_kv::publish(store, state.venue, &self.settings.node, &self.registry)
                .await
            {
                Ok(count) => {
                    state.registry_dirty = false;
                    self.stats.registry_updates.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(venue = %state.venue, count, "instrument registry published");
                }
                Err(err) => {
                    tracing::warn!(venue = %state.venue, "publishing the instrument registry: {err}")
                }
            }
        }
    }

    /// A snapshot request: payload = the instrument id in decimal; reply = the image's
    /// records back to back, empty when there is no valid book.
    async fn answer(&mut self, request: async_nats::Message) {
        self.stats.snapshot_requests.fetch_add(1, Ordering::Relaxed);
        let Some(reply) = request.reply else {
            return;
        };
        let venue = request
            .subject
            .split('.')
            .nth(1)
            .and_then(|v| v.parse::<Venue>().ok());
        let id = std::str::from_utf8(&request.payload)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        let mut payload = BytesMut::new();
        if let (Some(venue), Some(id)) = (venue, id) {
            for record in self.books.image(venue, id, now_ns()) {
                payload.extend_from_slice(record.as_bytes());
            }
        }
        if let Err(err) = self.client.publish(reply, payload.freeze()).await {
            tracing::debug!("snapshot reply failed: {err}");
        }
    }

    /// Tells edge nodes the feed node is alive while its venues are quiet.
    async fn heartbeat(&mut self) {
        for state in &self.venues {
            let subject = subject::heartbeat(&self.settings.subject_prefix, state.venue);
            let _ = self.client.publish(subject, Bytes::new()).await;
        }
        // Instruments registered without traffic yet still reach the bucket.
        if let Ok(registry) = self.registry.read() {
            for state in self.venues.iter_mut() {
                if registry.venue_instruments(state.venue).count() != state.published_ids.len() {
                    for i in registry.venue_instruments(state.venue) {
                        if state.published_ids.insert(i.id) {
                            state.registry_dirty = true;
                        }
                    }
                }
            }
        }
        if self.venues.iter().any(|v| v.registry_dirty) {
            self.publish_registries().await;
        }
    }

    fn new_batch(&mut self, ring: usize, venue: Venue, hd: &RecordHeader) -> usize {
        let symbol = self
            .registry
            .read()
            .ok()
            .and_then(|r| r.get(hd.instrument_id).map(|i| i.symbol.clone()));
        let state = &mut self.venues[ring];
        if hd.instrument_id != 0 && state.published_ids.insert(hd.instrument_id) {
            state.registry_dirty = true;
        }
        let name =
            subject::record_subject(&self.settings.subject_prefix, hd, venue, symbol.as_deref());
        self.batches.push(Batch {
            subject: Subject::from(name),
            venue_index: ring,
            buf: BytesMut::new(),
            count: 0,
        });
        let index = self.batches.len() - 1;
        self.batch_index
            .insert((ring, hd.rtype, hd.instrument_id), index);
        index
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
