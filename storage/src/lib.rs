//! tickd-storage
