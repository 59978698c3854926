//! `[sim]`: the local exchange simulator used by `tickd demo` and `tickd sim`.

use serde::{Deserialize, Serialize};

use super::checks;
use super::error::ConfigErrors;

/// Simulator settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Address the simulator serves its WebSocket and REST endpoints on (`host:port`).
    pub listen: String,
    /// Number of synthetic instruments per venue.
    pub symbols: u32,
    /// Messages per second across all symbols.
    pub rate: u64,
    /// Random seed: the same seed gives the same stream.
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: "127.0.0.1:9100".into(),
            symbols: 4,
            rate: 2000,
            seed: 1,
        }
    }
}

impl SimConfig {
    pub fn validate(&self, errs: &mut ConfigErrors) {
        checks::listen_addr(errs, "sim.listen", &self.listen);
        checks::in_range(errs, "sim.symbols", self.symbols.into(), 1, 10_000);
        checks::in_range(errs, "sim.rate", self.rate, 1, 10_000_000);
    }
}
