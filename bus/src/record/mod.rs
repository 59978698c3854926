//! Normalized records: small fixed-size `#[repr(C)]` structs with a common header.
//!
//! Modelled on Databento's DBN. Every record starts with a [`RecordHeader`]; the
//! header's `rtype` says which body follows and `length` how long the record is.
//! Records are [`bytemuck::Pod`] (no padding, every bit pattern valid) and derive
//! rkyv's `Archive`: on little-endian machines their archived bytes are their own
//! bytes, so what a feed publishes is what the journal stores and what a binary
//! subscriber receives, with no re-encoding. `layout_tests.rs` pins every offset.

mod any;
mod enums;
mod header;
pub mod schema;
mod types;
pub mod v1;

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
#[cfg(test)]
mod layout_tests;
#[cfg(test)]
mod schema_files;

pub use any::{RecordBuf, RecordError, RecordRef};
pub use enums::{BookAction, BookSide, RecordType, Side, StatusKind, StatusReason};
pub use header::{Flags, RecordHeader};
pub use types::{
    BarMsg, BboMsg, BookDeltaMsg, LiquidationMsg, MarkFundingMsg, OpenInterestMsg, StatusMsg,
    TradeMsg, LOST_UNKNOWN,
};

/// Largest record, in bytes: the size of a bus slot's payload (the bar).
pub const MAX_RECORD_SIZE: usize = 152;

/// The record layout version, as databento's DBN versions its records. Journal
/// segment headers and the gateway's `hello` carry it.
///
/// - 1: `Price` i64 at 1e-9, `Size` i64 at 1e-8, `Rate` i64 at 1e-16, notional i128
///   at 1e-17 (records of 48 to 96 bytes); still read, see [`v1`].
/// - 2: `Price` i128 at 1e-24, `Size` and `Rate` i128 at 1e-18, notional 256-bit at
///   1e-42 (records of 56 to 152 bytes).
pub const RECORD_VERSION: u16 = 2;

/// A record type: a `Pod` struct that starts with a [`RecordHeader`].
pub trait Record: bytemuck::Pod + std::fmt::Debug + PartialEq + Send + Sync + 'static {
    const RTYPE: RecordType;

    fn header(&self) -> &RecordHeader;
    fn header_mut(&mut self) -> &mut RecordHeader;

    /// The record's bytes, exactly as they travel on the bus, in the journal and
    /// on a binary subscription.
    fn as_bytes(&self) -> &[u8] {
        bytemuck::bytes_of(self)
    }
}
