//! The WebSocket endpoint `/v1/stream` (axum's upgrade, tokio-tungstenite underneath).
//!
//! Each connection runs a reader task (requests → replies and subscriptions) and a
//! writer (replies, then data drained from its subscription queues, heartbeats and
//! WebSocket pings). The writer may block on a slow socket; the router never does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use tokio::sync::Notify;

use super::auth::{Admission, AuthError};
use super::encode::{encode_items, Frame};
use super::outbox::{Admit, Out, Outbox};
use super::session::Session;
use super::Shared;
use crate::fanout::SubQueue;
use crate::metrics::{now_ns, Hop};
use crate::protocol::{parse_client_message, ClientMessage, Encoding, ErrorCode, ServerMessage};

/// Items drained from one queue per pass, so one busy subscription can't starve others.
const DRAIN: usize = 256;

/// Initial read buffer per connection (client messages are small control requests).
const READ_BUFFER: usize = 4096;

/// Bytes of frames collected before a write: a writer's batch (up to [`DRAIN`]
/// records) leaves in one or a few syscalls, then `flush`, instead of one write per
/// frame. Grown only by connections that receive data; idle ones keep none.
const WRITE_BUFFER: usize = 16 * 1024;

pub async fn upgrade(
    State(shared): State<Shared>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    ws: WebSocketUpgrade,
) -> Response {
    let encoding = match params.get("encoding").map(String::as_str) {
        None | Some("json") => Encoding::Json,
        Some("binary") => Encoding::Binary,
        Some(other) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("encoding={other:?}: use encoding=json or encoding=binary"),
            )
                .into_response()
        }
    };
    let key = super::auth::presented_key(&headers, uri.query());
    let admission = shared.auth.admit(key.as_deref());
    // Frames up to the configured limit are checked by `read_loop`, which can still
    // answer with `error` and `closing`; far larger ones are cut off by tungstenite
    // itself (a close with code 1009), which bounds the memory a frame can take.
    let hard_max = shared.config.max_frame_bytes.saturating_mul(16);
    // Small buffers: tungstenite's 128 KiB default read buffer per connection would
    // dominate memory with thousands of mostly idle subscribers. Buffers grow as needed.
    ws.max_message_size(hard_max)
        .max_frame_size(hard_max)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| serve(socket, shared, admission, encoding))
}

async fn serve(
    socket: WebSocket,
    shared: Shared,
    admission: Result<Admission, AuthError>,
    encoding: Encoding,
) {
    let (mut sink, mut stream) = socket.split();
    let (admission, first) = match admission {
        Err(AuthError::KeyRequired) => key_from_hello(&mut stream, &shared).await,
        other => (other, None),
    };
    let admission = match admission {
        Ok(admission) => admission,
        Err(e) => {
            shared.metrics.error("unauthorized");
            let error = ServerMessage::error(None, ErrorCode::Unauthorized, e.to_string());
            let _ = sink.send(Message::Text(error.to_json().into())).await;
            let closing = ServerMessage::Closing {
                reason: e.to_string(),
            };
            let _ = sink.send(Message::Text(closing.to_json().into())).await;
            let _ = sink.send(Message::Close(None)).await;
            return;
        }
    };
    shared.metrics.connection_opened();
    let notify = Arc::new(Notify::new());
    let shared_notify = Arc::clone(&notify);
    let session = shared.session(
        admission,
        encoding,
        Box::new(move || Arc::clone(&shared_notify)),
    );
    let hello = session.hello().to_json();
    let session = Arc::new(Mutex::new(session));
    let outbox = Arc::new(Outbox::new(notify, shared.config.max_pending_requests));
    if let Some(hello) = first {
        // The client's `hello` that carried the key: acknowledged as any other.
        handle_text(&session, &outbox, &shared, hello.as_bytes());
    }
    let replies = Arc::clone(&outbox);
    session.lock().enable_replay(
        shared.journal_dir.clone(),
        Arc::new(move |message| replies.push(message)),
        Arc::clone(&shared.metrics),
    );
    let reader = tokio::spawn(read_loop(
        stream,
        Arc::clone(&session),
        Arc::clone(&outbox),
        shared.clone(),
    ));
    if sink.send(Message::Text(hello.into())).await.is_ok() {
        write_loop(&mut sink, &session, &outbox, &shared).await;
    }
    reader.abort();
    // Bounded too: a client that does not read would hold the close frame forever.
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
    drop(session);
    shared.metrics.connection_closed();
}

async fn read_loop(
    mut stream: futures_util::stream::SplitStream<WebSocket>,
    session: Arc<Mutex<Session>>,
    outbox: Arc<Outbox>,
    shared: Shared,
) {
    while let Some(message) = stream.next().await {
        match message {
            Ok(Message::Text(text)) if text.len() > shared.config.max_frame_bytes => {
                frame_too_large(&outbox, &shared);
                return;
            }
            Ok(Message::Binary(data)) if data.len() > shared.config.max_frame_bytes => {
                frame_too_large(&outbox, &shared);
                return;
            }
            Ok(Message::Text(text)) => {
                match outbox.admit() {
                    Admit::Handle => {}
                    Admit::Refuse => {
                        shared.metrics.error("too_many_pending_requests");
                        outbox.refuse(text.as_bytes());
                        continue;
                    }
                    Admit::Close => {
                        outbox.close("too many pending requests: the client does not read replies");
                        return;
                    }
                }
                if handle_text(&session, &outbox, &shared, text.as_bytes()) {
                    return;
                }
            }
            Ok(Message::Binary(_)) => {
                shared.metrics.error("unexpected_binary");
                outbox.push(ServerMessage::error(
                    None,
                    ErrorCode::UnexpectedBinary,
                    "binary frames are not accepted; send control messages as JSON text",
                ));
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Ok(Message::Close(_)) => break,
            Err(e) => {
                let text = e.to_string();
                if text.contains("too long") || text.contains("Space limit") {
                    frame_too_large(&outbox, &shared);
                } else if client_went_away(&text) {
                    // A client that exits without a close frame is a normal disconnect.
                    shared.metrics.disconnected_without_close();
                } else {
                    shared.metrics.error("ws_protocol");
                    outbox.close(format!("protocol error: {text}"));
                }
                return;
            }
        }
    }
    outbox.close("");
}

/// How long a connection without a key may take to send its `hello` with one.
const HELLO_KEY_WAIT: Duration = Duration::from_secs(1);

/// No key at the upgrade and none is optional: the first message may be a `hello`
/// carrying it (`api_key`), sent right after the upgrade (within [`HELLO_KEY_WAIT`],
/// or the header deadline if shorter). Anything else, or nothing in time, is refused
/// as a missing key: a client that waits for the server's hello first gets the
/// `unauthorized` error within that wait, not a silent connection.
async fn key_from_hello(
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    shared: &Shared,
) -> (
    Result<Admission, AuthError>,
    Option<axum::extract::ws::Utf8Bytes>,
) {
    let wait = Duration::from_millis(shared.config.header_timeout_ms).min(HELLO_KEY_WAIT);
    if let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(wait, stream.next()).await {
        if text.len() <= shared.config.max_frame_bytes {
            if let Ok(ClientMessage::Hello {
                api_key: Some(key), ..
            }) = parse_client_message(text.as_bytes())
            {
                return (shared.auth.admit(Some(&key)), Some(text));
            }
        }
    }
    (Err(AuthError::KeyRequired), None)
}

/// Handles one control message and queues its replies; true when the connection is
/// to close.
fn handle_text(session: &Mutex<Session>, outbox: &Outbox, shared: &Shared, text: &[u8]) -> bool {
    let outcome = session.lock().handle(text);
    for reply in outcome.replies {
        if let ServerMessage::Error { code, .. } = &reply {
            shared.metrics.error(error_kind(*code));
        }
        outbox.push(reply);
    }
    match outcome.close {
        Some(reason) => {
            outbox.close(reason);
            true
        }
        None => false,
    }
}

/// The peer closed the TCP connection (or reset it) without a WebSocket close frame.
fn client_went_away(error: &str) -> bool {
    [
        "without closing handshake",
        "Connection reset",
        "Broken pipe",
    ]
    .iter()
    .any(|sign| error.contains(sign))
}

fn frame_too_large(outbox: &Outbox, shared: &Shared) {
    shared.metrics.error("frame_too_large");
    outbox.push(ServerMessage::error(
        None,
        ErrorCode::FrameTooLarge,
        format!(
            "frame larger than {} bytes, the limit",
            shared.config.max_frame_bytes
        ),
    ));
    // 1009 (message too big), as documented, rather than a close without a code.
    outbox.close_with_code("frame too large", 1009);
}

pub fn error_kind(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::BadJson => "bad_json",
        ErrorCode::UnknownOp => "unknown_op",
        ErrorCode::RateLimited => "rate_limited",
        ErrorCode::TooManySubscriptions => "too_many_subscriptions",
        ErrorCode::FrameTooLarge => "frame_too_large",
        _ => "bad_request",
    }
}

type Sink = SplitSink<WebSocket, Message>;

async fn write_loop(sink: &mut Sink, session: &Mutex<Session>, outbox: &Outbox, shared: &Shared) {
    let heartbeat = Duration::from_millis(shared.config.heartbeat_ms.max(1));
    let write_timeout = Duration::from_millis(shared.config.write_timeout_ms.max(1));
    let send_timeout = write_timeout;
    let idle_limit = Duration::from_millis(shared.config.idle_timeout_ms.max(1));
    let opened = Instant::now();
    let mut shutdown = shared.shutdown.clone();
    let mut last_sent = Instant::now();
    let mut items = Vec::new();
    let mut frames = Vec::new();
    let mut ts = Vec::new();
    loop {
        for out in outbox.take() {
            match out {
                Out::Text(text) => {
                    if !send(sink, Message::Text(text.into()), send_timeout).await {
                        return;
                    }
                }
                Out::Close(reason) => {
                    if !reason.is_empty() {
                        let closing = ServerMessage::Closing { reason }.to_json();
                        let _ = send(sink, Message::Text(closing.into()), send_timeout).await;
                    }
                    return;
                }
                Out::CloseCode(reason, code) => {
                    let closing = ServerMessage::Closing {
                        reason: reason.clone(),
                    }
                    .to_json();
                    let _ = send(sink, Message::Text(closing.into()), send_timeout).await;
                    let frame = axum::extract::ws::CloseFrame {
                        code,
                        reason: reason.into(),
                    };
                    let _ = send(sink, Message::Close(Some(frame)), send_timeout).await;
                    return;
                }
            }
            last_sent = Instant::now();
        }
        let (queues, encoding): (Vec<Arc<SubQueue>>, Encoding) = {
            let session = session.lock();
            (session.queues().cloned().collect(), session.encoding)
        };
        let mut more = false;
        for queue in &queues {
            if let Some(reason) = queue.close_reason() {
                let closing = ServerMessage::Closing { reason }.to_json();
                let _ = send(sink, Message::Text(closing.into()), send_timeout).await;
                return;
            }
            items.clear();
            queue.drain(&mut items, DRAIN);
            more |= !queue.is_empty();
            frames.clear();
            ts.clear();
            encode_items(&items, encoding, &mut frames, &mut ts);
            let bytes: usize = frames.iter().map(Frame::len).sum();
            if bytes > 0 {
                // One deadline for the whole batch: a client that stops reading blocks
                // in `feed` as soon as the socket is full, and is dropped by policy.
                let batch = async {
                    for frame in frames.drain(..) {
                        let message = match frame {
                            Frame::Text(text) => Message::Text(text.into()),
                            Frame::Binary(data) => Message::Binary(data.into()),
                        };
                        sink.feed(message).await?;
                    }
                    sink.flush().await
                };
                match tokio::time::timeout(write_timeout, batch).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return,
                    Err(_) => {
                        slow_consumer(shared, write_timeout);
                        return;
                    }
                }
                shared.metrics.sent(items.len() as u64, bytes);
                shared.metrics.latencies(Hop::Send, ts.iter().copied());
                last_sent = Instant::now();
            }
        }
        if more {
            tokio::task::yield_now().await;
            continue;
        }
        let idle = last_sent.elapsed();
        tokio::select! {
            _ = outbox.notify.notified() => {}
            _ = tokio::time::sleep(heartbeat.saturating_sub(idle).min(idle_limit)) => {
                if opened.elapsed() >= idle_limit && session.lock().never_subscribed() {
                    shared.metrics.error("idle_before_subscribe");
                    let reason = format!(
                        "no subscription within {} ms of connecting", idle_limit.as_millis()
                    );
                    let closing = ServerMessage::Closing { reason }.to_json();
                    let _ = send(sink, Message::Text(closing.into()), send_timeout).await;
                    return;
                }
                if last_sent.elapsed() >= heartbeat {
                    let beat = ServerMessage::Heartbeat { ts: now_ns() }.to_json();
                    if !send(sink, Message::Text(beat.into()), send_timeout).await
                        || !send(sink, Message::Ping(Vec::new().into()), send_timeout).await
                    {
                        return;
                    }
                    last_sent = Instant::now();
                }
            }
            _ = shutdown.changed() => {
                let closing = ServerMessage::Closing { reason: "server shutting down".into() }.to_json();
                let _ = send(sink, Message::Text(closing.into()), send_timeout).await;
                return;
            }
        }
    }
}

/// The socket took longer than the write timeout: the client is not reading.
fn slow_consumer(shared: &Shared, timeout: Duration) {
    shared
        .metrics
        .slow_disconnects
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tracing::debug!(
        "gateway: closed a connection whose socket took over {} ms to take a write",
        timeout.as_millis()
    );
}

async fn send(sink: &mut Sink, message: Message, timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, sink.send(message)).await,
        Ok(Ok(()))
    )
}
