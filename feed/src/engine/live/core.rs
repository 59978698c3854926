//! The live driver: one task on the venue thread that owns the [`VenueCore`], the
//! connections' bookkeeping and the REST pacing, fed by its connection tasks and REST
//! fetches through channels (so no state is shared or locked).

mod requests;
mod rest;
mod rotation;

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::Instant;

use tickd_bus::instrument::InstrumentSpec;
use tickd_bus::record::StatusReason;
use tickd_bus::{Channel, Venue};
use tickd_normalizer::engine::{Frame, SyncAction, SyncState};
use tickd_normalizer::SymbolMap;

use self::rest::RestDone;
use crate::backoff::Backoff;
use crate::connection::{spawn_connection, ConnCommand, ConnEvent, ConnHandle, ConnSpec};
use crate::engine::adapter::{PlannedConn, StreamSub, VenueAdapter};
use crate::engine::core::{Books, Step, VenueCore};
use crate::events::{event_queue, EventReceiver, EventSender};
use crate::host_pacer::HostPacer;
use crate::merge::{Merge, Role};
use crate::publisher::Publisher;
use crate::rest::RestClient;
use crate::rest_budget::RestBudget;
use crate::runtime::{now_ns, Shutdown};
use crate::stats::VenueStats;
use crate::status;
use crate::venue::VenueSettings;
use crate::watchdog::Watchdog;

const TICK: Duration = Duration::from_millis(100);

/// Events the connections may queue before they wait for the core.
const EVENT_QUEUE: usize = 8192;

/// Events handled per wake before shutdown, REST replies and the tick get a look.
const EVENT_BATCH: usize = 256;

struct Slot {
    spec: ConnSpec,
    /// The adapter's market number for the slot's URL (`market_of_url`).
    market: u8,
    plan: PlannedConn,
    streams: Vec<StreamSub>,
    primary: Option<u32>,
    secondary: Option<u32>,
    merge: Merge,
    overlap_started: Option<Instant>,
    /// Don't try another rotation before this (after a failed one).
    rotation_not_before: Option<Instant>,
}

struct Conn {
    slot: usize,
    handle: ConnHandle,
    watchdog: Watchdog,
    stream_index: HashMap<(u32, u8), usize>,
    up: bool,
    connected_at: Option<Instant>,
    subscribed_at: Option<Instant>,
    data_frames: u64,
    /// Why we asked this connection to reconnect, for its Disconnected status.
    pending_reason: Option<StatusReason>,
    ever_up: bool,
}

/// A book's REST pacing (its sync state is in the core).
struct Book {
    raw: String,
    queued: bool,
    in_flight: bool,
    not_before: Option<Instant>,
    retry: Backoff,
    /// An image request the venue throttled: when to send it again, and on which
    /// slot (`requests.rs`).
    request_again: Option<(Instant, usize)>,
    request_retry: Backoff,
    /// Since when the book has been waiting for a streamed image (`requests.rs`).
    awaiting_since: Option<Instant>,
}

pub struct Core<A: VenueAdapter> {
    venue: Venue,
    adapter: A,
    settings: VenueSettings,
    core: VenueCore<A>,
    rest: RestClient,
    slots: Vec<Slot>,
    conns: HashMap<u32, Conn>,
    next_conn: u32,
    books: HashMap<u32, Book>,
    snapshot_queue: VecDeque<u32>,
    snapshots_in_flight: usize,
    snapshot_weight: u32,
    budget: RestBudget,
    /// `(raw symbol, REST path)` of instruments whose open interest is polled.
    oi_polls: Vec<(String, String)>,
    next_oi: Instant,
    events_tx: EventSender,
    events_rx: EventReceiver,
    rest_tx: mpsc::UnboundedSender<RestDone>,
    rest_rx: mpsc::UnboundedReceiver<RestDone>,
    shutdown: Shutdown,
    decode_errors_logged: u64,
}

impl<A: VenueAdapter> Core<A> {
    pub fn new(
        adapter: A,
        settings: VenueSettings,
        publisher: Publisher,
        instruments: &[(u32, String)],
        specs: &[(u32, InstrumentSpec)],
        shutdown: Shutdown,
    ) -> Result<Self, String> {
        let venue = settings.venue;
        let symbols: SymbolMap = instruments
            .iter()
            .map(|(id, raw)| (raw.clone(), *id))
            .collect();
        let decoder = adapter.decoder(venue, symbols, &settings);
        let limits = adapter.limits(venue);
        let snapshot_weight = adapter.snapshot_weight(venue, settings.book_depth)?;
        let per_minute = settings
            .snapshot_requests_per_minute
            .max(1)
            .saturating_mul(snapshot_weight);
        let budget = RestBudget::new(per_minute.min(limits.rest_weight_per_minute));
        let (events_tx, events_rx) = event_queue(EVENT_QUEUE);
        let (rest_tx, rest_rx) = mpsc::unbounded_channel();
        let channels = &settings.channels;
        let mut core = VenueCore::new(
            adapter,
            venue,
            decoder,
            publisher,
            Books::Configured,
            settings.max_buffered_events,
        );
        for (id, spec) in specs {
            core.learn_instrument(*id, spec);
        }
        let mut books = HashMap::new();
        if channels.contains(&Channel::Book) {
            for (id, raw) in instruments {
                core.add_book(*id);
                books.insert(
                    *id,
                    Book {
                        raw: raw.clone(),
                        queued: false,
                        in_flight: false,
                        not_before: None,
                        retry: Backoff::new(Duration::from_millis(200), Duration::from_secs(30)),
                        request_again: None,
                        request_retry: requests::backoff(),
                        awaiting_since: None,
                    },
                );
            }
        }
        let oi_polls = if channels.contains(&Channel::Oi) {
            instruments
                .iter()
                .filter_map(|(_, raw)| {
                    let path = adapter.open_interest_path(venue, raw)?;
                    Some((raw.clone(), path))
                })
                .collect()
        } else {
            Vec::new()
        };
        let slots = adapter
            .plan(venue, instruments, &settings)
            .into_iter()
            .map(|plan| Slot {
                spec: ConnSpec {
                    url: plan.url.clone(),
                    subscribe: plan.subscribe.clone(),
                    control_interval: limits.control_interval(),
                    keepalive: adapter.keepalive(venue),
                    connect_timeout: Duration::from_secs(10),
                    backoff_base: settings.backoff_base,
                    backoff_cap: settings.backoff_cap,
                    tap: settings.tap.clone(),
                    ops_per_hour: settings
                        .subscribe_ops_per_hour
                        .or(adapter.subscribe_ops_per_hour(venue)),
                    pacer: HostPacer::for_url(&plan.url, adapter.host_budget(venue)),
                },
                market: adapter.market_of_url(venue, &plan.url),
                streams: plan.streams.clone(),
                plan,
                primary: None,
                secondary: None,
                merge: Merge::new(),
                overlap_started: None,
                rotation_not_before: None,
            })
            .collect();
        VenueStats::set(&core.stats().counters.books_total, books.len() as u64);
        Ok(Self {
            venue,
            adapter,
            core,
            rest: RestClient::with_tap(settings.tap.clone()),
            slots,
            conns: HashMap::new(),
            next_conn: 1,
            books,
            snapshot_queue: VecDeque::new(),
            snapshots_in_flight: 0,
            snapshot_weight,
            budget,
            oi_polls,
            next_oi: Instant::now(),
            events_tx,
            events_rx,
            rest_tx,
            rest_rx,
            shutdown,
            decode_errors_logged: 0,
            settings,
        })
    }

    /// Run until shutdown.
    pub async fn run(mut self) {
        for slot in 0..self.slots.len() {
            let conn = self.open(slot);
            self.slots[slot].primary = Some(conn);
        }
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = self.shutdown.clone();
        loop {
            tokio::select! {
                biased;
                _ = shutdown.wait() => break,
                event = self.events_rx.recv() => {
                    self.on_event(event);
                    // The rest of what the connections queued, in the same wake.
                    for _ in 1..EVENT_BATCH {
                        let Some(event) = self.events_rx.try_recv() else { break };
                        self.on_event(event);
                    }
                }
                Some(done) = self.rest_rx.recv() => self.on_rest(done),
                _ = tick.tick() => self.on_tick(),
            }
        }
        for conn in self.conns.values() {
            conn.handle.send(ConnCommand::Stop);
        }
    }

    fn open(&mut self, slot: usize) -> u32 {
        let id = self.next_conn;
        self.next_conn += 1;
        let now = Instant::now();
        let mut watchdog = Watchdog::new(self.settings.stale_after, now.into_std());
        let mut stream_index = HashMap::new();
        for s in &self.slots[slot].streams {
            let index =
                watchdog.add_stream(self.settings.stale_after_for(s.channel), now.into_std());
            stream_index.insert((s.instrument_id, s.channel.record_type() as u8), index);
        }
        let handle = spawn_connection(
            id,
            self.slots[slot].spec.clone(),
            self.events_tx.clone(),
            self.shutdown.clone(),
        );
        self.conns.insert(
            id,
            Conn {
                slot,
                handle,
                watchdog,
                stream_index,
                up: false,
                connected_at: None,
                subscribed_at: None,
                data_frames: 0,
                pending_reason: None,
                ever_up: false,
            },
        );
        id
    }

    fn role(&self, conn: u32) -> Option<(usize, Role)> {
        let slot_index = self.conns.get(&conn)?.slot;
        let slot = &self.slots[slot_index];
        if slot.primary == Some(conn) {
            Some((slot_index, Role::Primary))
        } else if slot.secondary == Some(conn) {
            Some((slot_index, Role::Secondary))
        } else {
            None
        }
    }

    fn on_event(&mut self, event: ConnEvent) {
        let counters = &self.core.stats().counters;
        match event {
            ConnEvent::Frame {
                conn,
                ts_recv,
                data,
                binary,
            } => self.on_frame(conn, ts_recv, data, binary),
            ConnEvent::Connected { conn, attempt } => {
                let role = self.role(conn);
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                let now = Instant::now();
                c.up = true;
                c.connected_at = Some(now);
                c.subscribed_at = None;
                c.watchdog.reset(now.into_std());
                let reason = if matches!(role, Some((_, Role::Secondary))) {
                    StatusReason::LifetimeRotation
                } else if attempt == 0 && !c.ever_up {
                    StatusReason::Startup
                } else {
                    StatusReason::ConnectionLost
                };
                if c.ever_up || reason == StatusReason::LifetimeRotation {
                    VenueStats::add(&counters.reconnects, 1);
                }
                c.ever_up = true;
                self.core.stats().connection_up();
                tracing::info!(venue = %self.venue, conn, url = %self.slots[c.slot].spec.url, ?reason, "connected");
                self.core.publisher().publish(&status::connected(
                    self.venue,
                    conn,
                    reason,
                    now_ns(),
                ));
            }
            ConnEvent::Subscribed {
                conn,
                attempt,
                messages,
            } => {
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                c.subscribed_at = Some(Instant::now());
                if attempt > 0 {
                    let streams = self.slots[c.slot].streams.len() as u64;
                    tracing::info!(venue = %self.venue, conn, streams, messages, "resubscribed");
                    self.core.publisher().publish(&status::resubscribed(
                        self.venue,
                        conn,
                        streams,
                        now_ns(),
                    ));
                }
            }
            ConnEvent::Disconnected {
                conn,
                reason,
                retry_in,
            } => self.on_disconnected(conn, &reason, retry_in),
            ConnEvent::ConnectFailed {
                conn,
                error,
                retry_in,
            } => {
                VenueStats::add(&counters.connect_failures, 1);
                self.core.stats().connection_error(&error);
                let local = ["127.0.0.1", "localhost", "[::1]"]
                    .iter()
                    .any(|h| error.contains(h));
                let hint = if local {
                    ""
                } else {
                    " — use `tickd demo` for a local simulator"
                };
                tracing::warn!(
                    "{}: {error}; retrying in {:.1} s{hint}",
                    self.venue,
                    retry_in.as_secs_f64()
                );
                let _ = conn;
            }
            ConnEvent::Stopped { conn } => {
                if let Some(c) = self.conns.remove(&conn) {
                    if c.up {
                        self.core.stats().connection_down();
                    }
                }
            }
        }
    }

    fn on_disconnected(&mut self, conn: u32, reason: &str, retry_in: Duration) {
        let role = self.role(conn);
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.up {
            self.core.stats().connection_down();
        }
        self.core.stats().connection_error(reason);
        c.up = false;
        let status_reason = c
            .pending_reason
            .take()
            .unwrap_or(StatusReason::ConnectionLost);
        let slot_index = c.slot;
        tracing::warn!(
            venue = %self.venue, conn, ?status_reason,
            "disconnected: {reason}; reconnecting in {:.1} s", retry_in.as_secs_f64()
        );
        let ts = now_ns();
        // A reconnect starts the venue's per-connection counters afresh.
        self.core.forget_conn(conn);
        self.core
            .publisher()
            .publish(&status::disconnected(self.venue, conn, status_reason, ts));
        match role {
            Some((slot, Role::Secondary)) => {
                // The rotation failed; keep the old connection and try again later.
                self.abandon_rotation(slot);
            }
            Some((slot, Role::Primary)) => {
                if let Some(next) = self.slots[slot]
                    .secondary
                    .filter(|s| self.conns.get(s).is_some_and(|c| c.up))
                {
                    // The new connection is up: let it take over now.
                    self.promote(slot, next);
                } else {
                    self.abandon_rotation(slot);
                    for s in &self.slots[slot_index].streams {
                        if s.channel != Channel::Book {
                            continue;
                        }
                        if let Some(book) = self.books.get_mut(&s.instrument_id) {
                            self.core
                                .on_disconnect(std::iter::once(s.instrument_id), ts);
                            book.in_flight = false;
                        }
                    }
                }
            }
            None => {}
        }
    }

    fn on_frame(&mut self, conn: u32, ts_recv: u64, data: Bytes, binary: bool) {
        let counters = &self.core.stats().counters;
        VenueStats::add(&counters.messages, 1);
        VenueStats::add(&counters.bytes, data.len() as u64);
        let Some((slot_index, role)) = self.role(conn) else {
            return; // a connection being closed
        };
        let slot = &mut self.slots[slot_index];
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.data_frames += 1;
        let frame = if binary {
            Frame::Binary(&data)
        } else {
            Frame::Text(&data)
        };
        let result = self
            .core
            .on_frame(conn, role, slot.market, &mut slot.merge, ts_recv, frame);
        let now = Instant::now().into_std();
        let mut rotate_now = false;
        if result.is_ok() && ts_recv > 0 {
            // The feed hop (read → on the bus), for /metrics: one clock read per frame.
            self.core
                .stats()
                .hop
                .record(now_ns().saturating_sub(ts_recv));
        }
        match result {
            Ok(Step::Book {
                instrument_id,
                action,
            }) => self.on_book_action(slot_index, instrument_id, action),
            Ok(Step::RetryBookRequest { instrument_id }) => {
                self.retry_book_request(slot_index, instrument_id)
            }
            Ok(Step::Send(message)) => c.handle.send(ConnCommand::Send(message)),
            Ok(Step::Rotate) => rotate_now = role == Role::Primary,
            Ok(Step::None | Step::UnknownSymbol) => {}
            Err(err) => {
                self.core.stats().decode_error(err.kind());
                self.core.on_undecodable(ts_recv);
                self.decode_errors_logged += 1;
                if self.decode_errors_logged.is_power_of_two() {
                    tracing::warn!(venue = %self.venue, conn, error = %err, count = self.decode_errors_logged, "undecodable frame");
                }
            }
        }
        // Only data feeds the watchdog; acks and control replies do not.
        if let Some(c) = self.conns.get_mut(&conn) {
            for key in self.core.touched() {
                let index = c.stream_index.get(key).copied();
                c.watchdog.on_data(index, now);
            }
            // The venue's heartbeat says the connection is alive (no stream is).
            if self.core.heartbeat() {
                c.watchdog.on_data(None, now);
            }
        }
        let resyncs = self.core.take_conn_resyncs();
        if !resyncs.is_empty() {
            self.on_conn_resync(slot_index, &resyncs);
        }
        if rotate_now {
            self.start_rotation(slot_index, StatusReason::ServerShutdown);
        }
    }

    /// The books of a connection whose sequence jumped: one batch of messages for
    /// those that resubscribe, the usual action for the others.
    fn on_conn_resync(&mut self, slot: usize, resyncs: &[(u32, SyncAction)]) {
        let resubscribe: Vec<u32> = resyncs
            .iter()
            .filter(|(_, a)| *a == SyncAction::Resubscribe)
            .map(|(id, _)| *id)
            .collect();
        for (id, action) in resyncs {
            if *action != SyncAction::Resubscribe {
                self.on_book_action(slot, *id, *action);
            }
        }
        if resubscribe.is_empty() {
            return;
        }
        let s = &self.slots[slot];
        let messages = self.adapter.resubscribe_books(&s.plan, &resubscribe);
        tracing::warn!(venue = %self.venue, books = resubscribe.len(), "resubscribing the books of a connection that lost messages");
        if let Some(c) = s.primary.and_then(|p| self.conns.get(&p)) {
            if messages.is_empty() {
                c.handle.send(ConnCommand::Reconnect {
                    reason: "the connection lost messages".into(),
                });
            }
            for message in messages {
                c.handle.send(ConnCommand::Send(message));
            }
        }
    }

    /// Carry out what a book asked for.
    fn on_book_action(&mut self, slot: usize, instrument_id: u32, action: SyncAction) {
        match action {
            SyncAction::FetchSnapshot => {
                if let Some(book) = self.books.get_mut(&instrument_id) {
                    if !book.queued {
                        book.queued = true;
                        self.snapshot_queue.push_back(instrument_id);
                    }
                }
            }
            SyncAction::Resubscribe | SyncAction::RequestSnapshot => {
                let s = &self.slots[slot];
                let messages = self.adapter.resubscribe(&s.plan, instrument_id);
                if messages.is_empty() {
                    tracing::warn!(venue = %self.venue, instrument_id, "book needs a fresh image but the venue has no resubscribe message; reconnecting");
                }
                if let Some(c) = s.primary.and_then(|p| self.conns.get(&p)) {
                    if messages.is_empty() {
                        c.handle.send(ConnCommand::Reconnect {
                            reason: format!("book {instrument_id} needs a fresh image"),
                        });
                    }
                    for message in messages {
                        c.handle.send(ConnCommand::Send(message));
                    }
                }
            }
            SyncAction::None => {}
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        self.check_watchdogs(now);
        self.check_rotations(now);
        self.pump_snapshots(now);
        self.pump_book_requests(now);
        self.poll_open_interest(now);
        let (mut synced, mut levels, mut overflows, mut refetched) = (0, 0, 0, 0);
        for (_, book) in self.core.books() {
            synced += u64::from(book.state() == SyncState::Synced);
            levels += book.book().len() as u64;
            overflows += book.stats().buffer_overflows;
            refetched += book.stats().snapshots_refetched;
        }
        let counters = &self.core.stats().counters;
        VenueStats::set(&counters.books_synced, synced);
        VenueStats::set(&counters.book_levels, levels);
        VenueStats::set(&counters.buffer_overflows, overflows);
        VenueStats::set(&counters.snapshots_refetched, refetched);
    }
}
