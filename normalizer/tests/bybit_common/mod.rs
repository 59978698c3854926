//! Shared by the Bybit tests: the symbol map, sample loading, owned decode results
//! and expected-record builders.

#![allow(dead_code)]

pub mod reference;

use tickd_bus::record::{LiquidationMsg, MarkFundingMsg, OpenInterestMsg, Side, TradeMsg};
use tickd_bus::{Price, Rate, RecordBuf, RecordHeader, Size, Venue};
use tickd_normalizer::bybit::{BybitDecoder, Category};
use tickd_normalizer::engine::{BookEvent, Frame, FrameDecoder, VenueEvent};
use tickd_normalizer::{Level, SymbolMap};

pub const TS_RECV: u64 = 1_700_000_000_123_456_789;

/// Every symbol named in `samples/bybit/`, with its category. Ids are positions from 1.
pub const INSTRUMENTS: [(Category, &str); 12] = [
    (Category::Linear, "BTCUSDT"),
    (Category::Linear, "LTCUSDT"),
    (Category::Linear, "BTCPERP"),
    (Category::Linear, "XRPUSDT"),
    (Category::Linear, "PIPPINUSDT"),
    (Category::Linear, "GALAUSDT"),
    (Category::Linear, "ROSEUSDT"),
    (Category::Inverse, "BTCUSD"),
    (Category::Inverse, "BTCUSDU23"),
    (Category::Inverse, "XRPUSD"),
    (Category::Spot, "BTCUSDT"),
    (Category::Spot, "ETHUSDT"),
];

/// The id the test map gives `symbol` in `category`.
pub fn id_in(category: Category, symbol: &str) -> u32 {
    INSTRUMENTS
        .iter()
        .position(|(c, s)| *c == category && *s == symbol)
        .map(|p| p as u32 + 1)
        .unwrap_or_else(|| panic!("{category:?} {symbol} not in the test map"))
}

/// The id of a derivative symbol (inverse if it is one, else linear).
pub fn id(symbol: &str) -> u32 {
    id_in(category_of(symbol), symbol)
}

/// The category a sample's derivative symbol belongs to.
pub fn category_of(symbol: &str) -> Category {
    if INSTRUMENTS.contains(&(Category::Inverse, symbol)) {
        Category::Inverse
    } else {
        Category::Linear
    }
}

pub fn symbols() -> SymbolMap {
    INSTRUMENTS
        .iter()
        .map(|(c, s)| (c.raw_symbol(s), id_in(*c, s)))
        .collect()
}

pub fn decoder() -> BybitDecoder {
    BybitDecoder::new(symbols())
}

pub fn sample(path: &str) -> Vec<String> {
    let full = format!(
        "{}/../testdata/exchanges/samples/bybit/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    text.lines()
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
pub fn ms(t: u64) -> u64 {
    t * 1_000_000
}
pub fn lv(price: &str, size: &str) -> Level {
    Level::new(p(price), q(size))
}

/// An owned book event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    pub instrument_id: u32,
    pub snapshot: bool,
    pub u: u64,
    /// `seq`, the id the records carry.
    pub seq: Option<u64>,
    pub ts_event: u64,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

/// An owned copy of what one frame decoded to.
#[derive(Debug, PartialEq)]
pub enum Out {
    Records(Vec<RecordBuf>),
    Book(Book),
    Other(String),
}

pub fn owned_book(b: &BookEvent<'_>) -> Book {
    assert_eq!((b.first, b.prev, b.checksum), (b.last, None, None));
    Book {
        instrument_id: b.instrument_id,
        snapshot: b.snapshot,
        u: b.last,
        seq: b.record_id,
        ts_event: b.ts_event,
        bids: b.bids.to_vec(),
        asks: b.asks.to_vec(),
    }
}

/// The topic's symbol of a data line (`None` for control frames).
pub fn topic_symbol(line: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let topic = v.get("topic")?.as_str()?;
    Some(topic.rsplit('.').next()?.to_string())
}

/// Decode one line on a connection of the symbol's category (linear for control).
pub fn decode_line(decoder: &mut BybitDecoder, line: &str) -> Out {
    let category = topic_symbol(line).map_or(Category::Linear, |s| category_of(&s));
    decode_in(decoder, category, line)
}

pub fn decode_in(decoder: &mut BybitDecoder, category: Category, line: &str) -> Out {
    decoder.set_market(category.market());
    let mut sink: Vec<RecordBuf> = Vec::new();
    let event = decoder
        .decode(Frame::Text(line.as_bytes()), TS_RECV, &mut sink)
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    match event {
        VenueEvent::Records(n) => {
            assert_eq!(n, sink.len(), "{line}");
            Out::Records(sink)
        }
        VenueEvent::Book(b) => {
            assert!(sink.is_empty());
            Out::Book(owned_book(&b))
        }
        other => {
            assert!(sink.is_empty());
            Out::Other(format!("{other:?}"))
        }
    }
}

/// Decode every line of a sample file with one decoder.
pub fn decode_file(path: &str) -> Vec<Out> {
    let mut decoder = decoder();
    sample(path)
        .iter()
        .map(|line| decode_line(&mut decoder, line))
        .collect()
}

pub fn records(out: &Out) -> &[RecordBuf] {
    match out {
        Out::Records(r) => r,
        other => panic!("not records: {other:?}"),
    }
}

pub fn header<R: tickd_bus::Record>(instrument_id: u32, ts_ms: u64) -> RecordHeader {
    RecordHeader::new::<R>(Venue::Bybit, instrument_id, ms(ts_ms), TS_RECV)
}

/// A trade with a UUID id, split independently of the decoder.
pub fn trade(symbol: &str, ts_ms: u64, px: &str, sz: &str, uuid: &str, side: Side) -> RecordBuf {
    let v = u128::from_str_radix(&uuid.replace('-', ""), 16).unwrap();
    RecordBuf::new(&TradeMsg {
        hd: header::<TradeMsg>(id(symbol), ts_ms),
        price: p(px),
        size: q(sz),
        trade_id: v as u64,
        trade_id_hi: (v >> 64) as u64,
        side: side as u8,
        _reserved: [0; 7],
    })
}

pub fn mark_funding(
    symbol: &str,
    ts_ms: u64,
    mark: &str,
    index: &str,
    rate: Option<&str>,
    next_ms: u64,
) -> RecordBuf {
    RecordBuf::new(&MarkFundingMsg {
        hd: header::<MarkFundingMsg>(id(symbol), ts_ms),
        mark_price: p(mark),
        index_price: p(index),
        funding_rate: rate.map_or(Rate::UNDEF, |r| Rate::parse_str(r).unwrap()),
        next_funding_time: ms(next_ms),
    })
}

pub fn open_interest(symbol: &str, ts_ms: u64, oi: &str, value: Option<&str>) -> RecordBuf {
    RecordBuf::new(&OpenInterestMsg {
        hd: header::<OpenInterestMsg>(id(symbol), ts_ms),
        open_interest: q(oi),
        open_interest_value: value.map_or(Size::UNDEF, q),
    })
}

/// `side` is the liquidation *order's* side.
pub fn liquidation(symbol: &str, ts_ms: u64, px: &str, sz: &str, side: Side) -> RecordBuf {
    RecordBuf::new(&LiquidationMsg {
        hd: header::<LiquidationMsg>(id(symbol), ts_ms),
        price: p(px),
        size: q(sz),
        side: side as u8,
        _reserved: [0; 7],
    })
}
