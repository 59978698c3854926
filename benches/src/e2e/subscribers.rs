//! The gateway (WebSocket + QUIC) on its own runtime, and N subscribers (the Rust
//! client) on another, each recording simulator send → decoded-in-the-client latency.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use tickd_bus::ring::Bus;
use tickd_bus::SharedRegistry;
use tickd_feed::sim::SimSymbol;
use tickd_gateway::client::{Client, ClientConfig, Event, Trust};
use tickd_gateway::metrics::Hop;
use tickd_gateway::protocol::SlowPolicy;
use tickd_gateway::{Gateway, GatewayConfig, GatewayHandle};

use super::hist::{new_small_hist, now_ns, record_delta, Summary};
use super::scenario::is_timed;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Ws,
    Quic,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Ws => "ws",
            Transport::Quic => "quic",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Binary,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Binary => "binary",
        }
    }

    fn protocol(self) -> tickd_gateway::protocol::Encoding {
        match self {
            Encoding::Json => tickd_gateway::protocol::Encoding::Json,
            Encoding::Binary => tickd_gateway::protocol::Encoding::Binary,
        }
    }
}

struct ClientHists {
    send_to_client: Histogram<u64>,
    read_to_client: Histogram<u64>,
    gaps: u64,
    /// Why the connection ended early or the first frame it could not decode.
    ended: Option<String>,
}

/// A running gateway with its subscribers.
pub struct Running {
    server_rt: tokio::runtime::Runtime,
    client_rt: tokio::runtime::Runtime,
    gateway: GatewayHandle,
    clients: Vec<tokio::task::JoinHandle<ClientHists>>,
    stop: Arc<AtomicBool>,
    delivered: Arc<AtomicU64>,
}

/// What the subscribers and the gateway measured.
pub struct SubscriberResult {
    pub send_to_client: Summary,
    pub read_to_client: Summary,
    /// From the gateway's own histograms, over the measurement window.
    pub router: Summary,
    pub socket_write: Summary,
    pub drops: u64,
    pub gaps: u64,
    /// Distinct reasons subscribers' connections ended early.
    pub errors: Vec<String>,
}

/// Start the gateway on `bus` and `subscribers` clients; subscriber `i` takes the book
/// of symbol `i % symbols.len()` (strategies subscribe to instruments, not firehoses).
pub fn start(
    transport: Transport,
    encoding: Encoding,
    subscribers: usize,
    symbols: &[SimSymbol],
    bus: Bus,
    registry: SharedRegistry,
    measuring: Arc<AtomicBool>,
) -> anyhow::Result<Running> {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("srv-gateway")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("sub")
        .enable_all()
        .build()?;
    let config = GatewayConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        quic_listen: (transport == Transport::Quic).then(|| ([127, 0, 0, 1], 0).into()),
        subscriber_queue: 65_536,
        // Every subscriber connects from 127.0.0.1.
        max_connections_per_ip: 0,
        ..GatewayConfig::default()
    };
    let gateway = server_rt.block_on(Gateway::start(config, bus, registry, None))?;
    let transport_cfg = match transport {
        Transport::Ws => {
            tickd_gateway::client::Transport::Ws(format!("ws://{}/v1/stream", gateway.local_addr()))
        }
        Transport::Quic => tickd_gateway::client::Transport::Quic {
            addr: gateway
                .quic_addr()
                .ok_or_else(|| anyhow::anyhow!("QUIC not bound"))?,
            server_name: "localhost".into(),
        },
    };
    let trust = match gateway.quic_cert() {
        Some(cert) => Trust::Cert(cert.to_vec()),
        None => Trust::default(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let delivered = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::with_capacity(subscribers);
    for i in 0..subscribers {
        let sym = symbols
            .get(i % symbols.len().max(1))
            .ok_or_else(|| anyhow::anyhow!("no symbols"))?;
        let config = ClientConfig::new(transport_cfg.clone())
            .encoding(encoding.protocol())
            .policy(SlowPolicy::Drop)
            .reconnect(false)
            .streams([format!("book.binance.{}-{}", sym.base, sym.quote)])
            .trust(trust.clone());
        let client = client_rt.block_on(Client::connect(config))?;
        let (stop, delivered, measuring) = (stop.clone(), delivered.clone(), measuring.clone());
        clients.push(client_rt.spawn(pump(client, stop, delivered, measuring)));
    }
    Ok(Running {
        server_rt,
        client_rt,
        gateway,
        clients,
        stop,
        delivered,
    })
}

async fn pump(
    mut client: Client,
    stop: Arc<AtomicBool>,
    delivered: Arc<AtomicU64>,
    measuring: Arc<AtomicBool>,
) -> ClientHists {
    let mut h = ClientHists {
        send_to_client: new_small_hist(),
        read_to_client: new_small_hist(),
        gaps: 0,
        ended: None,
    };
    while !stop.load(Relaxed) {
        match client.next_timeout(Duration::from_millis(100)).await {
            Some(Event::Record { record, .. }) => {
                let now = now_ns();
                if measuring.load(Relaxed) {
                    delivered.fetch_add(1, Relaxed);
                    let hd = record.header();
                    if is_timed(hd) {
                        record_delta(&mut h.send_to_client, hd.ts_event, now);
                        record_delta(&mut h.read_to_client, hd.ts_recv, now);
                    }
                }
            }
            Some(Event::Gap { lost, .. }) if measuring.load(Relaxed) => h.gaps += lost.max(1),
            // No reconnect configured: the client has ended.
            // The client reports frames it could not decode this way too, and keeps
            // reading; only a real end (no reconnect configured) stops the loop.
            Some(Event::Disconnected(why)) => {
                let undecodable = why.starts_with("undecodable");
                h.ended.get_or_insert(why);
                if !undecodable {
                    break;
                }
            }
            Some(_) | None => {}
        }
    }
    h
}

fn percentiles(g: &GatewayHandle, hop: Hop) -> Summary {
    let (p50, p99, p999, max, count) = g.metrics().percentiles(hop);
    Summary {
        count,
        p50,
        p90: 0, // the gateway's accessor exposes p50/p99/p99.9/max only
        p99,
        p999,
        max,
    }
}

impl Running {
    /// The measurement starts: the gateway's hop histograms drop the warm-up, when
    /// the router caught up on the records published before it started.
    pub fn start_measuring(&self) {
        self.gateway.metrics().reset_latencies();
    }

    /// Records delivered to subscribers while measuring, so far.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Relaxed)
    }

    /// Stop the subscribers and the gateway; merge what they measured. Call outside
    /// any runtime.
    pub fn finish(self) -> SubscriberResult {
        self.stop.store(true, Relaxed);
        let mut send_to_client = super::hist::new_hist();
        let mut read_to_client = super::hist::new_hist();
        let mut gaps = 0;
        let mut errors: Vec<String> = Vec::new();
        let clients = self.clients;
        let hists: Vec<ClientHists> = self.client_rt.block_on(async move {
            let mut all = Vec::with_capacity(clients.len());
            for task in clients {
                if let Ok(h) = task.await {
                    all.push(h);
                }
            }
            all
        });
        for h in &hists {
            let _ = send_to_client.add(&h.send_to_client);
            let _ = read_to_client.add(&h.read_to_client);
            gaps += h.gaps;
            if let Some(why) = &h.ended {
                if !errors.contains(why) && errors.len() < 5 {
                    errors.push(why.clone());
                }
            }
        }
        let m = self.gateway.metrics();
        let drops =
            m.drops.load(Relaxed) + m.conflated.load(Relaxed) + m.slow_disconnects.load(Relaxed);
        let router = percentiles(&self.gateway, Hop::Router);
        let socket_write = percentiles(&self.gateway, Hop::Send);
        self.server_rt.block_on(self.gateway.shutdown());
        self.client_rt.shutdown_timeout(Duration::from_secs(2));
        self.server_rt.shutdown_timeout(Duration::from_secs(2));
        SubscriberResult {
            send_to_client: Summary::of(&send_to_client),
            read_to_client: Summary::of(&read_to_client),
            router,
            socket_write,
            drops,
            gaps,
            errors,
        }
    }
}
