//! Channel and time-unit names used in `[venues.<name>]`.

use serde::Serialize;

use super::names::deserialize_by_name;

/// The one definition of channels lives in the bus, shared with the feed and gateway.
pub use tickd_bus::Channel;

/// Unit of the exchange's time fields on the connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// Milliseconds (every venue's default).
    #[default]
    Ms,
    /// Microseconds (Binance spot only: `timeUnit=MICROSECOND` on the stream URL).
    Us,
}

impl TimeUnit {
    pub const ALL: [TimeUnit; 2] = [TimeUnit::Ms, TimeUnit::Us];
    pub const NAMES: &'static [&'static str] = &["ms", "us"];
}

deserialize_by_name!(TimeUnit);
