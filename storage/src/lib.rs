//! tickd-storage
pub mod bars;
pub mod journal;
pub mod questdb;
