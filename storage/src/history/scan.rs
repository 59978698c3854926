//! One instrument's records from the journal, owned: a reader plus a cursor into it.

use std::path::Path;

use tickd_bus::{RecordHeader, RecordRef, RecordType};

use super::{RangeQuery, CLOCK_SLACK_NS};
use crate::journal::reader::RecordCursor;
use crate::journal::{Filter, IndexUse, JournalError, JournalReader};

/// A record's time: the exchange's, or tickd's receive time where the venue sent none.
pub fn record_time(hd: &RecordHeader) -> u64 {
    if hd.ts_event != 0 {
        hd.ts_event
    } else {
        hd.ts_recv
    }
}

/// Records of some types for one instrument whose `ts_recv` is within
/// [`CLOCK_SLACK_NS`] of `[from, to)`, in journal order.
pub struct Scan {
    reader: JournalReader,
    cursor: RecordCursor,
    pub from_ns: u64,
    pub to_ns: u64,
}

impl Scan {
    pub fn open(
        dir: &Path,
        q: &RangeQuery,
        kinds: &[RecordType],
        index: IndexUse,
    ) -> Result<Scan, JournalError> {
        Self::open_recv(dir, q, kinds, CLOCK_SLACK_NS, CLOCK_SLACK_NS, &[], index)
    }

    /// With explicit slack before and after the range, and extra instrument ids
    /// (0 for venue-wide status records).
    pub fn open_recv(
        dir: &Path,
        q: &RangeQuery,
        kinds: &[RecordType],
        before: u64,
        after: u64,
        extra_ids: &[u32],
        index: IndexUse,
    ) -> Result<Scan, JournalError> {
        let mut filter = Filter::all()
            .venue(q.venue)
            .instrument(q.instrument_id)
            .ts_recv(q.from_ns.saturating_sub(before)..q.to_ns.saturating_add(after));
        for &id in extra_ids {
            filter = filter.instrument(id);
        }
        for &kind in kinds {
            filter = filter.rtype(kind);
        }
        Ok(Scan {
            reader: JournalReader::open_with(dir, filter, index)?,
            cursor: RecordCursor::default(),
            from_ns: q.from_ns,
            to_ns: q.to_ns,
        })
    }

    /// The next matching record (any time within the widened range).
    pub fn next_ref(&mut self) -> Option<RecordRef<'_>> {
        self.reader.next_at(&mut self.cursor)
    }

    /// Damaged blocks, unreadable segments and torn tails met while opening.
    pub fn problems(&self) -> &[crate::journal::ReadProblem] {
        self.reader.problems()
    }

    /// Start over from the first record.
    pub fn rewind(&mut self) {
        self.cursor = RecordCursor::default();
    }
}
