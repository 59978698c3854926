//! The accept loop: one port serves WebSocket upgrades and plain HTTP/1.1 REST, routed
//! by path. The upgrade handshake is done here (so a refused or unknown path gets a
//! real HTTP status), then the socket becomes a `WebSocketStream`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use tickd_bus::Venue;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

use super::config::{SimConfig, SimSource};
use super::faults::FaultCounters;
use super::market::Market;
use super::protocol::{protocol_for, protocols, SimView};
use super::replay::{self, RestReplay};
use super::state::{Counters, Outbound, Shared, SimMarketHandle, SimStats};
use super::{generator, rest, session, SimError};

const MAX_HEAD: usize = 16 * 1024;
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SimServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl SimServer {
    /// Bind, and start serving on the current tokio runtime.
    pub async fn start(config: SimConfig) -> Result<SimServer, SimError> {
        // Each symbol's venue must have a simulator protocol in the adapter registry;
        // every protocol serves its paths (a capture replay has no symbols).
        if let Some(s) = config
            .symbols
            .iter()
            .find(|s| protocol_for(s.venue).is_none())
        {
            return Err(SimError::Venue(s.venue, s.raw.clone()));
        }
        let protocols = protocols();
        let entries = match &config.source {
            SimSource::Replay { path, .. } => replay::load_capture(path)?,
            SimSource::Synthetic => Vec::new(),
        };
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| SimError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| SimError::Listen {
            addr: config.listen,
            source,
        })?;
        let symbol_index: HashMap<(Venue, String), u32> = config
            .symbols
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.venue, s.raw.to_ascii_lowercase()), i as u32))
            .collect();
        let mut market = Market::new(
            &config.symbols,
            config.seed,
            config.history_len,
            config.book_depth,
        );
        market.batch_depth = config.depth_interval.is_some_and(|d| !d.is_zero());
        let (tx, _) = broadcast::channel(config.queue_len.max(16));
        let shared = Arc::new(Shared {
            market: Mutex::new(market),
            symbols: config.symbols.clone(),
            symbol_index,
            protocols,
            faults: RwLock::new(config.faults.clone()),
            tx,
            counters: Counters::default(),
            per_ip: Default::default(),
            fault_counters: FaultCounters::default(),
            gaps: Mutex::new(Vec::new()),
            conns: Mutex::new(Vec::new()),
            shutdown: watch::channel(false).0,
            rest_replay: RestReplay::from_entries(&entries),
            first_subscribe: Notify::new(),
            subscribed_once: AtomicBool::new(false),
            config,
        });
        let mut tasks = vec![tokio::spawn(accept_loop(listener, shared.clone()))];
        match shared.config.source.clone() {
            SimSource::Synthetic => tasks.push(tokio::spawn(generator::run(shared.clone()))),
            SimSource::Replay { pace, repeat, .. } => tasks.push(tokio::spawn(replay::run(
                shared.clone(),
                entries,
                pace,
                repeat,
            ))),
        }
        Ok(SimServer {
            shared,
            addr,
            tasks,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn market(&self) -> SimMarketHandle {
        SimMarketHandle {
            shared: self.shared.clone(),
        }
    }

    pub fn stats(&self) -> SimStats {
        self.shared.stats()
    }

    /// Send `serverShutdown` on every open connection (they stay open).
    pub fn announce_shutdown(&self) {
        let _ = self.shared.tx.send(Arc::new(Outbound::ShutdownNotice));
    }

    /// Drop every open connection at once, without a close frame (counted as
    /// drops): the clients' reconnect storm.
    pub fn drop_connections(&self) {
        let _ = self.shared.tx.send(Arc::new(Outbound::Drop));
    }

    /// Send `serverShutdown`, close every connection, stop generating.
    pub async fn shutdown(self) {
        let _ = self.shared.shutdown.send(true);
        for t in &self.tasks {
            t.abort();
        }
        // Sessions close themselves on the signal; wait a bounded time for them.
        for _ in 0..200 {
            if self.shared.counters.open.load(Relaxed) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        let _ = self.shared.shutdown.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let attempts = AtomicU64::new(0);
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            // Out of file descriptors and the like: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let n = attempts.fetch_add(1, Relaxed) + 1;
        if shared.faults.read().refuses(n) {
            shared.fault_counters.refused.fetch_add(1, Relaxed);
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(stream, peer, shared.clone()));
    }
}

/// A parsed request head.
struct Head {
    method: String,
    target: String,
    websocket_key: Option<String>,
    len: usize,
}

fn parse_head(buf: &[u8]) -> Option<Head> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = text.split("\r\n");
    let mut request = lines.next()?.split(' ');
    let (method, target) = (request.next()?.to_string(), request.next()?.to_string());
    let mut upgrade = false;
    let mut key = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("upgrade") && value.eq_ignore_ascii_case("websocket") {
            upgrade = true;
        } else if name.eq_ignore_ascii_case("sec-websocket-key") {
            key = Some(value.to_string());
        }
    }
    Some(Head {
        method,
        target,
        websocket_key: key.filter(|_| upgrade),
        len: end,
    })
}

/// Read until a full head is buffered; `None` on EOF, timeout, or a head too large.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Head> {
    loop {
        if let Some(head) = parse_head(buf) {
            return Some(head);
        }
        if buf.len() >= MAX_HEAD {
            return None;
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(HEAD_TIMEOUT, stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        _ => "Error",
    }
}

async fn serve_connection(mut stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let Some(head) = read_head(&mut stream, &mut buf).await else {
            return;
        };
        buf.drain(..head.len);
        if let Some(key) = head.websocket_key {
            let view = SimView { shared: &shared };
            let session = shared
                .protocols
                .iter()
                .find_map(|p| Some((p.open(&head.target, &view)?, p.host_budget(p.venues()[0]))));
            let Some((session, budget)) = session else {
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await;
                return;
            };
            let ip = (peer.ip(), session.venue(), budget);
            if !shared.per_ip.admit_connect(ip.0, ip.1, budget) {
                shared.counters.ip_connects_refused.fetch_add(1, Relaxed);
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await;
                return;
            }
            let accept = derive_accept_key(key.as_bytes());
            let response = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            );
            if stream.write_all(response.as_bytes()).await.is_err() {
                return;
            }
            let conn = shared.counters.accepted.fetch_add(1, Relaxed) + 1;
            // Clients' control messages are tiny; cap what a hostile client can send.
            let ws_config = WebSocketConfig::default()
                .max_message_size(Some(64 << 10))
                .max_frame_size(Some(64 << 10));
            let ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(ws_config)).await;
            session::run(ws, shared, conn, session, ip).await;
            return;
        }
        let response = rest::handle(&shared, &head.method, &head.target);
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\nX-MBX-USED-WEIGHT-1M: 1\r\n",
            response.status,
            status_text(response.status),
            response.body.len()
        )
        .into_bytes();
        if let Some(secs) = response.retry_after {
            out.extend_from_slice(format!("Retry-After: {secs}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&response.body);
        if stream.write_all(&out).await.is_err() {
            return;
        }
    }
}
