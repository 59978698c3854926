//! `subscribe` with `from`: journal records first, then live, with no gap and no
//! duplicate at the seam.
//!
//! The live subscription is registered first, its queue holding records back. The
//! router reports where each stream stood at that instant (the last sequence number
//! routed before the subscription): the journal supplies everything up to there, the
//! queue everything after. If the journal has not yet caught up (the writer seals a
//! block every few tens of milliseconds) its tail is re-read for up to
//! [`CATCH_UP`]; a hole left after that goes out as a `gap` with the exact count.
//!
//! A book stream's replay starts with the book as it stood at `from` (a SNAPSHOT
//! image rebuilt from the journal: the last snapshot before it plus the deltas
//! since), then the deltas from `from` on, so the subscriber can build the book
//! from its first record. Where the journal cannot rebuild it (no snapshot before
//! `from`, or a gap since), the deltas go out bare, as the live stream would after
//! a gap.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tickd_bus::record::BookSide;
use tickd_bus::{Channel, Flags, RecordBuf, RecordType, SharedRegistry, Venue};
use tickd_normalizer::book::image::{clear_delta, set_delta, Stamp};
use tickd_storage::history::History;
use tickd_storage::journal::{Filter, JournalReader};

use crate::fanout::{GapReason, Item, StreamInfo, StreamPosition, SubQueue};
use crate::protocol::{ErrorCode, Pattern, ServerMessage, StreamChannel, StreamKey};

/// How long to wait for the journal to reach the live position.
const CATCH_UP: Duration = Duration::from_secs(1);
/// Pause between re-reads of the journal's tail.
const RETRY: Duration = Duration::from_millis(50);

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
    pub queue: Arc<SubQueue>,
    pub max_records: usize,
}

/// What one read of the journal found, per stream in journal order.
#[derive(Default)]
struct Read {
    streams: Vec<(Arc<StreamInfo>, Vec<RecordBuf>)>,
}

impl Read {
    fn last_sequence(&self, key: &StreamKey) -> Option<u64> {
        self.streams
            .iter()
            .find(|(info, _)| info.key == *key)
            .and_then(|(_, records)| records.last())
            .map(|r| r.header().sequence)
    }
}

#[derive(Debug, thiserror::Error)]
enum ReplayError {
    #[error("the replay from {from} holds more than {max} records (max_replay_records); choose a later \"from\", or read history with GET /v1/trades")]
    TooMany { from: String, max: usize },
    #[error("reading the journal: {0}")]
    Journal(String),
}

/// Reads the journal off the async runtime, then releases the queue.
pub fn spawn(replay: Replay, replies: Replies) {
    tokio::spawn(async move {
        let queue = Arc::clone(&replay.queue);
        let id = replay.id;
        if let Err(e) = run(replay).await {
            let code = match e {
                ReplayError::TooMany { .. } => ErrorCode::BadRequest,
                ReplayError::Journal(_) => ErrorCode::Internal,
            };
            replies(ServerMessage::error(
                id,
                code,
                format!("{e}; the subscription was cancelled"),
            ));
            queue.retire();
        }
    });
}

async fn run(replay: Replay) -> Result<(), ReplayError> {
    let replay = Arc::new(replay);
    let deadline = Instant::now() + CATCH_UP;
    let read = loop {
        let job = Arc::clone(&replay);
        let read = tokio::task::spawn_blocking(move || read_journal(&job))
            .await
            .map_err(|e| ReplayError::Journal(e.to_string()))??;
        if holes(&replay, &read).is_empty() || Instant::now() >= deadline {
            break read;
        }
        tokio::time::sleep(RETRY).await;
    };
    let holes = holes(&replay, &read);
    let mut items = Vec::new();
    let mut upto = HashMap::new();
    for (info, records) in read.streams {
        if let Some(last) = records.last() {
            let last = last.header().sequence;
            let lost = holes.get(&info.key).copied().unwrap_or(0);
            upto.insert(info.key.clone(), last + lost);
        }
        items.extend(
            records
                .into_iter()
                .map(|record| Item::Record(Arc::clone(&info), record)),
        );
        if let Some(&lost) = holes.get(&info.key) {
            items.push(Item::Gap {
                stream: info,
                lost,
                reason: GapReason::GatewayLagged,
            });
        }
    }
    replay.queue.release_replay(items, upto);
    Ok(())
}

/// Streams whose live records start past what the journal gave, with the count missing.
/// Only streams the journal has records of since `from` can be measured exactly.
fn holes(replay: &Replay, read: &Read) -> HashMap<StreamKey, u64> {
    replay
        .positions
        .iter()
        .filter(|p| p.last_ts_recv >= replay.from && p.last_sequence > 0)
        .filter_map(|p| {
            let last = read.last_sequence(&p.key)?;
            (last < p.last_sequence).then(|| (p.key.clone(), p.last_sequence - last))
        })
        .collect()
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

fn read_journal(replay: &Replay) -> Result<Read, ReplayError> {
    let reader = JournalReader::open(&replay.journal, filter(replay))
        .map_err(|e| ReplayError::Journal(e.to_string()))?;
    let cut: HashMap<&StreamKey, u64> = replay
        .positions
        .iter()
        .map(|p| (&p.key, p.last_sequence))
        .collect();
    let registry = replay
        .registry
        .read()
        .map_err(|_| ReplayError::Journal("instrument registry unavailable".into()))?;
    let mut index: HashMap<(u8, u32, StreamChannel), Option<usize>> = HashMap::new();
    let mut read = Read::default();
    let mut count = 0usize;
    for view in reader.records() {
        let hd = view.header();
        let channel = StreamChannel::of(&view);
        // Bar streams are the gateway's own (numbered per subscription stream).
        if matches!(channel, StreamChannel::Bars(_)) {
            continue;
        }
        let wire = (hd.venue, hd.instrument_id, channel);
        let slot = *index.entry(wire).or_insert_with(|| {
            let venue = Venue::from_u8(hd.venue)?;
            let symbol = if hd.instrument_id == 0 {
                "*".to_string()
            } else {
                registry.get(hd.instrument_id)?.symbol.clone()
            };
            let key = StreamKey {
                channel,
                venue,
                symbol: symbol.clone(),
            };
            if !replay.pattern.matches(&key) {
                return None;
            }
            read.streams.push((
                Arc::new(StreamInfo {
                    name: key.to_string(),
                    key,
                    symbol,
                    instrument_id: hd.instrument_id,
                }),
                Vec::new(),
            ));
            Some(read.streams.len() - 1)
        });
        let Some((info, records)) = slot.and_then(|i| read.streams.get_mut(i)) else {
            continue;
        };
        // Past the live position: the queue has these.
        if cut.get(&info.key).is_some_and(|&c| hd.sequence > c) {
            continue;
        }
        count += 1;
        if count > replay.max_records {
            return Err(ReplayError::TooMany {
                from: tickd_storage::history::time::format_time(replay.from),
                max: replay.max_records,
            });
        }
        let Ok(mut record) = RecordBuf::from_bytes(view.as_bytes()) else {
            continue;
        };
        let hd = record.header_mut();
        hd.flags = hd.flags.union(Flags::REPLAY);
        records.push(record);
    }
    for (info, records) in &mut read.streams {
        if info.key.channel == StreamChannel::Feed(Channel::Book) {
            if let Some(image) = book_image_at(replay, info, records) {
                records.splice(0..0, image);
            }
        }
    }
    Ok(read)
}

/// The book of `info`'s stream as it stood just before `from`, as a SNAPSHOT image
/// numbered to continue into the first replayed delta; `None` where the journal
/// cannot rebuild it exactly, or the replay itself starts with a snapshot.
fn book_image_at(
    replay: &Replay,
    info: &StreamInfo,
    records: &[RecordBuf],
) -> Option<Vec<RecordBuf>> {
    let first = records.first()?.header();
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
        debug_assert_eq!(record.header().rtype, RecordType::BookDelta as u8);
    }
    Some(image)
}
