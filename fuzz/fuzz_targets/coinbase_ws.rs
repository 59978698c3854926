//! Any bytes as a Coinbase Advanced Trade WebSocket text frame (and as a REST
//! products body). Decoding must not panic, `Records(n)` must match what reached
//! the sink, a book message's levels cannot outnumber the frame's bytes, and a
//! decoded book fed to the book sync must not panic either. Each frame is decoded
//! twice by the same decoder to exercise its reused buffers and candle state.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tickd_bus::{RecordBuf, Venue};
use tickd_normalizer::coinbase::{decode_products, CoinbaseDecoder, CoinbaseRule, TradeSide};
use tickd_normalizer::engine::{BookSync, Frame, FrameDecoder, VenueEvent};
use tickd_normalizer::SymbolMap;

fn symbols() -> SymbolMap {
    ["BTC-USD", "ETH-USD", "ETH-USDC", "BTC-PERP-INTX"]
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), i as u32 + 1))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let mut decoder = CoinbaseDecoder::new(symbols(), TradeSide::Taker);
    let mut sync = BookSync::new(Venue::Coinbase, 1, CoinbaseRule, 16);
    let mut sink: Vec<RecordBuf> = Vec::new();
    for _ in 0..2 {
        sink.clear();
        match decoder.decode(Frame::Text(data), 1, &mut sink) {
            Ok(VenueEvent::Records(n)) => assert_eq!(n, sink.len()),
            Ok(VenueEvent::Book(book)) => {
                assert!(sink.is_empty());
                assert!(book.bids.len() + book.asks.len() <= data.len());
                let _ = sync.on_event(&book, 1, &mut sink);
            }
            Ok(_) => assert!(sink.is_empty()),
            Err(_) => {}
        }
    }
    let _ = decode_products(data);
});
