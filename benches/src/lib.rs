//! Shared helpers for the benchmarks.

pub mod e2e;
