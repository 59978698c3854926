//! tickd-storage
pub mod bars;
