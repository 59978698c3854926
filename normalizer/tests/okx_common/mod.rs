//! Shared by the OKX tests: the symbol map, sample loading, owned decode results
//! and expected-record builders.

#![allow(dead_code)]

use tickd_bus::record::{BboMsg, MarkFundingMsg, Side, TradeMsg};
use tickd_bus::{Price, Rate, RecordBuf, RecordHeader, Size, Venue};
use tickd_normalizer::okx::{BookChannel, OkxDecoder, OkxFrame};
use tickd_normalizer::{Level, SymbolMap};

pub const TS_RECV: u64 = 1_700_000_000_123_456_789;

/// Every instrument named in `samples/okx/` except `SOS-USDT-SWAP` (left out so a
/// sample exercises the unknown-symbol path). Ids are positions from 1.
pub const INSTRUMENTS: [&str; 15] = [
    "BTC-USDT",
    "BTC-USD-220624",
    "BTC-USDT-220624",
    "BTC-USD-SWAP",
    "BTC-USDT-SWAP",
    "BTC-USD-220624-50000-C",
    "BTC-JPY",
    "TRX-USD-220812",
    "BTC-USD-220304-32000-P",
    "XRP-JPY",
    "BTC-USD",
    "WNCG-USDT-SWAP",
    "MINA-USDT-SWAP",
    "BTC-USDT-220325",
    "BTC-USD-220325",
];

/// The id the test map gives `inst_id`.
pub fn id(inst_id: &str) -> u32 {
    INSTRUMENTS
        .iter()
        .position(|i| *i == inst_id)
        .map(|p| p as u32 + 1)
        .unwrap_or_else(|| panic!("{inst_id} not in the test map"))
}

pub fn symbols() -> SymbolMap {
    INSTRUMENTS.iter().map(|s| (s.to_string(), id(s))).collect()
}

pub fn decoder() -> OkxDecoder {
    OkxDecoder::new(symbols())
}

pub fn sample(path: &str) -> Vec<String> {
    let full = format!(
        "{}/../testdata/exchanges/samples/okx/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

pub fn fixture(name: &str) -> Vec<u8> {
    let full = format!(
        "{}/../testdata/exchanges/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
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

/// An owned book message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    pub instrument_id: u32,
    pub channel: BookChannel,
    pub snapshot: bool,
    pub seq_id: Option<u64>,
    pub prev_seq_id: Option<u64>,
    pub checksum: Option<i32>,
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

pub fn decode_line(decoder: &mut OkxDecoder, line: &str) -> Out {
    let mut sink: Vec<RecordBuf> = Vec::new();
    let frame = decoder
        .decode(line.as_bytes(), TS_RECV, &mut sink)
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    match frame {
        OkxFrame::Records(n) => {
            assert_eq!(n, sink.len(), "{line}");
            Out::Records(sink)
        }
        OkxFrame::Book(b) => {
            assert!(sink.is_empty());
            Out::Book(Book {
                instrument_id: b.instrument_id,
                channel: b.channel,
                snapshot: b.snapshot,
                seq_id: b.seq_id,
                prev_seq_id: b.prev_seq_id,
                checksum: b.checksum,
                ts_event: b.ts_event,
                bids: b.bids.to_vec(),
                asks: b.asks.to_vec(),
            })
        }
        other => {
            assert!(sink.is_empty());
            Out::Other(format!("{other:?}"))
        }
    }
}

/// Decode every line of a sample file.
pub fn decode_file(path: &str) -> Vec<Out> {
    let mut decoder = decoder();
    sample(path)
        .iter()
        .map(|line| decode_line(&mut decoder, line))
        .collect()
}

fn header<R: tickd_bus::Record>(inst_id: &str, ts_ms: u64) -> RecordHeader {
    RecordHeader::new::<R>(Venue::Okx, id(inst_id), ms(ts_ms), TS_RECV)
}

pub fn trade(
    inst_id: &str,
    ts_ms: u64,
    px: &str,
    sz: &str,
    trade_id: u64,
    side: Side,
) -> RecordBuf {
    RecordBuf::new(&TradeMsg {
        hd: header::<TradeMsg>(inst_id, ts_ms),
        price: p(px),
        size: q(sz),
        trade_id,
        trade_id_hi: 0,
        side: side as u8,
        _reserved: [0; 7],
    })
}

/// `None` sides are empty (`UNDEF` price, size 0).
pub fn bbo(
    inst_id: &str,
    ts_ms: u64,
    bid: Option<(&str, &str)>,
    ask: Option<(&str, &str)>,
) -> RecordBuf {
    let side =
        |s: Option<(&str, &str)>| s.map_or((Price::UNDEF, Size::ZERO), |(a, b)| (p(a), q(b)));
    let ((bid_price, bid_size), (ask_price, ask_size)) = (side(bid), side(ask));
    RecordBuf::new(&BboMsg {
        hd: header::<BboMsg>(inst_id, ts_ms),
        bid_price,
        bid_size,
        ask_price,
        ask_size,
    })
}

pub fn mark_funding(
    inst_id: &str,
    ts_ms: u64,
    mark: Option<&str>,
    index: Option<&str>,
    rate: Option<&str>,
    next_ms: u64,
) -> RecordBuf {
    RecordBuf::new(&MarkFundingMsg {
        hd: header::<MarkFundingMsg>(inst_id, ts_ms),
        mark_price: mark.map_or(Price::UNDEF, p),
        index_price: index.map_or(Price::UNDEF, p),
        funding_rate: rate.map_or(Rate::UNDEF, |r| Rate::parse_str(r).unwrap()),
        next_funding_time: ms(next_ms),
    })
}

pub fn records(out: &Out) -> &[RecordBuf] {
    match out {
        Out::Records(r) => r,
        other => panic!("expected records, got {other:?}"),
    }
}

pub fn book(out: &Out) -> &Book {
    match out {
        Out::Book(b) => b,
        other => panic!("expected a book, got {other:?}"),
    }
}
