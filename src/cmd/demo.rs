//! `tickd demo`: the simulator and the server in one process — tickd working end to
//! end on this machine, no exchange access needed.

use std::net::SocketAddr;
use std::path::PathBuf;

use tickd_feed::sim::{protocol_for, SimConfig, SimServer, SimSymbol};

use super::serve::{apply_overrides, duration_arg, Engine};
use crate::config::{load_config, parse_config, Config, Overrides};
use crate::exit::{CmdResult, Failure};

/// The built-in demo configuration (the same as configs/demo.toml).
const BUILT_IN: &str = include_str!("../../configs/demo.toml");
const BUILT_IN_NAME: &str = "<built-in demo config>";

/// Run the local exchange simulator and serve it, until Ctrl-C
///
/// Starts the exchange simulator (a synthetic market for every configured venue it
/// has a protocol for, on loopback) and the feeds of `tickd serve` against it, in
/// one process. Settings come
/// from --config, else configs/demo.toml built in. Every venue's status line is logged
/// every --status-every seconds.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
    tickd demo                    # until Ctrl-C
    tickd demo --duration 20      # bounded, for scripts and CI
    tickd demo --listen 127.0.0.1:8090 --data /tmp/tickd-demo")]
pub struct Args {
    /// Configuration file [default: the built-in configs/demo.toml]
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Stop after this many seconds instead of waiting for Ctrl-C
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,

    /// Log each venue's status line every this many seconds (0 = never)
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub status_every: u64,

    #[command(flatten)]
    pub overrides: Overrides,
}

pub fn run(args: Args) -> CmdResult {
    let mut config = match &args.config {
        Some(path) => load_config(path).map_err(|errs| Failure::config(path, &errs))?,
        None => parse_config(BUILT_IN)
            .map_err(|errs| Failure::config(std::path::Path::new(BUILT_IN_NAME), &errs))?,
    };
    let file = args
        .config
        .as_deref()
        .unwrap_or(std::path::Path::new(BUILT_IN_NAME));
    apply_overrides(&args.overrides, &mut config, file)?;
    let duration = duration_arg(args.duration)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // Before anything starts, so a signal during start-up stops the run cleanly.
        let stop = crate::shutdown::StopListener::install();
        let sim = start_sim(&config).await?;
        let addr = sim.local_addr();
        point_venues_at(&mut config, addr);
        tracing::info!("demo: simulator on {addr}; starting the feeds");
        let mut engine = Engine::start_feed_node(&config).await?;
        engine.start_services(&config).await?;
        let result = engine
            .run_until_stopped(args.status_every, duration, stop)
            .await;
        let stats = sim.stats();
        tracing::info!(
            connections = stats.connections_accepted,
            events = stats.events_generated,
            frames = stats.frames_sent,
            rest = stats.rest_requests,
            "simulator stopped"
        );
        sim.shutdown().await;
        result
    })
}

async fn start_sim(config: &Config) -> Result<SimServer, Failure> {
    let per_venue = config.sim.symbols as usize;
    // Every enabled venue the simulator has a protocol for (the adapter registry's).
    let symbols: Vec<SimSymbol> = config
        .enabled_venues()
        .filter(|(venue, _)| protocol_for(*venue).is_some())
        .flat_map(|(venue, _)| SimSymbol::generate(venue, per_venue))
        .collect();
    let sim_config = |listen: SocketAddr| SimConfig {
        listen,
        symbols: symbols.clone(),
        rate_per_sec: u32::try_from(config.sim.rate).unwrap_or(u32::MAX),
        seed: config.sim.seed,
        ..SimConfig::default()
    };
    let wanted: SocketAddr = config
        .sim
        .listen
        .parse()
        .map_err(|e| Failure::Invalid(format!("sim.listen {:?}: {e}", config.sim.listen)))?;
    match SimServer::start(sim_config(wanted)).await {
        Ok(sim) => Ok(sim),
        Err(err) => {
            // The usual port is taken (another demo?): any free loopback port will do,
            // since the feeds are pointed at wherever the simulator ends up.
            tracing::warn!("{err}; using a free port instead");
            SimServer::start(sim_config(SocketAddr::from(([127, 0, 0, 1], 0))))
                .await
                .map_err(|e| Failure::Runtime(e.into()))
        }
    }
}

/// Every venue the simulator speaks connects to it; the others are disabled.
fn point_venues_at(config: &mut Config, addr: SocketAddr) {
    for (venue, cfg) in config.venues.iter_mut() {
        if let Some(protocol) = protocol_for(*venue) {
            cfg.ws_url = format!("ws://{addr}{}", protocol.ws_prefix(*venue));
            cfg.rest_url = format!("http://{addr}");
        } else {
            cfg.enabled = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_config_is_valid_and_points_at_the_sim() {
        let mut config = parse_config(BUILT_IN).expect("valid");
        point_venues_at(&mut config, "127.0.0.1:4242".parse().expect("addr"));
        let urls: Vec<_> = config
            .enabled_venues()
            .map(|(_, c)| c.ws_url.clone())
            .collect();
        assert!(!urls.is_empty());
        assert!(urls.iter().all(|u| u.starts_with("ws://127.0.0.1:4242")));
    }
}
