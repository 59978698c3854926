//! One WebSocket connection: control messages, the inbound message limit, server
//! pings with a pong deadline, the lifetime, faults, and delivering subscribed events.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use tickd_normalizer::binance::encode as enc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::control::{self, Op};
use super::faults::corrupt;
use super::frames::FrameWriter;
use super::gaps::GapInjector;
use super::market::{EventKind, SimEvent};
use super::reshape::DepthReshaper;
use super::routes::{ch, split_stream, PathClass, WsTarget, CHANNELS};
use super::state::{ConnTrades, Outbound, Shared};

/// Connection records kept for `SimMarketHandle::trades_sent`; a long `tickd sim`
/// run must not grow without bound.
const MAX_CONN_RECORDS: usize = 4_096;

struct Session<S> {
    ws: WebSocketStream<S>,
    shared: Arc<Shared>,
    class: PathClass,
    /// In subscription order, for LIST_SUBSCRIPTIONS.
    streams: Vec<String>,
    stream_set: HashSet<String>,
    /// Channel bits per symbol index.
    masks: Vec<u16>,
    writer: FrameWriter,
    frames: u64,
    inbound: VecDeque<Instant>,
    gaps: GapInjector,
    record: Arc<Mutex<ConnTrades>>,
    reply: Vec<u8>,
    reshaper: DepthReshaper,
}

enum Flow {
    Continue,
    Close(CloseCode, &'static str),
    /// Drop the socket without a close frame.
    Abort,
}

pub(crate) async fn run<S>(ws: WebSocketStream<S>, shared: Arc<Shared>, conn: u64, target: WsTarget)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let record = Arc::new(Mutex::new(ConnTrades {
        conn,
        venue: Some(target.class.venue()),
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
    let mut s = Session {
        ws,
        writer: FrameWriter::new(target.combined, target.micros, shared.config.send_time_unit),
        shared: shared.clone(),
        class: target.class,
        streams: Vec::new(),
        stream_set: HashSet::new(),
        masks: vec![0; n_symbols],
        frames: 0,
        inbound: VecDeque::new(),
        gaps: GapInjector::new(conn, n_symbols),
        record: record.clone(),
        reply: Vec::new(),
        reshaper: DepthReshaper::new(n_symbols),
    };
    // Receive before subscribing, so nothing published after the subscription is missed.
    let rx = shared.tx.subscribe();
    shared.counters.open.fetch_add(1, Relaxed);
    s.subscribe(&target.streams);
    let flow = s.serve(rx).await;
    if let Flow::Close(code, reason) = flow {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        // Finish the close handshake (bounded), so the client reads the close frame
        // instead of a reset when it writes a late pong.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            if s.ws.close(Some(frame)).await.is_ok() {
                while let Some(Ok(_)) = s.ws.next().await {}
            }
        })
        .await;
    }
    record.lock().open = false;
    shared.counters.open.fetch_sub(1, Relaxed);
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    async fn serve(&mut self, mut rx: broadcast::Receiver<Arc<Outbound>>) -> Flow {
        let shared = self.shared.clone();
        let config = &shared.config;
        let rules = config.rules(self.class.venue());
        let opened = Instant::now();
        let lifetime_end = opened + config.max_connection_lifetime;
        let faults = shared.faults.read().clone();
        let drop_at = faults.drop_after.map(|d| opened + d);
        let mut stall = faults.stall.map(|s| (opened + s.after, s.duration));
        let mut ping = tokio::time::interval_at(opened + rules.ping_interval, rules.ping_interval);
        let mut pong_due: Option<(Instant, Vec<u8>)> = None;
        let mut ping_seq = 0u64;
        let mut shutdown = shared.shutdown.subscribe();
        let far = opened + Duration::from_secs(10 * 365 * 24 * 3600);
        // Timers live across iterations: building them per event costs more than the event.
        let lifetime = sleep_until(lifetime_end);
        let drop_timer = sleep_until(drop_at.unwrap_or(far));
        let pong_timer = sleep_until(far);
        let stall_timer = sleep_until(stall.map_or(far, |s| s.0));
        tokio::pin!(lifetime, drop_timer, pong_timer, stall_timer);
        loop {
            let flow = tokio::select! {
                biased;
                _ = shutdown.changed() => {
                    self.writer.server_shutdown();
                    let _ = self.send_buf().await;
                    Flow::Close(CloseCode::Away, "server shutdown")
                }
                _ = &mut lifetime => {
                    shared.counters.lifetime_closes.fetch_add(1, Relaxed);
                    if config.shutdown_notice_at_lifetime {
                        self.writer.server_shutdown();
                        let _ = self.send_buf().await;
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
                _ = &mut stall_timer, if stall.is_some() => {
                    shared.fault_counters.stalls.fetch_add(1, Relaxed);
                    let pause = stall.take().map_or(Duration::ZERO, |s| s.1);
                    tokio::time::sleep(pause).await;
                    Flow::Continue
                }
                _ = ping.tick() => {
                    ping_seq += 1;
                    let payload = ping_seq.to_be_bytes().to_vec();
                    if pong_due.is_none() {
                        let deadline = Instant::now() + rules.pong_timeout;
                        pong_timer.as_mut().reset(deadline);
                        pong_due = Some((deadline, payload.clone()));
                    } else if let Some(p) = pong_due.as_mut() {
                        p.1 = payload.clone();
                    }
                    match self.ws.send(Message::Ping(payload.into())).await {
                        Ok(()) => Flow::Continue,
                        Err(_) => Flow::Abort,
                    }
                }
                msg = self.ws.next() => match msg {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => Flow::Abort,
                    Some(Ok(msg)) => {
                        if self.over_limit(rules.max_inbound_per_sec) {
                            shared.counters.rate_limit_closes.fetch_add(1, Relaxed);
                            Flow::Close(CloseCode::Policy, "too many messages")
                        } else {
                            match msg {
                                Message::Pong(p) => {
                                    if pong_due.as_ref().is_some_and(|d| d.1 == p.as_ref()) {
                                        pong_due = None;
                                    }
                                    Flow::Continue
                                }
                                Message::Text(t) => self.control(t.as_bytes(), rules.max_streams).await,
                                Message::Binary(b) => self.control(&b, rules.max_streams).await,
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

    fn subscribe(&mut self, streams: &[String]) {
        for s in streams {
            if !self.stream_set.insert(s.clone()) {
                continue;
            }
            self.streams.push(s.clone());
            self.set_mask(s, true);
        }
        if !streams.is_empty() && !self.shared.subscribed_once.swap(true, Relaxed) {
            self.shared.first_subscribe.notify_one();
        }
    }

    fn set_mask(&mut self, stream: &str, on: bool) {
        let Some((sym, bit)) = split_stream(stream) else {
            return;
        };
        let key = (self.class.venue(), sym.to_string());
        let Some(&i) = self.shared.symbol_index.get(&key) else {
            return;
        };
        if let Some(m) = self.masks.get_mut(i as usize) {
            *m = if on { *m | bit } else { *m & !bit };
        }
    }

    async fn control(&mut self, text: &[u8], max_streams: usize) -> Flow {
        self.reply.clear();
        match control::parse(text) {
            Err(e) => enc::encode_error(&mut self.reply, e.code, &e.msg, e.id.as_ref()),
            Ok((id, op)) => match op {
                Op::Subscribe(list) => {
                    let new = list
                        .iter()
                        .filter(|s| !self.stream_set.contains(*s))
                        .count();
                    if self.streams.len() + new > max_streams {
                        enc::encode_error(
                            &mut self.reply,
                            2,
                            "Invalid request: too many streams",
                            Some(&id),
                        );
                    } else {
                        self.subscribe(&list);
                        enc::encode_result_null(&mut self.reply, &id);
                    }
                }
                Op::Unsubscribe(list) => {
                    for s in &list {
                        if self.stream_set.remove(s) {
                            self.set_mask(s, false);
                        }
                    }
                    self.streams.retain(|s| !list.contains(s));
                    enc::encode_result_null(&mut self.reply, &id);
                }
                Op::List => enc::encode_result_list(
                    &mut self.reply,
                    &id,
                    self.streams.iter().map(String::as_str),
                ),
                Op::SetCombined(on) => {
                    self.writer.combined = on;
                    enc::encode_result_null(&mut self.reply, &id);
                }
                Op::GetCombined => {
                    enc::encode_result_bool(&mut self.reply, &id, self.writer.combined)
                }
            },
        }
        let text = String::from_utf8_lossy(&self.reply).into_owned();
        match self.ws.send(Message::text(text)).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Abort,
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
        let ok = match out {
            Outbound::Market(ev) => self.market_event(ev).await,
            Outbound::Replay(f) if f.venue == self.class.venue() => {
                let mut ok = true;
                for stream in &f.streams {
                    if self.stream_set.contains(stream) {
                        self.writer.raw(stream, &f.data);
                        ok &= self.feed_buf().await;
                    }
                }
                ok
            }
            Outbound::Replay(_) => true,
            Outbound::ShutdownNotice => {
                self.writer.server_shutdown();
                self.feed_buf().await
            }
        };
        if ok && flush && self.ws.flush().await.is_err() {
            return Flow::Abort;
        }
        if ok {
            Flow::Continue
        } else {
            Flow::Abort
        }
    }

    async fn market_event(&mut self, ev: &SimEvent) -> bool {
        let idx = ev.sym as usize;
        let mask = self.masks.get(idx).copied().unwrap_or(0) & self.class.delivers();
        if mask == 0 {
            return true;
        }
        let bits: u16 = match ev.kind {
            EventKind::Trade { .. } => ch::TRADE | ch::AGG_TRADE,
            EventKind::BookTicker { .. } => ch::BOOK_TICKER,
            EventKind::Depth { .. } => ch::ANY_DEPTH,
            EventKind::MarkPrice { every_3s, .. } => {
                ch::MARK_PRICE_1S | if every_3s { ch::MARK_PRICE } else { 0 }
            }
            EventKind::ForceOrder { .. } => ch::FORCE_ORDER,
        } & mask;
        if bits & ch::ANY_DEPTH != 0 && self.gaps.skip(ev, &self.shared) {
            self.reshaper.forget(idx);
            return true;
        }
        if bits == 0 {
            return true;
        }
        let reshaped = if bits & ch::ANY_DEPTH != 0 {
            let faults = self.shared.faults.read();
            self.reshaper
                .reshape(ev, self.class.venue(), &faults, &self.shared.fault_counters)
        } else {
            None
        };
        let ev = reshaped.as_ref().unwrap_or(ev);
        if let EventKind::Trade { trade_id, .. } = ev.kind {
            self.record_trade(idx, trade_id);
        }
        let shared = self.shared.clone();
        let (Some(info), Some(lower)) = (shared.symbols.get(idx), shared.lower_names.get(idx))
        else {
            return true;
        };
        for (bit, suffix) in CHANNELS {
            if bits & bit != 0 {
                self.writer.market(ev, info, lower, bit, suffix);
                if !self.feed_buf().await {
                    return false;
                }
            }
        }
        true
    }

    fn record_trade(&self, idx: usize, trade_id: u64) {
        let cap = self.shared.config.trade_record_cap;
        if cap == 0 {
            return;
        }
        if let Some(name) = self.shared.symbols.get(idx).map(|s| s.raw.clone()) {
            let mut rec = self.record.lock();
            let ids = rec.trades.entry(name).or_default();
            if ids.len() < cap {
                ids.push(trade_id);
            }
        }
    }

    /// Queue `writer.buf` (after any corruption fault) without flushing.
    async fn feed_buf(&mut self) -> bool {
        self.frames += 1;
        let corruption = {
            let faults = self.shared.faults.read();
            faults
                .corruption_for(self.frames)
                .map(|c| (c, faults.oversized_bytes))
        };
        if let Some((how, size)) = corruption {
            corrupt(&mut self.writer.buf, how, size, &self.shared.fault_counters);
        }
        self.shared.counters.frames_sent.fetch_add(1, Relaxed);
        let text = String::from_utf8_lossy(&self.writer.buf).into_owned();
        self.ws.feed(Message::text(text)).await.is_ok()
    }

    async fn send_buf(&mut self) -> bool {
        self.feed_buf().await && self.ws.flush().await.is_ok()
    }
}
