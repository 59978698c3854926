//! Shared by the Kraken tests: the symbol map, sample loading, a book sync per pair.

#![allow(dead_code)]

use tickd_bus::{Price, RecordBuf, Size, Venue};
use tickd_normalizer::engine::{BookSync, Frame, FrameDecoder, VenueEvent};
use tickd_normalizer::kraken::{KrakenDecoder, KrakenRule, Precision};
use tickd_normalizer::{Level, SymbolMap};

pub const BTC: u32 = 1;
pub const MATIC: u32 = 2;
pub const ALGO: u32 = 3;

pub fn symbols() -> SymbolMap {
    [("BTC/USD", BTC), ("MATIC/USD", MATIC), ("ALGO/USD", ALGO)]
        .iter()
        .map(|(s, id)| (s.to_string(), *id))
        .collect()
}

pub fn decoder() -> KrakenDecoder {
    KrakenDecoder::new(symbols(), 10)
}

pub fn sample(name: &str) -> Vec<String> {
    let path = format!(
        "{}/../testdata/exchanges/samples/kraken/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

pub fn p(text: &str) -> Price {
    Price::parse_str(text).unwrap()
}

pub fn q(text: &str) -> Size {
    Size::parse_str(text).unwrap()
}

pub fn lv(price: &str, size: &str) -> Level {
    Level::new(p(price), q(size))
}

/// BTC/USD in `book.jsonl`: price 1 dp, qty 8 dp; MATIC/USD (the doc example): 4 and 8.
pub const BTC_PRECISION: Precision = Precision { price: 1, qty: 8 };
pub const MATIC_PRECISION: Precision = Precision { price: 4, qty: 8 };

pub fn book_sync(id: u32, precision: Precision, depth: u32) -> BookSync<KrakenRule> {
    BookSync::new(
        Venue::Kraken,
        id,
        KrakenRule {
            precision: Some(precision),
            depth,
        },
        64,
    )
}

/// An owned decode result.
#[derive(Debug)]
pub struct Out {
    pub event: String,
    pub records: Vec<RecordBuf>,
}

/// Decode `line`; the event's debug text (book levels included) and the records.
pub fn decode_line(decoder: &mut KrakenDecoder, line: &str) -> Out {
    let mut records = Vec::new();
    let event = match decoder.decode(Frame::Text(line.as_bytes()), 7, &mut records) {
        Ok(event) => format!("{event:?}"),
        Err(err) => format!("Err({err})"),
    };
    Out { event, records }
}

/// Feed every line to `sync` through `decoder`; returns the records published.
pub fn sync_lines(
    decoder: &mut KrakenDecoder,
    sync: &mut BookSync<KrakenRule>,
    lines: &[String],
) -> Vec<RecordBuf> {
    let mut out = Vec::new();
    for line in lines {
        let mut sink = Vec::new();
        if let Ok(VenueEvent::Book(ev)) = decoder.decode(Frame::Text(line.as_bytes()), 7, &mut sink)
        {
            let _ = sync.on_event(&ev, 7, &mut out);
        }
    }
    out
}
