//! One-byte and two-byte codes stored in records. The numbers are part of the
//! journal and binary protocol formats: add new values, never renumber.

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident : $repr:ty { $($(#[$vmeta:meta])* $variant:ident = $value:expr => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[repr($repr)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $value),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn from_repr(value: $repr) -> Option<Self> {
                match value {
                    $($value => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The lower-case name used in JSON and the CLI.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_enum! {
    /// Which record body follows the header.
    RecordType: u8 {
        Trade = 1 => "trade",
        Bbo = 2 => "bbo",
        BookDelta = 3 => "book",
        Bar = 4 => "bar",
        MarkFunding = 5 => "funding",
        Liquidation = 6 => "liquidation",
        OpenInterest = 7 => "oi",
        Status = 8 => "status",
    }
}

impl RecordType {
    pub const fn from_u8(value: u8) -> Option<Self> {
        Self::from_repr(value)
    }

    /// Size in bytes of records of this type.
    pub const fn record_size(self) -> usize {
        use super::types::*;
        use std::mem::size_of;
        match self {
            RecordType::Trade => size_of::<TradeMsg>(),
            RecordType::Bbo => size_of::<BboMsg>(),
            RecordType::BookDelta => size_of::<BookDeltaMsg>(),
            RecordType::Bar => size_of::<BarMsg>(),
            RecordType::MarkFunding => size_of::<MarkFundingMsg>(),
            RecordType::Liquidation => size_of::<LiquidationMsg>(),
            RecordType::OpenInterest => size_of::<OpenInterestMsg>(),
            RecordType::Status => size_of::<StatusMsg>(),
        }
    }
}

code_enum! {
    /// Aggressor side of a trade, or the side of a liquidation order.
    Side: u8 {
        Unknown = 0 => "unknown",
        Buy = 1 => "buy",
        Sell = 2 => "sell",
    }
}

code_enum! {
    /// Side of the book a level is on.
    BookSide: u8 {
        Bid = 1 => "bid",
        Ask = 2 => "ask",
    }
}

code_enum! {
    /// What a book delta does.
    BookAction: u8 {
        /// Set the level at `price` to `size`; size 0 deletes the level.
        Set = 1 => "set",
        /// Clear the whole book: the first record of a SNAPSHOT image.
        Clear = 2 => "clear",
    }
}

code_enum! {
    /// What a status record reports.
    StatusKind: u8 {
        Connected = 1 => "connected",
        Disconnected = 2 => "disconnected",
        /// Updates were lost; `lost` says how many when known.
        Gap = 3 => "gap",
        /// The instrument's book is being rebuilt; a SNAPSHOT image follows.
        BookResync = 4 => "book_resync",
        SubscriptionRejected = 5 => "subscription_rejected",
        /// Subscriptions were sent again after a reconnect.
        Resubscribed = 6 => "resubscribed",
        /// The venue announced its trading state (Kraken `status`): `reason` is
        /// `venue_online`, `venue_maintenance`, `venue_cancel_only` or `venue_post_only`.
        VenueStatus = 7 => "venue_status",
    }
}

code_enum! {
    /// Why a status record was sent.
    StatusReason: u16 {
        None = 0 => "none",
        /// Venue sequence numbers skipped.
        SequenceGap = 1 => "sequence_gap",
        /// The venue's book checksum did not match ours.
        ChecksumMismatch = 2 => "checksum_mismatch",
        /// Best bid at or above best ask.
        CrossedBook = 3 => "crossed_book",
        /// A bus consumer fell a full ring behind.
        BusLagged = 4 => "bus_lagged",
        /// The connection closed or failed.
        ConnectionLost = 5 => "connection_lost",
        /// No data within the stale-stream threshold.
        StaleStream = 6 => "stale_stream",
        /// The venue announced a shutdown or maintenance.
        ServerShutdown = 7 => "server_shutdown",
        /// Planned reconnect before the venue's connection lifetime ends.
        LifetimeRotation = 8 => "lifetime_rotation",
        /// The venue refused a subscription.
        SubscriptionError = 9 => "subscription_error",
        /// The venue rate-limited us.
        RateLimited = 10 => "rate_limited",
        /// The storage writer fell behind the bus.
        WriterLagged = 11 => "writer_lagged",
        /// A subscriber's queue overflowed.
        SubscriberLagged = 12 => "subscriber_lagged",
        /// First connection at start-up.
        Startup = 13 => "startup",
        /// A frame could not be decoded.
        MalformedFrame = 14 => "malformed_frame",
        /// The REST snapshot could not be fetched.
        SnapshotFailed = 15 => "snapshot_failed",
        /// Records between a feed node and an edge node were lost on the way (beyond
        /// the NATS stream's retention, or never stored).
        RelayLost = 16 => "relay_lost",
        /// The venue trades normally.
        VenueOnline = 17 => "venue_online",
        /// The venue is down for maintenance: books may freeze.
        VenueMaintenance = 18 => "venue_maintenance",
        /// The venue accepts only cancels: books may freeze.
        VenueCancelOnly = 19 => "venue_cancel_only",
        /// The venue accepts only post-only orders.
        VenuePostOnly = 20 => "venue_post_only",
        /// A replay stepped over damaged journal blocks: records may be missing.
        JournalDamaged = 21 => "journal_damaged",
        /// The journal could not write (disk full, I/O error): `lost` of this venue's
        /// records are not in it. Written when the journal writes again.
        JournalWriteFailed = 22 => "journal_write_failed",
    }
}
