//! tickd-storage
pub mod bars;
pub mod questdb;
