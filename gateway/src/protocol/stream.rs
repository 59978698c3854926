//! Stream names: `<channel>.<venue>.<symbol>`, e.g. `trades.binance.BTC-USDT`,
//! `bars.1m.binance-usdm.BTC-USDT-PERP`, `status.okx.BTC-USDT`.

use std::fmt;

use tickd_bus::{Channel, RecordRef, RecordType, Venue};

/// The channel part of a stream name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StreamChannel {
    /// Data from a venue channel: trades, bbo, book, funding, liquidations, oi.
    Feed(Channel),
    /// Bars of this many seconds (`bars.1s`, `bars.1m`, `bars.4h`, `bars.90s`).
    Bars(u32),
    /// The best bid/offer tickd derives from its own book (`top`), apart from the
    /// venue's own best bid/offer (`bbo`), so a subscriber gets each once, labelled.
    BookTop,
    /// Connection, gap and resync records.
    Status,
}

impl StreamChannel {
    /// The stream channel a record travels on.
    pub fn of(record: &RecordRef<'_>) -> StreamChannel {
        match record {
            RecordRef::Bar(bar) => StreamChannel::Bars(bar.interval_s),
            RecordRef::Status(_) => StreamChannel::Status,
            RecordRef::Bbo(bbo) if bbo.hd.flags.contains(tickd_bus::Flags::DERIVED) => {
                StreamChannel::BookTop
            }
            other => {
                match Channel::of_record(other.header().record_type().unwrap_or(RecordType::Status))
                {
                    Some(channel) => StreamChannel::Feed(channel),
                    None => StreamChannel::Status,
                }
            }
        }
    }

    pub fn parse(text: &str) -> Option<StreamChannel> {
        match text {
            "status" => return Some(StreamChannel::Status),
            "top" => return Some(StreamChannel::BookTop),
            _ => {}
        }
        if let Some(interval) = text.strip_prefix("bars.") {
            return parse_interval(interval).map(StreamChannel::Bars);
        }
        text.parse().ok().map(StreamChannel::Feed)
    }
}

impl fmt::Display for StreamChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamChannel::Feed(channel) => f.write_str(channel.as_str()),
            StreamChannel::Bars(seconds) => write!(f, "bars.{}", format_interval(*seconds)),
            StreamChannel::Status => f.write_str("status"),
            StreamChannel::BookTop => f.write_str("top"),
        }
    }
}

/// One concrete stream.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamKey {
    pub channel: StreamChannel,
    pub venue: Venue,
    /// Normalized symbol (`BTC-USDT`), or `*` for venue-wide status records.
    pub symbol: String,
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.channel, self.venue, self.symbol)
    }
}

/// `1s`, `5s`, `1m`, `15m`, `1h`, `4h`, `1d`, or plain seconds `90`; 1 s to 7 days (a
/// live bar stream's range; history takes longer ones).
pub fn parse_interval(text: &str) -> Option<u32> {
    let seconds = tickd_storage::history::time::parse_interval(text).ok()?;
    (seconds <= 7 * 86_400).then_some(seconds)
}

/// The shortest name of an interval: 60 → `1m`, 90 → `90s`, 86400 → `1d`.
pub use tickd_storage::history::time::format_interval;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_round_trip() {
        for (text, seconds) in [
            ("1s", 1),
            ("5s", 5),
            ("1m", 60),
            ("15m", 900),
            ("4h", 14_400),
            ("1d", 86_400),
            ("90s", 90),
        ] {
            assert_eq!(parse_interval(text), Some(seconds), "{text}");
            assert_eq!(format_interval(seconds), text);
        }
        assert_eq!(parse_interval("90"), Some(90));
        for bad in ["", "0s", "m", "1x", "-1m", "8d", "99999999999s", "1.5m"] {
            assert_eq!(parse_interval(bad), None, "{bad}");
        }
    }

    #[test]
    fn channel_names() {
        assert_eq!(
            StreamChannel::parse("bars.1m"),
            Some(StreamChannel::Bars(60))
        );
        assert_eq!(
            StreamChannel::parse("trades"),
            Some(StreamChannel::Feed(Channel::Trades))
        );
        assert_eq!(StreamChannel::parse("status"), Some(StreamChannel::Status));
        assert_eq!(StreamChannel::parse("bars"), None);
        let key = StreamKey {
            channel: StreamChannel::Bars(3600),
            venue: Venue::BinanceUsdm,
            symbol: "BTC-USDT-PERP".into(),
        };
        assert_eq!(key.to_string(), "bars.1h.binance-usdm.BTC-USDT-PERP");
    }
}
