//! One WebSocket connection, for every venue: the lifetime, the inbound message limit,
//! server pings with a pong deadline or the idle cut-off, the connection faults, and
//! delivering events. What goes on the wire is the venue's [`SimSession`]'s.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use tickd_bus::Venue;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::faults::corrupt;
use super::gaps::GapInjector;
use super::protocol::{FrameKind, Frames, Inbound, SessionCx, SimSession, SimView};
use super::state::{ConnTrades, Outbound, Shared};
use crate::engine::adapter::HostBudget;

/// Connection records kept for `SimMarketHandle::trades_sent`; a long `tickd sim`
/// run must not grow without bound.
const MAX_CONN_RECORDS: usize = 4_096;

/// OKX's code for the idle cut-off ("No data received in 30s.").
const IDLE_CLOSE_CODE: u16 = 4004;

struct Conn<S> {
    ws: WebSocketStream<S>,
    shared: Arc<Shared>,
    conn: u64,
    venue_session: Box<dyn SimSession>,
    out: Frames,
    /// Data frames sent, for the every-Nth corruption faults.
    data_frames: u64,
    inbound: VecDeque<Instant>,
    gaps: GapInjector,
    record: Arc<Mutex<ConnTrades>>,
    /// When anything was last written (the idle cut-off).
    last_sent: Instant,
    /// The client's IP, its venue and that venue's per-host budget.
    ip: (IpAddr, Venue, HostBudget),
}

enum Flow {
    Continue,
    Close(CloseCode, &'static str),
    /// Drop the socket without a close frame.
    Abort,
    /// The session's own ping was answered.
    Pong,
}

pub(crate) async fn run<S>(
    ws: WebSocketStream<S>,
    shared: Arc<Shared>,
    conn: u64,
    session: Box<dyn SimSession>,
    ip: (IpAddr, Venue, HostBudget),
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let record = Arc::new(Mutex::new(ConnTrades {
        conn,
        venue: Some(session.venue()),
        open: true,
        ..Default::default()
    }));
    {
        let mut conns = shared.conns.lock();
        if conns.len() >= MAX_CONN_RECORDS {
            conns.retain(|c| c.lock().open);
        }
        conns.push(record.clone());
    }
    let n_symbols = shared.symbols.len();
    let mut c = Conn {
        ws,
        shared: shared.clone(),
        conn,
        venue_session: session,
        out: Frames::default(),
        data_frames: 0,
        inbound: VecDeque::new(),
        gaps: GapInjector::new(conn, n_symbols),
        record: record.clone(),
        last_sent: Instant::now(),
        ip,
    };
    // Receive before subscribing, so nothing published after the subscription is missed.
    let rx = shared.tx.subscribe();
    shared.counters.open.fetch_add(1, Relaxed);
    c.with_session(|s, cx, out| s.start(cx, out));
    let flow = if c.send_out(true).await {
        c.serve(rx).await
    } else {
        Flow::Abort
    };
    if let Flow::Close(code, reason) = flow {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        // Finish the close handshake (bounded), so the client reads the close frame
        // instead of a reset when it writes a late pong.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            if c.ws.close(Some(frame)).await.is_ok() {
                while let Some(Ok(_)) = c.ws.next().await {}
            }
        })
        .await;
    }
    record.lock().open = false;
    shared.counters.open.fetch_sub(1, Relaxed);
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Run `f` on the venue session with its context; its frames land in `self.out`.
    fn with_session<R>(
        &mut self,
        f: impl FnOnce(&mut dyn SimSession, &mut SessionCx<'_>, &mut Frames) -> R,
    ) -> R {
        let mut cx = SessionCx {
            view: SimView {
                shared: &self.shared,
            },
            conn: self.conn,
            gaps: &mut self.gaps,
            record: &self.record,
        };
        f(self.venue_session.as_mut(), &mut cx, &mut self.out)
    }

    async fn serve(&mut self, mut rx: broadcast::Receiver<Arc<Outbound>>) -> Flow {
        let shared = self.shared.clone();
        let config = &shared.config;
        let rules = config.rules(self.venue_session.venue());
        let opened = Instant::now();
        let lifetime_end = opened + config.max_connection_lifetime;
        let faults = shared.faults.read().clone();
        let drop_at = faults.drop_after.map(|d| opened + d);
        let mut stall = faults.stall.map(|s| (opened + s.after, s.duration));
        let tick_every = self.venue_session.tick_interval();
        let mut session_tick = {
            let every = tick_every.unwrap_or(Duration::from_secs(3600));
            tokio::time::interval_at(opened + every, every)
        };
        let ping_every = rules.ping_interval.unwrap_or(Duration::from_secs(3600));
        let mut ping = tokio::time::interval_at(opened + ping_every, ping_every);
        let mut pong_due: Option<(Instant, Vec<u8>)> = None;
        let mut ping_seq = 0u64;
        let mut shutdown = shared.shutdown.subscribe();
        let far = opened + Duration::from_secs(10 * 365 * 24 * 3600);
        // Timers live across iterations: building them per event costs more than the event.
        let lifetime = sleep_until(lifetime_end);
        let drop_timer = sleep_until(drop_at.unwrap_or(far));
        let pong_timer = sleep_until(far);
        let stall_timer = sleep_until(stall.map_or(far, |s| s.0));
        let idle_timer = sleep_until(rules.idle_close.map_or(far, |d| opened + d));
        let heartbeat_every = self.venue_session.heartbeat_every();
        let heartbeat_timer = sleep_until(heartbeat_every.map_or(far, |d| opened + d));
        tokio::pin!(
            lifetime,
            drop_timer,
            pong_timer,
            stall_timer,
            idle_timer,
            heartbeat_timer
        );
        loop {
            let flow = tokio::select! {
                biased;
                _ = shutdown.changed() => {
                    self.with_session(|s, cx, out| s.shutdown_notice(cx, out));
                    let _ = self.send_out(true).await;
                    Flow::Close(CloseCode::Away, "server shutdown")
                }
                _ = &mut lifetime => {
                    shared.counters.lifetime_closes.fetch_add(1, Relaxed);
                    if config.shutdown_notice_at_lifetime {
                        self.with_session(|s, cx, out| s.shutdown_notice(cx, out));
                        let _ = self.send_out(true).await;
                    }
                    Flow::Close(CloseCode::Normal, "connection lifetime reached")
                }
                _ = &mut drop_timer, if drop_at.is_some() => {
                    shared.fault_counters.drops.fetch_add(1, Relaxed);
                    Flow::Abort
                }
                _ = &mut pong_timer, if pong_due.is_some() => {
                    shared.counters.pong_timeout_closes.fetch_add(1, Relaxed);
                    Flow::Close(CloseCode::Policy, "pong timeout")
                }
                _ = &mut idle_timer, if rules.idle_close.is_some() => {
                    let idle = rules.idle_close.unwrap_or_default();
                    let due = self.last_sent + idle;
                    if Instant::now() >= due {
                        shared.counters.idle_closes.fetch_add(1, Relaxed);
                        Flow::Close(CloseCode::from(IDLE_CLOSE_CODE), "no data sent within the idle limit")
                    } else {
                        idle_timer.as_mut().reset(due);
                        Flow::Continue
                    }
                }
                _ = &mut heartbeat_timer, if heartbeat_every.is_some() => {
                    let every = heartbeat_every.unwrap_or_default();
                    let due = self.last_sent + every;
                    if Instant::now() >= due {
                        self.with_session(|s, cx, out| s.heartbeat(cx, out));
                        // A session with nothing to say waits a full period again.
                        let sent = !self.out.is_empty();
                        if !self.send_out(true).await {
                            return Flow::Abort;
                        }
                        heartbeat_timer.as_mut().reset(if sent { self.last_sent } else { Instant::now() } + every);
                    } else {
                        heartbeat_timer.as_mut().reset(due);
                    }
                    Flow::Continue
                }
                _ = &mut stall_timer, if stall.is_some() => {
                    shared.fault_counters.stalls.fetch_add(1, Relaxed);
                    let pause = stall.take().map_or(Duration::ZERO, |s| s.1);
                    tokio::time::sleep(pause).await;
                    Flow::Continue
                }
                _ = ping.tick(), if rules.ping_interval.is_some() => {
                    ping_seq += 1;
                    let own = self.with_session(|s, cx, out| s.app_ping(ping_seq, cx, out));
                    let lost = faults
                        .lose_pings_from
                        .is_some_and(|n| ping_seq >= u64::from(n));
                    if lost {
                        // The ping never reaches the client; its pong stays due.
                        shared.fault_counters.lost_pings.fetch_add(1, Relaxed);
                        self.out.clear();
                    }
                    let payload = if own { Vec::new() } else { ping_seq.to_be_bytes().to_vec() };
                    if pong_due.is_none() {
                        let deadline = Instant::now() + rules.pong_timeout;
                        pong_timer.as_mut().reset(deadline);
                        pong_due = Some((deadline, payload.clone()));
                    } else if let Some(p) = pong_due.as_mut() {
                        p.1 = payload.clone();
                    }
                    if lost {
                        Flow::Continue
                    } else if own {
                        if self.send_out(true).await { Flow::Continue } else { Flow::Abort }
                    } else {
                        match self.ws.send(Message::Ping(payload.into())).await {
                            Ok(()) => Flow::Continue,
                            Err(_) => Flow::Abort,
                        }
                    }
                }
                _ = session_tick.tick(), if tick_every.is_some() => {
                    let answer = self.with_session(|s, cx, out| s.on_tick(cx, out));
                    if !self.send_out(true).await {
                        Flow::Abort
                    } else {
                        match answer {
                            Inbound::Continue => Flow::Continue,
                            Inbound::Pong => Flow::Pong,
                            Inbound::Close(code, reason) => {
                                shared.counters.session_closes.fetch_add(1, Relaxed);
                                Flow::Close(CloseCode::from(code), reason)
                            }
                        }
                    }
                }
                msg = self.ws.next() => match msg {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => Flow::Abort,
                    Some(Ok(msg)) => {
                        if self.over_limit(rules.max_inbound_per_sec) {
                            shared.counters.rate_limit_closes.fetch_add(1, Relaxed);
                            Flow::Close(CloseCode::Policy, "too many messages")
                        } else if !shared.per_ip.admit_message(self.ip.0, self.ip.1, self.ip.2) {
                            shared.counters.ip_rate_limit_closes.fetch_add(1, Relaxed);
                            Flow::Close(CloseCode::Policy, "too many messages from this IP")
                        } else {
                            match msg {
                                Message::Pong(p) => {
                                    if pong_due.as_ref().is_some_and(|d| d.1 == p.as_ref()) {
                                        pong_due = None;
                                    }
                                    Flow::Continue
                                }
                                Message::Text(t) => self.inbound_message(t.as_bytes()).await,
                                Message::Binary(b) => self.inbound_message(&b).await,
                                _ => Flow::Continue,
                            }
                        }
                    }
                },
                ev = rx.recv() => match ev {
                    Ok(out) => self.deliver_batch(out, &mut rx).await,
                    Err(RecvError::Lagged(_)) => {
                        shared.counters.slow_closes.fetch_add(1, Relaxed);
                        Flow::Close(CloseCode::Again, "slow consumer")
                    }
                    Err(RecvError::Closed) => Flow::Close(CloseCode::Away, "server shutdown"),
                },
            };
            match flow {
                Flow::Continue => {}
                Flow::Pong => pong_due = None,
                other => return other,
            }
        }
    }

    /// Count an inbound message; true when it exceeds the per-second budget.
    fn over_limit(&mut self, per_sec: u32) -> bool {
        let now = Instant::now();
        while self
            .inbound
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.inbound.pop_front();
        }
        if self.inbound.len() >= per_sec as usize {
            return true;
        }
        self.inbound.push_back(now);
        false
    }

    async fn inbound_message(&mut self, msg: &[u8]) -> Flow {
        let answer = self.with_session(|s, cx, out| s.on_message(msg, cx, out));
        if !self.send_out(true).await {
            return Flow::Abort;
        }
        match answer {
            Inbound::Continue => Flow::Continue,
            Inbound::Pong => Flow::Pong,
            Inbound::Close(code, reason) => Flow::Close(CloseCode::from(code), reason),
        }
    }

    /// Deliver `first` and whatever else is already queued (up to a bound), so the
    /// select loop runs once per batch rather than once per event.
    async fn deliver_batch(
        &mut self,
        first: Arc<Outbound>,
        rx: &mut broadcast::Receiver<Arc<Outbound>>,
    ) -> Flow {
        let mut next = Some(first);
        for _ in 0..512 {
            let Some(out) = next.take() else { break };
            next = match rx.try_recv() {
                Ok(ev) => Some(ev),
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    self.shared.counters.slow_closes.fetch_add(1, Relaxed);
                    return Flow::Close(CloseCode::Again, "slow consumer");
                }
                Err(_) => None,
            };
            if let flow @ (Flow::Close(..) | Flow::Abort) = self.deliver(&out, next.is_none()).await
            {
                return flow;
            }
        }
        if let Some(out) = next {
            return self.deliver(&out, true).await;
        }
        Flow::Continue
    }

    async fn deliver(&mut self, out: &Outbound, flush: bool) -> Flow {
        match out {
            Outbound::Market(ev) => self.with_session(|s, cx, out| s.on_market(ev, cx, out)),
            Outbound::Replay(f) => self.with_session(|s, cx, out| s.on_replay(f, cx, out)),
            Outbound::ShutdownNotice => self.with_session(|s, cx, out| s.shutdown_notice(cx, out)),
            Outbound::Drop => {
                self.shared.fault_counters.drops.fetch_add(1, Relaxed);
                return Flow::Abort;
            }
        }
        if self.send_out(flush).await {
            Flow::Continue
        } else {
            Flow::Abort
        }
    }

    /// Write the session's frames (data frames after any corruption fault), flushing
    /// when asked; false when the socket failed.
    async fn send_out(&mut self, flush: bool) -> bool {
        if self.out.is_empty() {
            return !flush || self.ws.flush().await.is_ok();
        }
        let binary = self.venue_session.binary();
        for i in 0..self.out.len() {
            let Some((kind, buf)) = self.out.get_mut(i) else {
                break;
            };
            if *kind == FrameKind::Data {
                self.data_frames += 1;
                let corruption = {
                    let faults = self.shared.faults.read();
                    faults
                        .corruption_for(self.data_frames)
                        .map(|c| (c, faults.oversized_bytes))
                };
                if let Some((how, size)) = corruption {
                    corrupt(buf, how, size, &self.shared.fault_counters);
                }
                self.shared.counters.frames_sent.fetch_add(1, Relaxed);
            }
            let message = if binary {
                Message::binary(buf.clone())
            } else {
                Message::text(String::from_utf8_lossy(buf).into_owned())
            };
            if self.ws.feed(message).await.is_err() {
                self.out.clear();
                return false;
            }
        }
        self.out.clear();
        self.last_sent = Instant::now();
        !flush || self.ws.flush().await.is_ok()
    }
}
