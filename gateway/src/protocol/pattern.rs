//! Stream patterns: `<channel>.<venue>.<symbol>`, where any part may be `*`.
//!
//! `trades.binance.BTC-USDT`, `book.*.ETH-USDT`, `*.okx.*`, `bars.1m.binance.*`.
//! A `*` channel means every feed channel and status, not bars (a bar stream needs an
//! interval). Symbols compare case-insensitively; the server resolves raw venue
//! symbols (`BTCUSDT`) to normalized ones before matching.

use tickd_bus::Venue;

use super::stream::{StreamChannel, StreamKey};

/// Longest pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// `None`: any feed channel or status.
    pub channel: Option<StreamChannel>,
    /// `None`: any venue.
    pub venue: Option<Venue>,
    /// `None`: any symbol. Upper case.
    pub symbol: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error(
        "empty stream pattern; expected <channel>.<venue>.<symbol>, e.g. trades.binance.BTC-USDT"
    )]
    Empty,
    #[error("stream pattern longer than {MAX_PATTERN_LEN} bytes")]
    TooLong,
    #[error(
        "{0:?} is not <channel>.<venue>.<symbol>, e.g. trades.binance.BTC-USDT or book.*.ETH-USDT"
    )]
    Shape(String),
    #[error("unknown channel {0:?}; channels: trades, bbo, book, funding, liquidations, oi, status, bars.<interval> (bars.1s, bars.1m, bars.1h, ...)")]
    UnknownChannel(String),
    #[error("unknown venue {0:?}; venues: {names}", names = Venue::names())]
    UnknownVenue(String),
    #[error(
        "bad symbol {0:?}: use letters, digits and '-' (BTC-USDT), or a venue symbol (BTCUSDT)"
    )]
    BadSymbol(String),
}

impl PatternError {
    /// The protocol error code for this error.
    pub fn code(&self) -> super::ErrorCode {
        use super::ErrorCode;
        match self {
            PatternError::UnknownChannel(_) => ErrorCode::UnknownChannel,
            PatternError::UnknownVenue(_) => ErrorCode::UnknownVenue,
            _ => ErrorCode::BadPattern,
        }
    }
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        if text.len() > MAX_PATTERN_LEN {
            return Err(PatternError::TooLong);
        }
        // The channel may itself hold a dot (`bars.1m`), so split from the right.
        let mut parts = text.rsplitn(3, '.');
        let (Some(symbol), Some(venue), Some(channel)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(PatternError::Shape(text.to_string()));
        };
        let channel = match channel {
            "*" => None,
            name => Some(
                StreamChannel::parse(name)
                    .ok_or_else(|| PatternError::UnknownChannel(name.to_string()))?,
            ),
        };
        let venue = match venue {
            "*" => None,
            name => Some(
                name.parse::<Venue>()
                    .map_err(|_| PatternError::UnknownVenue(name.to_string()))?,
            ),
        };
        let symbol = match symbol {
            "*" => None,
            s if !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/')) =>
            {
                Some(s.to_ascii_uppercase())
            }
            s => return Err(PatternError::BadSymbol(s.to_string())),
        };
        Ok(Pattern {
            channel,
            venue,
            symbol,
        })
    }

    pub fn matches(&self, key: &StreamKey) -> bool {
        let channel_ok = match self.channel {
            Some(channel) => channel == key.channel,
            None => !matches!(key.channel, StreamChannel::Bars(_)),
        };
        channel_ok
            && self.venue.is_none_or(|venue| venue == key.venue)
            && self
                .symbol
                .as_deref()
                .is_none_or(|symbol| key.symbol == "*" || symbol.eq_ignore_ascii_case(&key.symbol))
    }

    /// No wildcard anywhere.
    pub fn is_concrete(&self) -> bool {
        self.channel.is_some() && self.venue.is_some() && self.symbol.is_some()
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.channel {
            Some(channel) => write!(f, "{channel}.")?,
            None => f.write_str("*.")?,
        }
        match self.venue {
            Some(venue) => write!(f, "{venue}.")?,
            None => f.write_str("*.")?,
        }
        f.write_str(self.symbol.as_deref().unwrap_or("*"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::Channel;

    fn key(channel: &str, venue: Venue, symbol: &str) -> StreamKey {
        StreamKey {
            channel: StreamChannel::parse(channel).unwrap(),
            venue,
            symbol: symbol.into(),
        }
    }

    #[test]
    fn parses_and_prints_patterns() {
        for text in [
            "trades.binance.BTC-USDT",
            "book.*.ETH-USDT",
            "*.okx.*",
            "bars.1m.binance.*",
            "status.*.*",
        ] {
            assert_eq!(Pattern::parse(text).unwrap().to_string(), text);
        }
        let p = Pattern::parse("bars.60.binance.btc-usdt").unwrap();
        assert_eq!(p.channel, Some(StreamChannel::Bars(60)));
        assert_eq!(p.symbol.as_deref(), Some("BTC-USDT"));
        assert!(Pattern::parse("trades.binance.BTC-USDT")
            .unwrap()
            .is_concrete());
    }

    #[test]
    fn rejects_bad_patterns_with_the_reason() {
        type Check = fn(&PatternError) -> bool;
        let cases: [(&str, Check); 8] = [
            ("", |e| matches!(e, PatternError::Empty)),
            ("trades", |e| matches!(e, PatternError::Shape(_))),
            ("trades.binance", |e| matches!(e, PatternError::Shape(_))),
            ("book5.binance.BTC-USDT", |e| {
                matches!(e, PatternError::UnknownChannel(_))
            }),
            ("bars.binance.BTC-USDT", |e| {
                matches!(e, PatternError::UnknownChannel(_))
            }),
            ("trades.ftx.BTC-USDT", |e| {
                matches!(e, PatternError::UnknownVenue(_))
            }),
            ("trades.binance.BTC USDT", |e| {
                matches!(e, PatternError::BadSymbol(_))
            }),
            ("trades.binance.", |e| {
                matches!(e, PatternError::BadSymbol(_))
            }),
        ];
        for (text, check) in cases {
            let err = Pattern::parse(text).unwrap_err();
            assert!(check(&err), "{text:?} gave {err:?}");
        }
        assert_eq!(Pattern::parse(&"a".repeat(200)), Err(PatternError::TooLong));
    }

    #[test]
    fn wildcards_match() {
        let btc = key("trades", Venue::Binance, "BTC-USDT");
        assert!(Pattern::parse("trades.binance.BTC-USDT")
            .unwrap()
            .matches(&btc));
        assert!(Pattern::parse("trades.*.btc-usdt").unwrap().matches(&btc));
        assert!(Pattern::parse("*.binance.*").unwrap().matches(&btc));
        assert!(!Pattern::parse("book.binance.*").unwrap().matches(&btc));
        assert!(!Pattern::parse("trades.okx.*").unwrap().matches(&btc));
        assert!(!Pattern::parse("trades.binance.ETH-USDT")
            .unwrap()
            .matches(&btc));
        let bars = key("bars.1m", Venue::Binance, "BTC-USDT");
        assert!(
            !Pattern::parse("*.binance.*").unwrap().matches(&bars),
            "* excludes bars"
        );
        assert!(Pattern::parse("bars.1m.*.*").unwrap().matches(&bars));
        assert!(!Pattern::parse("bars.5m.*.*").unwrap().matches(&bars));
        let venue_status = key("status", Venue::Binance, "*");
        assert!(
            Pattern::parse("status.binance.BTC-USDT")
                .unwrap()
                .matches(&venue_status),
            "venue-wide status reaches every symbol's subscriber"
        );
        assert_eq!(btc.channel, StreamChannel::Feed(Channel::Trades));
    }
}
