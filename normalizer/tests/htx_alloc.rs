//! Decoding HTX's gzip frames allocates nothing once the decoder is warm (the
//! inflate buffer, the inflate state and the level buffers are reused). A
//! separate test binary because it installs a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tickd_bus::{RecordBuf, Venue};
use tickd_normalizer::engine::{Frame, FrameDecoder};
use tickd_normalizer::htx::encode::gzip;
use tickd_normalizer::htx::HtxDecoder;
use tickd_normalizer::SymbolMap;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts (per thread).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SPOT: &[&str] = &[
    r#"{"ch":"market.btcusdt.trade.detail","ts":1616243199157,"tick":{"id":123140716701,"ts":1616243199156,"data":[{"id":123140716701236887569077664,"ts":1616243199156,"tradeId":102357140867,"amount":1.98E-4,"price":58911.07,"direction":"sell"}]}}"#,
    r#"{"ch":"market.btcusdt.bbo","ts":1654031600066,"tick":{"seqId":155441231856,"ask":31764.09,"askSize":0.794873,"bid":31764.08,"bidSize":4.378544,"quoteTime":1654031600064,"symbol":"btcusdt"}}"#,
    r#"{"ch":"market.btcusdt.mbp.150","ts":1593561600901,"tick":{"seqNum":109409288204,"prevSeqNum":109409288160,"asks":[[9138.6,0.0],[9138.61,0.0],[9138.67,0.033924],[9144.0,0.05],[9146.84,1.0],[9146.9,0.001598]],"bids":[[9134.5,0.002232],[9134.4,0.164064],[9126.94,0.0]]}}"#,
    r#"{"ping":1492420473027}"#,
];

const SWAP: &[&str] = &[
    r#"{"ch":"market.BTC-USDT.depth.size_20.high_freq","ts":1790134831873,"tick":{"asks":[],"bids":[[86853.4,2],[86848.5,0]],"ch":"market.BTC-USDT.depth.size_20.high_freq","event":"update","id":100129125618998,"mrid":100129125618998,"ts":1790134831871,"version":1789895280798}}"#,
    r#"{"ch":"market.BTC-USDT.trade.detail","ts":1677643151579,"tick":{"id":100000023131161,"ts":1677643151577,"data":[{"amount":308,"quantity":3080.000000000000000000,"ts":1677643151577,"id":1000000231311610000,"price":0.02645,"direction":"buy"}]}}"#,
    r#"{"op":"ping","ts":"1489474081631"}"#,
];

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn warm_decoding_allocates_nothing() {
    for (venue, frames, symbol) in [
        (Venue::Htx, SPOT, "btcusdt"),
        (Venue::HtxUsdm, SWAP, "BTC-USDT"),
    ] {
        let symbols: SymbolMap = [(symbol.to_string(), 1)].into_iter().collect();
        let mut dec = HtxDecoder::new(venue, symbols);
        let frames: Vec<Vec<u8>> = frames.iter().map(|f| gzip(f.as_bytes())).collect();
        let mut sink: Vec<RecordBuf> = Vec::with_capacity(1 << 12);
        for f in &frames {
            dec.decode(Frame::Binary(f), 0, &mut sink).unwrap();
        }
        let before = allocations();
        for _ in 0..100 {
            sink.clear();
            for f in &frames {
                dec.decode(Frame::Binary(f), 0, &mut sink).unwrap();
            }
        }
        assert_eq!(allocations() - before, 0, "{venue}");
    }
}
