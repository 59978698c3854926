//! One logical WebSocket connection of a venue: connect (with backoff), send the
//! venue's subscribe messages paced within its control-message budget, write the
//! application messages the core asks for (resubscriptions, answers to the venue's
//! pings) and the venue's keep-alive when the connection is idle, forward text and
//! binary data frames to the venue core, and reconnect when told or when the
//! socket dies.
//!
//! The hot path is one wake per batch: each wake reads every frame tungstenite can
//! already parse (up to [`READ_BATCH`]) into the core's event queue, which wakes the
//! core once for all of them; the keep-alive timer is re-armed only when it fires.
//!
//! Venue-agnostic: the venue supplies the URL, the ready-made messages and its
//! keep-alive dialect; WebSocket pings are answered by tungstenite.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::capture::CaptureKind;
use crate::engine::adapter::{Keepalive, Outbound};
use crate::events::EventSender;
use crate::host_pacer::HostPacer;
use crate::runtime::{now_ns, Shutdown};
use crate::ws::{self, Message};

/// What a connection needs to know.
#[derive(Debug, Clone)]
pub struct ConnSpec {
    pub url: String,
    /// Messages sent after every (re)connect, in order.
    pub subscribe: Vec<Outbound>,
    /// Spacing between control messages (the venue's per-second budget, with room
    /// left for pongs).
    pub control_interval: Duration,
    /// The venue's application-level keep-alive.
    pub keepalive: Keepalive,
    pub connect_timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// When recording: every data frame is copied here as it is read.
    pub tap: Option<crate::capture::FrameTap>,
    /// Queued messages (subscribe, resubscribe) one socket may send an hour; the
    /// socket is replaced rather than exceed it (OKX: 480 ops an hour a connection).
    pub ops_per_hour: Option<u32>,
    /// The venue's per-host connect and message budget, shared with every other
    /// connection to the host: each attempt, after its backoff, waits for a connect
    /// slot (`None`: the venue declares none).
    pub pacer: Option<Arc<HostPacer>>,
}

/// Reported to the venue core, tagged with the connection's id.
#[derive(Debug)]
pub enum ConnEvent {
    /// The socket is open (`attempt` 0 is the first ever).
    Connected { conn: u32, attempt: u32 },
    /// Every subscribe message was sent on this socket.
    Subscribed {
        conn: u32,
        attempt: u32,
        messages: usize,
    },
    /// A text or binary data frame, with the time it was read.
    Frame {
        conn: u32,
        ts_recv: u64,
        data: Bytes,
        binary: bool,
    },
    /// The socket closed; the task reconnects after `retry_in` unless stopped.
    Disconnected {
        conn: u32,
        reason: String,
        retry_in: Duration,
    },
    /// A connect attempt failed.
    ConnectFailed {
        conn: u32,
        error: String,
        retry_in: Duration,
    },
    /// The task ended (stopped or shut down).
    Stopped { conn: u32 },
}

/// Sent by the venue core to one connection.
#[derive(Debug, Clone)]
pub enum ConnCommand {
    /// Drop the socket and connect again (stale stream, venue shutdown notice).
    Reconnect { reason: String },
    /// Close for good (rotation done, shutdown).
    Stop,
    /// Write an application message on the open socket, paced with the other
    /// control messages (dropped if the socket is down: a reconnect subscribes
    /// afresh).
    Send(Outbound),
}

/// Handle kept by the core.
#[derive(Debug)]
pub struct ConnHandle {
    pub conn: u32,
    pub commands: mpsc::UnboundedSender<ConnCommand>,
}

impl ConnHandle {
    pub fn send(&self, command: ConnCommand) {
        // The task may already be gone; nothing to do then.
        let _ = self.commands.send(command);
    }
}

/// Frames read in one wake before the task lets the core and the other tasks run.
const READ_BATCH: usize = 64;

/// Spawn the connection task on the current `LocalSet`.
pub fn spawn_connection(
    conn: u32,
    spec: ConnSpec,
    events: EventSender,
    shutdown: Shutdown,
) -> ConnHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::task::spawn_local(run_connection(conn, spec, events, rx, shutdown));
    ConnHandle { conn, commands: tx }
}

enum Ended {
    Reconnect(String),
    Stop,
}

async fn run_connection(
    conn: u32,
    spec: ConnSpec,
    events: EventSender,
    mut commands: mpsc::UnboundedReceiver<ConnCommand>,
    mut shutdown: Shutdown,
) {
    let mut backoff = Backoff::new(spec.backoff_base, spec.backoff_cap);
    let mut attempt = 0u32;
    'connect: loop {
        if shutdown.is_triggered() {
            break;
        }
        // The host's budget: wait for a connect slot (the subscribe messages' slots
        // are reserved with it).
        let mut slots = VecDeque::new();
        if let Some(pacer) = &spec.pacer {
            let (at, reserved) = pacer.reserve_connect(spec.subscribe.len());
            slots = reserved;
            if wait_for_slot(at, &mut commands, &mut shutdown).await {
                break;
            }
        }
        let connect = ws::connect(&spec.url, spec.connect_timeout);
        tokio::pin!(connect);
        let socket = loop {
            tokio::select! {
                r = &mut connect => break r,
                _ = shutdown.wait() => break 'connect,
                cmd = commands.recv() => match cmd {
                    Some(ConnCommand::Reconnect { .. }) => continue 'connect,
                    // Nothing to write on yet: the new socket subscribes afresh.
                    Some(ConnCommand::Send(_)) => {}
                    Some(ConnCommand::Stop) | None => break 'connect,
                },
            }
        };
        let socket = match socket {
            Ok(socket) => socket,
            Err(err) => {
                let retry_in = backoff.next_delay();
                let _ = events
                    .send(ConnEvent::ConnectFailed {
                        conn,
                        error: err.to_string(),
                        retry_in,
                    })
                    .await;
                if wait_or_stop(retry_in, &mut commands, &mut shutdown).await {
                    break;
                }
                continue;
            }
        };
        if let Some(tap) = &spec.tap {
            tap.connection(CaptureKind::Connect, conn, &spec.url, now_ns(), "");
        }
        if events
            .send(ConnEvent::Connected { conn, attempt })
            .await
            .is_err()
        {
            break;
        }
        let ended = serve_socket(
            conn,
            attempt,
            socket,
            &spec,
            &events,
            &mut commands,
            &mut shutdown,
            &mut backoff,
            slots,
        )
        .await;
        attempt = attempt.saturating_add(1);
        match ended {
            Ended::Stop => break,
            Ended::Reconnect(reason) => {
                if let Some(tap) = &spec.tap {
                    tap.connection(CaptureKind::Disconnect, conn, &spec.url, now_ns(), &reason);
                }
                let retry_in = backoff.next_delay();
                let _ = events
                    .send(ConnEvent::Disconnected {
                        conn,
                        reason,
                        retry_in,
                    })
                    .await;
                if wait_or_stop(retry_in, &mut commands, &mut shutdown).await {
                    break;
                }
            }
        }
    }
    let _ = events.send(ConnEvent::Stopped { conn }).await;
}

/// Sleep until a paced slot; true when told to stop meanwhile (a `Reconnect` or a
/// `Send` does not cut the wait short).
async fn wait_for_slot(
    at: Instant,
    commands: &mut mpsc::UnboundedReceiver<ConnCommand>,
    shutdown: &mut Shutdown,
) -> bool {
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(at) => return false,
            _ = shutdown.wait() => return true,
            cmd = commands.recv() => if matches!(cmd, Some(ConnCommand::Stop) | None) {
                return true;
            },
        }
    }
}

/// Sleep `delay`; true when told to stop meanwhile. A `Reconnect` cuts the wait short.
async fn wait_or_stop(
    delay: Duration,
    commands: &mut mpsc::UnboundedReceiver<ConnCommand>,
    shutdown: &mut Shutdown,
) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(delay) => false,
        _ = shutdown.wait() => true,
        cmd = commands.recv() => !matches!(cmd, Some(ConnCommand::Reconnect { .. } | ConnCommand::Send(_))),
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve_socket(
    conn: u32,
    attempt: u32,
    mut socket: ws::WsStream,
    spec: &ConnSpec,
    events: &EventSender,
    commands: &mut mpsc::UnboundedReceiver<ConnCommand>,
    shutdown: &mut Shutdown,
    backoff: &mut Backoff,
    // Paced slots reserved for the subscribe messages (per-IP budget).
    mut slots: VecDeque<Instant>,
) -> Ended {
    let mut pending: VecDeque<Outbound> = spec.subscribe.iter().cloned().collect();
    let total = pending.len();
    let mut subscribed = total == 0;
    if subscribed {
        let _ = events
            .send(ConnEvent::Subscribed {
                conn,
                attempt,
                messages: 0,
            })
            .await;
    }
    let mut next_send = Instant::now();
    // The per-IP slot the next message waits for.
    let mut slot: Option<Instant> = None;
    let mut ops_sent: VecDeque<Instant> = VecDeque::new();
    let mut got_data = false;
    let mut last_read = Instant::now();
    let mut last_keepalive = Instant::now();
    let tap_url: std::sync::Arc<str> = spec.url.as_str().into();
    // The keep-alive's period; an idle one is pushed back by every frame, a fixed
    // one (`Every`) is not.
    let (idle, fixed) = match &spec.keepalive {
        Keepalive::Idle { idle, .. } => (Some(*idle), false),
        Keepalive::Every { every, .. } => (Some(*every), true),
        Keepalive::None => (None, false),
    };
    // One timer for the socket's life: a frame only moves `last_read`, and the timer,
    // when it fires early, re-arms itself at the real deadline.
    let keepalive_timer = tokio::time::sleep(idle.unwrap_or(Duration::from_secs(3600)));
    tokio::pin!(keepalive_timer);
    let reason = 'serve: loop {
        tokio::select! {
            biased;
            _ = shutdown.wait() => {
                let _ = socket.close(None).await;
                return Ended::Stop;
            }
            cmd = commands.recv() => match cmd {
                Some(ConnCommand::Reconnect { reason }) => {
                    let _ = socket.close(None).await;
                    break reason;
                }
                Some(ConnCommand::Send(message)) => pending.push_back(message),
                Some(ConnCommand::Stop) | None => {
                    let _ = socket.close(None).await;
                    return Ended::Stop;
                }
            },
            msg = socket.next() => {
                last_read = Instant::now();
                // This message and every one already readable, up to a batch.
                let mut first = Some(msg);
                for _ in 0..READ_BATCH {
                    let msg = match first.take() {
                        Some(msg) => msg,
                        None => match socket.next().now_or_never() {
                            Some(msg) => msg,
                            None => break,
                        },
                    };
                    let ts_recv = now_ns();
                    let (data, binary) = match msg {
                        Some(Ok(Message::Text(text))) => (Bytes::from(text), false),
                        Some(Ok(Message::Binary(data))) => (data, true),
                        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                        Some(Ok(Message::Close(frame))) => {
                            break 'serve match frame {
                                Some(f) => format!("closed by server: {} {}", f.code, f.reason),
                                None => "closed by server".to_string(),
                            };
                        }
                        Some(Err(err)) => break 'serve err.to_string(),
                        None => break 'serve "connection closed".to_string(),
                    };
                    if !got_data {
                        // A working connection: the next failure starts the backoff over.
                        got_data = true;
                        backoff.reset();
                    }
                    if let Some(tap) = &spec.tap {
                        tap.ws(conn, &tap_url, ts_recv, &data, binary);
                    }
                    if events.send(ConnEvent::Frame { conn, ts_recv, data, binary }).await.is_err() {
                        return Ended::Stop;
                    }
                }
            }
            _ = tokio::time::sleep_until(next_send), if !pending.is_empty() => {
                if let Some(pacer) = &spec.pacer {
                    let at = *slot.get_or_insert_with(|| {
                        slots.pop_front().unwrap_or_else(|| pacer.reserve_message())
                    });
                    if at > Instant::now() {
                        next_send = at;
                        continue;
                    }
                    slot = None;
                }
                if let Some(limit) = spec.ops_per_hour {
                    let hour_ago = Instant::now().checked_sub(Duration::from_secs(3600));
                    while ops_sent.front().is_some_and(|t| hour_ago.is_some_and(|h| *t <= h)) {
                        ops_sent.pop_front();
                    }
                    if ops_sent.len() >= limit as usize {
                        // A new connection subscribes everything in one message
                        // and starts a fresh budget.
                        break format!("{limit} subscribe ops within the hour: reconnecting for a fresh budget");
                    }
                    ops_sent.push_back(Instant::now());
                }
                let Some(message) = pending.pop_front() else { continue };
                if let Err(err) = socket.send(to_message(message)).await {
                    break format!("send failed: {err}");
                }
                next_send = Instant::now() + spec.control_interval;
                if pending.is_empty() && !subscribed {
                    subscribed = true;
                    let _ = events.send(ConnEvent::Subscribed { conn, attempt, messages: total }).await;
                }
            }
            () = &mut keepalive_timer, if idle.is_some() => {
                let idle = idle.unwrap_or_default();
                let due = if fixed { last_keepalive } else { last_read } + idle;
                if Instant::now() < due {
                    keepalive_timer.as_mut().reset(due);
                    continue;
                }
                // Idle, or its time: the venue's keep-alive goes out (an answer
                // resets the idle clock).
                if let Keepalive::Idle { message, .. } | Keepalive::Every { message, .. } =
                    &spec.keepalive
                {
                    if let Err(err) = socket.send(to_message(message.clone())).await {
                        break format!("keep-alive failed: {err}");
                    }
                }
                last_read = Instant::now();
                last_keepalive = last_read;
                keepalive_timer.as_mut().reset(last_read + idle);
            }
        }
    };
    Ended::Reconnect(reason)
}

fn to_message(message: Outbound) -> Message {
    match message {
        Outbound::Text(text) => Message::text(text),
        Outbound::Binary(data) => Message::binary(data),
    }
}

#[cfg(test)]
mod cadence_tests;
#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::event_queue;
    use crate::runtime::shutdown_channel;

    /// Run `body` on a current-thread runtime inside a `LocalSet` (as a venue thread).
    pub(super) fn on_local_runtime(body: impl std::future::Future<Output = ()>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, body);
    }

    pub(super) fn spec(url: String) -> ConnSpec {
        ConnSpec {
            ops_per_hour: None,
            pacer: None,
            url,
            subscribe: vec![
                Outbound::Text("sub-1".into()),
                Outbound::Text("sub-2".into()),
            ],
            control_interval: Duration::from_millis(20),
            keepalive: Keepalive::None,
            connect_timeout: Duration::from_secs(2),
            backoff_base: Duration::from_millis(10),
            backoff_cap: Duration::from_millis(50),
            tap: None,
        }
    }

    /// A server that expects the two subscribe messages, sends `frames` data
    /// frames and closes; twice.
    async fn server(listener: tokio::net::TcpListener, frames: usize) -> Vec<String> {
        let mut received = Vec::new();
        for _ in 0..2 {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            for _ in 0..2 {
                if let Some(Ok(Message::Text(t))) = ws.next().await {
                    received.push(t.to_string());
                }
            }
            for i in 0..frames {
                ws.send(Message::text(format!("frame-{i}"))).await.unwrap();
            }
            ws.close(None).await.ok();
        }
        received
    }

    #[test]
    fn subscribes_forwards_frames_and_reconnects() {
        on_local_runtime(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(server(listener, 3));
            let (trigger, shutdown) = shutdown_channel();
            let (tx, mut rx) = event_queue(64);
            let handle = spawn_connection(7, spec(format!("ws://{addr}/stream")), tx, shutdown);
            let mut connected = Vec::new();
            let mut frames = Vec::new();
            let mut disconnects = 0;
            while let Ok(ev) = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                match ev {
                    ConnEvent::Connected { conn, attempt } => connected.push((conn, attempt)),
                    ConnEvent::Frame { data, .. } => {
                        frames.push(String::from_utf8_lossy(&data).into_owned())
                    }
                    ConnEvent::Disconnected { .. } => {
                        disconnects += 1;
                        if disconnects == 2 {
                            handle.send(ConnCommand::Stop);
                        }
                    }
                    ConnEvent::Stopped { conn } => {
                        assert_eq!(conn, 7);
                        break;
                    }
                    _ => {}
                }
            }
            trigger.trigger();
            assert_eq!(connected, vec![(7, 0), (7, 1)]);
            assert_eq!(frames, ["frame-0", "frame-1", "frame-2"].repeat(2));
            assert_eq!(server.await.unwrap(), ["sub-1", "sub-2"].repeat(2));
        });
    }

    /// The venue's keep-alive goes out when the connection is idle, application
    /// messages are written on the open socket, and binary frames come back tagged.
    #[test]
    fn writes_keepalives_and_messages_and_forwards_binary_frames() {
        on_local_runtime(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
                let mut texts = Vec::new();
                // sub-1, sub-2, then (idle) the keep-alive, then the core's message.
                while texts.len() < 4 {
                    match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
                        Ok(Some(Ok(Message::Text(t)))) => {
                            if t.as_str() == "ping" {
                                ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
                            }
                            texts.push(t.to_string());
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
                ws.close(None).await.ok();
                texts
            });
            let (trigger, shutdown) = shutdown_channel();
            let (tx, mut rx) = event_queue(64);
            let mut spec = spec(format!("ws://{addr}/ws"));
            spec.keepalive = Keepalive::Idle {
                idle: Duration::from_millis(150),
                message: Outbound::Text("ping".into()),
            };
            let handle = spawn_connection(3, spec, tx, shutdown);
            let mut binary_frames = Vec::new();
            while let Ok(ev) = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                match ev {
                    ConnEvent::Frame { data, binary, .. } => {
                        assert!(binary);
                        binary_frames.push(data.to_vec());
                        handle.send(ConnCommand::Send(Outbound::Text("resubscribe".into())));
                    }
                    ConnEvent::Disconnected { .. } => break,
                    _ => {}
                }
            }
            handle.send(ConnCommand::Stop);
            trigger.trigger();
            assert_eq!(binary_frames, vec![vec![1u8, 2, 3]]);
            assert_eq!(
                server.await.unwrap(),
                ["sub-1", "sub-2", "ping", "resubscribe"]
            );
        });
    }

    #[test]
    fn unreachable_endpoint_reports_failures_with_backoff() {
        on_local_runtime(async {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            drop(listener);
            let (trigger, shutdown) = shutdown_channel();
            let (tx, mut rx) = event_queue(64);
            let _handle = spawn_connection(1, spec(format!("ws://{addr}/")), tx, shutdown);
            let mut failures = Vec::new();
            while failures.len() < 3 {
                match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                    Ok(ConnEvent::ConnectFailed {
                        error, retry_in, ..
                    }) => {
                        assert!(error.contains(&addr.to_string()), "{error}");
                        failures.push(retry_in);
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            trigger.trigger();
            assert!(failures.iter().all(|d| *d <= Duration::from_millis(50)));
            assert!(matches!(
                tokio::time::timeout(Duration::from_secs(10), rx.recv()).await,
                Ok(ConnEvent::Stopped { conn: 1 })
            ));
        });
    }
}
