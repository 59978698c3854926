//! Shared by the Binance sample table tests: the symbol map, sample loading, and
//! expected-record builders.

#![allow(dead_code)]

use tickd_bus::record::{BboMsg, LiquidationMsg, MarkFundingMsg, Side, TradeMsg};
use tickd_bus::{Price, Rate, RecordBuf, RecordHeader, Size, Venue};
use tickd_normalizer::binance::{
    BinanceDecoder, BinanceFrame, BinanceMarket, DepthSnapshot, JsonBackend,
};
use tickd_normalizer::error::DecodeError;
use tickd_normalizer::{Level, SymbolMap};

pub const TS_RECV: u64 = 1_700_000_000_123_456_789;
pub const BACKENDS: [JsonBackend; 2] = [JsonBackend::Sonic, JsonBackend::SimdJson];

pub const BNBBTC: u32 = 1;
pub const BTCUSDT: u32 = 2;
pub const GNTBTC: u32 = 3;
pub const ETHUSDT: u32 = 4;
pub const BNBUSDT: u32 = 5;
pub const BALUSDT: u32 = 6;
pub const ETHUSDT_210625: u32 = 7;

pub fn symbols() -> SymbolMap {
    [
        ("BNBBTC", BNBBTC),
        ("BTCUSDT", BTCUSDT),
        ("GNTBTC", GNTBTC),
        ("ETHUSDT", ETHUSDT),
        ("BNBUSDT", BNBUSDT),
        ("BALUSDT", BALUSDT),
        ("ETHUSDT_210625", ETHUSDT_210625),
    ]
    .into_iter()
    .map(|(s, id)| (s.to_string(), id))
    .collect()
}

pub fn sample(path: &str) -> Vec<String> {
    let full = format!(
        "{}/../testdata/exchanges/samples/{path}",
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

/// An owned copy of what one frame decoded to.
#[derive(Debug, PartialEq)]
pub enum Out {
    Records(Vec<RecordBuf>),
    Depth {
        instrument_id: u32,
        ts_event: u64,
        ts_transaction: u64,
        first: u64,
        last: u64,
        prev: Option<u64>,
        bids: Vec<Level>,
        asks: Vec<Level>,
    },
    Partial(u32, DepthSnapshot),
    Subscribed(u64),
    List(u64, Vec<String>),
    ControlError(Option<u64>, i64, String),
    Shutdown(u64),
    UnknownSymbol,
    Err(DecodeError),
}

pub fn decode_line(decoder: &mut BinanceDecoder, line: &str) -> Out {
    let mut sink: Vec<RecordBuf> = Vec::new();
    let out = match decoder.decode(line.as_bytes(), TS_RECV, &mut sink) {
        Ok(BinanceFrame::Records(n)) => {
            assert_eq!(n, sink.len(), "{line}");
            return Out::Records(sink);
        }
        Ok(BinanceFrame::Depth(d)) => Out::Depth {
            instrument_id: d.instrument_id,
            ts_event: d.ts_event,
            ts_transaction: d.ts_transaction,
            first: d.first_update_id,
            last: d.final_update_id,
            prev: d.prev_final_update_id,
            bids: d.bids.to_vec(),
            asks: d.asks.to_vec(),
        },
        Ok(BinanceFrame::PartialDepth {
            instrument_id,
            snapshot,
        }) => Out::Partial(instrument_id, snapshot),
        Ok(BinanceFrame::Subscribed { id }) => Out::Subscribed(id),
        Ok(BinanceFrame::SubscriptionList { id, streams }) => Out::List(id, streams),
        Ok(BinanceFrame::ControlError { id, code, msg }) => Out::ControlError(id, code, msg),
        Ok(BinanceFrame::ServerShutdown { ts_event }) => Out::Shutdown(ts_event),
        Ok(BinanceFrame::UnknownSymbol) => Out::UnknownSymbol,
        Err(err) => Out::Err(err),
    };
    assert!(
        sink.is_empty(),
        "{line} pushed records but returned {out:?}"
    );
    out
}

/// Decode every line of `file` with both parsers and compare with `expected`.
pub fn check_file(market: BinanceMarket, file: &str, expected: &[Out]) {
    let lines = sample(file);
    assert_eq!(
        lines.len(),
        expected.len(),
        "{file}: one expectation per line"
    );
    for backend in BACKENDS {
        let mut decoder = BinanceDecoder::new(market, symbols());
        decoder.set_backend_override(Some(backend));
        for (i, (line, want)) in lines.iter().zip(expected).enumerate() {
            let got = decode_line(&mut decoder, line);
            assert_eq!(&got, want, "{file} line {} with {backend:?}", i + 1);
        }
        let errors = expected.iter().filter(|o| matches!(o, Out::Err(_))).count() as u64;
        assert_eq!(decoder.stats().errors_total(), errors, "{file}");
        assert_eq!(decoder.stats().frames(), lines.len() as u64, "{file}");
    }
}

pub fn trade(
    venue: Venue,
    id: u32,
    ts_ms: u64,
    price: &str,
    size: &str,
    trade_id: u64,
    side: Side,
) -> Out {
    let record = TradeMsg {
        hd: RecordHeader::new::<TradeMsg>(venue, id, ms(ts_ms), TS_RECV),
        price: p(price),
        size: q(size),
        trade_id,
        trade_id_hi: 0,
        side: side as u8,
        _reserved: [0; 7],
    };
    Out::Records(vec![RecordBuf::new(&record)])
}

pub fn bbo(venue: Venue, id: u32, ts_ms: u64, b: &str, bq: &str, a: &str, aq: &str) -> Out {
    let record = BboMsg {
        hd: RecordHeader::new::<BboMsg>(venue, id, ms(ts_ms), TS_RECV),
        bid_price: p(b),
        bid_size: q(bq),
        ask_price: p(a),
        ask_size: q(aq),
    };
    Out::Records(vec![RecordBuf::new(&record)])
}

pub fn mark(
    id: u32,
    ts_ms: u64,
    mark: &str,
    index: Option<&str>,
    rate: &str,
    next_ms: u64,
) -> RecordBuf {
    RecordBuf::new(&MarkFundingMsg {
        hd: RecordHeader::new::<MarkFundingMsg>(Venue::BinanceUsdm, id, ms(ts_ms), TS_RECV),
        mark_price: p(mark),
        index_price: index.map_or(Price::UNDEF, p),
        funding_rate: Rate::parse_str(rate).unwrap(),
        next_funding_time: ms(next_ms),
    })
}

pub fn liquidation(id: u32, ts_ms: u64, price: &str, size: &str, side: Side) -> Out {
    Out::Records(vec![RecordBuf::new(&LiquidationMsg {
        hd: RecordHeader::new::<LiquidationMsg>(Venue::BinanceUsdm, id, ms(ts_ms), TS_RECV),
        price: p(price),
        size: q(size),
        side: side as u8,
        _reserved: [0; 7],
    })])
}

#[allow(clippy::too_many_arguments)]
pub fn depth(
    id: u32,
    e_ms: u64,
    t_ms: u64,
    first: u64,
    last: u64,
    prev: Option<u64>,
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
) -> Out {
    Out::Depth {
        instrument_id: id,
        ts_event: ms(e_ms),
        ts_transaction: ms(t_ms),
        first,
        last,
        prev,
        bids: bids.iter().map(|(a, b)| lv(a, b)).collect(),
        asks: asks.iter().map(|(a, b)| lv(a, b)).collect(),
    }
}

pub fn snapshot(
    last: u64,
    e_ms: u64,
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
) -> DepthSnapshot {
    DepthSnapshot {
        last_update_id: last,
        record_id: None,
        ts_event: ms(e_ms),
        bids: bids.iter().map(|(a, b)| lv(a, b)).collect(),
        asks: asks.iter().map(|(a, b)| lv(a, b)).collect(),
    }
}

pub const NO_STREAM: Out = Out::Err(DecodeError::MissingField { field: "stream" });

pub fn fixture(name: &str) -> Vec<u8> {
    let full = format!(
        "{}/../testdata/exchanges/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}
