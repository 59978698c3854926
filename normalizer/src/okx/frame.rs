//! What one OKX frame decodes to.

use crate::book::Level;

/// The order-book channels (`okx.md` §6.2). Only the incremental ones carry
/// `prevSeqId` and a checksum; `books5` replaces the whole 5-level view each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookChannel {
    /// `books`: 400 levels, snapshot then 100 ms updates.
    Books,
    /// `books-l2-tbt`: 400 levels tick by tick (VIP, login).
    BooksL2Tbt,
    /// `books50-l2-tbt`: 50 levels tick by tick (VIP, login).
    Books50L2Tbt,
    /// `books5`: a full 5-level image on every push.
    Books5,
}

impl BookChannel {
    pub const ALL: [BookChannel; 4] = [
        BookChannel::Books,
        BookChannel::BooksL2Tbt,
        BookChannel::Books50L2Tbt,
        BookChannel::Books5,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            BookChannel::Books => "books",
            BookChannel::BooksL2Tbt => "books-l2-tbt",
            BookChannel::Books50L2Tbt => "books50-l2-tbt",
            BookChannel::Books5 => "books5",
        }
    }

    pub fn from_name(name: &str) -> Option<BookChannel> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Levels per side the channel keeps.
    pub const fn depth(self) -> usize {
        match self {
            BookChannel::Books | BookChannel::BooksL2Tbt => 400,
            BookChannel::Books50L2Tbt => 50,
            BookChannel::Books5 => 5,
        }
    }

    /// Whether messages are diffs linked by `prevSeqId` (every channel but `books5`).
    pub const fn incremental(self) -> bool {
        !matches!(self, BookChannel::Books5)
    }
}

/// One book message for the book sync. Levels are in the order received
/// (size 0 deletes); OKX sends them best first, but apply by price, never position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OkxBook<'a> {
    pub instrument_id: u32,
    pub channel: BookChannel,
    /// `action: "snapshot"`, or any `books5` push (a whole image).
    pub snapshot: bool,
    /// `seqId`; `None` where not sent (`books5` before 2023, captures before 2022).
    pub seq_id: Option<u64>,
    /// `prevSeqId`; `None` on snapshots (`-1`) and where not sent.
    pub prev_seq_id: Option<u64>,
    /// The venue's CRC32 of its top 25 levels; `None` when absent or `0` (OKX since
    /// 2026-06-23 sends `0`, which means "not computed").
    pub checksum: Option<i32>,
    /// `ts`, ns since the epoch.
    pub ts_event: u64,
    pub bids: &'a [Level],
    pub asks: &'a [Level],
}

/// What one frame held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OkxFrame<'a> {
    /// `n` records were pushed to the sink.
    Records(usize),
    /// A book message for the book sync (not pushed as records here).
    Book(OkxBook<'a>),
    /// `{"event":"subscribe","arg":{..}}`: one per subscribed arg. `target` is the
    /// arg's `instId`, else its `instType` or `instFamily`.
    Subscribed { channel: String, target: String },
    /// `{"event":"unsubscribe","arg":{..}}`.
    Unsubscribed { channel: String, target: String },
    /// `{"event":"error","code":"60018","msg":..}`: a refused request (60011 login
    /// needed, 60012 bad request, 60018 wrong URL, channel or instrument). The socket
    /// stays open. `id` is the request's `id` when it had one.
    Error {
        code: u32,
        msg: String,
        id: Option<String>,
    },
    /// `{"event":"notice","code":"64008"}`: the server will close this connection for
    /// an upgrade in about 60 s; reconnect ahead of it.
    Notice { code: u32 },
    /// Another `event` (e.g. `channel-conn-count`): informational, nothing to do.
    Event,
    /// The text `pong`, the answer to our text `ping`.
    Pong,
    /// A valid message for an instrument the symbol map does not hold (dropped).
    UnknownSymbol,
}

/// `64008`: the service-upgrade notice.
pub const NOTICE_SERVICE_UPGRADE: u32 = 64008;
