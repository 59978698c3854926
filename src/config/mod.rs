//! tickd's configuration file: plain serde types, one file per section, and the rules
//! `tickd check-config` applies.
//!
//! ```toml
//! [bus]               # BusConfig
//! [venues.binance]    # VenueConfig, one table per venue
//! [sim]               # SimConfig
//! [storage]           # StorageConfig (+ [storage.questdb])
//! [gateway]           # GatewayConfig (+ [[gateway.api_keys]])
//! [nats]              # NatsConfig: scale-out (feed node or edge node)
//! ```
//!
//! [`load_config`] reports every problem at once, each as `path: problem — how to fix`.
//! Checks are offline: symbols are checked for syntax and duplicates, not against the
//! venue's instrument list; URLs for scheme and shape, not reachability.

pub mod bus;
pub mod channel;
pub mod checks;
pub mod error;
pub mod gateway;
mod lenient;
mod load;
mod names;
pub mod nats;
pub mod overrides;
pub mod sim;
pub mod storage;
pub mod venue;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tickd_bus::Venue;

pub use bus::BusConfig;
pub use channel::{Channel, TimeUnit};
pub use error::{ConfigError, ConfigErrors};
pub use gateway::{ApiKey, GatewayConfig};
pub use load::{load_config, parse_config, parse_config_with_cores};
pub use nats::NatsConfig;
pub use overrides::Overrides;
pub use sim::SimConfig;
pub use storage::{FsyncPolicy, QuestDbConfig, StorageConfig};
pub use venue::VenueConfig;

/// A whole tickd configuration. Sections left out take their defaults, except `venues`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// In-process record bus.
    #[serde(default)]
    pub bus: BusConfig,
    /// Exchange connections, keyed by venue (`[venues.binance]`, `[venues.binance-usdm]`, ...).
    #[serde(default)]
    pub venues: BTreeMap<Venue, VenueConfig>,
    /// Local exchange simulator (`tickd demo`, `tickd sim`).
    #[serde(default)]
    pub sim: SimConfig,
    /// Journal and optional QuestDB sink.
    #[serde(default)]
    pub storage: StorageConfig,
    /// Subscriber-facing servers.
    #[serde(default)]
    pub gateway: GatewayConfig,
    /// Scale-out over NATS JetStream: `tickd serve` publishes, `tickd gateway` consumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nats: Option<NatsConfig>,
}

impl Config {
    /// Every rule, on this machine's cores; `Err` lists all problems.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        self.validate_with_cores(checks::available_cores())
    }

    /// [`Config::validate`] as if the machine had `cores` cores.
    pub fn validate_with_cores(&self, cores: usize) -> Result<(), ConfigErrors> {
        let mut errs = ConfigErrors::default();
        self.validate_sections(cores, &mut errs);
        self.check_some_venue_enabled(&mut errs);
        self.check_listen_conflicts(&mut errs);
        errs.into_result()
    }

    /// Enabled venues in name order.
    pub fn enabled_venues(&self) -> impl Iterator<Item = (Venue, &VenueConfig)> {
        self.venues
            .iter()
            .filter(|(_, v)| v.enabled)
            .map(|(venue, cfg)| (*venue, cfg))
    }

    pub(crate) fn validate_sections(&self, cores: usize, errs: &mut ConfigErrors) {
        self.bus.validate(errs);
        for (venue, cfg) in &self.venues {
            cfg.validate(*venue, &format!("venues.{venue}"), cores, errs);
        }
        self.sim.validate(errs);
        self.storage.validate(errs);
        self.gateway.validate(errs);
        if let Some(nats) = &self.nats {
            nats.validate(errs);
        }
    }

    /// A feed config needs a venue; an edge node's config (`[nats]`, for `tickd
    /// gateway`) may have none.
    pub(crate) fn check_some_venue_enabled(&self, errs: &mut ConfigErrors) {
        if self.nats.is_some() && self.venues.is_empty() {
            return;
        }
        if self.enabled_venues().next().is_none() {
            let problem = if self.venues.is_empty() {
                "no venues configured"
            } else {
                "no venue is enabled"
            };
            errs.push(
                "venues",
                problem,
                "add a [venues.<name>] section with enabled = true (see configs/tickd.toml)",
            );
        }
    }

    /// The simulator and the gateway run in one process for `tickd demo`: distinct ports
    /// (port 0 asks the OS for a free port, so two of those never clash).
    pub(crate) fn check_listen_conflicts(&self, errs: &mut ConfigErrors) {
        let ephemeral = self.gateway.listen.ends_with(":0");
        if self.gateway.listen == self.sim.listen && !ephemeral {
            errs.push(
                "gateway.listen",
                format!("{:?} is also sim.listen", self.gateway.listen),
                "give the gateway and the simulator different ports",
            );
        }
    }
}

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;
