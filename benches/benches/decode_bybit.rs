//! Bybit frame decoding through the real decoder (envelope, `data`, decimal parsing,
//! records or book levels), per message kind. Frames: real sample lines from
//! `testdata/exchanges/samples/bybit` (a 3-trade `publicTrade`, an `orderbook.1`
//! snapshot as BBO, a `tickers` delta merged into its snapshot's state, and the
//! real `orderbook.500.XRPUSDT` snapshot of 500 levels a side and one of its deltas).
//!
//! cargo bench -p tickd-benches --bench decode_bybit -- --warm-up-time 1 --measurement-time 3

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tickd_bus::RecordBuf;
use tickd_normalizer::bybit::{BybitDecoder, Category};
use tickd_normalizer::engine::{Frame, FrameDecoder, VenueEvent};
use tickd_normalizer::SymbolMap;

const TRADES: &str = include_str!("../../testdata/exchanges/samples/bybit/trades.jsonl");
const BOOK_SMALL: &str =
    include_str!("../../testdata/exchanges/samples/bybit/book_small_samples.jsonl");
const TICKERS: &str = include_str!("../../testdata/exchanges/samples/bybit/tickers.jsonl");
const BOOK: &str = include_str!("../../testdata/exchanges/samples/bybit/book.jsonl");

fn line(text: &str, n: usize) -> &str {
    text.lines().nth(n).expect("sample line")
}

fn bench_decode(c: &mut Criterion) {
    let symbols: SymbolMap = [
        ("inverse/BTCUSD".to_string(), 1),
        ("linear/BTCUSDT".to_string(), 2),
        ("linear/XRPUSDT".to_string(), 3),
    ]
    .into_iter()
    .collect();
    let mut group = c.benchmark_group("decode_bybit");
    let cases = [
        ("public_trade_3", Category::Inverse, line(TRADES, 0), None),
        (
            "orderbook1_bbo",
            Category::Linear,
            line(BOOK_SMALL, 0),
            None,
        ),
        (
            "tickers_delta",
            Category::Inverse,
            line(TICKERS, 1),
            Some(line(TICKERS, 0)),
        ),
        ("orderbook_delta", Category::Linear, line(BOOK, 1), None),
        (
            "orderbook_snapshot_500",
            Category::Linear,
            line(BOOK, 0),
            None,
        ),
    ];
    for (kind, category, frame, state) in cases {
        group.throughput(Throughput::Bytes(frame.len() as u64));
        let mut decoder = BybitDecoder::new(symbols.clone());
        decoder.set_market(category.market());
        let mut sink: Vec<RecordBuf> = Vec::with_capacity(8);
        if let Some(state) = state {
            decoder
                .decode(Frame::Text(state.as_bytes()), 1, &mut sink)
                .expect("the ticker snapshot decodes");
        }
        // Fail loudly rather than measure an error path.
        match decoder.decode(Frame::Text(frame.as_bytes()), 1, &mut sink) {
            Ok(VenueEvent::Records(n)) if n > 0 => {}
            Ok(VenueEvent::Book(_)) => {}
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
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
