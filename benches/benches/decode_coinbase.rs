//! Coinbase Advanced Trade frame decoding through the real decoder (envelope,
//! `events`, decimal strings and RFC 3339 nanosecond times read exactly), per
//! message kind: the real `market_trades` update (two trades), `ticker` and
//! `heartbeats` lines from `testdata/exchanges/samples/coinbase`, and `l2_data`
//! updates and a 1000-level-a-side snapshot written by the encoder.
//!
//! cargo bench -p tickd-benches --bench decode_coinbase -- --warm-up-time 1 --measurement-time 3

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tickd_bus::{Price, RecordBuf, Size};
use tickd_normalizer::coinbase::{encode, CoinbaseDecoder, TradeSide};
use tickd_normalizer::engine::{Frame, FrameDecoder, VenueEvent};
use tickd_normalizer::{Level, SymbolMap};

fn sample(name: &str, line: usize) -> String {
    let path = format!(
        "{}/../testdata/exchanges/samples/coinbase/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .expect("sample")
        .lines()
        .nth(line)
        .expect("line")
        .to_string()
}

fn ladder(n: usize, asks: bool) -> Vec<Level> {
    (0..n as i64)
        .map(|i| {
            let cents = if asks { 2_193_199 + i } else { 2_193_198 - i };
            Level::new(
                Price::from_raw(i128::from(cents) * (Price::ONE_RAW / 100)),
                Size::from_raw(
                    i128::from((i * 7919) % 5_000_000 + 1) * (Size::ONE_RAW / 100_000_000),
                ),
            )
        })
        .collect()
}

fn symbols() -> SymbolMap {
    [("BTC-USD".to_string(), 1), ("ETH-USD".to_string(), 2)]
        .into_iter()
        .collect()
}

fn bench_decode(c: &mut Criterion) {
    let (bids, asks) = (ladder(1000, false), ladder(1000, true));
    let snapshot = encode::l2("BTC-USD", true, &bids, &asks, 1_675_974_770_714_964_855, 1);
    let update_1 = encode::l2(
        "BTC-USD",
        false,
        &bids[..1],
        &[],
        1_675_974_770_714_964_855,
        2,
    );
    let update_10 = encode::l2(
        "BTC-USD",
        false,
        &bids[..5],
        &asks[..5],
        1_675_974_770_714_964_855,
        3,
    );
    let frames = [
        ("market_trades_2", sample("trades.jsonl", 2)),
        ("ticker_bbo", sample("ticker.jsonl", 0)),
        ("heartbeat", sample("heartbeats.jsonl", 0)),
        ("l2_update_1", update_1),
        ("l2_update_10", update_10),
        ("l2_snapshot_2000", snapshot),
    ];
    let mut group = c.benchmark_group("decode_coinbase");
    for (kind, frame) in &frames {
        group.throughput(Throughput::Bytes(frame.len() as u64));
        let mut decoder = CoinbaseDecoder::new(symbols(), TradeSide::Taker);
        let mut sink: Vec<RecordBuf> = Vec::with_capacity(4);
        match decoder.decode(Frame::Text(frame.as_bytes()), 1, &mut sink) {
            Ok(VenueEvent::Records(1 | 2) | VenueEvent::Book(_) | VenueEvent::Heartbeat) => {}
            other => panic!("{kind}: {other:?}"),
        }
        group.bench_function(*kind, |b| {
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
