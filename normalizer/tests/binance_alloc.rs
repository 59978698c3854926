//! Decoding the hot message kinds allocates nothing once the decoder is warm.
//! A separate test binary because it installs a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tickd_bus::RecordBuf;
use tickd_normalizer::binance::{BinanceDecoder, BinanceFrame, BinanceMarket, JsonBackend};
use tickd_normalizer::SymbolMap;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts (per thread, so other test
// threads cannot disturb the count).
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

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

const SPOT: &[&str] = &[
    r#"{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}"#,
    r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1616176861895,"s":"BTCUSDT","a":640283266,"p":"58942.01000000","q":"0.00035600","f":716849523,"l":716849523,"T":1616176861893,"m":false,"M":true}}"#,
    r#"{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#,
    r#"{"stream":"btcusdt@bookTicker","data":{"u":1127645101,"s":"BTCUSDT","b":"8010.00000000","B":"0.14245900","a":"8012.15000000","A":"0.03120100"}}"#,
    r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1622363903670,"s":"BTCUSDT","U":11294093710,"u":11294093726,"b":[["35743.98000000","0.00000000"],["35743.87000000","0.00001500"]],"a":[["35743.88000000","0.24000000"],["35743.97000000","0.00000000"]]}}"#,
];

const USDM: &[&str] = &[
    r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1596240000596,"T":1596240000519,"s":"BTCUSDT","t":173525189,"p":"11343.67","q":"0.467","X":"MARKET","m":true}}"#,
    r#"{"stream":"ethusdt@bookTicker","data":{"e":"bookTicker","u":1553413152520,"s":"ETHUSDT","b":"1778.54","B":"15.164","a":"1778.55","A":"7.289","T":1653817855284,"E":1653817855289}}"#,
    r#"{"e":"depthUpdate","E":1622371244693,"T":1622371244687,"s":"BTCUSDT","U":475776377463,"u":475776380184,"pu":475776377452,"b":[["35729.77","1.600"],["35750.00","5.106"]],"a":[["35819.20","0.211"],["35820.31","0.001"]]}"#,
    r#"{"stream":"btcusdt@markPrice","data":{"e":"markPriceUpdate","E":1617308820003,"s":"BTCUSDT","p":"58940.14924532","P":"58905.14663658","i":"58857.26693664","r":"0.00058455","T":1617321600000}}"#,
];

fn symbols() -> SymbolMap {
    ["BNBBTC", "BTCUSDT", "BNBUSDT", "ETHUSDT"]
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), i as u32 + 1))
        .collect()
}

fn check(market: BinanceMarket, frames: &[&str], backend: JsonBackend) {
    let mut decoder = BinanceDecoder::new(market, symbols());
    decoder.set_backend_override(Some(backend));
    let mut sink: Vec<RecordBuf> = Vec::with_capacity(16);
    for _ in 0..3 {
        for frame in frames {
            sink.clear();
            decoder.decode(frame.as_bytes(), 1, &mut sink).unwrap();
        }
    }
    for frame in frames {
        let before = allocations();
        for _ in 0..100 {
            sink.clear();
            let decoded = decoder.decode(frame.as_bytes(), 1, &mut sink).unwrap();
            assert!(
                matches!(decoded, BinanceFrame::Records(1) | BinanceFrame::Depth(_)),
                "{frame}: {decoded:?}"
            );
        }
        let after = allocations();
        assert_eq!(after - before, 0, "{backend:?} allocated decoding {frame}");
    }
    assert_eq!(decoder.stats().errors_total(), 0);
}

#[test]
fn hot_kinds_do_not_allocate_after_warm_up() {
    // The counter itself must see allocations, or the assertions above prove nothing.
    let before = allocations();
    let boxed = std::hint::black_box(Box::new(7u64));
    assert!(
        allocations() > before,
        "counting allocator is not installed"
    );
    drop(boxed);
    for backend in [JsonBackend::Sonic, JsonBackend::SimdJson] {
        check(BinanceMarket::Spot, SPOT, backend);
        check(BinanceMarket::UsdmFutures, USDM, backend);
    }
}
