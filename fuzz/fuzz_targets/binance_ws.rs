//! Any bytes as a Binance WebSocket frame. The first byte picks the market, the JSON
//! parser and the time unit; the rest is the frame. Decoding must not panic, every
//! frame must be counted once, and `Records(n)` must match what reached the sink.
//! Each frame is decoded twice by the same decoder to exercise its reused buffers.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tickd_bus::RecordBuf;
use tickd_normalizer::binance::{
    BinanceDecoder, BinanceFrame, BinanceMarket, JsonBackend, TimeUnit,
};
use tickd_normalizer::SymbolMap;

fn symbols() -> SymbolMap {
    [
        "BNBBTC",
        "BTCUSDT",
        "GNTBTC",
        "ETHUSDT",
        "BNBUSDT",
        "BALUSDT",
        "ETHUSDT_210625",
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| (s.to_string(), i as u32 + 1))
    .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let market = if selector & 1 == 0 {
        BinanceMarket::Spot
    } else {
        BinanceMarket::UsdmFutures
    };
    let backend = if selector & 2 == 0 {
        JsonBackend::Sonic
    } else {
        JsonBackend::SimdJson
    };
    let mut decoder = BinanceDecoder::new(market, symbols());
    if selector & 4 != 0 {
        decoder.set_time_unit(TimeUnit::Micros);
    }
    if selector & 8 == 0 {
        decoder.set_backend_override(Some(backend));
    }
    let mut sink: Vec<RecordBuf> = Vec::new();
    for round in 1..=2u64 {
        sink.clear();
        match decoder.decode(frame, 1, &mut sink) {
            Ok(BinanceFrame::Records(n)) => assert_eq!(n, sink.len()),
            Ok(BinanceFrame::Depth(diff)) => {
                assert!(sink.is_empty());
                assert!(diff.bids.len() + diff.asks.len() <= frame.len());
            }
            Ok(_) | Err(_) => assert!(sink.is_empty()),
        }
        assert_eq!(decoder.stats().frames(), round);
    }
});
