//! The book at a point in time: the last SNAPSHOT image at or before it, plus deltas.

use std::path::Path;

use tickd_bus::record::{BookAction, StatusKind};
use tickd_bus::{RecordRef, RecordType, Venue};
use tickd_normalizer::book::{BookReplay, Level};

use super::scan::Scan;
use super::{HistoryError, RangeQuery};
use crate::journal::layout::{day_of, list_days, NS_PER_DAY};
use crate::journal::IndexUse;
use crate::journal::JournalError;

/// One instrument's book as tickd held it at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookAt {
    /// Best first, at most `depth` levels.
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    /// `ts_recv` of the last record applied.
    pub ts: u64,
    /// The venue's update id of the last delta applied.
    pub update_id: u64,
    /// A gap or resync came after the snapshot, or the last event was cut off at `at`:
    /// the deltas may not describe the venue's book exactly.
    pub gap_since_snapshot: bool,
    /// Book delta records the engine refused (hostile or damaged input), skipped.
    pub bad_deltas: u64,
}

fn io_err(dir: &Path) -> impl FnOnce(std::io::Error) -> HistoryError + '_ {
    move |source| {
        HistoryError::Journal(JournalError::Io {
            path: dir.to_path_buf(),
            source,
        })
    }
}

pub(super) fn book_at(
    dir: &Path,
    venue: Venue,
    instrument_id: u32,
    at_ns: u64,
    depth: usize,
    index: IndexUse,
) -> Result<BookAt, HistoryError> {
    let until = at_ns.saturating_add(1);
    let range = |from_ns| RangeQuery {
        venue,
        instrument_id,
        from_ns,
        to_ns: until,
    };
    // Walk days back from `at` until one holds a SNAPSHOT image: replay starts there.
    let mut start_day = None;
    let days = list_days(dir, venue).map_err(io_err(dir))?;
    for &(day, _) in days.iter().rev().filter(|(d, _)| *d <= day_of(at_ns)) {
        let from = u64::from(day) * NS_PER_DAY;
        let mut scan = Scan::open_recv(
            dir,
            &range(from),
            &[RecordType::BookDelta],
            0,
            0,
            &[],
            index,
        )?;
        let mut found = false;
        while let Some(record) = scan.next_ref() {
            if let RecordRef::BookDelta(d) = record {
                found |= d.action == BookAction::Clear as u8 && d.hd.flags.is_snapshot();
            }
            if found {
                break;
            }
        }
        if found {
            start_day = Some(from);
            break;
        }
    }
    let Some(from) = start_day else {
        return Err(HistoryError::NoSnapshot {
            venue,
            instrument_id,
            at_ns,
        });
    };
    let kinds = [RecordType::BookDelta, RecordType::Status];
    // Instrument 0: venue-wide statuses (the journal writer's lag gaps).
    let mut scan = Scan::open_recv(dir, &range(from), &kinds, 0, 0, &[0], index)?;
    let mut replay = BookReplay::new();
    let (mut snapshot_seen, mut gap, mut ts, mut bad_deltas) = (false, false, 0, 0);
    while let Some(record) = scan.next_ref() {
        match record {
            RecordRef::BookDelta(delta) if delta.hd.instrument_id == instrument_id => {
                if delta.action == BookAction::Clear as u8 && delta.hd.flags.is_snapshot() {
                    snapshot_seen = true;
                    gap = false;
                }
                match replay.apply(delta) {
                    Ok(_) => ts = delta.hd.ts_recv,
                    Err(_) => bad_deltas += 1,
                }
            }
            RecordRef::Status(status)
                if matches!(
                    status.kind(),
                    Some(StatusKind::Gap | StatusKind::BookResync)
                ) =>
            {
                replay.invalidate();
                gap |= snapshot_seen;
            }
            _ => {}
        }
    }
    let book = replay.book();
    Ok(BookAt {
        bids: book.bids().take(depth).collect(),
        asks: book.asks().take(depth).collect(),
        ts,
        update_id: replay.last_update_id(),
        gap_since_snapshot: gap || !replay.is_valid(),
        bad_deltas,
    })
}
