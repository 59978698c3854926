//! Channels: the kinds of market data a venue publishes, by the names users type
//! in configs, stream patterns (`trades.binance.BTC-USDT`) and the CLI.

use std::fmt;
use std::str::FromStr;

use crate::record::RecordType;
use crate::venue::Venue;

/// A kind of market data a feed subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

    /// The channel a feed record belongs to (`None` for bars and status records,
    /// which are not subscribed from a venue).
    pub const fn of_record(rtype: RecordType) -> Option<Channel> {
        Some(match rtype {
            RecordType::Trade => Channel::Trades,
            RecordType::Bbo => Channel::Bbo,
            RecordType::BookDelta => Channel::Book,
            RecordType::MarkFunding => Channel::Funding,
            RecordType::Liquidation => Channel::Liquidations,
            RecordType::OpenInterest => Channel::Oi,
            RecordType::Bar | RecordType::Status => return None,
        })
    }

    /// The record type this channel carries.
    pub const fn record_type(self) -> RecordType {
        match self {
            Channel::Trades => RecordType::Trade,
            Channel::Bbo => RecordType::Bbo,
            Channel::Book => RecordType::BookDelta,
            Channel::Funding => RecordType::MarkFunding,
            Channel::Liquidations => RecordType::Liquidation,
            Channel::Oi => RecordType::OpenInterest,
        }
    }

    /// The channels tickd can take from `venue` (spot venues have no derivatives data).
    pub fn supported_by(venue: Venue) -> &'static [Channel] {
        const SPOT: &[Channel] = &[Channel::Trades, Channel::Bbo, Channel::Book];
        match venue {
            Venue::Binance | Venue::Coinbase | Venue::Kraken | Venue::Htx => SPOT,
            Venue::BinanceUsdm | Venue::Okx | Venue::Bybit | Venue::HtxUsdm | Venue::HtxCoinm => {
                &Channel::ALL
            }
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

/// An unknown channel name; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel {0:?}; valid channels: trades, bbo, book, funding, liquidations, oi")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownChannel(s.to_string()))
    }
}

impl serde::Serialize for Channel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Exact lower-case names only (as in configs); an unknown name's error lists the valid ones.
impl<'de> serde::Deserialize<'de> for Channel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Names;
        impl serde::de::Visitor<'_> for Names {
            type Value = Channel;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "one of: {}", Channel::NAMES.join(", "))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Channel, E> {
                Channel::ALL
                    .into_iter()
                    .find(|c| c.as_str() == v)
                    .ok_or_else(|| E::unknown_variant(v, Channel::NAMES))
            }
        }
        d.deserialize_str(Names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_record_types_round_trip() {
        for (channel, name) in Channel::ALL.iter().zip(Channel::NAMES) {
            assert_eq!(channel.as_str(), *name);
            assert_eq!(name.parse::<Channel>().unwrap(), *channel);
            assert_eq!(Channel::of_record(channel.record_type()), Some(*channel));
        }
        assert_eq!(Channel::of_record(RecordType::Status), None);
        assert!("book5"
            .parse::<Channel>()
            .unwrap_err()
            .to_string()
            .contains("liquidations"));
    }

    #[test]
    fn spot_venues_have_no_derivatives_channels() {
        assert!(!Channel::supported_by(Venue::Binance).contains(&Channel::Funding));
        assert!(Channel::supported_by(Venue::BinanceUsdm).contains(&Channel::Oi));
    }
}
