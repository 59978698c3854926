//! Venues: the exchanges tickd connects to, with the names users type.

use std::fmt;
use std::str::FromStr;

/// An exchange (and market segment) tickd has a feed for. Stored as one byte in
/// every record header; the numbers are part of the journal format and never change.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Venue {
    /// Binance spot (`binance`).
    Binance = 1,
    /// Binance USD-M futures (`binance-usdm`).
    BinanceUsdm = 2,
    Okx = 3,
    Bybit = 4,
    Coinbase = 5,
    Kraken = 6,
    /// HTX spot (`htx`).
    Htx = 7,
    /// HTX USDT-margined swaps and futures (`htx-usdm`).
    HtxUsdm = 8,
    /// HTX coin-margined swaps (`htx-coinm`).
    HtxCoinm = 9,
}

impl Venue {
    pub const ALL: [Venue; 9] = [
        Venue::Binance,
        Venue::BinanceUsdm,
        Venue::Okx,
        Venue::Bybit,
        Venue::Coinbase,
        Venue::Kraken,
        Venue::Htx,
        Venue::HtxUsdm,
        Venue::HtxCoinm,
    ];

    /// Slots of an array indexed by `venue as usize` (ids run from 1 without holes,
    /// so one more than the count): per-venue tables in storage use it, so a new
    /// venue needs no edit there.
    pub const ID_SLOTS: usize = Venue::ALL.len() + 1;

    /// The name users type in configs, the CLI, the protocol and HTTP.
    pub const fn as_str(self) -> &'static str {
        match self {
            Venue::Binance => "binance",
            Venue::BinanceUsdm => "binance-usdm",
            Venue::Okx => "okx",
            Venue::Bybit => "bybit",
            Venue::Coinbase => "coinbase",
            Venue::Kraken => "kraken",
            Venue::Htx => "htx",
            Venue::HtxUsdm => "htx-usdm",
            Venue::HtxCoinm => "htx-coinm",
        }
    }

    pub const fn from_u8(id: u8) -> Option<Venue> {
        Some(match id {
            1 => Venue::Binance,
            2 => Venue::BinanceUsdm,
            3 => Venue::Okx,
            4 => Venue::Bybit,
            5 => Venue::Coinbase,
            6 => Venue::Kraken,
            7 => Venue::Htx,
            8 => Venue::HtxUsdm,
            9 => Venue::HtxCoinm,
            _ => return None,
        })
    }

    /// All names, for error messages that say what exists.
    pub fn names() -> String {
        Self::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown venue name; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown venue {0:?}; valid venues: {names}", names = Venue::names())]
pub struct UnknownVenue(pub String);

impl FromStr for Venue {
    type Err = UnknownVenue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Venue::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownVenue(s.to_string()))
    }
}

impl serde::Serialize for Venue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Venue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for venue in Venue::ALL {
            assert_eq!(venue.as_str().parse::<Venue>().unwrap(), venue);
            assert_eq!(Venue::from_u8(venue as u8), Some(venue));
        }
        assert_eq!("BINANCE-USDM".parse::<Venue>().unwrap(), Venue::BinanceUsdm);
        assert!("ftx"
            .parse::<Venue>()
            .unwrap_err()
            .to_string()
            .contains("binance-usdm"));
        assert_eq!(Venue::from_u8(0), None);
        assert!(Venue::ALL.iter().all(|v| (*v as usize) < Venue::ID_SLOTS));
        assert_eq!(Venue::from_u8(Venue::ID_SLOTS as u8), None);
    }
}
