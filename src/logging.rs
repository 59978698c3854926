//! Logging to stderr with `tracing-subscriber`: `--log-level` if given, else `RUST_LOG`,
//! else `info`; human-readable text (colours only on a terminal) or one JSON object per
//! line for log shippers (`--log-format json`).

use std::io::IsTerminal;

use tracing_subscriber::filter::{filter_fn, FilterExt};
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

use crate::exit::Failure;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event; ANSI colours only when stderr is a terminal.
    #[default]
    Text,
    /// One JSON object per line (timestamp, level, target, message and fields).
    Json,
}

/// Installs the global subscriber. `level` is a level (`debug`) or a full filter
/// (`info,tickd_feed=trace`), with the same syntax as `RUST_LOG`.
pub fn init(level: Option<&str>, format: LogFormat) -> Result<(), Failure> {
    let filter = match level {
        Some(spec) => EnvFilter::try_new(spec).map_err(|e| {
            Failure::Invalid(format!(
                "--log-level {spec:?}: {e} — use error, warn, info, debug, trace or a RUST_LOG filter"
            ))
        })?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    // Never a line from code that could print NATS credentials.
    let filter = filter.and(filter_fn(|meta| {
        !tickd_nats::settings::log_holds_secrets(meta)
    }));
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    // A second init (tests calling into the CLI twice) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => tracing_subscriber::registry()
            .with(
                layer
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_filter(filter),
            )
            .try_init(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(
                layer
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_filter(filter),
            )
            .try_init(),
    };
    Ok(())
}
