//! Test helpers: hand-built depth events, snapshots, the recorded sample, and a
//! readable view of the records the sync publishes.

use tickd_bus::record::{
    BboMsg, BookAction, BookDeltaMsg, BookSide, StatusKind, StatusMsg, StatusReason,
};
use tickd_bus::{Flags, Price, RecordBuf, Size};
use tickd_normalizer::binance::{DepthDiff, DepthSnapshot};
use tickd_normalizer::Level;

pub fn level(price: &str, size: &str) -> Level {
    Level::new(
        Price::parse_str(price).unwrap(),
        Size::parse_str(size).unwrap(),
    )
}

pub fn levels(pairs: &[(&str, &str)]) -> Vec<Level> {
    pairs.iter().map(|(p, s)| level(p, s)).collect()
}

/// An owned depth event; `diff()` lends it out as the decoder would.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub first: u64,
    pub last: u64,
    pub prev: Option<u64>,
    pub ts_event: u64,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

impl Event {
    pub fn new(first: u64, last: u64, prev: Option<u64>) -> Self {
        Self {
            first,
            last,
            prev,
            ts_event: last * 1000,
            bids: Vec::new(),
            asks: Vec::new(),
        }
    }

    pub fn bid(mut self, price: &str, size: &str) -> Self {
        self.bids.push(level(price, size));
        self
    }

    pub fn ask(mut self, price: &str, size: &str) -> Self {
        self.asks.push(level(price, size));
        self
    }

    pub fn diff(&self, instrument_id: u32) -> DepthDiff<'_> {
        DepthDiff {
            instrument_id,
            ts_event: self.ts_event,
            ts_transaction: 0,
            first_update_id: self.first,
            final_update_id: self.last,
            prev_final_update_id: self.prev,
            bids: &self.bids,
            asks: &self.asks,
        }
    }
}

pub fn snapshot(id: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> DepthSnapshot {
    DepthSnapshot {
        last_update_id: id,
        record_id: None,
        ts_event: 0,
        bids: levels(bids),
        asks: levels(asks),
    }
}

/// A published record, decoded for assertions.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Delta {
        side: Option<BookSide>,
        action: BookAction,
        level: Level,
        update_id: u64,
        flags: Flags,
        ts_event: u64,
    },
    Bbo {
        bid: Option<Level>,
        ask: Option<Level>,
        derived: bool,
    },
    Status {
        kind: StatusKind,
        reason: StatusReason,
        lost: u64,
        detail: u64,
    },
}

impl Out {
    pub fn delta(
        side: BookSide,
        price: &str,
        size: &str,
        update_id: u64,
        flags: Flags,
        ts_event: u64,
    ) -> Self {
        Out::Delta {
            side: Some(side),
            action: BookAction::Set,
            level: level(price, size),
            update_id,
            flags,
            ts_event,
        }
    }
}

pub fn decode(records: &[RecordBuf]) -> Vec<Out> {
    records
        .iter()
        .map(|r| {
            if let Some(d) = r.get::<BookDeltaMsg>() {
                Out::Delta {
                    side: d.side(),
                    action: d.action().expect("action"),
                    level: Level::new(d.price, d.size),
                    update_id: d.update_id,
                    flags: d.hd.flags,
                    ts_event: d.hd.ts_event,
                }
            } else if let Some(b) = r.get::<BboMsg>() {
                let side = |price: Price, size: Size| {
                    (price != Price::UNDEF).then(|| Level::new(price, size))
                };
                Out::Bbo {
                    bid: side(b.bid_price, b.bid_size),
                    ask: side(b.ask_price, b.ask_size),
                    derived: b.hd.flags.contains(Flags::DERIVED),
                }
            } else if let Some(s) = r.get::<StatusMsg>() {
                Out::Status {
                    kind: s.kind().expect("kind"),
                    reason: s.reason().expect("reason"),
                    lost: s.lost,
                    detail: s.detail,
                }
            } else {
                panic!("unexpected record {r:?}")
            }
        })
        .collect()
}

fn parse_levels(value: &serde_json::Value) -> Vec<Level> {
    value
        .as_array()
        .expect("levels")
        .iter()
        .map(|pair| {
            level(
                pair[0].as_str().expect("price"),
                pair[1].as_str().expect("size"),
            )
        })
        .collect()
}

/// `testdata/exchanges/samples/binance_spot/book_sync_sequence.jsonl`: three diffs (in
/// arrival order) and the REST snapshot that arrived between the second and the third.
pub fn load_book_sync_sample() -> (Vec<Event>, DepthSnapshot) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/exchanges/samples/binance_spot/book_sync_sequence.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("sample file");
    let mut diffs = Vec::new();
    let mut snap = None;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        if let Some(data) = v.get("data") {
            let mut ev = Event::new(
                data["U"].as_u64().expect("U"),
                data["u"].as_u64().expect("u"),
                None,
            );
            ev.ts_event = data["E"].as_u64().expect("E") * 1_000_000;
            ev.bids = parse_levels(&data["b"]);
            ev.asks = parse_levels(&data["a"]);
            diffs.push(ev);
        } else {
            snap = Some(DepthSnapshot {
                last_update_id: v["lastUpdateId"].as_u64().expect("lastUpdateId"),
                record_id: None,
                ts_event: 0,
                bids: parse_levels(&v["bids"]),
                asks: parse_levels(&v["asks"]),
            });
        }
    }
    assert_eq!(diffs.len(), 3);
    (diffs, snap.expect("snapshot line"))
}
