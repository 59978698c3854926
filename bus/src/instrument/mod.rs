//! The instrument registry: `(venue, raw symbol) → u32` id, stable across restarts.
//!
//! Feeds fill it from each venue's instrument list ([`InstrumentRegistry::upsert`]);
//! records carry the id; the gateway, CLI and storage turn what users type
//! (`BTC-USDT-PERP`, or the venue's own `BTCUSDT`) back into the id with
//! [`InstrumentRegistry::resolve`]. The registry is saved as readable JSON next to
//! the journal ([`InstrumentRegistry::open`] / [`save`](InstrumentRegistry::save)).

mod error;
mod kind;
mod persist;
mod registry;
mod spec;

#[cfg(test)]
mod persist_tests;
#[cfg(test)]
mod tests;

pub use error::RegistryError;
pub use kind::{Date, InstrumentKind, OptionRight};
pub use persist::{temp_path, FORMAT_VERSION, REGISTRY_FILE_NAME};
pub use registry::InstrumentRegistry;
pub use spec::{Instrument, InstrumentSpec};

/// Shared between the feeds (which upsert while starting) and readers (gateway,
/// storage). Writes are rare; readers take the read lock briefly.
pub type SharedRegistry = std::sync::Arc<std::sync::RwLock<InstrumentRegistry>>;
