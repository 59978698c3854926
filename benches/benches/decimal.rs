//! Cost of turning exchange decimal text into exact fixed point.
//!
//! `tickd_bus::Price`/`Size` parse digit by digit; the baselines are `f64`
//! (what a naive decoder would do, and inexact) and `rust_decimal` (exact, 96-bit).
//! Each benchmark parses the same batch of typical exchange values so the
//! numbers are per batch; BENCHMARKS-decimal.md divides by the batch size.

use criterion::{black_box, criterion_group, Criterion, Throughput};
use std::str::FromStr;
use tickd_bus::{Price, Size};

/// Typical values: Binance 8-dp strings, Kraken float tokens, an exponent, a huge size.
const INPUTS: [&str; 5] = [
    "58942.01000000",
    "0.00035600",
    "29430.2",
    "1e-8",
    "50000000000.12345678",
];

fn parse_each(c: &mut Criterion) {
    let mut group = c.benchmark_group("decimal/one");
    for text in INPUTS {
        group.bench_function(format!("size {text}"), |b| {
            b.iter(|| Size::parse(black_box(text.as_bytes())))
        });
        group.bench_function(format!("f64 {text}"), |b| {
            b.iter(|| black_box(text).parse::<f64>())
        });
        group.bench_function(format!("rust_decimal {text}"), |b| {
            b.iter(|| rust_decimal::Decimal::from_str(black_box(text)))
        });
    }
    group.finish();
}

fn parse_batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("decimal/batch5");
    group.throughput(Throughput::Elements(INPUTS.len() as u64));
    group.bench_function("tickd Size::parse", |b| {
        b.iter(|| {
            let mut ok = 0u32;
            for text in black_box(&INPUTS) {
                ok += u32::from(Size::parse(text.as_bytes()).is_ok());
            }
            ok
        })
    });
    // Price cannot hold 5e10, so that value is a typed OutOfRange here: the
    // error path is part of what a feed pays for.
    group.bench_function("tickd Price::parse", |b| {
        b.iter(|| {
            let mut ok = 0u32;
            for text in black_box(&INPUTS) {
                ok += u32::from(Price::parse(text.as_bytes()).is_ok());
            }
            ok
        })
    });
    group.bench_function("f64 str::parse", |b| {
        b.iter(|| {
            let mut sum = 0.0f64;
            for text in black_box(&INPUTS) {
                sum += text.parse::<f64>().unwrap_or(0.0);
            }
            sum
        })
    });
    group.bench_function("rust_decimal from_str", |b| {
        b.iter(|| {
            let mut ok = 0u32;
            for text in black_box(&INPUTS) {
                // rust_decimal's FromStr retries exponent forms with its lossy scientific parser.
                ok += u32::from(rust_decimal::Decimal::from_str(text).is_ok());
            }
            ok
        })
    });
    group.finish();
}

/// The machine this runs on is shared and often loaded, so sequential criterion
/// results drift between benchmarks. This interleaves the parsers round by round
/// and keeps each one's fastest round: the minimum is what the code costs when it
/// is not preempted, and interleaving exposes every parser to the same conditions.
fn interleaved_minimums() {
    const ROUNDS: usize = 40;
    const ITERS: u32 = 20_000;
    type Parser = (&'static str, fn(&str) -> bool);
    let parsers: [Parser; 3] = [
        ("tickd Size", |t| Size::parse(t.as_bytes()).is_ok()),
        ("f64", |t| t.parse::<f64>().is_ok()),
        ("rust_decimal", |t| {
            rust_decimal::Decimal::from_str(t).is_ok()
        }),
    ];
    println!("\ninterleaved minimum ns/value over {ROUNDS} rounds of {ITERS}:");
    println!(
        "{:<24} {:>12} {:>8} {:>14}",
        "input", parsers[0].0, parsers[1].0, parsers[2].0
    );
    for text in INPUTS {
        let mut best = [f64::INFINITY; 3];
        for _ in 0..ROUNDS {
            for (slot, (_, parse)) in parsers.iter().enumerate() {
                let start = std::time::Instant::now();
                for _ in 0..ITERS {
                    black_box(parse(black_box(text)));
                }
                let ns = start.elapsed().as_nanos() as f64 / f64::from(ITERS);
                best[slot] = best[slot].min(ns);
            }
        }
        println!(
            "{text:<24} {:>12.1} {:>8.1} {:>14.1}",
            best[0], best[1], best[2]
        );
    }
}

criterion_group!(benches, parse_each, parse_batch);

fn main() {
    benches();
    interleaved_minimums();
    Criterion::default().configure_from_args().final_summary();
}
