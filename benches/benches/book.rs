//! L2 book engine: applying one depth event of 1, 10 or 50 level changes to a book of
//! 1000 levels per side, with the update pattern of a real feed (about 90% of changes
//! within the top 20 levels; updates, inserts and deletes mixed so the book keeps its
//! size). Compares the engine's sorted-`Vec` book with a `BTreeMap` book, and measures
//! the whole Binance sync path (continuity check, apply, crossed check, records out).
//!
//! `cargo bench -p tickd-benches --bench book -- --warm-up-time 1 --measurement-time 2`

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tickd_bus::record::BookSide;
use tickd_bus::{Price, RecordBuf, Size, Venue};
use tickd_normalizer::binance::{BinanceBookSync, BinanceMarket, DepthDiff, DepthSnapshot};
use tickd_normalizer::book::L2Book;
use tickd_normalizer::Level;

const DEPTH: i64 = 1000;
const MID_TICKS: i64 = 3_000_000; // 30000.00 at a 0.01 tick
const EVENTS: usize = 1024;

/// The alternative design: one ordered map per side.
#[derive(Default)]
struct BTreeBook {
    bids: BTreeMap<Price, Size>,
    asks: BTreeMap<Price, Size>,
}

impl BTreeBook {
    #[inline]
    fn apply(&mut self, side: BookSide, price: Price, size: Size) -> bool {
        let map = match side {
            BookSide::Bid => &mut self.bids,
            BookSide::Ask => &mut self.asks,
        };
        if size.is_zero() {
            map.remove(&price).is_some()
        } else {
            map.insert(price, size) != Some(size)
        }
    }

    fn best_bid(&self) -> Option<(&Price, &Size)> {
        self.bids.last_key_value()
    }

    fn best_ask(&self) -> Option<(&Price, &Size)> {
        self.asks.first_key_value()
    }
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn price(ticks: i64) -> Price {
    Price::from_raw(i128::from(ticks) * (Price::ONE_RAW / 100)) // 0.01 ticks
}

fn size(units: u64) -> Size {
    Size::from_raw(i128::from(units) * (Size::ONE_RAW / 100)) // 0.01 steps
}

/// Bids at ticks MID-1, MID-2, ... and asks at MID+1, ... (a one-tick-wide spread
/// around MID; the spread ticks themselves are never touched, so books never cross).
fn initial_levels(side: BookSide) -> Vec<Level> {
    (1..=DEPTH)
        .map(|d| {
            let ticks = if side == BookSide::Bid {
                MID_TICKS - d
            } else {
                MID_TICKS + d
            };
            Level::new(price(ticks), size(100 + d as u64))
        })
        .collect()
}

/// One event: `changes` levels, 90% within the top 20 price ticks of a side, the rest
/// anywhere in the 1000; sizes random, 1 in 5 a delete. Deleted and re-set levels keep
/// the book near its size over many events.
fn events(changes: usize, seed: u64) -> Vec<(Vec<Level>, Vec<Level>)> {
    let mut rng = Rng(seed);
    (0..EVENTS)
        .map(|_| {
            let (mut bids, mut asks) = (Vec::new(), Vec::new());
            for _ in 0..changes {
                let distance = if rng.below(10) < 9 {
                    1 + rng.below(20)
                } else {
                    1 + rng.below(DEPTH as u64)
                } as i64;
                let qty = if rng.below(5) == 0 {
                    0
                } else {
                    1 + rng.below(10_000)
                };
                if rng.below(2) == 0 {
                    bids.push(Level::new(price(MID_TICKS - distance), size(qty)));
                } else {
                    asks.push(Level::new(price(MID_TICKS + distance), size(qty)));
                }
            }
            (bids, asks)
        })
        .collect()
}

fn bench_books(c: &mut Criterion) {
    let bids = initial_levels(BookSide::Bid);
    let asks = initial_levels(BookSide::Ask);
    let mut group = c.benchmark_group("book_apply_event_1000_levels");
    for changes in [1usize, 10, 50] {
        let evs = events(changes, 0x9E37_79B9_7F4A_7C15 ^ changes as u64);
        group.throughput(Throughput::Elements(changes as u64));

        let mut vec_book = L2Book::new();
        vec_book.replace(bids.iter().copied(), asks.iter().copied());
        let mut i = 0usize;
        group.bench_function(BenchmarkId::new("vec", changes), |b| {
            b.iter(|| {
                let (eb, ea) = &evs[i % EVENTS];
                i += 1;
                for l in eb {
                    vec_book.apply(BookSide::Bid, l.price, l.size);
                }
                for l in ea {
                    vec_book.apply(BookSide::Ask, l.price, l.size);
                }
                black_box((vec_book.best_bid(), vec_book.best_ask()))
            })
        });

        let mut tree = BTreeBook::default();
        for l in &bids {
            tree.apply(BookSide::Bid, l.price, l.size);
        }
        for l in &asks {
            tree.apply(BookSide::Ask, l.price, l.size);
        }
        let mut i = 0usize;
        group.bench_function(BenchmarkId::new("btreemap", changes), |b| {
            b.iter(|| {
                let (eb, ea) = &evs[i % EVENTS];
                i += 1;
                for l in eb {
                    tree.apply(BookSide::Bid, l.price, l.size);
                }
                for l in ea {
                    tree.apply(BookSide::Ask, l.price, l.size);
                }
                black_box((
                    tree.best_bid().map(|(p, _)| *p),
                    tree.best_ask().map(|(p, _)| *p),
                ))
            })
        });
    }
    group.finish();
}

/// The whole per-event path of a synced Binance USD-M book: `pu` check, apply, crossed
/// check, one delta record per changed level, derived BBO when the top moved.
fn bench_sync(c: &mut Criterion) {
    let mut group = c.benchmark_group("binance_sync_on_diff_1000_levels");
    for changes in [1usize, 10, 50] {
        let evs = events(changes, 0xD1B5_4A32_D192_ED03 ^ changes as u64);
        let mut sync = BinanceBookSync::new(Venue::BinanceUsdm, 1, BinanceMarket::UsdmFutures, 64);
        let mut out: Vec<RecordBuf> = Vec::with_capacity(4096);
        let first = DepthDiff {
            instrument_id: 1,
            ts_event: 1,
            ts_transaction: 0,
            first_update_id: 10,
            final_update_id: 10,
            prev_final_update_id: None,
            bids: &[],
            asks: &[],
        };
        let _ = sync.on_diff(&first, 0, &mut out);
        let snapshot = DepthSnapshot {
            last_update_id: 10,
            record_id: None,
            ts_event: 0,
            bids: initial_levels(BookSide::Bid),
            asks: initial_levels(BookSide::Ask),
        };
        let _ = sync.on_snapshot(snapshot, 0, &mut out);
        assert!(
            sync.last_update_id() == Some(10),
            "bench book must be synced"
        );
        let mut last_u = 10u64;
        let mut i = 0usize;
        group.throughput(Throughput::Elements(changes as u64));
        group.bench_function(BenchmarkId::from_parameter(changes), |b| {
            b.iter(|| {
                let (eb, ea) = &evs[i % EVENTS];
                i += 1;
                let diff = DepthDiff {
                    instrument_id: 1,
                    ts_event: last_u,
                    ts_transaction: 0,
                    first_update_id: last_u + 1,
                    final_update_id: last_u + 3,
                    prev_final_update_id: Some(last_u),
                    bids: eb,
                    asks: ea,
                };
                last_u += 3;
                out.clear();
                let _ = black_box(sync.on_diff(&diff, 0, &mut out));
            })
        });
        assert!(sync.stats().gaps == 0 && sync.stats().crossed == 0);
    }
    group.finish();
}

criterion_group!(benches, bench_books, bench_sync);
criterion_main!(benches);
