//! One subscription's bounded queue and its slow-subscriber policy.
//!
//! The router pushes without ever waiting; the connection's writer drains. When the
//! queue is full the policy decides:
//! - `Drop`: the record is dropped and counted; a `gap` with the exact count goes out
//!   before that stream's next record.
//! - `Conflate`: a bbo keeps only its newest quote; a book drops its queued deltas and
//!   gets a fresh SNAPSHOT image (plus the deltas after it); other channels drop as above.
//! - `Disconnect`: the queue closes with a reason and the connection ends.
//!
//! Memory stays bounded: `capacity` records, plus per stream at most one gap counter,
//! one conflated quote, or one image of the book's size plus `capacity` deltas.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tickd_bus::{Channel, RecordBuf};
use tokio::sync::Notify;

use super::budget::{Budget, ITEM_BYTES};
use crate::protocol::{SlowPolicy, StreamChannel, StreamKey};

/// A stream as subscribers see it: its key, its name and its normalized symbol.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StreamInfo {
    pub key: StreamKey,
    pub name: String,
    pub symbol: String,
    /// 0 for venue-wide status streams.
    pub instrument_id: u32,
}

/// Why records of a stream were not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapReason {
    /// This subscriber's queue overflowed.
    SlowSubscriber,
    /// Older quotes or deltas were replaced by the latest state.
    Conflated,
    /// The gateway's own bus consumer fell a ring behind.
    GatewayLagged,
    /// A replay stepped over damaged journal blocks (`lost` 0: the count is unknown).
    JournalDamaged,
}

impl GapReason {
    pub fn as_str(self) -> &'static str {
        match self {
            GapReason::SlowSubscriber => "slow_subscriber",
            GapReason::Conflated => "conflated",
            GapReason::GatewayLagged => "gateway_lagged",
            GapReason::JournalDamaged => "journal_damaged",
        }
    }
}

/// What the writer takes out of a queue.
#[derive(Debug, Clone)]
pub enum Item {
    Record(Arc<StreamInfo>, RecordBuf),
    Gap {
        stream: Arc<StreamInfo>,
        lost: u64,
        reason: GapReason,
    },
}

enum Held {
    /// Newest quote of a conflated bbo stream, and how many it replaced.
    Latest(Arc<StreamInfo>, RecordBuf, u64),
    /// A book image plus the deltas since, replacing `dropped` queued deltas.
    Image(Arc<StreamInfo>, Vec<RecordBuf>, u64),
}

#[derive(Default)]
struct State {
    items: VecDeque<Item>,
    lost: HashMap<StreamKey, (Arc<StreamInfo>, u64, GapReason)>,
    held: HashMap<StreamKey, Held>,
    /// Insertion order of `held`, so conflated streams flush fairly and in order.
    held_order: VecDeque<StreamKey>,
    /// A replay is being read: live records queue up but are not drained yet.
    replaying: bool,
    /// Journal records of the replay, drained before anything live; at most
    /// `capacity` (the replay waits for room: [`SubQueue::replay_room`]).
    replayed: VecDeque<Item>,
    /// Per stream, the last sequence number replayed from the journal: live records
    /// up to it are duplicates and dropped.
    replayed_upto: HashMap<StreamKey, u64>,
}

/// Counters the router reads after each push, for metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PushOutcome {
    pub dropped: u64,
    pub conflated: u64,
    pub disconnected: bool,
}

pub struct SubQueue {
    pub policy: SlowPolicy,
    capacity: usize,
    state: Mutex<State>,
    notify: Arc<Notify>,
    closed: AtomicBool,
    close_reason: Mutex<Option<String>>,
    /// Wakes a replay waiting for room.
    replay_drained: Notify,
    /// The connection's byte budget (and through it the server's): charged per record
    /// in `items`, given back as they are drained or dropped.
    budget: Option<Arc<Budget>>,
}

impl SubQueue {
    pub fn new(policy: SlowPolicy, capacity: usize, notify: Arc<Notify>) -> Self {
        SubQueue {
            policy,
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
            notify,
            closed: AtomicBool::new(false),
            close_reason: Mutex::new(None),
            replay_drained: Notify::new(),
            budget: None,
        }
    }

    /// Charges this queue's records to `budget` (a connection's, child of the server's).
    pub fn with_budget(mut self, budget: Arc<Budget>) -> Self {
        self.budget = Some(budget);
        self
    }

    fn charge(&self) -> bool {
        self.budget.as_ref().is_none_or(|b| b.take(ITEM_BYTES))
    }

    fn charge_forced(&self, records: usize) {
        if let Some(b) = &self.budget {
            b.force(records * ITEM_BYTES);
        }
    }

    fn refund(&self, records: usize) {
        if let (Some(b), true) = (&self.budget, records > 0) {
            b.give(records * ITEM_BYTES);
        }
    }

    /// Identifies the writer that drains this queue: every subscription of one
    /// WebSocket connection shares it, each QUIC subscription has its own stream.
    pub fn writer_id(&self) -> usize {
        Arc::as_ptr(&self.notify) as usize
    }

    /// Queues a record and wakes the writer; `image` rebuilds the stream's book image
    /// when a conflated book needs one (`None` if the book is not valid right now).
    pub fn push(
        &self,
        stream: &Arc<StreamInfo>,
        record: RecordBuf,
        image: &mut dyn FnMut() -> Option<Vec<RecordBuf>>,
    ) -> PushOutcome {
        let outcome = self.push_unwoken(stream, record, image);
        self.wake();
        outcome
    }

    /// Wakes the writer that drains this queue.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// As [`Self::push`] without waking the writer: the router queues a whole batch of
    /// records, then wakes each writer once ([`Self::wake`]).
    pub fn push_unwoken(
        &self,
        stream: &Arc<StreamInfo>,
        record: RecordBuf,
        image: &mut dyn FnMut() -> Option<Vec<RecordBuf>>,
    ) -> PushOutcome {
        let mut outcome = PushOutcome::default();
        if self.is_closed() {
            return outcome;
        }
        {
            let mut st = self.state.lock();
            let key = &stream.key;
            if st
                .replayed_upto
                .get(key)
                .is_some_and(|&upto| record.header().sequence <= upto)
            {
                return outcome;
            }
            if let Some(held) = st.held.get_mut(key) {
                match held {
                    Held::Latest(_, latest, replaced) => {
                        *latest = record;
                        *replaced += 1;
                        outcome.conflated = 1;
                    }
                    Held::Image(_, records, _) => {
                        if records.len() >= 2 * self.capacity {
                            // Deltas outgrew the image: start over from the book.
                            if let Some(fresh) = image() {
                                *records = fresh;
                            } else {
                                records.push(record);
                            }
                        } else {
                            records.push(record);
                        }
                        outcome.conflated = 1;
                    }
                }
            } else if st.items.len() < self.capacity && self.charge() {
                if let Some((info, lost, reason)) = st.lost.remove(key) {
                    st.items.push_back(Item::Gap {
                        stream: info,
                        lost,
                        reason,
                    });
                }
                st.items.push_back(Item::Record(Arc::clone(stream), record));
            } else {
                self.overflow(&mut st, stream, record, image, &mut outcome);
            }
        }
        if outcome.disconnected {
            self.close(format!(
                "slow subscriber: {} records queued on {} (policy disconnect)",
                self.capacity, stream.name
            ));
        }
        outcome
    }

    fn overflow(
        &self,
        st: &mut State,
        stream: &Arc<StreamInfo>,
        record: RecordBuf,
        image: &mut dyn FnMut() -> Option<Vec<RecordBuf>>,
        outcome: &mut PushOutcome,
    ) {
        let channel = stream.key.channel;
        match self.policy {
            SlowPolicy::Disconnect => outcome.disconnected = true,
            SlowPolicy::Conflate
                if matches!(
                    channel,
                    StreamChannel::Feed(Channel::Bbo) | StreamChannel::BookTop
                ) =>
            {
                st.held.insert(
                    stream.key.clone(),
                    Held::Latest(Arc::clone(stream), record, 0),
                );
                st.held_order.push_back(stream.key.clone());
                outcome.conflated = 1;
            }
            SlowPolicy::Conflate if channel == StreamChannel::Feed(Channel::Book) => {
                match image() {
                    Some(records) => {
                        let before = st.items.len();
                        st.items.retain(|item| match item {
                            Item::Record(info, _) => info.key != stream.key,
                            Item::Gap { .. } => true,
                        });
                        let dropped = (before - st.items.len()) as u64;
                        self.refund(dropped as usize);
                        st.held.insert(
                            stream.key.clone(),
                            Held::Image(Arc::clone(stream), records, dropped),
                        );
                        st.held_order.push_back(stream.key.clone());
                        outcome.conflated = 1;
                    }
                    None => Self::count_lost(st, stream, GapReason::SlowSubscriber, outcome),
                }
            }
            _ => Self::count_lost(st, stream, GapReason::SlowSubscriber, outcome),
        }
    }

    fn count_lost(
        st: &mut State,
        stream: &Arc<StreamInfo>,
        reason: GapReason,
        outcome: &mut PushOutcome,
    ) {
        st.lost
            .entry(stream.key.clone())
            .or_insert_with(|| (Arc::clone(stream), 0, reason))
            .1 += 1;
        outcome.dropped = 1;
    }

    /// Queues a gap notice (the gateway itself lost records of this stream). Gap
    /// notices may exceed `capacity` by at most one per stream: they merge.
    pub fn push_gap(&self, stream: &Arc<StreamInfo>, lost: u64, reason: GapReason) {
        if self.is_closed() {
            return;
        }
        let mut st = self.state.lock();
        st.lost
            .entry(stream.key.clone())
            .or_insert_with(|| (Arc::clone(stream), 0, reason))
            .1 += lost;
        drop(st);
        self.notify.notify_one();
    }

    /// Queues records that must go out before anything else of the stream (a book
    /// image at subscribe time). May exceed `capacity` once, by the image's size.
    pub fn push_front_image(&self, stream: &Arc<StreamInfo>, records: Vec<RecordBuf>) {
        let mut st = self.state.lock();
        self.charge_forced(records.len());
        for record in records {
            st.items.push_back(Item::Record(Arc::clone(stream), record));
        }
        drop(st);
        self.notify.notify_one();
    }

    /// Moves up to `max` items into `out`, oldest first; then pending gap notices and
    /// conflated state once the queue itself is empty.
    pub fn drain(&self, out: &mut Vec<Item>, max: usize) {
        let mut st = self.state.lock();
        if st.replaying {
            let take = st.replayed.len().min(max);
            if take > 0 {
                out.extend(st.replayed.drain(..take));
                drop(st);
                self.replay_drained.notify_one();
            }
            return;
        }
        let take = st.items.len().min(max);
        let from = out.len();
        out.extend(st.items.drain(..take));
        let records = out[from..]
            .iter()
            .filter(|item| matches!(item, Item::Record(..)))
            .count();
        self.refund(records);
        if !st.items.is_empty() {
            return;
        }
        for (_, (stream, lost, reason)) in st.lost.drain() {
            out.push(Item::Gap {
                stream,
                lost,
                reason,
            });
        }
        while let Some(key) = st.held_order.pop_front() {
            match st.held.remove(&key) {
                Some(Held::Latest(stream, record, replaced)) => {
                    if replaced > 0 {
                        out.push(Item::Gap {
                            stream: Arc::clone(&stream),
                            lost: replaced,
                            reason: GapReason::Conflated,
                        });
                    }
                    out.push(Item::Record(stream, record));
                }
                Some(Held::Image(stream, records, dropped)) => {
                    if dropped > 0 {
                        out.push(Item::Gap {
                            stream: Arc::clone(&stream),
                            lost: dropped,
                            reason: GapReason::Conflated,
                        });
                    }
                    out.extend(
                        records
                            .into_iter()
                            .map(|r| Item::Record(Arc::clone(&stream), r)),
                    );
                }
                None => {}
            }
        }
    }

    /// Holds live records back (bounded by the queue's capacity and policy) while a
    /// replay is read from the journal.
    pub fn hold_for_replay(&self) {
        self.state.lock().replaying = true;
    }

    /// How many more replayed records the queue takes now (its capacity, less those
    /// not yet drained): a replay reads no further ahead than this.
    pub fn replay_room(&self) -> usize {
        self.capacity
            .saturating_sub(self.state.lock().replayed.len())
    }

    /// Resolves after the connection drained some replayed records.
    pub fn replay_drained(&self) -> tokio::sync::futures::Notified<'_> {
        self.replay_drained.notified()
    }

    /// Queues journal records of a replay (REPLAY-flagged), ahead of all live records.
    pub fn push_replayed(&self, items: Vec<Item>) {
        if items.is_empty() {
            return;
        }
        self.state.lock().replayed.extend(items);
        self.notify.notify_one();
    }

    /// Ends a replay: the replayed records not yet drained and `gaps` (one notice per
    /// stream the journal could not bring up to the live position) go out first, then
    /// the held live records except those at or below `upto`, their stream's last
    /// replayed sequence number of this run (later duplicates are dropped on push too).
    pub fn release_replay(&self, gaps: Vec<Item>, upto: HashMap<StreamKey, u64>) {
        let mut st = self.state.lock();
        let before = st.items.len();
        st.items.retain(|item| match item {
            Item::Record(info, record) => upto
                .get(&info.key)
                .is_none_or(|&last| record.header().sequence > last),
            Item::Gap { .. } => true,
        });
        self.refund(before - st.items.len());
        let live = std::mem::take(&mut st.items);
        let mut items = std::mem::take(&mut st.replayed);
        // Replayed records left join the counted items (at most a queue's worth).
        self.charge_forced(items.len());
        items.extend(gaps);
        items.extend(live);
        st.items = items;
        st.replayed_upto = upto;
        st.replaying = false;
        drop(st);
        self.notify.notify_one();
    }

    /// Whether a replay is still being read.
    pub fn is_replaying(&self) -> bool {
        self.state.lock().replaying
    }

    /// Resolves after the next push (or close) if nothing is waiting now.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }

    /// Items `drain` would take now: replayed records during a replay (live ones are
    /// held back until it ends), else the queued items.
    pub fn len(&self) -> usize {
        let st = self.state.lock();
        if st.replaying {
            st.replayed.len()
        } else {
            st.items.len()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn close(&self, reason: String) {
        let mut slot = self.close_reason.lock();
        if slot.is_none() {
            *slot = Some(reason);
        }
        self.closed.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// Ends the subscription quietly (unsubscribed): no reason, the connection stays.
    pub fn retire(&self) {
        self.closed.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Why the queue closed the connection (`None` if open or merely retired).
    pub fn close_reason(&self) -> Option<String> {
        self.close_reason.lock().clone()
    }
}

impl Drop for SubQueue {
    fn drop(&mut self) {
        let records = self
            .state
            .get_mut()
            .items
            .iter()
            .filter(|item| matches!(item, Item::Record(..)))
            .count();
        self.refund(records);
    }
}
