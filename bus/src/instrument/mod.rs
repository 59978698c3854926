//! The instrument registry: `(venue, raw symbol) → u32` id, stable across restarts.
//!
//! Feeds fill it from each venue's instrument list ([`InstrumentRegistry::upsert`]);
//! records carry the id; the gateway, CLI and storage turn what users type
//! (`BTC-USDT-PERP`, or the venue's own `BTCUSDT`) back into the id with
//! [`InstrumentRegistry::resolve`]. The registry is saved as readable JSON next to
//! the journal ([`InstrumentRegistry::open`] / [`save`](InstrumentRegistry::save)).
//!
//! ```
//! use tickd_bus::{InstrumentKind, InstrumentRegistry, InstrumentSpec, Price, Size, Venue};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join(tickd_bus::instrument::REGISTRY_FILE_NAME);
//! let mut registry = InstrumentRegistry::open(&path)?; // empty: no file yet
//! let id = registry.upsert(InstrumentSpec {
//!     venue: Venue::Okx,
//!     raw_symbol: "BTC-USDT-SWAP".into(),
//!     base: "BTC".into(),
//!     quote: "USDT".into(),
//!     kind: InstrumentKind::Perpetual,
//!     tick_size: Price::parse_str("0.1")?,
//!     step_size: Size::parse_str("0.01")?,
//!     contract: None,
//! })?;
//! registry.save()?;
//!
//! let reopened = InstrumentRegistry::open(&path)?;
//! let perp = reopened.resolve(Venue::Okx, "btc-usdt-perp").expect("registered");
//! assert_eq!((perp.id, perp.symbol.as_str()), (id, "BTC-USDT-PERP"));
//! assert_eq!(reopened.by_raw(Venue::Okx, "BTC-USDT-SWAP").map(|i| i.id), Some(id));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod contract;
mod error;
mod kind;
mod persist;
mod registry;
mod spec;

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
mod persist_tests;
#[cfg(test)]
mod scoped_tests;
#[cfg(test)]
mod tests;

pub use contract::{ContractSpec, ContractType};
pub use error::RegistryError;
pub use kind::{Date, InstrumentKind, OptionRight};
pub use persist::{temp_path, FORMAT_VERSION, REGISTRY_FILE_NAME};
pub use registry::{venue_id_range, InstrumentRegistry, VENUE_ID_SHIFT};
pub use spec::{Instrument, InstrumentSpec};

/// Shared between the feeds (which upsert while starting) and readers (gateway,
/// storage). Writes are rare; readers take the read lock briefly.
pub type SharedRegistry = std::sync::Arc<std::sync::RwLock<InstrumentRegistry>>;
