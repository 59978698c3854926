//! Shared by the HTX tests: decoders with test symbol maps, samples, helpers.

#![allow(dead_code)]

use tickd_bus::{Price, RecordBuf, Size, Venue};
use tickd_normalizer::engine::{Frame, FrameDecoder, VenueEvent};
use tickd_normalizer::error::DecodeError;
use tickd_normalizer::htx::HtxDecoder;
use tickd_normalizer::{Level, SymbolMap};

pub const TS_RECV: u64 = 1_700_000_000_123_456_789;

/// Every instrument the samples name (ids by venue), except `ETH-USDT` on
/// USDT-M, left out so a sample takes the unknown-symbol path.
pub fn decoder(venue: Venue) -> HtxDecoder {
    let symbols: &[(&str, u32)] = match venue {
        Venue::Htx => &[("btcusdt", 1), ("aidogeusdt", 2)],
        Venue::HtxUsdm => &[("BTC-USDT", 11), ("PEOPLE-USDT", 13), ("O3-USDT", 14)],
        _ => &[("BTC-USD", 21), ("DOT_CW", 22)],
    };
    let map: SymbolMap = symbols.iter().map(|(s, i)| (s.to_string(), *i)).collect();
    HtxDecoder::new(venue, map)
}

pub fn sample(path: &str) -> Vec<String> {
    let full = format!(
        "{}/../testdata/exchanges/samples/htx/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// An owned copy of what one frame decoded to.
#[derive(Debug, Clone, PartialEq)]
pub enum Owned {
    Records(usize),
    Book {
        instrument_id: u32,
        snapshot: bool,
        last: u64,
        prev: Option<u64>,
        ts_event: u64,
        bids: Vec<Level>,
        asks: Vec<Level>,
    },
    Other(String),
}

/// Decode `text` both as the gzip binary frame HTX sends and as text: the two
/// must agree.
pub fn decode(
    dec: &mut HtxDecoder,
    text: &str,
    sink: &mut Vec<RecordBuf>,
) -> Result<Owned, DecodeError> {
    let gz = tickd_normalizer::htx::encode::gzip(text.as_bytes());
    let mut text_sink = Vec::new();
    let as_text = owned(dec.decode(Frame::Text(text.as_bytes()), TS_RECV, &mut text_sink));
    let as_binary = owned(dec.decode(Frame::Binary(&gz), TS_RECV, sink));
    assert_eq!(as_text, as_binary, "{text}");
    assert_eq!(&text_sink, sink, "{text}");
    as_binary
}

pub fn owned(r: Result<VenueEvent<'_>, DecodeError>) -> Result<Owned, DecodeError> {
    r.map(|ev| match ev {
        VenueEvent::Records(n) => Owned::Records(n),
        VenueEvent::Book(b) => Owned::Book {
            instrument_id: b.instrument_id,
            snapshot: b.snapshot,
            last: b.last,
            prev: b.prev,
            ts_event: b.ts_event,
            bids: b.bids.to_vec(),
            asks: b.asks.to_vec(),
        },
        VenueEvent::Ping { reply } => {
            Owned::Other(format!("ping {}", String::from_utf8_lossy(reply)))
        }
        other => Owned::Other(format!("{other:?}")),
    })
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
pub fn ms(t: u64) -> u64 {
    t * 1_000_000
}
