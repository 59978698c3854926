//! 1-second bars written into the journal as trades arrive.
//!
//! [`BarTap`] wraps the [`RecordSource`] the journal's [`BusWriter`] reads: every record
//! passes through unchanged, and each trade also goes through a [`BarBuilder`]; the
//! bars it closes are handed to the writer right after, on the same ring, so they are
//! journaled like any record (same venue series, same gap accounting). The writer
//! itself needs no change: `BusWriter::spawn(BarTap::new(consumer), journal, cfg)`.
//!
//! When bars close: a second's bar is emitted on the instrument's first trade of a
//! later second. A venue that has sent no trade for [`IDLE_FLUSH`] of wall-clock time
//! has its open bars flushed, so quiet markets' last bars are written too; data time is
//! never compared with the wall clock, so replays of old data build the same bars.
//! At shutdown (source closed) every open bar is flushed. A crash loses the bars
//! still open (the trades are in the journal: history queries rebuild seconds without
//! stored bars from the trades only for days with none, see `history::bars`).
//!
//! [`BusWriter`]: crate::journal::BusWriter

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tickd_bus::record::{BarMsg, TradeMsg};
use tickd_bus::{RecordBuf, Venue};

use crate::bars::BarBuilder;
use crate::journal::bus_writer::Received;
use crate::journal::RecordSource;

/// A venue with no trade for this long has its open bars flushed.
pub const IDLE_FLUSH: Duration = Duration::from_secs(2);

/// Live counters (read from any thread).
#[derive(Debug, Default)]
pub struct BarTapStats {
    pub trades: AtomicU64,
    pub bars_emitted: AtomicU64,
    /// Late trades beyond the amend window, not in any bar.
    pub late_dropped: AtomicU64,
}

/// Per venue: its builder and when its last trade passed.
struct VenueBars {
    builder: BarBuilder,
    last_trade: Instant,
    open: bool,
    /// The ring its trades last came on: its bars go out on the same one.
    ring: usize,
}

/// A [`RecordSource`] that adds the 1-second bars of the trades it passes on.
pub struct BarTap<S> {
    inner: S,
    venues: [Option<VenueBars>; Venue::ID_SLOTS],
    /// Bars waiting to be handed out, with the ring their trades came from.
    pending: VecDeque<(usize, BarMsg)>,
    closed: bool,
    out: Vec<BarMsg>,
    stats: Arc<BarTapStats>,
    since_idle_check: u32,
}

impl<S: RecordSource> BarTap<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            venues: Default::default(),
            pending: VecDeque::new(),
            closed: false,
            out: Vec::new(),
            stats: Arc::default(),
            since_idle_check: 0,
        }
    }

    pub fn stats(&self) -> Arc<BarTapStats> {
        self.stats.clone()
    }

    fn on_trade(&mut self, ring: usize, trade: &TradeMsg) {
        let Some(venue) = Venue::from_u8(trade.hd.venue) else {
            return;
        };
        let slot = self.venues[venue as usize].get_or_insert_with(|| VenueBars {
            builder: BarBuilder::new(),
            last_trade: Instant::now(),
            open: false,
            ring,
        });
        slot.ring = ring;
        slot.builder.on_trade(trade, &mut self.out);
        slot.open = true;
        self.stats.trades.fetch_add(1, Ordering::Relaxed);
        self.queue(ring);
    }

    fn queue(&mut self, ring: usize) {
        self.stats
            .bars_emitted
            .fetch_add(self.out.len() as u64, Ordering::Relaxed);
        self.pending
            .extend(self.out.drain(..).map(|bar| (ring, bar)));
    }

    /// Flush venues that went quiet (or all of them, at the end).
    fn flush_idle(&mut self, all: bool) {
        let now = Instant::now();
        for slot in self.venues.iter_mut().flatten() {
            if slot.open && (all || now.duration_since(slot.last_trade) >= IDLE_FLUSH) {
                slot.builder.flush_all(&mut self.out);
                slot.open = false;
                self.stats
                    .bars_emitted
                    .fetch_add(self.out.len() as u64, Ordering::Relaxed);
                let ring = slot.ring;
                self.pending
                    .extend(self.out.drain(..).map(|bar| (ring, bar)));
            }
        }
        let dropped: u64 = self
            .venues
            .iter()
            .flatten()
            .map(|v| v.builder.stats().late_dropped)
            .sum();
        self.stats.late_dropped.store(dropped, Ordering::Relaxed);
    }
}

impl<S: RecordSource> RecordSource for BarTap<S> {
    fn recv_timeout(&mut self, timeout: Duration) -> Received {
        if let Some((ring, bar)) = self.pending.pop_front() {
            return Received::Record {
                ring,
                record: RecordBuf::new(&bar),
            };
        }
        if self.closed {
            return Received::Closed;
        }
        let received = self.inner.recv_timeout(timeout);
        match received {
            Received::Record { ring, record } => {
                if let Some(trade) = record.get::<TradeMsg>() {
                    let trade = *trade;
                    if let Some(slot) = Venue::from_u8(trade.hd.venue)
                        .and_then(|v| self.venues[v as usize].as_mut())
                    {
                        slot.last_trade = Instant::now();
                    }
                    self.on_trade(ring, &trade);
                }
                // Reading the clock per record would cost more than the bar.
                self.since_idle_check += 1;
                if self.since_idle_check >= 1024 {
                    self.since_idle_check = 0;
                    self.flush_idle(false);
                }
            }
            Received::Empty => self.flush_idle(false),
            Received::Closed => {
                self.flush_idle(true);
                if !self.pending.is_empty() {
                    self.closed = true;
                    // Hand out the last bars first; Closed follows once they are out.
                    return received_or_pending(self);
                }
            }
            Received::Lagged { .. } => {}
        }
        received
    }
}

/// The next pending bar as a record (called only when one is pending).
fn received_or_pending<S: RecordSource>(tap: &mut BarTap<S>) -> Received {
    match tap.pending.pop_front() {
        Some((ring, bar)) => Received::Record {
            ring,
            record: RecordBuf::new(&bar),
        },
        None => Received::Closed,
    }
}
