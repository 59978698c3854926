//! The venue engine: one core for every exchange, driven live or from a capture.
//!
//! - [`adapter`]: the [`adapter::VenueAdapter`] trait a venue family implements
//!   (limits, endpoints, connection plan, subscribe/resubscribe messages, keep-alive,
//!   trade-id kind) on top of its normalizer `FrameDecoder` and `SequenceRule`;
//! - [`core`]: the sans-I/O core (decode → merge → book sync → publisher);
//! - [`live`]: the driver with sockets, REST pacing, watchdog and rotation;
//! - [`replay`]: the driver with capture lines;
//! - [`registry`]: the one list of adapters every command reads.

pub mod adapter;
pub mod core;
pub(crate) mod gate;
pub mod instruments;
pub mod live;
mod recent;
pub mod registry;
pub mod replay;
