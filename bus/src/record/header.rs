use super::{Record, RecordType};
use crate::venue::Venue;

/// The 32 bytes that start every record.
///
/// | offset | field           | meaning                                                   |
/// |--------|-----------------|-----------------------------------------------------------|
/// | 0      | `length`        | record length in 4-byte words (as DBN)                    |
/// | 1      | `rtype`         | [`RecordType`]                                            |
/// | 2      | `venue`         | [`Venue`] id                                              |
/// | 3      | `flags`         | [`Flags`]: LAST, SNAPSHOT, DERIVED, MAYBE_BAD_BOOK, ...   |
/// | 4      | `instrument_id` | id from the instrument registry                           |
/// | 8      | `sequence`      | per-stream sequence number: consecutive, so gaps show     |
/// | 16     | `ts_event`      | exchange event time, ns since the Unix epoch (0: not sent)|
/// | 24     | `ts_recv`       | when the frame was read from the socket, ns since epoch   |
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    bytemuck::Pod,
    bytemuck::Zeroable,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(Debug, PartialEq))]
pub struct RecordHeader {
    pub length: u8,
    pub rtype: u8,
    pub venue: u8,
    pub flags: Flags,
    pub instrument_id: u32,
    pub sequence: u64,
    pub ts_event: u64,
    pub ts_recv: u64,
}

impl RecordHeader {
    /// A header for record type `R`, with `length` and `rtype` filled in and the
    /// sequence left at 0 for the publisher to assign.
    pub fn new<R: Record>(venue: Venue, instrument_id: u32, ts_event: u64, ts_recv: u64) -> Self {
        Self {
            length: (std::mem::size_of::<R>() / 4) as u8,
            rtype: R::RTYPE as u8,
            venue: venue as u8,
            flags: Flags::NONE,
            instrument_id,
            sequence: 0,
            ts_event,
            ts_recv,
        }
    }

    /// Length of the whole record in bytes.
    pub const fn record_size(&self) -> usize {
        self.length as usize * 4
    }

    pub fn record_type(&self) -> Option<RecordType> {
        RecordType::from_u8(self.rtype)
    }

    pub fn venue(&self) -> Option<Venue> {
        Venue::from_u8(self.venue)
    }
}

/// Bit flags in the record header. Bit positions follow DBN where the meaning is the same.
#[repr(transparent)]
#[derive(
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    bytemuck::Pod,
    bytemuck::Zeroable,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(Debug, PartialEq))]
pub struct Flags(pub u8);

impl Flags {
    pub const NONE: Flags = Flags(0);
    /// Last record of one exchange event: apply everything up to here atomically.
    pub const LAST: Flags = Flags(1 << 7);
    /// Derived by tickd (e.g. a best bid/offer computed from the book), not sent by the venue.
    pub const DERIVED: Flags = Flags(1 << 6);
    /// Part of a full book image (sent on (re)sync and on subscribe).
    pub const SNAPSHOT: Flags = Flags(1 << 5);
    /// Sent while the book is known to be wrong (after a gap, before the next snapshot).
    pub const MAYBE_BAD_BOOK: Flags = Flags(1 << 2);
    /// A bar the exchange computed (Binance `kline`, OKX `candle`), not one tickd
    /// built from trades.
    pub const VENUE_BAR: Flags = Flags(1 << 4);
    /// Replayed from the journal rather than live.
    pub const REPLAY: Flags = Flags(1 << 1);
    /// A trade the venue reports as a block trade (Bybit `BT`), negotiated off the
    /// book.
    pub const BLOCK_TRADE: Flags = Flags(1 << 3);

    /// Every flag with its lower-case name (as JSON and the docs spell it).
    pub const NAMED: [(Flags, &'static str); 7] = [
        (Flags::LAST, "last"),
        (Flags::DERIVED, "derived"),
        (Flags::SNAPSHOT, "snapshot"),
        (Flags::MAYBE_BAD_BOOK, "maybe_bad_book"),
        (Flags::REPLAY, "replay"),
        (Flags::VENUE_BAR, "venue_bar"),
        (Flags::BLOCK_TRADE, "block_trade"),
    ];

    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    pub const fn is_last(self) -> bool {
        self.contains(Flags::LAST)
    }

    pub const fn is_snapshot(self) -> bool {
        self.contains(Flags::SNAPSHOT)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.union(rhs)
    }
}

impl std::ops::BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

impl std::fmt::Debug for Flags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = Flags::NAMED
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, name)| name.to_uppercase())
            .collect();
        write!(
            f,
            "Flags({})",
            if names.is_empty() {
                "-".to_string()
            } else {
                names.join("|")
            }
        )
    }
}
