//! tickd: the one binary — CLI, configuration loading and wiring of the crates.
//!
//! Other crates and subcommands load configuration with [`load_config`] (or build a
//! [`Config`] in code and call [`Config::validate`]).

pub mod cli;
pub mod cmd;
pub mod config;
pub mod exit;
pub mod logging;
pub mod shutdown;

pub use config::{load_config, Config, ConfigError, ConfigErrors};
pub use exit::{CmdResult, Failure};
