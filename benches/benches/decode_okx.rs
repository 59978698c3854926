//! OKX frame decoding through the real decoder (envelope, `data`, decimal parsing,
//! records or book levels), per message kind, and the book checksum over a 400-level
//! book. Frames: a real `trades` and `bbo-tbt` line from `testdata/exchanges/samples/okx`,
//! a `books` snapshot with 400 levels a side and a typical 100 ms `books` update
//! (6 levels) written by the simulator's encoder in OKX's exact shape.
//!
//! cargo bench -p tickd-benches --bench decode_okx -- --warm-up-time 1 --measurement-time 3

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tickd_bus::RecordBuf;
use tickd_bus::{Price, Size};
use tickd_normalizer::book::L2Book;
use tickd_normalizer::okx::checksum;
use tickd_normalizer::okx::encode::{encode_book, Book};
use tickd_normalizer::okx::{BookChannel, OkxDecoder, OkxFrame};
use tickd_normalizer::{Level, SymbolMap};

const TRADE: &str = r#"{"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP","tradeId":"219066264","px":"43568.8","sz":"7","side":"buy","ts":"1646312440645"}]}"#;
const BBO: &str = r#"{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT-SWAP"},"data":[{"asks":[["20386.8","7","0","2"]],"bids":[["20386.7","50","0","5"]],"ts":"1656642503092"}]}"#;

/// `n` levels a side around 43 568, prices 0.1 apart, varied sizes.
fn ladder(n: usize, asks: bool) -> Vec<Level> {
    (0..n as i64)
        .map(|i| {
            let ticks = if asks { 435_690 + i } else { 435_688 - i };
            Level::new(
                Price::from_raw(ticks * 100_000_000),
                Size::from_raw(((i * 7919) % 5000 + 1) * 1_000_000),
            )
        })
        .collect()
}

fn book_frame(snapshot: bool, bids: &[Level], asks: &[Level], checksum: i32) -> String {
    let mut out = Vec::new();
    encode_book(
        &mut out,
        &Book {
            channel: BookChannel::Books,
            inst_id: "BTC-USDT-SWAP",
            snapshot,
            bids,
            asks,
            ts_ms: 1_790_133_750_704,
            checksum,
            seq_id: 4_588_911,
            prev_seq_id: if snapshot { -1 } else { 4_588_907 },
        },
    );
    String::from_utf8(out).expect("the encoder writes UTF-8")
}

fn bench_decode(c: &mut Criterion) {
    let (bids, asks) = (ladder(400, false), ladder(400, true));
    let mut book = L2Book::new();
    book.replace(bids.clone(), asks.clone());
    let snapshot = book_frame(true, &bids, &asks, checksum::of_book(&book));
    let update = book_frame(false, &bids[1..4], &asks[..3], -1_242_588_839);
    let symbols: SymbolMap = [("BTC-USDT-SWAP".to_string(), 1)].into_iter().collect();
    let mut group = c.benchmark_group("decode_okx");
    for (kind, frame) in [
        ("trades", TRADE),
        ("bbo_tbt", BBO),
        ("books_update_6", update.as_str()),
        ("books_snapshot_400", snapshot.as_str()),
    ] {
        group.throughput(Throughput::Bytes(frame.len() as u64));
        let mut decoder = OkxDecoder::new(symbols.clone());
        let mut sink: Vec<RecordBuf> = Vec::with_capacity(4);
        // Fail loudly rather than measure an error path.
        match decoder.decode(frame.as_bytes(), 1, &mut sink) {
            Ok(OkxFrame::Records(1) | OkxFrame::Book(_)) => {}
            other => panic!("{kind}: {other:?}"),
        }
        group.bench_function(kind, |b| {
            b.iter(|| {
                sink.clear();
                let decoded = decoder.decode(std::hint::black_box(frame.as_bytes()), 1, &mut sink);
                std::hint::black_box(decoded.is_ok());
            })
        });
    }
    group.throughput(Throughput::Elements(1));
    group.bench_function("checksum_top25", |b| {
        b.iter(|| std::hint::black_box(checksum::of_book(std::hint::black_box(&book))))
    });
    group.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
