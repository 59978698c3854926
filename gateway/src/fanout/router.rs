//! Bus → subscriptions. One task reads every ring of the bus and pushes each record
//! into the queues of the subscriptions whose patterns match its stream. Pushing never
//! waits (queues are bounded with a policy), so a slow subscriber cannot hold up the
//! router, the other subscribers, or the feeds.
//!
//! Streams are learned as records arrive; a new subscription is matched against the
//! streams seen so far and a new stream against all subscriptions. Book deltas also
//! feed a per-instrument book so a book subscription starts with a SNAPSHOT image.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tickd_bus::record::BarMsg;
use tickd_bus::ring::{Bus, MultiRecv};
use tickd_bus::{Channel, RecordBuf, RecordRef, RecordType, SharedRegistry, Venue};
use tickd_normalizer::book::apply::BookReplay;
use tickd_normalizer::book::image::{emit_image, Stamp};

use super::bars::LiveBars;
use super::queue::{GapReason, StreamInfo, SubQueue};
use crate::metrics::{Hop, Metrics};
use crate::protocol::{Pattern, StreamChannel, StreamKey};

/// Most records handled under one lock of the router's state.
const BATCH: usize = 256;

struct StreamEntry {
    info: Arc<StreamInfo>,
    instrument_id: u32,
    ring: usize,
    subs: Vec<(u64, Arc<SubQueue>)>,
    book: Option<BookReplay>,
    last_sequence: u64,
    last_ts_recv: u64,
    /// The first record of the stream routed in this server run (0: none yet).
    first_sequence: u64,
    first_ts_recv: u64,
}

/// Where a stream stood when a subscription was added: the last record routed before
/// it (a replay must bring the subscriber up to here from the journal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPosition {
    pub key: StreamKey,
    pub instrument_id: u32,
    pub last_sequence: u64,
    pub last_ts_recv: u64,
    /// The first record routed in this server run (sequence numbers restart at 1 in
    /// each run: only this run's are comparable with `last_sequence`).
    pub first_sequence: u64,
    pub first_ts_recv: u64,
}

/// Reused per record so delivery allocates nothing once warm.
#[derive(Default)]
struct Scratch {
    /// The subscriptions of the record being delivered.
    subs: Vec<(u64, Arc<SubQueue>)>,
    /// Writers (connections or QUIC streams) already given the record.
    writers: std::collections::HashSet<usize>,
    /// Writers given records since the last [`Router::wake_writers`], by writer id:
    /// each is woken once per batch of records, not once per record.
    to_wake: HashMap<usize, Arc<SubQueue>>,
}

#[derive(Default)]
struct State {
    entries: Vec<StreamEntry>,
    by_wire: HashMap<(u8, u32, StreamChannel), usize>,
    subs: HashMap<u64, (Pattern, Arc<SubQueue>)>,
    next_sub: u64,
    scratch: Scratch,
    /// `ts_recv` of the records of the current batch, for the router-hop histogram.
    batch_ts: Vec<u64>,
    /// Subscriptions whose pattern names a bars channel.
    bar_subs: usize,
    bars: LiveBars,
    /// Scratch space for the bars closed by one trade or timer tick.
    closed_bars: Vec<(usize, BarMsg)>,
}

/// How often quiet instruments' bars are checked for having closed.
const BAR_TIMER: std::time::Duration = std::time::Duration::from_millis(250);

/// Aborts a task when dropped (the bar timer, with the router task that owns it).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The shared routing table. Cheap to clone.
#[derive(Clone)]
pub struct Router {
    state: Arc<Mutex<State>>,
    registry: SharedRegistry,
    metrics: Arc<Metrics>,
    /// Wall-clock start of this server run, ns.
    started_ns: u64,
}

impl Router {
    pub fn new(registry: SharedRegistry, metrics: Arc<Metrics>) -> Self {
        Router {
            state: Arc::default(),
            registry,
            metrics,
            started_ns: crate::metrics::now_ns(),
        }
    }

    /// Wall-clock start of this server run, ns: journal records of a stream the router
    /// has not routed yet are this run's from here on.
    pub fn started_ns(&self) -> u64 {
        self.started_ns
    }

    pub fn registry(&self) -> &SharedRegistry {
        &self.registry
    }

    /// Reads the bus until every ring is closed (or the task is aborted).
    /// From the oldest record still in each ring: the feeds start before the gateway,
    /// and a book whose first snapshot went by before the router subscribed would stay
    /// incomplete (no image for subscribers or `/v1/book`) until the venue resynced it.
    pub fn spawn(&self, bus: &Bus) -> tokio::task::JoinHandle<()> {
        let mut consumer = bus.subscribe_all_oldest().named("gateway");
        let router = self.clone();
        let timer = self.clone();
        tokio::spawn(async move {
            let _timer = AbortOnDrop(tokio::spawn(async move {
                let mut tick = tokio::time::interval(BAR_TIMER);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    tick.tick().await;
                    let mut state = timer.state.lock();
                    if state.bar_subs > 0 {
                        timer.bars_timer(&mut state);
                    }
                }
            }));
            loop {
                let first = consumer.recv().await;
                if first == MultiRecv::Closed {
                    return;
                }
                let mut state = router.state.lock();
                router.handle(&mut state, first);
                for _ in 1..BATCH {
                    match consumer.try_recv() {
                        MultiRecv::Empty | MultiRecv::Closed => break,
                        other => router.handle(&mut state, other),
                    }
                }
                Router::wake_writers(&mut state.scratch);
                // Histograms are recorded outside the routing lock.
                let ts = std::mem::take(&mut state.batch_ts);
                drop(state);
                router.metrics.latencies(Hop::Router, ts.into_iter());
            }
        })
    }

    fn handle(&self, state: &mut State, received: MultiRecv) {
        match received {
            MultiRecv::Record { ring, record } => self.route(state, ring, record),
            MultiRecv::Lagged { ring, lost } => {
                self.metrics.bus_lagged(lost);
                for entry in state.entries.iter_mut().filter(|e| e.ring == ring) {
                    if let Some(book) = entry.book.as_mut() {
                        book.invalidate();
                    }
                    for (_, queue) in &entry.subs {
                        queue.push_gap(&entry.info, lost, GapReason::GatewayLagged);
                    }
                }
            }
            MultiRecv::Empty | MultiRecv::Closed => {}
        }
    }

    fn route(&self, state: &mut State, ring: usize, record: RecordBuf) {
        let Ok(view) = record.as_ref() else {
            self.metrics.error("bad_record");
            return;
        };
        let hd = view.header();
        let channel = StreamChannel::of(&view);
        let wire = (hd.venue, hd.instrument_id, channel);
        let index = match state.by_wire.get(&wire) {
            Some(&index) => index,
            None => match self.learn(state, ring, wire) {
                Some(index) => index,
                None => {
                    self.metrics.error("unknown_instrument");
                    return;
                }
            },
        };
        self.metrics.record_in(record.as_bytes().len());
        if let RecordRef::Status(status) = view {
            self.metrics.feed_status(status.kind());
        }
        state.batch_ts.push(hd.ts_recv);
        let State {
            entries, scratch, ..
        } = state;
        let Some(entry) = entries.get_mut(index) else {
            return;
        };
        if entry.first_ts_recv == 0 {
            entry.first_sequence = hd.sequence;
            entry.first_ts_recv = hd.ts_recv;
        }
        entry.last_sequence = hd.sequence;
        entry.last_ts_recv = hd.ts_recv;
        if let Some(book) = entry.book.as_mut() {
            if book.apply_record(&record).is_err() {
                self.metrics.error("bad_book_delta");
                book.invalidate();
            }
        }
        self.deliver(entry, scratch, record);
        if state.bar_subs > 0 {
            if let RecordRef::Trade(trade) = view {
                self.bars_trade(state, ring, trade, index);
            }
        }
    }

    /// Pushes a record into its stream's subscription queues.
    fn deliver(&self, entry: &mut StreamEntry, scratch: &mut Scratch, record: RecordBuf) {
        if entry.subs.is_empty() {
            return;
        }
        let Scratch {
            subs,
            writers,
            to_wake,
        } = scratch;
        subs.clear();
        subs.extend(entry.subs.iter().cloned());
        // A record reaches each writer once, however many of a connection's patterns
        // match its stream: the first matching subscription carries it.
        if subs.len() > 1 {
            writers.clear();
            subs.retain(|(_, queue)| writers.insert(queue.writer_id()));
        }
        let mut closed = false;
        for (_, queue) in subs.iter() {
            let mut image = || book_image(entry);
            let outcome = queue.push_unwoken(&entry.info, record, &mut image);
            self.metrics.pushed(outcome);
            closed |= queue.is_closed();
            to_wake
                .entry(queue.writer_id())
                .or_insert_with(|| Arc::clone(queue));
        }
        if closed {
            entry.subs.retain(|(_, queue)| !queue.is_closed());
        }
    }

    fn bars_trade(
        &self,
        state: &mut State,
        ring: usize,
        trade: &tickd_bus::record::TradeMsg,
        index: usize,
    ) {
        let State {
            entries,
            subs,
            bars,
            closed_bars,
            ..
        } = state;
        let Some(key) = entries.get(index).map(|e| &e.info.key) else {
            return;
        };
        let (venue, symbol) = (key.venue, &key.symbol);
        // Only when bars subscriptions changed since this instrument last looked.
        let wanted = || {
            subs.values()
                .filter_map(|(pattern, _)| match pattern.channel {
                    Some(channel @ StreamChannel::Bars(interval)) => pattern
                        .matches(&StreamKey {
                            channel,
                            venue,
                            symbol: symbol.clone(),
                        })
                        .then_some(interval),
                    _ => None,
                })
                .collect()
        };
        bars.on_trade(ring, trade, crate::metrics::now_ns(), wanted, closed_bars);
        self.emit_bars(state);
    }

    fn bars_timer(&self, state: &mut State) {
        let State {
            bars, closed_bars, ..
        } = state;
        bars.on_timer(crate::metrics::now_ns(), closed_bars);
        self.emit_bars(state);
    }

    /// Sends the closed bars to their streams, numbered 1, 2, 3 per bar stream.
    fn emit_bars(&self, state: &mut State) {
        let closed = std::mem::take(&mut state.closed_bars);
        for (ring, bar) in &closed {
            let channel = StreamChannel::Bars(bar.interval_s);
            let wire = (bar.hd.venue, bar.hd.instrument_id, channel);
            let index = match state.by_wire.get(&wire) {
                Some(&index) => index,
                None => match self.learn(state, *ring, wire) {
                    Some(index) => index,
                    None => continue,
                },
            };
            let State {
                entries, scratch, ..
            } = &mut *state;
            let Some(entry) = entries.get_mut(index) else {
                continue;
            };
            let mut record = RecordBuf::new(bar);
            entry.last_sequence += 1;
            let hd = record.header_mut();
            hd.sequence = entry.last_sequence;
            entry.last_ts_recv = hd.ts_recv;
            self.deliver(entry, scratch, record);
        }
        state.closed_bars = closed;
        state.closed_bars.clear();
        Router::wake_writers(&mut state.scratch);
    }

    /// Wakes every writer given records since the last call.
    fn wake_writers(scratch: &mut Scratch) {
        for (_, queue) in scratch.to_wake.drain() {
            queue.wake();
        }
    }

    /// First record of a stream: name it and match it against every subscription.
    fn learn(
        &self,
        state: &mut State,
        ring: usize,
        wire: (u8, u32, StreamChannel),
    ) -> Option<usize> {
        let (venue, instrument_id, channel) = wire;
        let venue = Venue::from_u8(venue)?;
        let symbol = if instrument_id == 0 {
            "*".to_string()
        } else {
            let registry = self.registry.read().ok()?;
            registry.get(instrument_id)?.symbol.clone()
        };
        let key = StreamKey {
            channel,
            venue,
            symbol: symbol.clone(),
        };
        let info = Arc::new(StreamInfo {
            name: key.to_string(),
            key,
            symbol,
            instrument_id,
        });
        let subs = state
            .subs
            .iter()
            .filter(|(_, (pattern, _))| pattern.matches(&info.key))
            .map(|(id, (_, queue))| (*id, Arc::clone(queue)))
            .collect();
        let book = (channel == StreamChannel::Feed(Channel::Book)).then(BookReplay::new);
        state.entries.push(StreamEntry {
            info,
            instrument_id,
            ring,
            subs,
            book,
            last_sequence: 0,
            last_ts_recv: 0,
            first_sequence: 0,
            first_ts_recv: 0,
        });
        let index = state.entries.len() - 1;
        state.by_wire.insert(wire, index);
        Some(index)
    }

    /// Adds a subscription. Book streams already known get their image queued first,
    /// under the same lock that delivers deltas, so image and deltas join exactly.
    /// Returns the subscription's id and the names of the streams seen so far that match.
    pub fn subscribe(&self, pattern: Pattern, queue: Arc<SubQueue>) -> (u64, Vec<String>) {
        let (id, matched, _) = self.subscribe_at(pattern, queue);
        (id, matched)
    }

    /// [`Router::subscribe`], also returning where each matching stream stood at that
    /// instant: records after these positions reach the queue, earlier ones do not.
    pub fn subscribe_at(
        &self,
        pattern: Pattern,
        queue: Arc<SubQueue>,
    ) -> (u64, Vec<String>, Vec<StreamPosition>) {
        let mut state = self.state.lock();
        let mut positions = Vec::new();
        state.next_sub += 1;
        let id = state.next_sub;
        let mut matched = Vec::new();
        for entry in state.entries.iter_mut() {
            if !pattern.matches(&entry.info.key) {
                continue;
            }
            matched.push(entry.info.name.clone());
            positions.push(StreamPosition {
                key: entry.info.key.clone(),
                instrument_id: entry.instrument_id,
                last_sequence: entry.last_sequence,
                last_ts_recv: entry.last_ts_recv,
                first_sequence: entry.first_sequence,
                first_ts_recv: entry.first_ts_recv,
            });
            if let Some(image) = book_image(entry) {
                queue.push_front_image(&entry.info, image);
            }
            entry.subs.push((id, Arc::clone(&queue)));
        }
        if matches!(pattern.channel, Some(StreamChannel::Bars(_))) {
            state.bar_subs += 1;
            state.bars.subscriptions_changed(true);
        }
        state.subs.insert(id, (pattern, queue));
        self.metrics.subscribers_changed(1);
        (id, matched, positions)
    }

    pub fn unsubscribe(&self, id: u64) {
        let mut state = self.state.lock();
        let Some((pattern, _)) = state.subs.remove(&id) else {
            return;
        };
        if matches!(pattern.channel, Some(StreamChannel::Bars(_))) {
            state.bar_subs = state.bar_subs.saturating_sub(1);
            let any_left = state.bar_subs > 0;
            state.bars.subscriptions_changed(any_left);
        }
        for entry in state.entries.iter_mut() {
            entry.subs.retain(|(sub, _)| *sub != id);
        }
        self.metrics.subscribers_changed(-1);
    }

    /// Streams seen so far with their last sequence number (for `/v1/status`).
    pub fn streams(&self) -> Vec<(String, u64, usize)> {
        let state = self.state.lock();
        state
            .entries
            .iter()
            .map(|e| (e.info.name.clone(), e.last_sequence, e.subs.len()))
            .collect()
    }

    /// A book as of now, as image records (for `GET /v1/book` without a time).
    pub fn book_image(&self, venue: Venue, instrument_id: u32) -> Option<Vec<RecordBuf>> {
        let state = self.state.lock();
        let index = state.by_wire.get(&(
            venue as u8,
            instrument_id,
            StreamChannel::Feed(Channel::Book),
        ))?;
        book_image(state.entries.get(*index)?)
    }
}

/// The stream's book as a SNAPSHOT image whose records carry the sequence number of
/// the last delta applied, so the next delta continues the numbering.
fn book_image(entry: &StreamEntry) -> Option<Vec<RecordBuf>> {
    let book = entry.book.as_ref().filter(|b| b.is_valid())?;
    let stamp = Stamp {
        venue: entry.info.key.venue,
        instrument_id: entry.instrument_id,
        ts_event: 0,
        ts_recv: 0,
    };
    let mut out: Vec<RecordBuf> = Vec::with_capacity(book.book().len() + 1);
    emit_image(book.book(), &stamp, book.last_update_id(), &mut out);
    let now = crate::metrics::now_ns();
    for record in out.iter_mut() {
        let hd = record.header_mut();
        hd.sequence = entry.last_sequence;
        hd.ts_recv = now;
        hd.ts_event = now;
        debug_assert_eq!(hd.record_type(), Some(RecordType::BookDelta));
    }
    Some(out)
}
