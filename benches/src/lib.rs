//! Shared helpers for the benchmarks.

pub mod dataset;

pub mod e2e;
