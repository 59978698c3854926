//! `tickd sim`: run the local exchange simulator until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tickd_bus::Venue;
use tickd_feed::sim::{
    protocol_for, protocols, FaultConfig, ReplayPace, RestError, SendTimeUnit, SimConfig,
    SimServer, SimSource, SimSymbol, SkipDepth, Stall,
};

use crate::config::load_config;
use crate::exit::{CmdResult, Failure};

/// Run a local exchange simulator on loopback
///
/// Serves each venue's real protocol on one port, for every venue with a simulator
/// protocol in the adapter registry. Binance spot + USD-M: WebSocket `/ws/<streams>`,
/// `/stream?streams=..` (spot) and `/public/...`, `/market/...` (USD-M), with
/// SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS, the inbound message limit, pings,
/// lifetime and `serverShutdown`; REST `/api/v3/depth`, `/api/v3/exchangeInfo`,
/// `/fapi/v1/depth`, `/fapi/v1/exchangeInfo` and `/fapi/v1/openInterest`. Other venues
/// with --venue.
///
/// Data is a synthetic market (books, trades, bookTicker, depth diffs with U/u/pu and
/// REST snapshots that agree) at --rate events per second, or a capture file replayed
/// with --replay. Faults are injected with the --drop-every .. --rest-error options.
/// Stats are printed to stderr every --stats-every seconds; Ctrl-C stops.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
    tickd sim --spot 4 --usdm 2 --rate 5000
    tickd sim --spot BTCUSDT,ETHBTC --usdm none --skip-depth 500:3 --send-time ns
    tickd sim --replay capture.jsonl.zst --pace max
Then connect to ws://127.0.0.1:9100/stream?streams=btcusdt@depth@100ms")]
pub struct Args {
    /// Read defaults (listen, symbols, rate, seed) from the [sim] section of this config
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address to serve on [default: 127.0.0.1:9100]
    #[arg(long, value_name = "ADDR", env = "TICKD_SIM_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Spot symbols: a count (BTCUSDT, ETHUSDT, ... generated), a comma list of raw
    /// symbols (BTCUSDT,ETHBTC), or "none" [default: 4]
    #[arg(long, value_name = "N|LIST")]
    pub spot: Option<String>,

    /// USD-M futures symbols, as --spot [default: 4]
    #[arg(long, value_name = "N|LIST")]
    pub usdm: Option<String>,

    /// Symbols of any venue the simulator speaks, as VENUE=N|LIST (repeatable), e.g.
    /// okx=2 or okx=BTC-USDT,BTC-USDT-SWAP
    #[arg(long = "venue", value_name = "VENUE=N|LIST")]
    pub venues: Vec<String>,

    /// Synthetic market steps (book changes or trades) per second over all symbols
    /// [default: 2000]
    #[arg(long, value_name = "N")]
    pub rate: Option<u32>,

    /// Send one depthUpdate per symbol every MS milliseconds holding all changes since
    /// the last (Binance: 100 or 1000); without it, one per book change
    #[arg(long, value_name = "MS")]
    pub depth_interval: Option<u64>,

    /// Random seed; the same seed gives the same market
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Replay this capture file (JSON Lines, .zst allowed) instead of the synthetic market
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,

    /// Replay pace: "recorded", "max", or frames per second
    #[arg(long, value_name = "recorded|max|N", default_value = "recorded", value_parser = parse_pace)]
    pub pace: ReplayPace,

    /// Start the replay over when it ends
    #[arg(long)]
    pub repeat: bool,

    /// Put each frame's send time in its event-time field E, in "us" or "ns"
    #[arg(long, value_name = "us|ns", value_parser = parse_unit)]
    pub send_time: Option<SendTimeUnit>,

    /// Close each connection after this many seconds (Binance: 86400)
    #[arg(long, value_name = "SECS", default_value_t = 86_400.0)]
    pub lifetime: f64,

    /// Send serverShutdown before closing a connection at its lifetime
    #[arg(long)]
    pub shutdown_notice: bool,

    /// Server ping interval in seconds for both venues [default: spot 20, USD-M 180]
    #[arg(long, value_name = "SECS")]
    pub ping_interval: Option<f64>,

    /// Close a client that has not answered a ping within this many seconds
    /// [default: spot 60, USD-M 600]
    #[arg(long, value_name = "SECS")]
    pub pong_timeout: Option<f64>,

    /// Fault: drop every connection (no close frame) this many seconds after it opened
    #[arg(long, value_name = "SECS", help_heading = "Faults")]
    pub drop_every: Option<f64>,

    /// Fault: after every EVERY depth events of a symbol, skip COUNT (a sequence gap)
    #[arg(long, value_name = "EVERY:COUNT", value_parser = parse_pair, help_heading = "Faults")]
    pub skip_depth: Option<(u32, u32)>,

    /// Fault: every Nth frame of a connection is invalid JSON
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub malformed_every: Option<u32>,

    /// Fault: every Nth frame is cut in half
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub truncated_every: Option<u32>,

    /// Fault: every Nth frame is padded to --oversized-bytes
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub oversized_every: Option<u32>,

    /// Size of oversized frames
    #[arg(long, value_name = "BYTES", default_value_t = 2 << 20, help_heading = "Faults")]
    pub oversized_bytes: usize,

    /// Fault: AFTER seconds into each connection, stop sending for SECS seconds
    #[arg(long, value_name = "AFTER:SECS", value_parser = parse_stall, help_heading = "Faults")]
    pub stall: Option<Stall>,

    /// Fault: refuse the first N connection attempts
    #[arg(long, value_name = "N", default_value_t = 0, help_heading = "Faults")]
    pub refuse_first: u32,

    /// Fault: refuse every Nth connection attempt
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub refuse_every: Option<u32>,

    /// Fault: answer REST with STATUS (429 or 418) and Retry-After: SECS, for the first
    /// N requests (0 = all)
    #[arg(long, value_name = "STATUS:N:SECS", value_parser = parse_rest_error, help_heading = "Faults")]
    pub rest_error: Option<RestError>,

    /// Fault: REST depth snapshots are N depth events old (stale lastUpdateId)
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub stale_snapshot: Option<u32>,

    /// Fault (spot): every Nth depth event is sent merged with the previous one
    /// (an overlapping U..u range)
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub overlap_every: Option<u32>,

    /// Fault: every Nth depth event also deletes a level no book has
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub unknown_delete_every: Option<u32>,

    /// Fault (OKX): every Nth book update of a connection carries a wrong checksum
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub bad_checksum_every: Option<u32>,

    /// Fault (OKX): books start without their image on the stream (clients splice a
    /// REST snapshot, as after OKX removes it)
    #[arg(long, help_heading = "Faults")]
    pub no_snapshot: bool,

    /// Fault (Bybit): every Nth book update of a connection is a fresh image with
    /// `u == 1`, as after a Bybit service restart
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub restart_snapshot_every: Option<u32>,

    /// Fault (Coinbase): every Nth heartbeat of a connection skips one
    /// `heartbeat_counter` value (its message numbers stay continuous)
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub skip_heartbeat_every: Option<u32>,
    /// Fault: from its Nth server ping on, a connection's pings are lost on the
    /// way, so it is cut at the pong deadline (venues whose server pings: HTX)
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub lose_pings_from: Option<u32>,

    /// Print stats to stderr every this many seconds (0 = never)
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub stats_every: u64,
}

fn parse_pace(s: &str) -> Result<ReplayPace, String> {
    match s {
        "recorded" => Ok(ReplayPace::Recorded),
        "max" => Ok(ReplayPace::Max),
        n => n
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .map(ReplayPace::Rate)
            .ok_or_else(|| format!("{n:?}: expected recorded, max or a rate > 0")),
    }
}

fn parse_unit(s: &str) -> Result<SendTimeUnit, String> {
    match s {
        "us" | "micros" => Ok(SendTimeUnit::Micros),
        "ns" | "nanos" => Ok(SendTimeUnit::Nanos),
        _ => Err(format!("{s:?}: expected us or ns")),
    }
}

fn parse_pair(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s
        .split_once(':')
        .ok_or("expected EVERY:COUNT, e.g. 500:3")?;
    let n = |v: &str| {
        v.parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(format!("{v:?} is not a count > 0"))
    };
    Ok((n(a)?, n(b)?))
}

fn secs(v: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(v).map_err(|_| format!("{v}: expected seconds >= 0"))
}

fn parse_stall(s: &str) -> Result<Stall, String> {
    let (a, b) = s.split_once(':').ok_or("expected AFTER:SECS, e.g. 30:5")?;
    let f = |v: &str| {
        v.parse::<f64>()
            .map_err(|_| format!("{v:?} is not a number"))
            .and_then(secs)
    };
    Ok(Stall {
        after: f(a)?,
        duration: f(b)?,
    })
}

fn parse_rest_error(s: &str) -> Result<RestError, String> {
    let mut parts = s.split(':');
    let status = match parts.next() {
        Some("429") => 429,
        Some("418") => 418,
        _ => return Err("status must be 429 or 418".into()),
    };
    let num = |v: Option<&str>, default: u32| {
        v.map_or(Ok(default), |v| {
            v.parse().map_err(|_| format!("{v:?} is not a number"))
        })
    };
    Ok(RestError {
        status,
        first: num(parts.next(), 0)?,
        retry_after_secs: num(parts.next(), 60)?,
    })
}

fn symbols(venue: Venue, spec: &str) -> Result<Vec<SimSymbol>, String> {
    if spec == "none" {
        return Ok(Vec::new());
    }
    if let Ok(n) = spec.parse::<usize>() {
        return Ok(SimSymbol::generate(venue, n));
    }
    spec.split(',')
        .enumerate()
        .map(|(i, raw)| {
            SimSymbol::from_raw(venue, raw.trim(), i).ok_or_else(|| {
                format!("{raw:?}: not a raw {venue} symbol (e.g. BTCUSDT, BTC-USDT)")
            })
        })
        .collect()
}

fn build(args: &Args) -> Result<SimConfig, Failure> {
    let base = match &args.config {
        Some(path) => {
            load_config(path)
                .map_err(|errs| Failure::config(path, &errs))?
                .sim
        }
        None => crate::config::SimConfig::default(),
    };
    let bad = |msg: String| Failure::from(anyhow::anyhow!(msg));
    let listen = match args.listen {
        Some(a) => a,
        None => base
            .listen
            .parse()
            .map_err(|e| bad(format!("sim.listen {:?}: {e}", base.listen)))?,
    };
    let default_count = base.symbols.to_string();
    let mut syms = symbols(
        Venue::Binance,
        args.spot.as_deref().unwrap_or(&default_count),
    )
    .map_err(bad)?;
    syms.extend(
        symbols(
            Venue::BinanceUsdm,
            args.usdm.as_deref().unwrap_or(&default_count),
        )
        .map_err(bad)?,
    );
    for spec in &args.venues {
        let (name, list) = spec
            .split_once('=')
            .ok_or_else(|| bad(format!("--venue {spec:?}: expected VENUE=N|LIST")))?;
        let venue: Venue = name
            .parse()
            .map_err(|_| bad(format!("--venue {spec:?}: unknown venue {name:?}")))?;
        if protocol_for(venue).is_none() {
            let served: Vec<&str> = protocols()
                .iter()
                .flat_map(|p| p.venues())
                .map(|v| v.as_str())
                .collect();
            return Err(bad(format!(
                "--venue {spec:?}: the simulator does not speak {venue} (it speaks {})",
                served.join(", ")
            )));
        }
        syms.extend(symbols(venue, list).map_err(bad)?);
    }
    let mut config = SimConfig {
        listen,
        symbols: syms,
        rate_per_sec: args
            .rate
            .unwrap_or(u32::try_from(base.rate).unwrap_or(u32::MAX)),
        seed: args.seed.unwrap_or(base.seed),
        source: match &args.replay {
            Some(path) => SimSource::Replay {
                path: path.clone(),
                pace: args.pace,
                repeat: args.repeat,
            },
            None => SimSource::Synthetic,
        },
        max_connection_lifetime: secs(args.lifetime).map_err(bad)?,
        shutdown_notice_at_lifetime: args.shutdown_notice,
        depth_interval: args.depth_interval.map(Duration::from_millis),
        send_time_unit: args.send_time,
        faults: FaultConfig {
            drop_after: args.drop_every.map(secs).transpose().map_err(bad)?,
            skip_depth: args.skip_depth.map(|(every, count)| SkipDepth {
                every,
                count,
                symbol: None,
                max_per_connection: 0,
            }),
            malformed_every: args.malformed_every,
            truncated_every: args.truncated_every,
            oversized_every: args.oversized_every,
            oversized_bytes: args.oversized_bytes,
            stall: args.stall,
            refuse_first: args.refuse_first,
            refuse_every: args.refuse_every,
            rest_error: args.rest_error,
            stale_snapshot_events: args.stale_snapshot,
            overlap_every: args.overlap_every,
            unknown_delete_every: args.unknown_delete_every,
            bad_checksum_every: args.bad_checksum_every,
            no_initial_snapshot: args.no_snapshot,
            restart_snapshot_every: args.restart_snapshot_every,
            skip_heartbeat_every: args.skip_heartbeat_every,
            lose_pings_from: args.lose_pings_from,
        },
        // A long-running server keeps no per-connection trade-id lists (tests do).
        trade_record_cap: 0,
        ..SimConfig::default()
    };
    let mut venues: Vec<Venue> = config.symbols.iter().map(|s| s.venue).collect();
    venues.dedup();
    for venue in venues {
        let rules = config.rules_mut(venue);
        // Only venues whose server pings (Binance) have an interval to change.
        if let (Some(p), Some(_)) = (args.ping_interval, rules.ping_interval) {
            rules.ping_interval = Some(secs(p).map_err(bad)?.max(Duration::from_millis(1)));
        }
        if let Some(p) = args.pong_timeout {
            rules.pong_timeout = secs(p).map_err(bad)?;
        }
    }
    Ok(config)
}

pub fn run(args: Args) -> CmdResult {
    let config = build(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let sim = SimServer::start(config).await.map_err(anyhow::Error::from)?;
        eprintln!("tickd sim: serving on {} (ws://{0}/ws/<stream>, http://{0}/api/v3/depth?symbol=..)", sim.local_addr());
        let every = Duration::from_secs(args.stats_every.max(1));
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let stop = crate::shutdown::stop_requested();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = tick.tick(), if args.stats_every > 0 => {
                    let s = sim.stats();
                    eprintln!(
                        "conns open {} accepted {}; events {} (behind {}); frames {}; rest {}; faults {:?}; gaps {}",
                        s.connections_open, s.connections_accepted, s.events_generated, s.events_behind,
                        s.frames_sent, s.rest_requests, s.faults, s.gaps.len()
                    );
                }
            }
        }
        sim.shutdown().await;
        Ok::<(), Failure>(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn flags_build_a_config() {
        let t = T::try_parse_from([
            "t",
            "--spot",
            "BTCUSDT,ETHBTC",
            "--usdm",
            "none",
            "--rate",
            "10",
            "--skip-depth",
            "500:3",
            "--rest-error",
            "418:2:30",
            "--stall",
            "1:0.5",
            "--send-time",
            "ns",
            "--pace",
            "max",
            "--ping-interval",
            "0.2",
        ])
        .expect("valid flags");
        let c = build(&t.args).expect("config");
        let names: Vec<_> = c
            .symbols
            .iter()
            .map(|s| (s.base.as_str(), s.quote.as_str()))
            .collect();
        assert_eq!(names, [("BTC", "USDT"), ("ETH", "BTC")]);
        assert_eq!(c.rate_per_sec, 10);
        assert_eq!(
            c.faults.skip_depth.as_ref().map(|s| (s.every, s.count)),
            Some((500, 3))
        );
        assert_eq!(
            c.faults.rest_error,
            Some(RestError {
                status: 418,
                first: 2,
                retry_after_secs: 30
            })
        );
        assert_eq!(
            c.faults.stall.map(|s| s.duration),
            Some(Duration::from_millis(500))
        );
        assert_eq!(c.send_time_unit, Some(SendTimeUnit::Nanos));
        assert_eq!(
            c.rules(Venue::Binance).ping_interval,
            Some(Duration::from_millis(200))
        );
        assert!(T::try_parse_from(["t", "--rest-error", "500"]).is_err());
        assert!(T::try_parse_from(["t", "--pace", "fast"]).is_err());
        assert!(build(&T::try_parse_from(["t", "--spot", "BTC"]).unwrap().args).is_err());
    }
}
