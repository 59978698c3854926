//! Logging to stderr with `tracing-subscriber`: `--log-level` if given, else `RUST_LOG`,
//! else `info`.

use tracing_subscriber::filter::{filter_fn, FilterExt};
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

use crate::exit::Failure;

/// Installs the global subscriber. `level` is a level (`debug`) or a full filter
/// (`info,tickd_feed=trace`), with the same syntax as `RUST_LOG`.
pub fn init(level: Option<&str>) -> Result<(), Failure> {
    let filter = match level {
        Some(spec) => EnvFilter::try_new(spec).map_err(|e| {
            Failure::Invalid(format!(
                "--log-level {spec:?}: {e} — use error, warn, info, debug, trace or a RUST_LOG filter"
            ))
        })?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter.and(filter_fn(|meta| {
            !tickd_nats::settings::log_holds_secrets(meta)
        })));
    // A second init (tests calling into the CLI twice) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(layer).try_init();
    Ok(())
}
