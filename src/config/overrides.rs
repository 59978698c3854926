//! Settings a deployment changes without editing the TOML file: command-line flags, each
//! with a `TICKD_*` environment variable (containers, systemd units). Applied after the
//! file is loaded, then the whole configuration is checked again.

use std::path::PathBuf;

use super::{Config, ConfigErrors};

/// `--listen`, `--data`, `--sim-listen` for `serve` and `demo`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Overrides {
    /// Gateway address (HTTP, WebSocket, dashboard), overriding [gateway] listen,
    /// e.g. 0.0.0.0:8080 in a container
    #[arg(long, value_name = "ADDR", env = "TICKD_LISTEN")]
    pub listen: Option<String>,

    /// Journal directory, overriding [storage] dir
    #[arg(long, value_name = "DIR", env = "TICKD_DATA")]
    pub data: Option<PathBuf>,

    /// Simulator address for `tickd demo`, overriding [sim] listen
    #[arg(long, value_name = "ADDR", env = "TICKD_SIM_LISTEN")]
    pub sim_listen: Option<String>,
}

impl Overrides {
    /// Apply the given overrides and check the result as `load_config` checks a file.
    pub fn apply(&self, config: &mut Config) -> Result<(), ConfigErrors> {
        if let Some(listen) = &self.listen {
            config.gateway.listen.clone_from(listen);
        }
        if let Some(dir) = &self.data {
            config.storage.dir.clone_from(dir);
        }
        if let Some(listen) = &self.sim_listen {
            config.sim.listen.clone_from(listen);
        }
        config.validate()
    }

    /// What an error in an overridden setting should point at.
    pub fn describe(&self) -> String {
        let mut set = Vec::new();
        if self.listen.is_some() {
            set.push("--listen/TICKD_LISTEN");
        }
        if self.data.is_some() {
            set.push("--data/TICKD_DATA");
        }
        if self.sim_listen.is_some() {
            set.push("--sim-listen/TICKD_SIM_LISTEN");
        }
        set.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_the_file_and_are_checked() {
        let mut config =
            super::super::parse_config(include_str!("../../configs/demo.toml")).expect("valid");
        let overrides = Overrides {
            listen: Some("0.0.0.0:9999".into()),
            data: Some("/var/lib/tickd".into()),
            sim_listen: Some("127.0.0.1:9200".into()),
        };
        overrides.apply(&mut config).expect("valid overrides");
        assert_eq!(config.gateway.listen, "0.0.0.0:9999");
        assert_eq!(config.storage.dir, PathBuf::from("/var/lib/tickd"));
        assert_eq!(config.sim.listen, "127.0.0.1:9200");

        let bad = Overrides {
            listen: Some("not an address".into()),
            ..Overrides::default()
        };
        let errs = bad
            .apply(&mut config)
            .expect_err("a bad address is reported");
        assert!(errs.to_string().contains("listen"), "{errs}");
    }
}
