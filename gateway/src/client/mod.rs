//! The Rust client: connects over WebSocket or QUIC, subscribes, decodes both
//! encodings into records, reports gaps (the server's notices and any sequence jump it
//! sees itself), and reconnects and resubscribes when the connection drops.
//!
//! ```no_run
//! # async fn run() -> Result<(), tickd_gateway::client::ClientError> {
//! use tickd_gateway::client::{Client, ClientConfig, Event, Transport};
//! let config = ClientConfig::new(Transport::Ws("ws://127.0.0.1:8080/v1/stream".into()))
//!     .streams(["trades.binance.*"]);
//! let mut client = Client::connect(config).await?;
//! while let Some(event) = client.next().await {
//!     if let Event::Record { stream, record } = event { println!("{stream} {:?}", record.header()); }
//! }
//! # Ok(()) }
//! ```

pub mod display;
mod quic;
mod seq;
mod tls;
mod ws;

use std::net::SocketAddr;
use std::time::Duration;

use tickd_bus::RecordBuf;
use tokio::sync::mpsc;

use crate::protocol::{Encoding, ServerMessage, SlowPolicy};
pub use seq::SeqTracker;
pub use tls::Trust;

/// Where to connect.
#[derive(Debug, Clone)]
pub enum Transport {
    /// `ws://host:port/v1/stream` or `wss://…` (the encoding is added to the query).
    Ws(String),
    /// A QUIC server (its certificate is trusted as [`ClientConfig::trust`] says).
    Quic {
        addr: SocketAddr,
        server_name: String,
    },
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub transport: Transport,
    pub encoding: Encoding,
    pub api_key: Option<String>,
    pub streams: Vec<String>,
    pub policy: SlowPolicy,
    /// Replay from this time (RFC 3339 or ns) before live, on the first connection only.
    pub from: Option<String>,
    /// Reconnect (and resubscribe) after the connection drops.
    pub reconnect: bool,
    /// Events buffered for the application before the client stops reading.
    pub buffer: usize,
    /// The server certificates accepted over `wss://` and QUIC.
    pub trust: Trust,
}

impl ClientConfig {
    pub fn new(transport: Transport) -> Self {
        ClientConfig {
            transport,
            encoding: Encoding::Json,
            api_key: None,
            streams: Vec::new(),
            policy: SlowPolicy::default(),
            from: None,
            reconnect: true,
            buffer: 65_536,
            trust: Trust::default(),
        }
    }

    pub fn streams<S: Into<String>>(mut self, streams: impl IntoIterator<Item = S>) -> Self {
        self.streams = streams.into_iter().map(Into::into).collect();
        self
    }

    pub fn trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    pub fn policy(mut self, policy: SlowPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Replays the journal from `from` (RFC 3339, a date, or ns since the epoch).
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self
    }

    pub fn reconnect(mut self, reconnect: bool) -> Self {
        self.reconnect = reconnect;
        self
    }

    fn subscribe_message(&self) -> String {
        let mut message = serde_json::json!({"op": "subscribe", "id": 1, "streams": self.streams, "policy": self.policy});
        if let Some(from) = &self.from {
            // Nanoseconds go as a number, anything else as text for the server to parse.
            message["from"] = match from.parse::<u64>() {
                Ok(ns) => serde_json::json!(ns),
                Err(_) => serde_json::json!(from),
            };
        }
        message.to_string()
    }
}

/// What the client hands the application.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// One record. `stream` is the stream's name (JSON), or `<channel>.<venue>.#<id>`
    /// for binary (which carries ids, not names).
    Record { stream: String, record: RecordBuf },
    /// Records were lost on `stream`: a server notice, or a sequence jump (`reason`
    /// `sequence_jump`).
    Gap {
        stream: String,
        lost: u64,
        reason: String,
    },
    /// Any other server message: hello, ack, error, closing, heartbeat, pong, ...
    Control(ServerMessage),
    /// The connection dropped; the client reconnects if configured to.
    Disconnected(String),
    /// Connected again and resubscribed.
    Reconnected,
}

/// Reads the first certificate of a PEM file (a server's self-signed certificate to trust).
pub fn cert_from_pem_file(path: &std::path::Path) -> Result<Vec<u8>, ClientError> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_file(path)
        .map(|c| c.to_vec())
        .map_err(|e| ClientError::Address(format!("{}: {e}", path.display())))
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connecting: {0}")]
    Connect(String),
    #[error("bad address: {0}")]
    Address(String),
}

/// A running client; events arrive in order per stream.
pub struct Client {
    events: mpsc::Receiver<Event>,
    task: tokio::task::JoinHandle<()>,
}

impl Client {
    /// Connects (the first attempt's failure is returned), subscribes to the configured
    /// streams, and keeps the connection going in a task.
    pub async fn connect(config: ClientConfig) -> Result<Client, ClientError> {
        let (tx, events) = mpsc::channel(config.buffer.max(1));
        let first = open(&config).await?;
        let task = tokio::spawn(run(config, first, tx));
        Ok(Client { events, task })
    }

    /// The next event; `None` once the client has stopped (no reconnect, or dropped).
    pub async fn next(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// The next event within `timeout`.
    pub async fn next_timeout(&mut self, timeout: Duration) -> Option<Event> {
        tokio::time::timeout(timeout, self.events.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One open connection, either transport.
enum Conn {
    Ws(Box<ws::WsConn>),
    Quic(quic::QuicConn),
}

async fn open(config: &ClientConfig) -> Result<Conn, ClientError> {
    match &config.transport {
        Transport::Ws(url) => ws::WsConn::open(url, config)
            .await
            .map(|c| Conn::Ws(Box::new(c))),
        Transport::Quic { .. } => quic::QuicConn::open(config).await.map(Conn::Quic),
    }
}

async fn run(mut config: ClientConfig, first: Conn, tx: mpsc::Sender<Event>) {
    // The first connection has replayed; reconnections continue live.
    config.from = None;
    let mut conn = Some(first);
    let mut tracker = SeqTracker::default();
    let mut backoff = Duration::from_millis(100);
    loop {
        let current = match conn.take() {
            Some(c) => c,
            None => match open(&config).await {
                Ok(c) => {
                    backoff = Duration::from_millis(100);
                    if tx.send(Event::Reconnected).await.is_err() {
                        return;
                    }
                    c
                }
                Err(e) => {
                    if tx.send(Event::Disconnected(e.to_string())).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            },
        };
        let reason = match current {
            Conn::Ws(c) => c.pump(&config, &mut tracker, &tx).await,
            Conn::Quic(c) => c.pump(&config, &mut tracker, &tx).await,
        };
        if tx.send(Event::Disconnected(reason)).await.is_err() || !config.reconnect {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Turns one JSON text message into events; `Err` ends the connection (a server
/// whose record layout this client does not know).
fn text_events(text: &str, tracker: &mut SeqTracker, out: &mut Vec<Event>) -> Result<(), String> {
    if text.starts_with(r#"{"type":"data""#) {
        let stream = serde_json::from_str::<StreamField>(text)
            .map(|s| s.stream)
            .unwrap_or_default();
        match crate::protocol::json::decode(text) {
            Ok(record) => {
                if let Some(lost) = tracker.observe(&stream, record.header().sequence) {
                    out.push(Event::Gap {
                        stream: stream.clone(),
                        lost,
                        reason: "sequence_jump".into(),
                    });
                }
                out.push(Event::Record { stream, record });
            }
            Err(e) => out.push(Event::Disconnected(format!("undecodable data: {e}"))),
        }
        return Ok(());
    }
    match serde_json::from_str::<ServerMessage>(text) {
        Ok(ServerMessage::Gap {
            stream,
            lost,
            reason,
        }) => {
            tracker.expect_jump(&stream, lost);
            out.push(Event::Gap {
                stream,
                lost,
                reason,
            });
        }
        Ok(message) => {
            crate::protocol::check_hello(&message)?;
            out.push(Event::Control(message));
        }
        Err(_) => {}
    }
    Ok(())
}

#[derive(serde::Deserialize)]
struct StreamField {
    stream: String,
}

/// Turns binary records into events (gaps arrive as `status` records of kind gap).
fn binary_events(
    frame: &[u8],
    tracker: &mut SeqTracker,
    out: &mut Vec<Event>,
) -> Result<(), String> {
    use tickd_bus::record::{StatusKind, StatusMsg};
    for record in crate::protocol::binary::decode(frame) {
        let record = record.map_err(|e| e.to_string())?;
        let hd = *record.header();
        if let Some(status) = record.get::<StatusMsg>() {
            if status.kind() == Some(StatusKind::Gap) && status.detail != 0 {
                let derived = status.detail & crate::server::encode::GAP_DERIVED != 0;
                let stream =
                    seq::binary_key(hd.venue, hd.instrument_id, status.detail as u8, derived);
                tracker.expect_jump(&stream, status.lost);
                out.push(Event::Gap {
                    stream,
                    lost: status.lost,
                    reason: status.reason().map_or("unknown", |r| r.as_str()).into(),
                });
                continue;
            }
        }
        let derived = hd.flags.contains(tickd_bus::Flags::DERIVED);
        let stream = seq::binary_key(hd.venue, hd.instrument_id, hd.rtype, derived);
        if let Some(lost) = tracker.observe(&stream, hd.sequence) {
            out.push(Event::Gap {
                stream: stream.clone(),
                lost,
                reason: "sequence_jump".into(),
            });
        }
        out.push(Event::Record { stream, record });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(records: Option<u16>) -> String {
        let mut hello = serde_json::json!({"type": "hello", "server": "tickd", "protocol": 2,
            "encoding": "binary", "heartbeat_ms": 5000});
        if let Some(records) = records {
            hello["records"] = records.into();
        }
        hello.to_string()
    }

    /// A server speaking a record layout this client does not know ends the
    /// connection with an error that says which layouts are involved.
    #[test]
    fn an_unknown_record_layout_is_a_clear_error() {
        let mut tracker = SeqTracker::default();
        let mut events = Vec::new();
        let current = tickd_bus::record::RECORD_VERSION;
        assert_eq!(
            text_events(&hello(Some(current)), &mut tracker, &mut events),
            Ok(())
        );
        assert!(matches!(
            &events[..],
            [Event::Control(ServerMessage::Hello { records, .. })] if *records == current
        ));
        for other in [Some(3), Some(current + 1), None] {
            let err = text_events(&hello(other), &mut tracker, &mut events).unwrap_err();
            let named = other.unwrap_or(1);
            assert!(
                err.contains(&format!("record layout {named}"))
                    && err.contains(&format!("layout {current} only")),
                "{err}"
            );
        }
    }
}
