//! The record bodies. Each is `#[repr(C)]`, a multiple of 8 bytes, no implicit padding.

use super::enums::{BookAction, BookSide, RecordType, Side, StatusKind, StatusReason};
use super::header::RecordHeader;
use super::Record;
use crate::decimal::{Notional, Price, Rate, Size};

/// `StatusMsg::lost` when the number of lost updates is not known.
pub const LOST_UNKNOWN: u64 = u64::MAX;

macro_rules! record {
    ($(#[$meta:meta])* $name:ident = $rtype:ident $(wide $wide:expr;)? { $($(#[$fmeta:meta])* pub $field:ident : $ty:ty),+ $(,)? }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            bytemuck::Pod,
            bytemuck::Zeroable,
            rkyv::Archive,
            rkyv::Serialize,
            rkyv::Deserialize,
        )]
        #[rkyv(derive(Debug, PartialEq))]
        pub struct $name {
            pub hd: RecordHeader,
            $($(#[$fmeta])* pub $field: $ty),+
        }

        impl super::schema::HasFields for $name {
            const FIELDS: &'static [super::schema::Field] = &[
                $(super::schema::Field::of::<$ty>(
                    stringify!($field),
                    std::mem::offset_of!($name, $field),
                    concat!($(stringify!($fmeta), "\n"),*),
                )),+
            ];
            $(const WIDE: &'static [super::schema::Wide] = $wide;)?
        }

        impl Record for $name {
            const RTYPE: RecordType = RecordType::$rtype;
            #[inline]
            fn header(&self) -> &RecordHeader {
                &self.hd
            }
            #[inline]
            fn header_mut(&mut self) -> &mut RecordHeader {
                &mut self.hd
            }
        }
    };
}

record! {
    /// One trade. 88 bytes.
    TradeMsg = Trade {
        pub price: Price,
        pub size: Size,
        /// The venue's trade id: numeric ids in full; 128-bit ids (Bybit's UUIDs) use
        /// `trade_id_hi` too, which is 0 otherwise.
        pub trade_id: u64,
        pub trade_id_hi: u64,
        /// Aggressor [`Side`].
        pub side: u8,
        pub _reserved: [u8; 7],
    }
}

impl TradeMsg {
    pub fn side(&self) -> Side {
        Side::from_repr(self.side).unwrap_or(Side::Unknown)
    }

    /// The trade id as the venue wrote it: a decimal number, or a UUID for 128-bit ids.
    pub fn trade_id_string(&self) -> String {
        if self.trade_id_hi == 0 {
            self.trade_id.to_string()
        } else {
            let v = (u128::from(self.trade_id_hi) << 64) | u128::from(self.trade_id);
            let h = format!("{v:032x}");
            format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            )
        }
    }
}

record! {
    /// Best bid and offer. 96 bytes. A side the venue left empty is [`Price::UNDEF`] with size 0.
    BboMsg = Bbo {
        pub bid_price: Price,
        pub bid_size: Size,
        pub ask_price: Price,
        pub ask_size: Size,
    }
}

record! {
    /// One book level change, or the `Clear` that starts a snapshot image. 80 bytes.
    ///
    /// An exchange event that touches many levels is many deltas; the last carries
    /// [`super::Flags::LAST`]. A full image is a `Clear` then `Set`s, all flagged
    /// SNAPSHOT, the last also LAST.
    BookDeltaMsg = BookDelta {
        pub price: Price,
        /// New size at `price`; 0 deletes the level.
        pub size: Size,
        /// The venue's own update id for the event (Binance `u`, OKX `seqId`, Bybit `seq`, ...), 0 if none.
        pub update_id: u64,
        /// [`BookSide`].
        pub side: u8,
        /// [`BookAction`].
        pub action: u8,
        pub _reserved: [u8; 6],
    }
}

impl BookDeltaMsg {
    pub fn side(&self) -> Option<BookSide> {
        BookSide::from_repr(self.side)
    }

    pub fn action(&self) -> Option<BookAction> {
        BookAction::from_repr(self.action)
    }
}

record! {
    /// OHLCV bar over `[ts_event, ts_event + interval)`. 152 bytes.
    ///
    /// Volume is the exact sum of trade sizes (a [`Size`], scale 18); notional the exact
    /// sum of price × size (scale 42, [`crate::decimal::NOTIONAL_SCALE`]); VWAP is
    /// derived: [`Notional::vwap`].
    BarMsg = Bar {
        pub interval_s: u32,
        pub trade_count: u32,
        pub open: Price,
        pub high: Price,
        pub low: Price,
        pub close: Price,
        pub volume: Size,
        /// Σ price × size, exact, at scale 42.
        pub notional: Notional,
    }
}

impl BarMsg {
    pub fn notional(&self) -> Notional {
        self.notional
    }

    pub fn set_notional(&mut self, value: Notional) {
        self.notional = value;
    }

    /// Volume-weighted average price (truncated to the price's places); `None` when
    /// the bar has no volume.
    pub fn vwap(&self) -> Option<Price> {
        self.notional.vwap(self.volume)
    }
}

record! {
    /// Mark price and funding. 88 bytes. Fields the venue does not send are `UNDEF` (0 for time).
    MarkFundingMsg = MarkFunding {
        pub mark_price: Price,
        pub index_price: Price,
        pub funding_rate: Rate,
        /// Next funding time, ns since the epoch.
        pub next_funding_time: u64,
    }
}

record! {
    /// A liquidation order. 72 bytes.
    LiquidationMsg = Liquidation {
        pub price: Price,
        pub size: Size,
        /// [`Side`] of the liquidation order.
        pub side: u8,
        pub _reserved: [u8; 7],
    }
}

impl LiquidationMsg {
    pub fn side(&self) -> Side {
        Side::from_repr(self.side).unwrap_or(Side::Unknown)
    }
}

record! {
    /// Open interest. 64 bytes.
    OpenInterestMsg = OpenInterest {
        /// In contracts or base units, as the venue reports it.
        pub open_interest: Size,
        /// In quote currency, `UNDEF` when the venue does not send it.
        pub open_interest_value: Size,
    }
}

record! {
    /// Connection, gap and resync events, travelling in the data so every consumer sees them. 56 bytes.
    StatusMsg = Status {
        /// [`StatusKind`].
        pub kind: u8,
        pub _reserved: u8,
        /// [`StatusReason`].
        pub reason: u16,
        /// Connection number within the venue, when it applies.
        pub conn: u32,
        /// Updates lost in a gap, [`LOST_UNKNOWN`] if not known.
        pub lost: u64,
        /// Extra context: the sequence number expected, the venue error code, ...
        pub detail: u64,
    }
}

impl StatusMsg {
    pub fn kind(&self) -> Option<StatusKind> {
        StatusKind::from_repr(self.kind)
    }

    pub fn reason(&self) -> Option<StatusReason> {
        StatusReason::from_repr(self.reason)
    }
}
