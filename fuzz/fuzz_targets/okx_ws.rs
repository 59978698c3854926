//! Any bytes as an OKX WebSocket text frame (and as REST instruments and books
//! bodies). Decoding must not panic, `Records(n)` must match what reached the sink,
//! and a book message's levels cannot outnumber the frame's bytes. Each frame is
//! decoded twice by the same decoder to exercise its reused level buffers.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tickd_bus::RecordBuf;
use tickd_normalizer::okx::instruments::{decode_instruments, decode_rest_books};
use tickd_normalizer::okx::{OkxDecoder, OkxFrame};
use tickd_normalizer::SymbolMap;

fn symbols() -> SymbolMap {
    ["BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-SWAP", "BTC-USDT-261225", "MINA-USDT-SWAP"]
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), i as u32 + 1))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let mut decoder = OkxDecoder::new(symbols());
    let mut sink: Vec<RecordBuf> = Vec::new();
    for _ in 0..2 {
        sink.clear();
        match decoder.decode(data, 1, &mut sink) {
            Ok(OkxFrame::Records(n)) => assert_eq!(n, sink.len()),
            Ok(OkxFrame::Book(book)) => {
                assert!(sink.is_empty());
                assert!(book.bids.len() + book.asks.len() <= data.len());
            }
            Ok(_) => assert!(sink.is_empty()),
            Err(_) => {}
        }
    }
    let _ = decode_instruments(data);
    let _ = decode_rest_books(data);
});
