//! Per-stream sequence tracking: a jump the server did not announce is a gap.

use std::collections::HashMap;

use tickd_bus::{RecordType, Venue};

/// The stream label binary records get: `<channel>.<venue>.#<instrument id>` (binary
/// records carry ids, not symbols; `GET /v1/instruments` maps them).
/// `derived`: a best bid/offer tickd derived from its book, served as `top`.
pub fn binary_key(venue: u8, instrument_id: u32, rtype: u8, derived: bool) -> String {
    let venue = Venue::from_u8(venue).map_or("unknown", Venue::as_str);
    let channel = match RecordType::from_u8(rtype) {
        Some(RecordType::Bbo) if derived => "top",
        Some(RecordType::Bar) => "bars",
        Some(RecordType::Status) | None => "status",
        Some(kind) => tickd_bus::Channel::of_record(kind).map_or("status", |c| c.as_str()),
    };
    format!("{channel}.{venue}.#{instrument_id}")
}

#[derive(Debug, Default)]
pub struct SeqTracker {
    /// Last sequence seen, and records the server said it skipped since.
    streams: HashMap<String, (u64, u64)>,
}

impl SeqTracker {
    /// Records `seq` on `stream`; returns how many records were skipped unannounced.
    /// Sequence numbers that repeat (a book image carries its last delta's number)
    /// or go back (after a reconnect the server restarts a stream) are not gaps.
    pub fn observe(&mut self, stream: &str, seq: u64) -> Option<u64> {
        if seq == 0 {
            return None;
        }
        match self.streams.get_mut(stream) {
            None => {
                self.streams.insert(stream.to_string(), (seq, 0));
                None
            }
            Some((last, announced)) => {
                let expected = *last + 1 + *announced;
                let gap = (seq > expected && seq > *last + 1).then(|| seq - expected);
                if seq > *last {
                    *last = seq;
                    *announced = 0;
                }
                gap
            }
        }
    }

    /// The server announced `lost` missing records on `stream`.
    pub fn expect_jump(&mut self, stream: &str, lost: u64) {
        if let Some((_, announced)) = self.streams.get_mut(stream) {
            *announced = announced.saturating_add(lost);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_names_follow_stream_names() {
        assert_eq!(
            binary_key(Venue::Okx as u8, 7, RecordType::Trade as u8, false),
            "trades.okx.#7"
        );
        assert_eq!(binary_key(200, 7, 99, false), "status.unknown.#7");
        assert_eq!(
            binary_key(Venue::Okx as u8, 7, RecordType::Bbo as u8, true),
            "top.okx.#7"
        );
    }

    #[test]
    fn jumps_are_gaps_unless_announced() {
        let mut t = SeqTracker::default();
        assert_eq!(t.observe("a", 5), None);
        assert_eq!(t.observe("a", 6), None);
        assert_eq!(t.observe("a", 9), Some(2));
        t.expect_jump("a", 3);
        assert_eq!(t.observe("a", 13), None);
        assert_eq!(t.observe("a", 13), None, "image records repeat a number");
        assert_eq!(t.observe("b", 1), None);
        assert_eq!(t.observe("a", 14), None);
    }
}
