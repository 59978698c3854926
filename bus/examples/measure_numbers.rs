//! Numbers for choosing the record layout, measured the same way on any layout:
//! parse cost per value, record sizes, journal bytes per day, bus throughput.
//! `scripts/bench-numbers.sh` runs it on layout 1 and layout 2 in one go.
//!
//! `cargo run --release -p tickd-bus --example measure_numbers`
//!
//! Timings are the minimum over rounds (the machine is shared: the minimum is what
//! the code costs when not preempted).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tickd_bus::record::TradeMsg;
use tickd_bus::ring::{ring, TryRecv};
use tickd_bus::{Price, RecordBuf, RecordHeader, RecordType, Size, Venue};

/// Typical values (Binance 8-place strings, Kraken floats, an exponent) and what HTX
/// sends (18-place padding, Java exponents): what layout 1 cannot hold is an error
/// there, and the error path is what a feed pays for such a value.
const INPUTS: [&str; 7] = [
    "58942.01000000",
    "0.00035600",
    "29430.2",
    "1e-8",
    "3080.000000000000000000",
    "9.485E-11",
    "5.106999E12",
];

fn min_ns_per_op(rounds: usize, ops: u64, mut f: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos() as f64 / ops as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    println!("parse, min ns/value over 30 rounds of 20k (ok = parsed exactly):");
    println!(
        "{:<26} {:>14} {:>14}",
        "input", "Price::parse", "Size::parse"
    );
    for text in INPUTS {
        let price = min_ns_per_op(30, 20_000, || {
            for _ in 0..20_000 {
                let _ = black_box(Price::parse(black_box(text.as_bytes())));
            }
        });
        let size = min_ns_per_op(30, 20_000, || {
            for _ in 0..20_000 {
                let _ = black_box(Size::parse(black_box(text.as_bytes())));
            }
        });
        let ok = |r: bool| if r { "ok" } else { "err" };
        println!(
            "{text:<26} {price:>9.1} {:>4} {size:>9.1} {:>4}",
            ok(Price::parse_str(text).is_ok()),
            ok(Size::parse_str(text).is_ok())
        );
    }

    println!("\nrecord sizes (bytes):");
    let mut sizes = Vec::new();
    for rtype in RecordType::ALL {
        println!("{:<12} {:>4}", rtype.to_string(), rtype.record_size());
        sizes.push((*rtype, rtype.record_size()));
    }
    let size_of = |t: RecordType| sizes.iter().find(|(r, _)| *r == t).map_or(0, |(_, s)| *s) as f64;
    // The journal stores records back to back (8-byte aligned) plus a 48-byte header
    // per 64 KiB block. A book-heavy day like Binance's: 80% deltas, 10% trades, 10% bbo.
    let per_record = |size: f64| size + 48.0 / (65_536.0 / size).floor();
    let mix = 0.8 * per_record(size_of(RecordType::BookDelta))
        + 0.1 * per_record(size_of(RecordType::Trade))
        + 0.1 * per_record(size_of(RecordType::Bbo));
    println!(
        "journal bytes/day at 100k records/s (80% deltas, 10% trades, 10% bbo; before zstd): {:.1} GB",
        mix * 100_000.0 * 86_400.0 / 1e9
    );
    println!(
        "bus slot (bytes): {}",
        std::mem::size_of::<RecordBuf>().div_ceil(128) * 128
    );

    // One producer, one spinning consumer thread, 1M records, the producer at most
    // half a ring ahead: ns per record end to end.
    let trade = {
        let mut t = TradeMsg {
            hd: RecordHeader::new::<TradeMsg>(Venue::Binance, 1, 1, 2),
            price: Price::parse_str("58942.01").unwrap(),
            size: Size::parse_str("0.000356").unwrap(),
            trade_id: 1,
            trade_id_hi: 0,
            side: 1,
            _reserved: [0; 7],
        };
        t.hd.sequence = 1;
        RecordBuf::new(&t)
    };
    const N: u64 = 1_000_000;
    const CAPACITY: usize = 1 << 16;
    let stream_ns = min_ns_per_op(7, N, || {
        let (mut producer, handle) = ring(CAPACITY);
        let mut consumer = handle.subscribe();
        let done = std::sync::Arc::new(AtomicU64::new(0));
        let progress = done.clone();
        let reader = std::thread::spawn(move || {
            let mut seen = 0u64;
            while seen < N {
                match consumer.try_recv() {
                    TryRecv::Record(r) => {
                        black_box(r);
                        seen += 1;
                        if seen.is_multiple_of(1024) {
                            progress.store(seen, Ordering::Release);
                        }
                    }
                    TryRecv::Lagged(_) => panic!("consumer lagged"),
                    _ => std::hint::spin_loop(),
                }
            }
        });
        for i in 0..N {
            // Stay within half a ring of the consumer, so it is never lapped.
            while i - done.load(Ordering::Acquire) >= CAPACITY as u64 / 2 {
                std::thread::yield_now();
            }
            producer.publish(black_box(&trade));
        }
        reader.join().unwrap();
    });
    let publish_ns = min_ns_per_op(7, N, || {
        let (mut producer, _handle) = ring(CAPACITY);
        for _ in 0..N {
            producer.publish(black_box(&trade));
        }
    });
    println!(
        "bus: publish only {publish_ns:.1} ns/record; producer to 1 consumer {stream_ns:.1} ns/record ({:.1} M records/s)",
        1e3 / stream_ns
    );
}
