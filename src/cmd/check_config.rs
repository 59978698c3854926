//! `tickd check-config FILE`: validate a config file offline and report every problem.

use std::path::PathBuf;

use crate::config::load_config;
use crate::exit::{CmdResult, Failure};

/// Check a config file and report every problem with its field path and how to fix it
///
/// Reads the TOML file and checks every section: [bus], [venues.<name>], [sim], [storage]
/// (+ [storage.questdb]), [gateway] (+ [[gateway.api_keys]]) and [nats] (servers, node and
/// stream names, limits, one credential method, TLS files): unknown keys, value types,
/// venue names, channels each venue offers, symbol syntax and duplicates, URL schemes,
/// listen addresses and ports, core ids that exist on this machine, TLS files, API keys
/// and limits. All problems are listed, one per line, as `path: problem — how to fix`.
///
/// The check is offline: symbols are checked for syntax, not against the exchange's
/// instrument list, and URLs are not contacted.
///
/// Exit code 0 when the file is valid, 2 when it is not.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n    tickd check-config configs/tickd.toml")]
pub struct Args {
    /// The TOML config file, e.g. configs/tickd.toml or configs/demo.toml
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// When valid, print the effective configuration with every default filled in, as
    /// TOML on stdout (the verdict goes to stderr, so `--print > effective.toml` works)
    #[arg(long)]
    pub print: bool,
}

pub fn run(args: Args) -> CmdResult {
    let config = load_config(&args.file).map_err(|errs| Failure::config(&args.file, &errs))?;
    let venues: Vec<&str> = config.enabled_venues().map(|(v, _)| v.as_str()).collect();
    // With --print, stdout is the TOML alone (pipe it into a file); the verdict goes to stderr.
    let say = |line: String| {
        if args.print {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    say(format!(
        "{}: ok ({} venue{} enabled: {})",
        args.file.display(),
        venues.len(),
        if venues.len() == 1 { "" } else { "s" },
        venues.join(", ")
    ));
    // Enabled venues no adapter feeds yet: valid config, but `serve` skips them.
    for (venue, _) in config.enabled_venues() {
        if tickd_feed::engine::registry::adapter(venue).is_none() {
            say(format!(
                "note: {venue} has no feed yet and will be skipped (feeds: {})",
                tickd_feed::engine::registry::registered_names()
            ));
        }
    }
    if args.print {
        let text = toml::to_string(&config)
            .map_err(|e| anyhow::anyhow!("cannot print the configuration: {e}"))?;
        print!("{text}");
    }
    Ok(())
}
