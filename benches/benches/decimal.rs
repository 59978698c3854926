//! Cost of turning exchange decimal text into exact fixed point.
//!
//! `tickd_bus::Price`/`Size` parse digit by digit; the baselines are `f64`
//! (what a naive decoder would do, and inexact) and `rust_decimal` (exact, 96-bit).
//! Each benchmark parses the same batch of typical exchange values so the
//! numbers are per batch; BENCHMARKS-decimal.md divides by the batch size.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
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
                // rust_decimal's FromStr rejects exponents; that is part of the comparison.
                ok += u32::from(rust_decimal::Decimal::from_str(text).is_ok());
            }
            ok
        })
    });
    group.finish();
}

criterion_group!(benches, parse_each, parse_batch);
criterion_main!(benches);
