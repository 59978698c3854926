//! The Binance venue core: one task on the venue thread that owns the decoder, the
//! books, the merge state and the publisher, fed by its connection tasks and REST
//! fetches through channels (so no state is shared or locked).

mod rest;
mod rotation;

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::Instant;

use tickd_bus::record::StatusReason;
use tickd_bus::{Channel, RecordType, Venue};
use tickd_normalizer::binance::{
    depth_weight, BinanceBookSync, BinanceDecoder, BinanceFrame, BinanceMarket, SyncAction,
    SyncState, TimeUnit,
};
use tickd_normalizer::SymbolMap;

use self::rest::RestDone;
use super::gate::Gate;
use super::streams::{self, PlannedConn, StreamSub};
use crate::backoff::Backoff;
use crate::connection::{spawn_connection, ConnCommand, ConnEvent, ConnHandle, ConnSpec};
use crate::merge::{Merge, Role, Verdict};
use crate::publisher::Publisher;
use crate::rest::RestClient;
use crate::rest_budget::RestBudget;
use crate::runtime::{now_ns, Shutdown};
use crate::stats::VenueStats;
use crate::status;
use crate::venue::VenueSettings;
use crate::watchdog::Watchdog;

const TICK: Duration = Duration::from_millis(100);

struct Slot {
    spec: ConnSpec,
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

struct Book {
    sync: BinanceBookSync,
    raw: String,
    queued: bool,
    in_flight: bool,
    not_before: Option<Instant>,
    retry: Backoff,
}

pub struct Core {
    venue: Venue,
    market: BinanceMarket,
    settings: VenueSettings,
    publisher: Publisher,
    decoder: BinanceDecoder,
    symbols: SymbolMap,
    rest: RestClient,
    slots: Vec<Slot>,
    conns: HashMap<u32, Conn>,
    next_conn: u32,
    books: HashMap<u32, Book>,
    snapshot_queue: VecDeque<u32>,
    snapshots_in_flight: usize,
    snapshot_weight: u32,
    budget: RestBudget,
    oi_symbols: Vec<String>,
    next_oi: Instant,
    events_tx: mpsc::Sender<ConnEvent>,
    events_rx: mpsc::Receiver<ConnEvent>,
    rest_tx: mpsc::UnboundedSender<RestDone>,
    rest_rx: mpsc::UnboundedReceiver<RestDone>,
    shutdown: Shutdown,
    decode_errors_logged: u64,
    touched: Vec<(u32, u8)>,
}

impl Core {
    pub fn new(
        market: BinanceMarket,
        settings: VenueSettings,
        publisher: Publisher,
        instruments: &[(u32, String)],
        shutdown: Shutdown,
    ) -> Result<Self, String> {
        let venue = settings.venue;
        let symbols: SymbolMap = instruments
            .iter()
            .map(|(id, raw)| (raw.clone(), *id))
            .collect();
        let mut decoder = BinanceDecoder::new(market, symbols.clone());
        if settings.time_unit_micros && market == BinanceMarket::Spot {
            decoder.set_time_unit(TimeUnit::Micros);
        }
        let snapshot_weight =
            depth_weight(market, settings.book_depth).map_err(|e| e.to_string())?;
        let per_minute = settings
            .snapshot_requests_per_minute
            .max(1)
            .saturating_mul(snapshot_weight);
        let budget = RestBudget::new(per_minute.min(
            tickd_normalizer::binance::weights::weight_limit_per_minute(market),
        ));
        let (events_tx, events_rx) = mpsc::channel(8192);
        let (rest_tx, rest_rx) = mpsc::unbounded_channel();
        let channels = &settings.channels;
        let mut books = HashMap::new();
        if channels.contains(&Channel::Book) {
            for (id, raw) in instruments {
                books.insert(
                    *id,
                    Book {
                        sync: BinanceBookSync::new(
                            venue,
                            *id,
                            market,
                            settings.max_buffered_events,
                        ),
                        raw: raw.clone(),
                        queued: false,
                        in_flight: false,
                        not_before: None,
                        retry: Backoff::new(Duration::from_millis(200), Duration::from_secs(30)),
                    },
                );
            }
        }
        let oi_symbols = if market == BinanceMarket::UsdmFutures && channels.contains(&Channel::Oi)
        {
            instruments.iter().map(|(_, raw)| raw.clone()).collect()
        } else {
            Vec::new()
        };
        let planned = streams::plan(
            market,
            instruments,
            channels,
            settings.streams_per_connection,
        );
        let slots = planned
            .into_iter()
            .map(
                |PlannedConn {
                     route,
                     streams: subs,
                 }| Slot {
                    spec: ConnSpec {
                        url: streams::connection_url(
                            market,
                            &settings.ws_url,
                            route,
                            settings.time_unit_micros,
                        ),
                        subscribe: streams::subscribe_messages(&subs, 1),
                        control_interval: streams::control_interval(market),
                        connect_timeout: Duration::from_secs(10),
                        backoff_base: settings.backoff_base,
                        backoff_cap: settings.backoff_cap,
                        tap: settings.tap.clone(),
                    },
                    streams: subs,
                    primary: None,
                    secondary: None,
                    merge: Merge::new(),
                    overlap_started: None,
                    rotation_not_before: None,
                },
            )
            .collect();
        VenueStats::set(&publisher.stats().counters.books_total, books.len() as u64);
        Ok(Self {
            venue,
            market,
            publisher,
            decoder,
            symbols,
            rest: RestClient::with_tap(settings.tap.clone()),
            slots,
            conns: HashMap::new(),
            next_conn: 1,
            books,
            snapshot_queue: VecDeque::new(),
            snapshots_in_flight: 0,
            snapshot_weight,
            budget,
            oi_symbols,
            next_oi: Instant::now(),
            events_tx,
            events_rx,
            rest_tx,
            rest_rx,
            shutdown,
            decode_errors_logged: 0,
            touched: Vec::with_capacity(64),
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
                Some(event) = self.events_rx.recv() => self.on_event(event),
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
        let counters = &self.publisher.stats().counters;
        match event {
            ConnEvent::Frame {
                conn,
                ts_recv,
                data,
            } => self.on_frame(conn, ts_recv, data),
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
                VenueStats::add(&counters.connections_up, 1);
                tracing::info!(venue = %self.venue, conn, url = %self.slots[c.slot].spec.url, ?reason, "connected");
                self.publisher
                    .publish(&status::connected(self.venue, conn, reason, now_ns()));
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
                    self.publisher.publish(&status::resubscribed(
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
                        VenueStats::sub(&counters.connections_up, 1);
                    }
                }
            }
        }
    }

    fn on_disconnected(&mut self, conn: u32, reason: &str, retry_in: Duration) {
        let counters = &self.publisher.stats().counters;
        let role = self.role(conn);
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.up {
            VenueStats::sub(&counters.connections_up, 1);
        }
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
        self.publisher
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
                            book.sync.on_disconnect(ts, &mut self.publisher);
                            book.in_flight = false;
                        }
                    }
                }
            }
            None => {}
        }
    }

    fn on_frame(&mut self, conn: u32, ts_recv: u64, data: Bytes) {
        let counters = &self.publisher.stats().counters;
        VenueStats::add(&counters.messages, 1);
        VenueStats::add(&counters.bytes, data.len() as u64);
        let Some((slot_index, role)) = self.role(conn) else {
            return; // a connection being closed
        };
        let Self {
            venue,
            market,
            publisher,
            decoder,
            slots,
            conns,
            books,
            snapshot_queue,
            decode_errors_logged,
            touched: touched_buf,
            ..
        } = self;
        let slot = &mut slots[slot_index];
        let Some(c) = conns.get_mut(&conn) else {
            return;
        };
        c.data_frames += 1;
        // Reused across frames: no allocation per message.
        let mut touched = std::mem::take(touched_buf);
        touched.clear();
        let mut gate = Gate {
            venue: *venue,
            out: publisher,
            merge: &mut slot.merge,
            role,
            touched: &mut touched,
        };
        let result = decoder.decode(&data, ts_recv, &mut gate);
        let now = Instant::now().into_std();
        let mut rotate_now = false;
        match result {
            Ok(BinanceFrame::Depth(diff)) => {
                let key = (diff.instrument_id, RecordType::BookDelta as u8);
                touched.push(key);
                let span = crate::binance::depth_span(&diff, *market);
                let verdict = slot.merge.check(key, span, role);
                // The book sync flags the primary's gaps itself; the secondary passes
                // only exact continuations while the primary is still up.
                let pass = !matches!(
                    (role, verdict),
                    (_, Verdict::Duplicate)
                        | (
                            Role::Secondary,
                            Verdict::Ahead | Verdict::AcceptAfterGap { .. }
                        )
                );
                if pass {
                    if let Some(book) = books.get_mut(&diff.instrument_id) {
                        if book.sync.on_diff(&diff, ts_recv, publisher) == SyncAction::FetchSnapshot
                            && !book.queued
                        {
                            book.queued = true;
                            snapshot_queue.push_back(diff.instrument_id);
                        }
                    }
                } else {
                    VenueStats::add(&publisher.stats().counters.duplicates, 1);
                }
            }
            Ok(BinanceFrame::ControlError { id, code, msg }) => {
                VenueStats::add(&publisher.stats().counters.rejected_subscriptions, 1);
                tracing::warn!(venue = %venue, conn, ?id, code, "venue rejected a request: {msg}");
                publisher.publish(&status::subscription_rejected(*venue, conn, code, ts_recv));
            }
            Ok(BinanceFrame::ServerShutdown { .. }) => {
                tracing::warn!(venue = %venue, conn, "server announced a shutdown; opening a new connection");
                rotate_now = role == Role::Primary;
            }
            Ok(_) => {}
            Err(err) => {
                VenueStats::add(&publisher.stats().counters.decode_errors, 1);
                *decode_errors_logged += 1;
                if decode_errors_logged.is_power_of_two() {
                    tracing::warn!(venue = %venue, conn, error = %err, count = *decode_errors_logged, "undecodable frame");
                }
            }
        }
        // Only data feeds the watchdog; acks and control replies are heartbeats.
        for key in &touched {
            let index = c.stream_index.get(key).copied();
            c.watchdog.on_data(index, now);
        }
        *touched_buf = touched;
        if rotate_now {
            self.start_rotation(slot_index, StatusReason::ServerShutdown);
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        self.check_watchdogs(now);
        self.check_rotations(now);
        self.pump_snapshots(now);
        self.poll_open_interest(now);
        let (mut synced, mut levels, mut overflows, mut refetched) = (0, 0, 0, 0);
        for book in self.books.values() {
            synced += u64::from(book.sync.state() == SyncState::Synced);
            levels += book.sync.book().len() as u64;
            overflows += book.sync.stats().buffer_overflows;
            refetched += book.sync.stats().snapshots_refetched;
        }
        let counters = &self.publisher.stats().counters;
        VenueStats::set(&counters.books_synced, synced);
        VenueStats::set(&counters.book_levels, levels);
        VenueStats::set(&counters.buffer_overflows, overflows);
        VenueStats::set(&counters.snapshots_refetched, refetched);
    }
}
