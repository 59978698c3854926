//! Binance frame decoding with each JSON parser, per message kind, through the real
//! decoder (routing, decimal parsing and record building included; simd-json's copy
//! of the frame into its reused buffer included). The per-kind choice in
//! `normalizer/src/binance/decode/mod.rs` comes from this bench; numbers and reading
//! in `benches/BENCHMARKS-decode.md`.
//!
//! cargo bench -p tickd-benches --bench decode_binance -- --warm-up-time 1 --measurement-time 2

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tickd_bus::RecordBuf;
use tickd_normalizer::binance::{BinanceDecoder, BinanceMarket, JsonBackend};
use tickd_normalizer::SymbolMap;

/// Real frames from `testdata/exchanges/samples/binance_*` (see PROVENANCE.md).
const SPOT_TRADE: &str = r#"{"stream":"bnbbtc@trade","data":{"e":"trade","E":1567296001038,"s":"BNBBTC","t":60276726,"p":"0.00219650","q":"6.48000000","b":255533165,"a":255532831,"T":1567296001034,"m":true,"M":true}}"#;
const SPOT_AGG_TRADE: &str = r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1616176861895,"s":"BTCUSDT","a":640283266,"p":"58942.01000000","q":"0.00035600","f":716849523,"l":716849523,"T":1616176861893,"m":false,"M":true}}"#;
const SPOT_BOOK_TICKER: &str = r#"{"stream":"btcusdt@bookTicker","data":{"u":1127645101,"s":"BTCUSDT","b":"8010.00000000","B":"0.14245900","a":"8012.15000000","A":"0.03120100"}}"#;
const USDM_BOOK_TICKER: &str = r#"{"stream":"ethusdt@bookTicker","data":{"e":"bookTicker","u":1553413152520,"s":"ETHUSDT","b":"1778.54","B":"15.164","a":"1778.55","A":"7.289","T":1653817855284,"E":1653817855289}}"#;
const USDM_MARK_PRICE: &str = r#"{"stream":"btcusdt@markPrice","data":{"e":"markPriceUpdate","E":1617308820003,"s":"BTCUSDT","p":"58940.14924532","P":"58905.14663658","i":"58857.26693664","r":"0.00058455","T":1617321600000}}"#;
const USDM_FORCE_ORDER: &str = r#"{"stream":"btcusdt@forceOrder","data":{"e":"forceOrder","E":1584059031426,"o":{"s":"BTCUSDT","S":"BUY","o":"LIMIT","f":"IOC","q":"0.014","p":"4793.91","ap":"4706.04","X":"FILLED","l":"0.015","z":"0.014","T":1584059031421}}}"#;

/// A futures depth diff with `levels` levels per side, in the shape of the real
/// `binance_usdm/depth_diff.jsonl` line 1 (the samples are trimmed to 2-3 levels, so
/// larger diffs are synthesized: same keys, realistic price/qty text).
fn usdm_depth(levels: usize) -> String {
    let side = |base: f64, step: f64| {
        (0..levels)
            .map(|i| {
                let cents = (base * 100.0) as u64 + (i as f64 * step * 100.0) as u64;
                format!(
                    r#"["{}.{:02}","{}.{:03}"]"#,
                    cents / 100,
                    cents % 100,
                    i % 7,
                    (i * 137) % 1000
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":1622371244693,"T":1622371244687,"s":"BTCUSDT","U":475776377463,"u":475776380184,"pu":475776377452,"b":[{}],"a":[{}]}}}}"#,
        side(35729.77, -0.13),
        side(35819.20, 0.11)
    )
}

fn symbols() -> SymbolMap {
    ["BNBBTC", "BTCUSDT", "ETHUSDT"]
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), i as u32 + 1))
        .collect()
}

fn bench_decode(c: &mut Criterion) {
    let depth20 = usdm_depth(20);
    let depth100 = usdm_depth(100);
    let cases: Vec<(&str, BinanceMarket, &str)> = vec![
        ("trade", BinanceMarket::Spot, SPOT_TRADE),
        ("aggTrade", BinanceMarket::Spot, SPOT_AGG_TRADE),
        ("bookTicker_spot", BinanceMarket::Spot, SPOT_BOOK_TICKER),
        (
            "bookTicker_usdm",
            BinanceMarket::UsdmFutures,
            USDM_BOOK_TICKER,
        ),
        ("depth_20", BinanceMarket::UsdmFutures, &depth20),
        ("depth_100", BinanceMarket::UsdmFutures, &depth100),
        ("markPrice", BinanceMarket::UsdmFutures, USDM_MARK_PRICE),
        ("forceOrder", BinanceMarket::UsdmFutures, USDM_FORCE_ORDER),
    ];
    let mut group = c.benchmark_group("decode_binance");
    for (kind, market, frame) in cases {
        group.throughput(Throughput::Bytes(frame.len() as u64));
        for (name, backend) in [
            ("sonic", JsonBackend::Sonic),
            ("simd", JsonBackend::SimdJson),
        ] {
            let mut decoder = BinanceDecoder::new(market, symbols());
            decoder.set_backend_override(Some(backend));
            let mut sink: Vec<RecordBuf> = Vec::with_capacity(4);
            // Fail loudly rather than measure an error path.
            decoder
                .decode(frame.as_bytes(), 1, &mut sink)
                .unwrap_or_else(|e| panic!("{kind}: {e}"));
            group.bench_function(BenchmarkId::new(kind, name), |b| {
                b.iter(|| {
                    sink.clear();
                    let decoded =
                        decoder.decode(std::hint::black_box(frame.as_bytes()), 1, &mut sink);
                    std::hint::black_box(decoded.is_ok());
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
