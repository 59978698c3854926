//! tickd-feed
