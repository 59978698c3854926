//! The sink a frame's records pass through before the bus: exactly-once for trades
//! across overlapping connections (by trade id, as the venue's [`TradeIds`] kind
//! allows), loss flagged by a gap record where ids are contiguous, and records
//! from a rotation's new connection held back until it takes over.

use tickd_bus::record::{StatusReason, TradeMsg};
use tickd_bus::{RecordBuf, RecordType, Venue};
use tickd_normalizer::engine::{ConnCounter, TradeIds};
use tickd_normalizer::RecordSink;

use super::recent::RecentIds;
use crate::merge::{Merge, Role, Span, Verdict};
use crate::publisher::Publisher;
use crate::stats::VenueStats;
use crate::status;

pub struct Gate<'a> {
    pub venue: Venue,
    pub out: &'a mut Publisher,
    pub merge: &'a mut Merge,
    pub role: Role,
    pub trade_ids: TradeIds,
    /// Opaque trade ids seen lately (only for [`TradeIds::Opaque`]).
    pub recent: &'a mut RecentIds,
    /// Stream keys `(instrument, rtype)` that delivered data in this frame.
    pub touched: &'a mut Vec<(u32, u8)>,
    /// The per-connection counters the frame carried.
    pub counters: FrameCounters,
}

/// The per-connection counters one frame carried ([`ConnCounter`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameCounters {
    pub sequence: Option<u64>,
    pub heartbeat: Option<u64>,
}

impl RecordSink for Gate<'_> {
    fn conn_counter(&mut self, counter: ConnCounter, value: u64) {
        match counter {
            ConnCounter::Sequence => self.counters.sequence = Some(value),
            ConnCounter::Heartbeat => self.counters.heartbeat = Some(value),
        }
    }

    fn push(&mut self, record: RecordBuf) {
        let header = *record.header();
        self.touched.push((header.instrument_id, header.rtype));
        if let Some(trade) = record.get::<TradeMsg>() {
            if self.trade_ids == TradeIds::Opaque {
                let id = (header.instrument_id, trade.trade_id, trade.trade_id_hi);
                if self.recent.insert(id) {
                    self.out.push(record);
                } else {
                    VenueStats::add(&self.out.stats().counters.duplicates, 1);
                }
                return;
            }
            let key = (header.instrument_id, RecordType::Trade as u8);
            match self
                .merge
                .check(key, Span::single(trade.trade_id), self.role)
            {
                Verdict::Accept => self.out.push(record),
                // Monotonic ids skip by design: only contiguous ids tell a loss.
                Verdict::AcceptAfterGap { .. } if self.trade_ids == TradeIds::Monotonic => {
                    self.out.push(record)
                }
                Verdict::AcceptAfterGap { expected, lost } => {
                    self.out.publish(&status::gap(
                        self.venue,
                        header.instrument_id,
                        StatusReason::SequenceGap,
                        lost,
                        expected,
                        header.ts_recv,
                    ));
                    self.out.push(record);
                }
                Verdict::Duplicate | Verdict::Ahead => {
                    VenueStats::add(&self.out.stats().counters.duplicates, 1);
                }
            }
            return;
        }
        // Records without ids (best bid/offer, mark price, liquidations) come from
        // the primary only while two connections overlap.
        if self.role == Role::Secondary && self.merge.is_overlapping() {
            VenueStats::add(&self.out.stats().counters.duplicates, 1);
            return;
        }
        self.out.push(record);
    }
}
