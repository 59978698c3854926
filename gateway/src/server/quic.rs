//! QUIC (quinn, TLS 1.3, ALPN `tickd/1`): one bidirectional control stream of JSON
//! lines, and one server-opened unidirectional stream per subscription, so a slow book
//! stream never blocks trades (each stream has its own flow control and writer).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use quinn::{Connection, RecvStream, SendStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::encode::{encode_items, Frame};
use super::gate::Gate;
use super::outbox::{Out, Outbox};
use super::tls::CertKey;
use super::ws::error_kind;
use super::{GatewayError, Shared};
use crate::fanout::SubQueue;
use crate::metrics::{now_ns, Hop};
use crate::protocol::{parse_client_message, ClientMessage, Encoding, ErrorCode, ServerMessage};

pub const ALPN: &[u8] = b"tickd/1";

/// QUIC connections count against the same [`Gate`] as TCP ones (server-wide and
/// per-address caps), must open their stream and send their first line within
/// `header_timeout_ms`, and subscribe within `idle_timeout_ms`.
pub fn start(
    addr: SocketAddr,
    cert: &CertKey,
    shared: Shared,
    gate: Arc<Gate>,
) -> Result<(SocketAddr, JoinHandle<()>), GatewayError> {
    let tls = cert.server_config(&[ALPN])?;
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
        .map_err(|e| GatewayError::Quic(e.to_string()))?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_concurrent_uni_streams(0u32.into())
        .max_concurrent_bidi_streams(1u32.into())
        .keep_alive_interval(Some(Duration::from_secs(5)))
        // The transport's buffer of unacknowledged data counts against the same
        // per-connection budget as the queued records (quinn's default is 10 MB).
        .send_window(shared.config.max_connection_buffer_bytes.max(1 << 20) as u64);
    server.transport_config(Arc::new(transport));
    let endpoint = quinn::Endpoint::server(server, addr)
        .map_err(|source| GatewayError::Bind { addr, source })?;
    let bound = endpoint
        .local_addr()
        .map_err(|source| GatewayError::Bind { addr, source })?;
    let task = tokio::spawn(async move {
        let mut shutdown = shared.shutdown.clone();
        loop {
            tokio::select! {
                incoming = endpoint.accept() => {
                    let Some(incoming) = incoming else { return };
                    let Ok(slot) = gate.admit(incoming.remote_address()) else {
                        incoming.refuse();
                        continue;
                    };
                    let shared = shared.clone();
                    let handshake = Duration::from_millis(shared.config.header_timeout_ms.max(1));
                    tokio::spawn(async move {
                        if let Ok(Ok(conn)) = tokio::time::timeout(handshake, incoming).await {
                            serve(conn, shared).await;
                        }
                        drop(slot);
                    });
                }
                _ = shutdown.changed() => {
                    endpoint.close(0u32.into(), b"server shutting down");
                    return;
                }
            }
        }
    });
    Ok((bound, task))
}

async fn serve(conn: Connection, shared: Shared) {
    // As for request headers over TCP: the stream and its first line, in time.
    let header_deadline =
        tokio::time::Instant::now() + Duration::from_millis(shared.config.header_timeout_ms.max(1));
    let Ok(Ok((mut send, mut recv))) =
        tokio::time::timeout_at(header_deadline, conn.accept_bi()).await
    else {
        conn.close(2u32.into(), b"no stream in time");
        return;
    };
    let max = shared.config.max_frame_bytes;
    let mut lines = LineReader::new(max);
    // The first line may be `hello` with the API key and the encoding.
    let first = match tokio::time::timeout_at(header_deadline, lines.next(&mut recv)).await {
        Ok(Ok(Some(line))) => line,
        _ => {
            conn.close(2u32.into(), b"no request in time");
            return;
        }
    };
    let (key, encoding) = match parse_client_message(&first) {
        Ok(ClientMessage::Hello {
            api_key, encoding, ..
        }) => (api_key, encoding.unwrap_or_default()),
        _ => (None, Encoding::Json),
    };
    let admission = match shared.auth.admit(key.as_deref()) {
        Ok(admission) => admission,
        Err(e) => {
            shared.metrics.error("unauthorized");
            let error = ServerMessage::error(None, ErrorCode::Unauthorized, e.to_string());
            let closing = ServerMessage::Closing {
                reason: e.to_string(),
            };
            let _ = send
                .write_all(format!("{}\n{}\n", error.to_json(), closing.to_json()).as_bytes())
                .await;
            let _ = send.finish();
            let _ = tokio::time::timeout(Duration::from_secs(2), send.stopped()).await;
            conn.close(1u32.into(), b"unauthorized");
            return;
        }
    };
    shared.metrics.connection_opened();
    let session = shared.session(admission, encoding, Box::new(|| Arc::new(Notify::new())));
    let hello = session.hello();
    let session = Arc::new(Mutex::new(session));
    let outbox = Arc::new(Outbox::new(
        Arc::new(Notify::new()),
        shared.config.max_pending_requests,
    ));
    outbox.push(hello);
    let replies = Arc::clone(&outbox);
    session.lock().enable_replay(
        shared.journal_dir.clone(),
        Arc::new(move |message| replies.push(message)),
        Arc::clone(&shared.metrics),
    );
    let writer = tokio::spawn(control_writer(
        send,
        Arc::clone(&outbox),
        shared.clone(),
        conn.clone(),
    ));
    let mut pending = Some(first);
    let idle_limit = Duration::from_millis(shared.config.idle_timeout_ms.max(1));
    let subscribe_by = tokio::time::Instant::now() + idle_limit;
    loop {
        let next = async {
            if session.lock().never_subscribed() {
                tokio::time::timeout_at(subscribe_by, lines.next(&mut recv)).await
            } else {
                Ok(lines.next(&mut recv).await)
            }
        };
        let line = match pending.take() {
            Some(line) => line,
            None => match next.await {
                Err(_) => {
                    shared.metrics.error("idle_before_subscribe");
                    outbox.close(format!(
                        "no subscription within {} ms of connecting",
                        idle_limit.as_millis()
                    ));
                    break;
                }
                Ok(Ok(Some(line))) => line,
                Ok(Ok(None)) => break,
                Ok(Err(LineError::TooLong)) => {
                    shared.metrics.error("frame_too_large");
                    outbox.push(ServerMessage::error(
                        None,
                        ErrorCode::FrameTooLarge,
                        format!("control line longer than {max} bytes, the limit"),
                    ));
                    outbox.close("frame too large");
                    break;
                }
                Ok(Err(LineError::Closed)) => break,
            },
        };
        let outcome = session.lock().handle(&line);
        for reply in outcome.replies {
            if let ServerMessage::Error { code, .. } = &reply {
                shared.metrics.error(error_kind(*code));
            }
            outbox.push(reply);
        }
        for (queue, streams) in outcome.added {
            let conn = conn.clone();
            let outbox = Arc::clone(&outbox);
            let shared = shared.clone();
            let encoding = session.lock().encoding;
            tokio::spawn(data_stream(conn, queue, streams, encoding, outbox, shared));
        }
        if let Some(reason) = outcome.close {
            outbox.close(reason);
            break;
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
    drop(session);
    conn.close(0u32.into(), b"bye");
    shared.metrics.connection_closed();
}

async fn control_writer(
    mut send: SendStream,
    outbox: Arc<Outbox>,
    shared: Shared,
    conn: Connection,
) {
    let heartbeat = Duration::from_millis(shared.config.heartbeat_ms.max(1));
    let mut shutdown = shared.shutdown.clone();
    loop {
        for out in outbox.take() {
            let (text, last) = match out {
                Out::Text(text) => (text, false),
                Out::Close(reason) if reason.is_empty() => return,
                Out::Close(reason) | Out::CloseCode(reason, _) => {
                    (ServerMessage::Closing { reason }.to_json(), true)
                }
            };
            if send
                .write_all(format!("{text}\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
            if last {
                let _ = send.finish();
                let _ = tokio::time::timeout(Duration::from_secs(2), send.stopped()).await;
                conn.close(0u32.into(), b"closing");
                return;
            }
        }
        tokio::select! {
            _ = outbox.notify.notified() => {}
            _ = tokio::time::sleep(heartbeat) => {
                let beat = ServerMessage::Heartbeat { ts: now_ns() }.to_json();
                if send.write_all(format!("{beat}\n").as_bytes()).await.is_err() {
                    return;
                }
            }
            _ = shutdown.changed() => {
                outbox.close("server shutting down");
            }
            _ = conn.closed() => return,
        }
    }
}

/// One subscription's unidirectional stream: a `stream` header line, then data.
async fn data_stream(
    conn: Connection,
    queue: Arc<SubQueue>,
    streams: Vec<String>,
    encoding: Encoding,
    outbox: Arc<Outbox>,
    shared: Shared,
) {
    let Ok(mut send) = conn.open_uni().await else {
        return;
    };
    let header = serde_json::json!({"type": "stream", "streams": streams}).to_string();
    if send
        .write_all(format!("{header}\n").as_bytes())
        .await
        .is_err()
    {
        return;
    }
    let mut items = Vec::new();
    let mut frames = Vec::new();
    let mut ts = Vec::new();
    let mut buf = Vec::new();
    loop {
        if let Some(reason) = queue.close_reason() {
            outbox.close(reason);
            return;
        }
        if queue.is_closed() {
            // Unsubscribed: end this stream, keep the connection.
            let _ = send.finish();
            return;
        }
        items.clear();
        queue.drain(&mut items, 256);
        if items.is_empty() {
            tokio::select! {
                _ = queue.notified() => continue,
                _ = conn.closed() => return,
            }
        }
        frames.clear();
        ts.clear();
        buf.clear();
        encode_items(&items, encoding, &mut frames, &mut ts);
        for frame in frames.drain(..) {
            match frame {
                Frame::Text(text) => {
                    buf.extend_from_slice(text.as_bytes());
                    buf.push(b'\n');
                }
                Frame::Binary(bytes) => buf.extend_from_slice(&bytes),
            }
        }
        if send.write_all(&buf).await.is_err() {
            return;
        }
        shared.metrics.sent(items.len() as u64, buf.len());
        shared.metrics.latencies(Hop::Send, ts.iter().copied());
    }
}

#[derive(Debug)]
enum LineError {
    TooLong,
    Closed,
}

/// Splits a stream into `\n`-terminated lines no longer than `max` bytes.
struct LineReader {
    buf: Vec<u8>,
    max: usize,
}

impl LineReader {
    fn new(max: usize) -> Self {
        LineReader {
            buf: Vec::new(),
            max,
        }
    }

    async fn next(&mut self, recv: &mut RecvStream) -> Result<Option<Vec<u8>>, LineError> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(at) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=at).take(at).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Ok(Some(line));
            }
            if self.buf.len() > self.max {
                return Err(LineError::TooLong);
            }
            match recv.read(&mut chunk).await {
                Ok(Some(n)) => self
                    .buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Ok(None) => return Ok(None),
                Err(_) => return Err(LineError::Closed),
            }
        }
    }
}
