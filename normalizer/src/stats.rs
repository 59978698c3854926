//! Per-connection decode counters. The decoder is owned by one feed task, so these
//! are plain integers; the feed copies them into its metrics.

use crate::error::{DecodeError, DecodeErrorKind};

/// What kind of message a frame held, for the "frames ok" counters, in the bus's
/// terms rather than any venue's (Binance `aggTrade` is an aggregate trade, `depthUpdate`
/// a book update, `forceOrder` a liquidation, OKX `candle1m` a venue bar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Trade,
    /// Several fills as one print (Binance `aggTrade`).
    AggregateTrade,
    /// Best bid and offer (Binance `bookTicker`, OKX `bbo-tbt`).
    Bbo,
    /// A book diff (Binance `depthUpdate`, OKX `books` update).
    BookUpdate,
    /// A whole book image (Binance partial depth, OKX `books` snapshot, `books5`).
    BookSnapshot,
    /// Mark price, index and funding (Binance `markPriceUpdate`, OKX `mark-price`).
    MarkFunding,
    /// Binance `forceOrder`, OKX `liquidation-orders`.
    Liquidation,
    /// Exchange candles (`kline`, `candle*`).
    VenueBar,
    /// Subscribe acks, subscription lists, control error replies.
    Control,
    /// The venue's maintenance or shutdown notice (Binance `serverShutdown`, OKX 64008).
    Notice,
}

impl MessageKind {
    pub const ALL: [MessageKind; 10] = [
        MessageKind::Trade,
        MessageKind::AggregateTrade,
        MessageKind::Bbo,
        MessageKind::BookUpdate,
        MessageKind::BookSnapshot,
        MessageKind::MarkFunding,
        MessageKind::Liquidation,
        MessageKind::VenueBar,
        MessageKind::Control,
        MessageKind::Notice,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub const fn as_str(self) -> &'static str {
        match self {
            MessageKind::Trade => "trade",
            MessageKind::AggregateTrade => "aggregate_trade",
            MessageKind::Bbo => "bbo",
            MessageKind::BookUpdate => "book_update",
            MessageKind::BookSnapshot => "book_snapshot",
            MessageKind::MarkFunding => "mark_funding",
            MessageKind::Liquidation => "liquidation",
            MessageKind::VenueBar => "venue_bar",
            MessageKind::Control => "control",
            MessageKind::Notice => "notice",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// Counters of one decoder: frames decoded per message kind, frames rejected per
/// error kind, and valid events for symbols the map does not hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeStats {
    ok: [u64; MessageKind::COUNT],
    errors: [u64; DecodeErrorKind::COUNT],
    unknown_symbol: u64,
}

impl DecodeStats {
    /// Frames of `kind` decoded (including those for unknown symbols).
    pub fn ok(&self, kind: MessageKind) -> u64 {
        self.ok[kind.index()]
    }

    pub fn ok_total(&self) -> u64 {
        self.ok.iter().sum()
    }

    /// Frames rejected with an error of `kind`.
    pub fn errors(&self, kind: DecodeErrorKind) -> u64 {
        self.errors[kind.index()]
    }

    pub fn errors_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Valid events for symbols that are not tracked (dropped).
    pub fn unknown_symbol(&self) -> u64 {
        self.unknown_symbol
    }

    /// Frames that were not any message we know (unknown event type or shape).
    pub fn unknown_message(&self) -> u64 {
        self.errors(DecodeErrorKind::UnknownEvent) + self.errors(DecodeErrorKind::UnknownMessage)
    }

    /// Frames seen: decoded plus rejected.
    pub fn frames(&self) -> u64 {
        self.ok_total() + self.errors_total()
    }

    pub(crate) fn count_ok(&mut self, kind: MessageKind) {
        self.ok[kind.index()] += 1;
    }

    pub(crate) fn count_unknown_symbol(&mut self) {
        self.unknown_symbol += 1;
    }

    pub(crate) fn count_error(&mut self, error: &DecodeError) {
        self.errors[error.kind().index()] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_kind() {
        let mut stats = DecodeStats::default();
        stats.count_ok(MessageKind::Trade);
        stats.count_ok(MessageKind::Trade);
        stats.count_unknown_symbol();
        stats.count_error(&DecodeError::UnknownMessage);
        stats.count_error(&DecodeError::MissingField { field: "s" });
        assert_eq!(stats.ok(MessageKind::Trade), 2);
        assert_eq!(stats.ok(MessageKind::Bbo), 0);
        assert_eq!(stats.errors(DecodeErrorKind::MissingField), 1);
        assert_eq!(stats.unknown_message(), 1);
        assert_eq!(stats.unknown_symbol(), 1);
        assert_eq!(stats.frames(), 4);
        for (i, kind) in MessageKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }
}
