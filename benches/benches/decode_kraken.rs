//! Kraken v2 frame decoding through the real decoder (envelope, `data`, number
//! tokens read exactly), per message kind, and the book checksum's cost per
//! message: the CRC32 of the top 10 levels a side alone, and a real update decoded,
//! applied and verified through the book sync. Frames: real `trade`, `ticker` and
//! `book` lines from `testdata/exchanges/samples/kraken` (BTC/USD depth 10), and a
//! 1000-level snapshot written by the simulator's encoder.
//!
//! cargo bench -p tickd-benches --bench decode_kraken -- --warm-up-time 1 --measurement-time 3

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tickd_bus::{Price, RecordBuf, Size, Venue};
use tickd_normalizer::book::L2Book;
use tickd_normalizer::engine::{BookSync, Frame, FrameDecoder, VenueEvent};
use tickd_normalizer::kraken::{checksum, encode, KrakenDecoder, KrakenRule, Precision};
use tickd_normalizer::{Level, SymbolMap};

const TRADE: &str = r#"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":29430.2,"qty":0.00011621,"ord_type":"limit","trade_id":4665846,"timestamp":"2023-09-25T07:48:36.925533Z"}]}"#;
const TICKER: &str = r#"{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":29430.2,"bid_qty":0.18967538,"ask":29430.3,"ask_qty":8.25215653,"last":29430.3,"volume":997.98383185,"vwap":29401.5,"low":29001.1,"high":29550.0,"change":12.2,"change_pct":0.04,"timestamp":"2023-09-25T09:04:31.742648Z"}]}"#;
const PRECISION: Precision = Precision { price: 1, qty: 8 };

fn sample() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/exchanges/samples/kraken/book.jsonl"
    );
    std::fs::read_to_string(path)
        .expect("book.jsonl")
        .lines()
        .map(str::to_string)
        .collect()
}

fn ladder(n: usize, asks: bool) -> Vec<Level> {
    (0..n as i64)
        .map(|i| {
            let tenths = if asks { 294_303 + i } else { 294_302 - i };
            Level::new(
                Price::from_raw(i128::from(tenths) * (Price::ONE_RAW / 10)),
                Size::from_raw(
                    i128::from((i * 7919) % 5_000_000 + 1) * (Size::ONE_RAW / 100_000_000),
                ),
            )
        })
        .collect()
}

fn symbols() -> SymbolMap {
    [("BTC/USD".to_string(), 1)].into_iter().collect()
}

fn bench_decode(c: &mut Criterion) {
    let lines = sample();
    let (bids, asks) = (ladder(1000, false), ladder(1000, true));
    let mut book = L2Book::new();
    book.replace(bids.clone(), asks.clone());
    let snapshot = encode::book(
        "BTC/USD",
        true,
        &bids,
        &asks,
        checksum::of_book(&book, PRECISION),
        1,
    );
    let mut group = c.benchmark_group("decode_kraken");
    for (kind, frame) in [
        ("trade", TRADE),
        ("ticker_bbo", TICKER),
        ("book_update", lines[2].as_str()),
        ("book_snapshot_10", lines[0].as_str()),
        ("book_snapshot_1000", snapshot.as_str()),
    ] {
        group.throughput(Throughput::Bytes(frame.len() as u64));
        let mut decoder = KrakenDecoder::new(symbols(), 1000);
        let mut sink: Vec<RecordBuf> = Vec::with_capacity(4);
        match decoder.decode(Frame::Text(frame.as_bytes()), 1, &mut sink) {
            Ok(VenueEvent::Records(1) | VenueEvent::Book(_)) => {}
            other => panic!("{kind}: {other:?}"),
        }
        group.bench_function(kind, |b| {
            b.iter(|| {
                sink.clear();
                let decoded = decoder.decode(
                    Frame::Text(std::hint::black_box(frame.as_bytes())),
                    1,
                    &mut sink,
                );
                std::hint::black_box(decoded.is_ok());
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("kraken_checksum");
    let mut top = L2Book::new();
    top.replace(bids[..10].to_vec(), asks[..10].to_vec());
    group.bench_function("crc32_top10", |b| {
        b.iter(|| std::hint::black_box(checksum::of_book(std::hint::black_box(&top), PRECISION)))
    });
    // The whole per-message cost on the real capture: decode, apply, truncate to
    // depth 10, verify the checksum, publish. One iteration = the 510 lines.
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("capture_510_decode_apply_verify", |b| {
        let mut out: Vec<RecordBuf> = Vec::with_capacity(64);
        b.iter(|| {
            let mut decoder = KrakenDecoder::new(symbols(), 10);
            let rule = KrakenRule {
                precision: Some(PRECISION),
                depth: 10,
            };
            let mut sync = BookSync::new(Venue::Kraken, 1, rule, 64);
            let mut sink = Vec::new();
            for line in &lines {
                out.clear();
                if let Ok(VenueEvent::Book(ev)) =
                    decoder.decode(Frame::Text(line.as_bytes()), 1, &mut sink)
                {
                    let _ = sync.on_event(&ev, 1, &mut out);
                }
            }
            assert_eq!(sync.stats().checksum_failures, 0);
        })
    });
    group.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
