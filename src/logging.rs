//! Logging to stderr with `tracing-subscriber`: `--log-level` if given, else `RUST_LOG`,
//! else `info`.

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
    // A second init (tests calling into the CLI twice) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    Ok(())
}
