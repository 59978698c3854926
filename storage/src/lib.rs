//! tickd-storage
pub mod bar_writer;
pub mod bars;
pub mod history;
pub mod journal;
pub mod questdb;
