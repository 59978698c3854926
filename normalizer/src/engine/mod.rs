//! The shapes every venue's wire format plugs into (pure: no sockets, no clocks).
//!
//! A venue folder (`normalizer/src/<venue>/`) implements:
//! - [`FrameDecoder`]: WebSocket frames ([`Frame::Text`] or [`Frame::Binary`]) and
//!   REST bodies → records pushed to a sink, plus one [`VenueEvent`] per frame
//!   (book events, control replies, pings to answer, notices);
//! - [`SequenceRule`]: how that venue's book events link, where snapshots come from
//!   and how a book is checksummed. [`BookSync`] is the one book procedure every
//!   venue uses with its rule;
//! - a [`TradeIds`] kind, which tells the feed's exactly-once merge how to
//!   deduplicate trades.
//!
//! The feed's venue engine (`feed/src/engine/`) drives these, live or from a capture.

pub(crate) mod book_object;
mod book_sync;
mod event;
mod frame;
mod rule;
pub(crate) mod text_frame;

pub use book_sync::{BookSync, BookSyncStats, SyncAction, SyncState};
pub use event::{BookEvent, BookSnapshot, ConnCounter, ControlReply, Notice, VenueEvent};
pub use frame::{Frame, FrameDecoder, RestEvent, RestKind};
pub use rule::{ImageIds, Link, SequenceRule, SnapshotSource, Splice, TradeIds};
