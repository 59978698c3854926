//! `tickd tail`: subscribe to a running tickd's gateway and print live records.

use std::io::Write as _;
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::time::Duration;

use tickd_gateway::client::display::{gap_line, json_line, readable};
use tickd_gateway::client::{cert_from_pem_file, Client, ClientConfig, Event, Transport, Trust};
use tickd_gateway::protocol::{Encoding, ErrorCode, Pattern, ServerMessage, SlowPolicy};

use crate::exit::{CmdResult, Failure};

mod names;
use names::SymbolNames;

/// Print live records from a tickd gateway
///
/// Subscribes to stream patterns (<channel>.<venue>.<symbol>, any part may be `*`) over
/// WebSocket (default) or QUIC, prints each record on one line, reports gaps, and
/// reconnects and resubscribes if the connection drops. Stops with Ctrl-C, or after
/// --count records or --duration seconds.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
    tickd tail 'trades.binance.*'
    tickd tail 'book.binance.BTC-USDT' 'bbo.*.ETH-USDT' --json | jq .
    tickd tail 'trades.okx.*' --quic 127.0.0.1:8443 --cert server.pem
    tickd tail 'trades.binance.*' --url wss://md.example:8080/v1/stream --cert server.pem
    tickd tail 'trades.binance.BTC-USDT' --from 2026-01-01T12:00:00Z   # replay, then live")]
pub struct Args {
    /// Stream patterns, e.g. 'trades.binance.*' (quote them: the shell expands `*`)
    #[arg(required = true, value_name = "PATTERN")]
    pub patterns: Vec<String>,

    /// WebSocket URL of the gateway
    #[arg(
        long,
        default_value = "ws://127.0.0.1:8080/v1/stream",
        value_name = "URL"
    )]
    pub url: String,

    /// Connect over QUIC to this HOST:PORT instead of WebSocket
    #[arg(long, value_name = "HOST:PORT")]
    pub quic: Option<String>,

    /// PEM certificate to trust for QUIC or wss:// (the server's own, when self-signed)
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub cert: Option<PathBuf>,

    /// Accept any server certificate for QUIC or wss:// (encrypted, but the server is not
    /// authenticated: for test servers whose certificate you do not have)
    #[arg(long)]
    pub insecure: bool,

    /// Replay from this time first (RFC 3339, a date, or ns since the epoch), then go live
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,

    /// One JSON object per line (the protocol's `data` and `gap` objects), for machines
    #[arg(long)]
    pub json: bool,

    /// Ask for binary records on the wire (printing is the same: symbols come from the
    /// gateway's GET /v1/instruments, at --url's host and port)
    #[arg(long)]
    pub binary: bool,

    /// API key (or set TICKD_API_KEY)
    #[arg(long, env = "TICKD_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// What the server does if this client falls behind: conflate, drop or disconnect
    #[arg(long, default_value = "drop", value_parser = ["conflate", "drop", "disconnect"])]
    pub policy: String,

    /// Stop after this many records
    #[arg(long)]
    pub count: Option<u64>,

    /// Stop after this many seconds
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
}

pub fn run(args: Args) -> CmdResult {
    for pattern in &args.patterns {
        Pattern::parse(pattern).map_err(|e| Failure::Invalid(e.to_string()))?;
    }
    let trust = match &args.cert {
        Some(path) => {
            Trust::Cert(cert_from_pem_file(path).map_err(|e| Failure::Invalid(e.to_string()))?)
        }
        None if args.insecure => Trust::Insecure,
        None => Trust::WebRoots,
    };
    let transport = match &args.quic {
        None => Transport::Ws(args.url.clone()),
        Some(hostport) => {
            let addr = hostport
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .ok_or_else(|| {
                    Failure::Invalid(format!("--quic {hostport:?}: expected HOST:PORT"))
                })?;
            let server_name = hostport
                .rsplit_once(':')
                .map_or("localhost", |(host, _)| host)
                .to_string();
            Transport::Quic { addr, server_name }
        }
    };
    let policy = match args.policy.as_str() {
        "conflate" => SlowPolicy::Conflate,
        "disconnect" => SlowPolicy::Disconnect,
        _ => SlowPolicy::Drop,
    };
    let mut config = ClientConfig::new(transport)
        .trust(trust)
        .streams(args.patterns.iter().cloned())
        .policy(policy)
        .encoding(if args.binary {
            Encoding::Binary
        } else {
            Encoding::Json
        });
    config.api_key = args.api_key.clone();
    let names = match args.binary {
        true => Some(SymbolNames::new(
            &args.url,
            args.api_key.clone(),
            &config.trust,
        )?),
        false => None,
    };
    if let Some(from) = &args.from {
        config = config.from(from.clone());
    }
    let deadline = args
        .duration
        .map(|s| {
            Duration::try_from_secs_f64(s)
                .map_err(|_| Failure::Invalid(format!("--duration {s}: expected seconds ≥ 0")))
        })
        .transpose()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(tail(config, names, args.json, args.count, deadline))
}

async fn tail(
    config: ClientConfig,
    mut names: Option<SymbolNames>,
    json: bool,
    count: Option<u64>,
    duration: Option<Duration>,
) -> CmdResult {
    let mut client = Client::connect(config)
        .await
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("{e}")))?;
    let stop = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stop);
    let signal = crate::shutdown::stop_requested();
    tokio::pin!(signal);
    let stdout = std::io::stdout();
    let mut printed = 0u64;
    loop {
        let event = tokio::select! {
            event = client.next() => event,
            _ = &mut stop => return Ok(()),
            _ = &mut signal => return Ok(()),
        };
        let Some(event) = event else {
            return Err(Failure::Runtime(anyhow::anyhow!("the connection ended")));
        };
        let line = match event {
            Event::Record { mut stream, record } => {
                printed += 1;
                if let Some(names) = &mut names {
                    stream = names.name(stream).await;
                }
                Some(if json {
                    json_line(&stream, &record)
                } else {
                    readable(&stream, &record)
                })
            }
            Event::Gap {
                mut stream,
                lost,
                reason,
            } => {
                if let Some(names) = &mut names {
                    stream = names.name(stream).await;
                }
                Some(if json {
                    gap_line(&stream, lost, &reason)
                } else {
                    format!("GAP {stream}: {lost} records lost ({reason})")
                })
            }
            Event::Control(ServerMessage::Error {
                code: ErrorCode::Unauthorized,
                message,
                ..
            }) => {
                // Reconnecting cannot help a refused key: stop with the server's reason.
                return Err(Failure::Invalid(format!(
                    "the server refused the API key: {message}"
                )));
            }
            Event::Control(ServerMessage::Error { code, message, .. }) => {
                eprintln!("server error ({code:?}): {message}");
                None
            }
            Event::Control(ServerMessage::Closing { reason }) => {
                eprintln!("server closing: {reason}");
                None
            }
            Event::Control(ServerMessage::Ack { op, streams, .. }) if op == "subscribe" => {
                eprintln!("subscribed: {}", streams.join(", "));
                None
            }
            Event::Control(_) => None,
            Event::Disconnected(reason) => {
                eprintln!("disconnected: {reason}; reconnecting");
                None
            }
            Event::Reconnected => {
                eprintln!("reconnected");
                None
            }
        };
        if let Some(line) = line {
            let mut out = stdout.lock();
            if writeln!(out, "{line}").is_err() {
                return Ok(()); // stdout closed (e.g. `| head`)
            }
        }
        if count.is_some_and(|n| printed >= n) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::record::TradeMsg;
    use tickd_bus::ring::{ring, Bus};
    use tickd_bus::{
        InstrumentKind, InstrumentRegistry, InstrumentSpec, Price, RecordBuf, RecordHeader, Size,
        Venue,
    };
    use tickd_gateway::{Gateway, GatewayConfig};

    /// `tail` against a real gateway: it subscribes, prints, and stops after --count.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tails_a_live_gateway_until_count() {
        let mut registry = InstrumentRegistry::new();
        let id = registry
            .upsert(InstrumentSpec {
                venue: Venue::Binance,
                raw_symbol: "BTCUSDT".into(),
                base: "BTC".into(),
                quote: "USDT".into(),
                kind: InstrumentKind::Spot,
                tick_size: Price::from_raw(1),
                step_size: Size::from_raw(1),
                contract: None,
            })
            .unwrap();
        let (mut producer, handle) = ring(1024);
        let mut bus = Bus::new();
        bus.add(handle);
        let config = GatewayConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..GatewayConfig::default()
        };
        let gateway = Gateway::start(config, bus, registry.into_shared(), None)
            .await
            .unwrap();
        let url = format!("ws://{}/v1/stream", gateway.local_addr());
        let client = ClientConfig::new(Transport::Ws(url)).streams(["trades.binance.*"]);
        let tail = tokio::spawn(tail(
            client,
            None,
            true,
            Some(3),
            Some(Duration::from_secs(15)),
        ));
        // Publish until tail has printed its three records (it may subscribe late).
        let mut seq = 0;
        while !tail.is_finished() && seq < 10_000 {
            seq += 1;
            let mut hd = RecordHeader::new::<TradeMsg>(Venue::Binance, id, seq, seq);
            hd.sequence = seq;
            producer.publish(&RecordBuf::new(&TradeMsg {
                hd,
                price: Price::from_raw(1),
                size: Size::from_raw(1),
                trade_id: seq,
                trade_id_hi: 0,
                side: 1,
                _reserved: [0; 7],
            }));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(tail.await.unwrap().is_ok());
        assert!(seq >= 3);
        // --binary: ids become symbols through the gateway's /v1/instruments; an id it
        // does not list stays an id.
        let url = format!("ws://{}/v1/stream", gateway.local_addr());
        let mut names = SymbolNames::new(&url, None, &Trust::WebRoots).unwrap();
        assert_eq!(
            names.name(format!("trades.binance.#{id}")).await,
            "trades.binance.BTC-USDT"
        );
        assert_eq!(
            names.name("bbo.binance.#999".into()).await,
            "bbo.binance.#999"
        );
        // A URL without the stream path: the error names the URL and the right path.
        let wrong = format!("ws://{}/", gateway.local_addr());
        let client = ClientConfig::new(Transport::Ws(wrong.clone())).streams(["trades.binance.*"]);
        let err = super::tail(client, None, true, Some(1), Some(Duration::from_secs(5)))
            .await
            .expect_err("no stream at /");
        let text = format!("{err:?}");
        assert!(
            text.contains(&wrong) && text.contains("/v1/stream"),
            "{text}"
        );
        gateway.shutdown().await;
    }
}
