//! tickd-bus: the schema every other crate shares.
//!
//! - [`record`]: fixed-size normalized records with a common header;
//! - [`decimal`]: exact fixed-point prices, sizes and rates;
//! - [`instrument`]: the instrument registry (stable ids, symbols, persistence);
//! - [`venue`]: the venues and the names users type.

pub mod channel;
pub mod decimal;
pub mod instrument;
pub mod record;
pub mod ring;
pub mod venue;

pub use channel::Channel;
pub use decimal::{DecimalError, Fixed, Price, Rate, Size};
pub use instrument::{
    ContractSpec, ContractType, Date, Instrument, InstrumentKind, InstrumentRegistry,
    InstrumentSpec, OptionRight, RegistryError, SharedRegistry,
};
pub use record::{Flags, Record, RecordBuf, RecordHeader, RecordRef, RecordType, LOST_UNKNOWN};
pub use venue::Venue;
