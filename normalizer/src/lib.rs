//! tickd-normalizer
