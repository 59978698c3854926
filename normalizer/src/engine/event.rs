//! What one frame means beyond the records it pushed.

use crate::book::Level;

/// The outcome of decoding one frame.
#[derive(Debug, Clone, PartialEq)]
pub enum VenueEvent<'a> {
    /// `n` records were pushed to the sink (0: a frame with nothing to publish).
    Records(usize),
    /// Levels for the instrument's [`super::BookSync`].
    Book(BookEvent<'a>),
    /// A reply to something the connection sent (acks, errors).
    Reply(ControlReply),
    /// The venue's application-level ping: write `reply` back on the same
    /// connection (HTX `{"ping":n}` → `{"pong":n}`).
    Ping {
        reply: &'a [u8],
    },
    /// The venue's answer to our own keep-alive ping (OKX `pong`): liveness only.
    Pong,
    /// The venue's own "connection alive, nothing to send" message (Kraken
    /// `heartbeat`): keeps the connection's watchdog from firing, no stream's.
    Heartbeat,
    Notice(Notice),
    /// A valid event for a symbol the map does not hold (counted, dropped).
    UnknownSymbol,
}

/// A counter that runs per connection across all of its channels, reported to the
/// sink ([`crate::RecordSink::conn_counter`]) before a frame's records, so a frame
/// can carry one besides its [`VenueEvent`]. The feed checks each for continuity
/// per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnCounter {
    /// Every message's number on the connection (Coinbase `sequence_num`): a jump
    /// means this connection lost messages, so every book it carries is resynced.
    Sequence,
    /// The venue's heartbeat count (Coinbase `heartbeat_counter`): a jump means
    /// heartbeats were skipped (counted and logged; the data is judged by
    /// [`ConnCounter::Sequence`]).
    Heartbeat,
}

/// A reply to a control message the connection sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlReply {
    /// A subscribe (or other request) was accepted.
    Ack { id: Option<u64> },
    /// The streams the connection is subscribed to, as the venue lists them.
    SubscriptionList {
        id: Option<u64>,
        streams: Vec<String>,
    },
    /// The venue refused a request (a rejected-subscription status record).
    Rejected {
        id: Option<u64>,
        code: i64,
        msg: String,
    },
}

/// Something the venue announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The server will close this connection soon (Binance `serverShutdown`, OKX
    /// 64008): open a new one now and overlap. `ts_event` in ns (0: unknown).
    Reconnect { ts_event: u64 },
    /// Informational (maintenance, status): logged.
    Info { code: i64, msg: String },
}

/// One book message for one instrument: a full image (`snapshot`) or an update.
///
/// `first..=last` are the venue's update ids the message covers (`first == last`
/// for venues with one id per message); `prev` links it to the previous message
/// where the venue says so (Binance USD-M `pu`, OKX `prevSeqId`). `checksum` is the
/// venue's checksum of the book after this message, when it sends one. The records
/// the message becomes carry `record_id` as their venue update id, or `last`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BookEvent<'a> {
    pub instrument_id: u32,
    pub snapshot: bool,
    pub first: u64,
    pub last: u64,
    pub prev: Option<u64>,
    pub checksum: Option<u32>,
    /// The venue's id for the message when it is not the one that links messages
    /// (Bybit: `seq`, the matching engine's cross sequence, while `u` links them and
    /// restarts at 1); `None`: `last`.
    pub record_id: Option<u64>,
    /// ns.
    pub ts_event: u64,
    pub bids: &'a [Level],
    pub asks: &'a [Level],
}

impl BookEvent<'_> {
    /// The venue update id the message's records carry (`BookDeltaMsg::update_id`).
    pub fn record_id(&self) -> u64 {
        self.record_id.unwrap_or(self.last)
    }
}

/// A full book image fetched over REST (or copied out of a pushed snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BookSnapshot {
    /// The update id the image is at (Binance `lastUpdateId`, OKX `seqId`).
    pub last_update_id: u64,
    /// The venue's second id for the image, as [`BookEvent::record_id`] (Bybit
    /// `orderbook.full`'s `seq` beside `u`): the image's records carry it, and the
    /// rule's [`super::SequenceRule::splice`] sees it. `None`: `last_update_id`.
    pub record_id: Option<u64>,
    /// ns; 0 when the venue does not say.
    pub ts_event: u64,
    /// Best first.
    pub bids: Vec<Level>,
    /// Best first.
    pub asks: Vec<Level>,
}
