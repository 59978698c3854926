//! tickd-gateway
