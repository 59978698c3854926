//! The command line: global options and one `Command` variant per subcommand.
//! Each variant wraps the `Args` of its module in `src/cmd/`; its help text lives there.

use clap::{Parser, Subcommand};

use crate::cmd;

const ABOUT: &str = "tickd: low-latency crypto market-data server and feed handler";

const LONG_ABOUT: &str = "\
tickd: low-latency crypto market-data server and feed handler.

It connects to exchanges' public WebSocket feeds (binance, binance-usdm, okx, bybit,
coinbase, kraken), normalizes every message into compact fixed-size records, stores them
in an embedded journal and serves them to subscribers over WebSocket, QUIC and HTTP.

Quick start, no exchange access needed (simulator + server, dashboard on :8080):

    tickd demo

The real exchanges, set in one TOML file (check it first):

    tickd check-config configs/tickd.toml
    tickd serve -c configs/tickd.toml
    tickd tail 'trades.binance.*'

Scale-out (docs/scale-out.md): feed nodes publish to NATS JetStream with a [nats]
section in their config; edge nodes serve subscribers from NATS:

    tickd serve -c feed.toml       # feed node: [venues.*] + [nats]
    tickd gateway -c edge.toml     # edge node: [nats] + [gateway], no venues";

const AFTER_HELP: &str = "\
Exit codes: 0 success, 2 invalid input or configuration, 1 failure at run time.
Logging goes to stderr; set it with --log-level or RUST_LOG (e.g. RUST_LOG=debug).";

#[derive(Debug, Parser)]
#[command(name = "tickd", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
#[command(propagate_version = true, arg_required_else_help = true)]
pub struct Cli {
    /// Log filter: error, warn, info, debug, trace, or RUST_LOG syntax such as
    /// "info,tickd_feed=debug". Overrides RUST_LOG.
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,

    /// Log line format: "text" (colours only on a terminal) or "json" (one object per
    /// line, for log shippers)
    #[arg(
        long,
        global = true,
        value_name = "FORMAT",
        default_value = "text",
        env = "TICKD_LOG_FORMAT"
    )]
    pub log_format: crate::logging::LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands; add yours as one line here and one dispatch line in `main.rs`.
#[derive(Debug, Subcommand)]
pub enum Command {
    CheckConfig(cmd::check_config::Args),
    Sim(Box<cmd::sim::Args>),
    Serve(cmd::serve::Args),
    Gateway(cmd::gateway::Args),
    Demo(cmd::demo::Args),
    Record(cmd::record::Args),
    Replay(cmd::replay::Args),
    Bars(cmd::bars::Args),
    Trades(cmd::trades::Args),
    Tail(cmd::tail::Args),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_check_config() {
        let cli = Cli::try_parse_from(["tickd", "--log-level", "debug", "check-config", "a.toml"])
            .expect("valid command line");
        assert_eq!(cli.log_level.as_deref(), Some("debug"));
        let Command::CheckConfig(args) = cli.command else {
            panic!("parsed as another subcommand");
        };
        assert_eq!(args.file, std::path::PathBuf::from("a.toml"));
    }
}
