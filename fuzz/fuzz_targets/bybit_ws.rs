//! Any bytes as a Bybit WebSocket text frame on each category's connection (and as
//! REST instruments-info and orderbook bodies). Decoding must not panic,
//! `Records(n)` must match what reached the sink, and a book event's levels cannot
//! outnumber the frame's bytes. Each frame is decoded twice per category by the same
//! decoder to exercise its reused level buffers and its ticker and top-of-book state.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tickd_bus::RecordBuf;
use tickd_normalizer::bybit::{decode_instruments, decode_rest_book, next_page_cursor, BybitDecoder, Category};
use tickd_normalizer::engine::{Frame, FrameDecoder, VenueEvent};
use tickd_normalizer::SymbolMap;

fn symbols() -> SymbolMap {
    ["spot/BTCUSDT", "linear/BTCUSDT", "linear/BTCPERP", "linear/BTC-26DEC25", "inverse/BTCUSD"]
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), i as u32 + 1))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let mut decoder = BybitDecoder::new(symbols());
    let mut sink: Vec<RecordBuf> = Vec::new();
    for category in Category::ALL {
        decoder.set_market(category.market());
        for _ in 0..2 {
            sink.clear();
            match decoder.decode(Frame::Text(data), 1, &mut sink) {
                Ok(VenueEvent::Records(n)) => assert_eq!(n, sink.len()),
                Ok(VenueEvent::Book(book)) => {
                    assert!(sink.is_empty());
                    assert!(book.bids.len() + book.asks.len() <= data.len());
                }
                Ok(_) => assert!(sink.is_empty()),
                Err(_) => {}
            }
        }
    }
    let _ = decode_instruments(data);
    let _ = next_page_cursor(data);
    let _ = decode_rest_book(data);
});
