//! `subscribe` with `from`: journal records first, then live, with no gap and no
//! duplicate at the seam, through the subscription's own bounded queue.
//!
//! The live subscription is registered first, its queue holding live records back
//! (bounded by its capacity and policy). The router reports where each stream stood at
//! that instant: the last sequence number routed before the subscription, and the
//! `ts_recv` of the first record it routed in this server run. Sequence numbers restart
//! at 1 in each run, so they are only compared within this run. A stream's records
//! are journaled in sequence order, one run after the other, but their `ts_recv` need
//! not rise with the sequence (Kraken's venue status is stamped when its frame arrived,
//! before the `connected` record published ahead of it). So a stream's records of this
//! run are those from its first one with `ts_recv` at or after the first routed record
//! on, in journal order: the records before that (an earlier run, or before the gateway
//! started reading) are always replayed; this run's up to the live position, the queue
//! has the rest.
//!
//! Records are read in batches on the blocking pool and pushed into the queue only as
//! fast as the connection drains it ([`SubQueue::replay_room`]), so a replay holds at
//! most the queue's capacity in memory however far back `from` is. If the journal has
//! not yet caught up with the live position (the writer seals a block every few tens of
//! milliseconds) its tail is re-read for up to [`CATCH_UP`]; a hole left after that
//! goes out as a `gap` with the exact count. Damaged journal blocks the replay steps
//! over go out as a `gap` (reason `journal_damaged`, `lost` 0: unknown) on each of its
//! streams, are logged with their place and counted in the metrics.
//!
//! A book stream's replay starts with the book as it stood at `from` (a SNAPSHOT
//! image rebuilt from the journal: the last snapshot before it plus the deltas
//! since), then the deltas from `from` on, so the subscriber can build the book
//! from its first record. Where the journal cannot rebuild it (no snapshot before
//! `from`, or a gap since), the deltas go out bare, as the live stream would after
//! a gap.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tickd_bus::record::BookSide;
use tickd_bus::{Channel, Flags, RecordBuf, RecordHeader, RecordType, SharedRegistry, Venue};
use tickd_normalizer::book::image::{clear_delta, set_delta, Stamp};
use tickd_storage::history::History;
use tickd_storage::journal::reader::RecordCursor;
use tickd_storage::journal::{Filter, JournalReader};

use crate::fanout::{GapReason, Item, StreamInfo, StreamPosition, SubQueue};
use crate::protocol::{ErrorCode, Pattern, ServerMessage, StreamChannel, StreamKey};

/// How long to wait for the journal to reach the live position.
const CATCH_UP: Duration = Duration::from_secs(1);
/// Pause between re-reads of the journal's tail, and between checks for queue room.
const RETRY: Duration = Duration::from_millis(50);
/// How far a re-read of the tail starts before the last `ts_recv` sent: a stream's
/// later records may carry an earlier `ts_recv` (see above) by up to this much.
const REORDER_NS: u64 = 1_000_000_000;

/// Sends a control reply on the subscription's connection.
pub type Replies = Arc<dyn Fn(ServerMessage) + Send + Sync>;

/// One subscription's replay.
pub struct Replay {
    pub id: Option<u64>,
    pub pattern: Pattern,
    pub from: u64,
    pub journal: PathBuf,
    pub registry: SharedRegistry,
    pub positions: Vec<StreamPosition>,
    /// Wall-clock start of this server run: records of streams the router has not seen
    /// yet count as this run's from here on.
    pub run_start_ns: u64,
    pub queue: Arc<SubQueue>,
    pub max_records: usize,
    pub metrics: Arc<crate::metrics::Metrics>,
}

#[derive(Debug, thiserror::Error)]
enum ReplayError {
    #[error("the replay from {from} holds more than {max} records (max_replay_records); choose a later \"from\", or read history with GET /v1/trades")]
    TooMany { from: String, max: usize },
    #[error("reading the journal: {0}")]
    Journal(String),
    /// The subscription or connection ended first: nothing to report.
    #[error("subscription closed")]
    Closed,
}

/// Reads the journal off the async runtime into the queue, then releases it.
pub fn spawn(replay: Replay, replies: Replies) {
    tokio::spawn(async move {
        let queue = Arc::clone(&replay.queue);
        let id = replay.id;
        let e = match run(replay).await {
            Ok(()) | Err(ReplayError::Closed) => return,
            Err(e) => e,
        };
        let code = match e {
            ReplayError::TooMany { .. } => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        };
        replies(ServerMessage::error(
            id,
            code,
            format!("{e}; the subscription was cancelled"),
        ));
        queue.retire();
    });
}

/// Per stream: what the replay has sent of this run's records.
#[derive(Default)]
struct Sent {
    /// Last sequence number of this run replayed (0: none).
    last_live: u64,
    /// `ts_recv` of the last record replayed, where a re-read of the tail starts.
    last_ts_recv: u64,
    /// The current pass over the journal has reached this run's records of the stream:
    /// every later one (journal order) is this run's, whatever its `ts_recv`.
    in_run: bool,
}

/// The replay's view of the journal: which streams its records belong to, and the
/// seam between journal and live per stream.
struct Seam {
    replay: Arc<Replay>,
    wire: HashMap<(u8, u32, StreamChannel), Option<Arc<StreamInfo>>>,
    positions: HashMap<StreamKey, StreamPosition>,
    sent: HashMap<StreamKey, (Arc<StreamInfo>, Sent)>,
    /// Book streams whose first replayed record has gone out (after its image).
    started_books: HashSet<StreamKey>,
    count: usize,
}

/// What to do with one journal record.
enum Take {
    Skip,
    Send(Arc<StreamInfo>),
}

impl Seam {
    fn new(replay: &Arc<Replay>) -> Self {
        Seam {
            replay: Arc::clone(replay),
            wire: HashMap::new(),
            positions: replay
                .positions
                .iter()
                .map(|p| (p.key.clone(), p.clone()))
                .collect(),
            sent: HashMap::new(),
            started_books: HashSet::new(),
            count: 0,
        }
    }

    fn stream(&mut self, hd: &RecordHeader, channel: StreamChannel) -> Option<Arc<StreamInfo>> {
        let replay = &self.replay;
        self.wire
            .entry((hd.venue, hd.instrument_id, channel))
            .or_insert_with(|| {
                let venue = Venue::from_u8(hd.venue)?;
                let symbol = if hd.instrument_id == 0 {
                    "*".to_string()
                } else {
                    replay
                        .registry
                        .read()
                        .ok()?
                        .get(hd.instrument_id)?
                        .symbol
                        .clone()
                };
                let key = StreamKey {
                    channel,
                    venue,
                    symbol: symbol.clone(),
                };
                replay.pattern.matches(&key).then(|| {
                    Arc::new(StreamInfo {
                        name: key.to_string(),
                        key,
                        symbol,
                        instrument_id: hd.instrument_id,
                    })
                })
            })
            .clone()
    }

    /// Decides on one record; `tail_only` (re-reads) takes only this run's records
    /// past what was sent, of streams still short of the live position.
    fn take(
        &mut self,
        hd: &RecordHeader,
        channel: StreamChannel,
        tail_only: Option<&HashSet<StreamKey>>,
    ) -> Take {
        // Bar streams are the gateway's own (numbered per subscription stream).
        if matches!(channel, StreamChannel::Bars(_)) {
            return Take::Skip;
        }
        let Some(info) = self.stream(hd, channel) else {
            return Take::Skip;
        };
        if tail_only.is_some_and(|streams| !streams.contains(&info.key)) {
            return Take::Skip;
        }
        let position = self.positions.get(&info.key);
        // This run's records: sequence numbers comparable with the live position.
        let run_start = position.map_or(self.replay.run_start_ns, |p| p.first_ts_recv);
        let (_, sent) = self
            .sent
            .entry(info.key.clone())
            .or_insert_with(|| (Arc::clone(&info), Sent::default()));
        sent.in_run |= run_start != 0 && hd.ts_recv >= run_start;
        if sent.in_run {
            // Past the live position: the queue has these. At or below what was
            // sent: a re-read's overlap.
            if position.is_some_and(|p| hd.sequence > p.last_sequence)
                || hd.sequence <= sent.last_live
            {
                return Take::Skip;
            }
            sent.last_live = hd.sequence;
        } else if tail_only.is_some() {
            return Take::Skip;
        }
        sent.last_ts_recv = hd.ts_recv;
        self.count += 1;
        Take::Send(info)
    }

    /// Streams whose live records start past what the journal gave, with the count
    /// missing. Measured where the journal gave records of this run, or where this run's
    /// first routed record is itself after `from`.
    fn holes(&self) -> HashMap<StreamKey, u64> {
        let from = self.replay.from;
        self.positions
            .values()
            .filter(|p| p.last_ts_recv >= from && p.last_sequence > 0 && p.first_ts_recv != 0)
            .filter_map(|p| {
                let sent = self.sent.get(&p.key).map_or(0, |(_, s)| s.last_live);
                let have = if sent > 0 {
                    sent
                } else if p.first_ts_recv >= from {
                    p.first_sequence.saturating_sub(1)
                } else {
                    return None;
                };
                (have < p.last_sequence).then(|| (p.key.clone(), p.last_sequence - have))
            })
            .collect()
    }

    /// Every stream of the replay: those it sent records of, and the live ones.
    fn streams(&self) -> Vec<Arc<StreamInfo>> {
        let mut out: Vec<Arc<StreamInfo>> = self
            .sent
            .values()
            .map(|(info, _)| Arc::clone(info))
            .collect();
        for (key, p) in &self.positions {
            if !self.sent.contains_key(key) {
                out.push(Arc::new(StreamInfo {
                    name: key.to_string(),
                    key: key.clone(),
                    symbol: key.symbol.clone(),
                    instrument_id: p.instrument_id,
                }));
            }
        }
        out
    }

    /// Where a re-read of the tail for `streams` starts.
    fn tail_start(&self, streams: &HashSet<StreamKey>) -> u64 {
        streams
            .iter()
            .map(|key| {
                self.sent
                    .get(key)
                    .map(|(_, s)| s.last_ts_recv)
                    .filter(|&ts| ts > 0)
                    .or_else(|| self.positions.get(key).map(|p| p.first_ts_recv))
                    .unwrap_or(self.replay.from)
            })
            .min()
            .unwrap_or(self.replay.from)
            .saturating_sub(REORDER_NS)
            .max(self.replay.from)
    }

    /// A new pass reads from its own start: which records are this run's is found
    /// again in its journal order.
    fn new_pass(&mut self) {
        for (_, sent) in self.sent.values_mut() {
            sent.in_run = false;
        }
    }
}

/// One pass over the journal: the reader and where it stands, moved to the blocking
/// pool for each batch and back.
struct Pass {
    reader: JournalReader,
    cursor: RecordCursor,
    tail_only: Option<HashSet<StreamKey>>,
}

impl Pass {
    fn open(
        replay: &Replay,
        since: u64,
        tail_only: Option<HashSet<StreamKey>>,
    ) -> Result<Pass, ReplayError> {
        let reader = JournalReader::open(&replay.journal, filter(replay).ts_recv(since..u64::MAX))
            .map_err(|e| ReplayError::Journal(e.to_string()))?;
        Ok(Pass {
            reader,
            cursor: RecordCursor::default(),
            tail_only,
        })
    }

    /// Up to `max` records to send (`None`: count only); true when the pass is done.
    fn read(&mut self, seam: &mut Seam, max: usize, items: &mut Option<Vec<Item>>) -> bool {
        let mut taken = 0;
        while taken < max {
            let Some(view) = self.reader.next_at(&mut self.cursor) else {
                return true;
            };
            let channel = StreamChannel::of(&view);
            let Take::Send(info) = seam.take(view.header(), channel, self.tail_only.as_ref())
            else {
                continue;
            };
            taken += 1;
            let Some(items) = items.as_mut() else {
                continue;
            };
            let Ok(mut record) = RecordBuf::from_bytes(view.as_bytes()) else {
                continue;
            };
            if info.key.channel == StreamChannel::Feed(Channel::Book)
                && seam.started_books.insert(info.key.clone())
            {
                let image = book_image_at(&seam.replay, &info, record.header());
                for part in image.into_iter().flatten() {
                    items.push(Item::Record(Arc::clone(&info), part));
                }
            }
            let hd = record.header_mut();
            hd.flags = hd.flags.union(Flags::REPLAY);
            items.push(Item::Record(info, record));
        }
        false
    }
}

async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ReplayError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| ReplayError::Journal(e.to_string()))
}

/// Sends one pass's records into the queue, a batch at a time as room appears.
async fn send_pass(mut pass: Pass, mut seam: Seam) -> Result<Seam, ReplayError> {
    let queue = Arc::clone(&seam.replay.queue);
    loop {
        let room = queue.replay_room();
        if queue.is_closed() {
            return Err(ReplayError::Closed);
        }
        if room == 0 {
            // The connection drains at its own pace; wait without holding a thread.
            let _ = tokio::time::timeout(RETRY, queue.replay_drained()).await;
            continue;
        }
        let (back, back_seam, items, done) = blocking(move || {
            let mut items = Some(Vec::with_capacity(room.min(1024)));
            let done = pass.read(&mut seam, room, &mut items);
            (pass, seam, items.unwrap_or_default(), done)
        })
        .await?;
        pass = back;
        seam = back_seam;
        queue.push_replayed(items);
        if done {
            return Ok(seam);
        }
    }
}

async fn run(replay: Replay) -> Result<(), ReplayError> {
    let replay = Arc::new(replay);
    // Count first, so a replay over the limit sends nothing.
    let job = Arc::clone(&replay);
    let counted = blocking(move || {
        let mut pass = Pass::open(&job, job.from, None)?;
        let mut seam = Seam::new(&job);
        pass.read(&mut seam, usize::MAX, &mut None);
        Ok::<_, ReplayError>(seam.count)
    })
    .await??;
    if counted > replay.max_records {
        return Err(ReplayError::TooMany {
            from: tickd_storage::history::time::format_time(replay.from),
            max: replay.max_records,
        });
    }
    let job = Arc::clone(&replay);
    let first = blocking(move || Pass::open(&job, job.from, None)).await??;
    let skipped = crate::http::history::skipped(first.reader.problems());
    replay.metrics.journal_skipped(&skipped);
    let mut seam = send_pass(first, Seam::new(&replay)).await?;
    let deadline = Instant::now() + CATCH_UP;
    loop {
        let holes = seam.holes();
        if holes.is_empty() || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(RETRY).await;
        let streams: HashSet<StreamKey> = holes.into_keys().collect();
        let since = seam.tail_start(&streams);
        let job = Arc::clone(&replay);
        let pass = blocking(move || Pass::open(&job, since, Some(streams))).await??;
        seam.new_pass();
        seam = send_pass(pass, seam).await?;
    }
    let holes = seam.holes();
    let mut gaps = Vec::new();
    if skipped.damaged > 0 {
        for stream in seam.streams() {
            gaps.push(Item::Gap {
                stream,
                lost: 0,
                reason: GapReason::JournalDamaged,
            });
        }
    }
    let mut upto = HashMap::new();
    for (key, (info, sent)) in &seam.sent {
        let lost = holes.get(key).copied().unwrap_or(0);
        if sent.last_live > 0 || lost > 0 {
            let have = seam.positions.get(key).map_or(sent.last_live, |p| {
                p.last_sequence.saturating_sub(lost).max(sent.last_live)
            });
            upto.insert(key.clone(), have + lost);
        }
        if lost > 0 {
            gaps.push(Item::Gap {
                stream: Arc::clone(info),
                lost,
                reason: GapReason::GatewayLagged,
            });
        }
    }
    // Streams the journal gave nothing of this run: the hole is all of it.
    for (key, lost) in &holes {
        if seam.sent.contains_key(key) {
            continue;
        }
        if let Some(p) = seam.positions.get(key) {
            upto.insert(key.clone(), p.last_sequence);
            gaps.push(Item::Gap {
                stream: Arc::new(StreamInfo {
                    name: key.to_string(),
                    key: key.clone(),
                    symbol: key.symbol.clone(),
                    instrument_id: p.instrument_id,
                }),
                lost: *lost,
                reason: GapReason::GatewayLagged,
            });
        }
    }
    replay.queue.release_replay(gaps, upto);
    Ok(())
}

fn filter(replay: &Replay) -> Filter {
    let mut filter = Filter::all().ts_recv(replay.from..u64::MAX);
    let pattern = &replay.pattern;
    if let Some(venue) = pattern.venue {
        filter = filter.venue(venue);
    }
    match pattern.channel {
        Some(StreamChannel::Feed(channel)) => filter = filter.rtype(channel.record_type()),
        Some(StreamChannel::Status) => filter = filter.rtype(RecordType::Status),
        Some(StreamChannel::BookTop) => filter = filter.rtype(RecordType::Bbo),
        _ => {}
    }
    if let (Some(symbol), Ok(registry)) = (&pattern.symbol, replay.registry.read()) {
        // Venue-wide status records (instrument 0) reach every symbol's subscriber.
        filter = filter.instrument(0);
        for instrument in registry.iter() {
            if instrument.symbol.eq_ignore_ascii_case(symbol)
                && pattern.venue.is_none_or(|v| v == instrument.spec.venue)
            {
                filter = filter.instrument(instrument.id);
            }
        }
    }
    filter
}

/// The book of `info`'s stream as it stood just before `from`, as a SNAPSHOT image
/// numbered to continue into the first replayed delta (`first`); `None` where the
/// journal cannot rebuild it exactly, or the replay itself starts with a snapshot.
fn book_image_at(
    replay: &Replay,
    info: &StreamInfo,
    first: &RecordHeader,
) -> Option<Vec<RecordBuf>> {
    if first.flags.is_snapshot() {
        return None;
    }
    let history = History::open(&replay.journal).ok()?;
    let at = replay.from.checked_sub(1)?;
    let book = history
        .book_at(info.key.venue, info.instrument_id, at, usize::MAX)
        .ok()
        .filter(|book| !book.gap_since_snapshot)?;
    let stamp = Stamp {
        venue: info.key.venue,
        instrument_id: info.instrument_id,
        ts_event: book.ts,
        ts_recv: book.ts,
    };
    let total = book.bids.len() + book.asks.len();
    let flags = |i: usize| {
        let last = if i == total { Flags::LAST } else { Flags::NONE };
        Flags::SNAPSHOT.union(Flags::REPLAY).union(last)
    };
    let mut image = vec![RecordBuf::new(&clear_delta(
        &stamp,
        book.update_id,
        flags(0),
    ))];
    let levels = book
        .bids
        .iter()
        .map(|l| (BookSide::Bid, *l))
        .chain(book.asks.iter().map(|l| (BookSide::Ask, *l)));
    for (i, (side, level)) in levels.enumerate() {
        image.push(RecordBuf::new(&set_delta(
            &stamp,
            side,
            level,
            book.update_id,
            flags(i + 1),
        )));
    }
    // Like the router's live image: it carries the sequence of the last delta
    // applied, so the next delta continues the numbering.
    let sequence = first.sequence.saturating_sub(1);
    for record in &mut image {
        record.header_mut().sequence = sequence;
    }
    Some(image)
}
