//! Per-connection decode counters. The decoder is owned by one feed task, so these
//! are plain integers; the feed copies them into its metrics.

use crate::error::{DecodeError, DecodeErrorKind};

/// What kind of message a frame held, for the "frames ok" counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Trade,
    AggTrade,
    BookTicker,
    DepthDiff,
    PartialDepth,
    MarkPrice,
    ForceOrder,
    /// Exchange candles (`kline`, `candle*`).
    Kline,
    /// Subscribe acks, subscription lists, control error replies.
    Control,
    ServerShutdown,
}

impl MessageKind {
    pub const ALL: [MessageKind; 10] = [
        MessageKind::Trade,
        MessageKind::AggTrade,
        MessageKind::BookTicker,
        MessageKind::DepthDiff,
        MessageKind::PartialDepth,
        MessageKind::MarkPrice,
        MessageKind::ForceOrder,
        MessageKind::Kline,
        MessageKind::Control,
        MessageKind::ServerShutdown,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub const fn as_str(self) -> &'static str {
        match self {
            MessageKind::Trade => "trade",
            MessageKind::AggTrade => "agg_trade",
            MessageKind::BookTicker => "book_ticker",
            MessageKind::DepthDiff => "depth_diff",
            MessageKind::PartialDepth => "partial_depth",
            MessageKind::MarkPrice => "mark_price",
            MessageKind::ForceOrder => "force_order",
            MessageKind::Kline => "kline",
            MessageKind::Control => "control",
            MessageKind::ServerShutdown => "server_shutdown",
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
        assert_eq!(stats.ok(MessageKind::BookTicker), 0);
        assert_eq!(stats.errors(DecodeErrorKind::MissingField), 1);
        assert_eq!(stats.unknown_message(), 1);
        assert_eq!(stats.unknown_symbol(), 1);
        assert_eq!(stats.frames(), 4);
        for (i, kind) in MessageKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }
}
