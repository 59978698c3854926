//! Channel and time-unit names used in `[venues.<name>]`.

use std::fmt;

use serde::Serialize;
use tickd_bus::Venue;

use super::names::deserialize_by_name;

/// A kind of market data a venue publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Every public trade.
    Trades,
    /// Best bid and offer.
    Bbo,
    /// Full order book (snapshot + deltas).
    Book,
    /// Funding rate and mark price (perpetuals).
    Funding,
    /// Forced liquidations (derivatives).
    Liquidations,
    /// Open interest (derivatives).
    Oi,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::Trades,
        Channel::Bbo,
        Channel::Book,
        Channel::Funding,
        Channel::Liquidations,
        Channel::Oi,
    ];

    /// Names in the order of [`Channel::ALL`].
    pub const NAMES: &'static [&'static str] =
        &["trades", "bbo", "book", "funding", "liquidations", "oi"];

    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Trades => "trades",
            Channel::Bbo => "bbo",
            Channel::Book => "book",
            Channel::Funding => "funding",
            Channel::Liquidations => "liquidations",
            Channel::Oi => "oi",
        }
    }

    /// The channels tickd can take from `venue` (spot venues have no derivatives data).
    pub fn supported_by(venue: Venue) -> &'static [Channel] {
        const SPOT: &[Channel] = &[Channel::Trades, Channel::Bbo, Channel::Book];
        match venue {
            Venue::Binance | Venue::Coinbase | Venue::Kraken => SPOT,
            Venue::BinanceUsdm | Venue::Okx | Venue::Bybit => &Channel::ALL,
        }
    }

    /// `trades, bbo, book` for error messages.
    pub fn list(channels: &[Channel]) -> String {
        channels
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

deserialize_by_name!(Channel);
deserialize_by_name!(TimeUnit);
