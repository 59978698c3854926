//! One connection's protocol state, the same for WebSocket and QUIC: it turns control
//! messages into replies and subscriptions, and enforces the per-connection limits.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use tickd_bus::{Channel, SharedRegistry, Venue};
use tokio::sync::Notify;

use super::auth::{Admission, Auth, RateLimiter};
use super::replay::{self, Replay, Replies};
use crate::config::GatewayConfig;
use crate::fanout::{Router, SubQueue};
use crate::metrics::Metrics;
use crate::protocol::{
    parse_client_message, ClientMessage, Encoding, ErrorCode, Pattern, ServerMessage, SlowPolicy,
    StreamChannel, TimeSpec,
};

/// One subscribe pattern held by a connection.
pub struct Subscription {
    pub pattern: String,
    pub id: u64,
    pub queue: Arc<SubQueue>,
}

/// What handling one client message produced.
#[derive(Default)]
pub struct Outcome {
    pub replies: Vec<ServerMessage>,
    /// Subscriptions added, with the streams they resolved to (QUIC opens a stream each).
    pub added: Vec<(Arc<SubQueue>, Vec<String>)>,
    /// Close the connection with this reason.
    pub close: Option<String>,
}

pub struct Session {
    router: Router,
    config: Arc<GatewayConfig>,
    admission: Admission,
    pub encoding: Encoding,
    subs: Vec<Subscription>,
    rate: RateLimiter,
    /// Makes the wake-up handle for a new subscription's queue.
    make_notify: Box<dyn Fn() -> Arc<Notify> + Send>,
    /// The journal `from` replays out of, where replay errors are reported, and the
    /// metrics that count the journal damage replays step over.
    replay: Option<(PathBuf, Replies, Arc<Metrics>)>,
    /// Whether any `subscribe` was accepted (connections that never subscribe are
    /// closed after `idle_timeout_ms`).
    subscribed: bool,
    /// This connection's byte budget for queued records (child of the server's).
    budget: Option<Arc<crate::fanout::Budget>>,
    /// The server's keys, for a `hello` that brings one after the connection opened.
    auth: Option<Arc<Auth>>,
}

impl Session {
    pub fn new(
        router: Router,
        config: Arc<GatewayConfig>,
        admission: Admission,
        encoding: Encoding,
        make_notify: Box<dyn Fn() -> Arc<Notify> + Send>,
    ) -> Self {
        let rate = RateLimiter::new(admission.key.limits.max_messages_per_sec);
        Session {
            router,
            config,
            admission,
            encoding,
            subs: Vec::new(),
            rate,
            make_notify,
            replay: None,
            subscribed: false,
            budget: None,
            auth: None,
        }
    }

    /// Lets a `hello` with `api_key` give an anonymous connection that key's limits.
    pub fn set_auth(&mut self, auth: Arc<Auth>) {
        self.auth = Some(auth);
    }

    /// Enables `subscribe` with `from`: replays come out of `journal`; errors found
    /// while replaying (after the ack) go to `replies`.
    pub fn enable_replay(
        &mut self,
        journal: Option<PathBuf>,
        replies: Replies,
        metrics: Arc<Metrics>,
    ) {
        self.replay = journal.map(|dir| (dir, replies, metrics));
    }

    /// Charges every subscription's queued records to `budget`.
    pub fn set_budget(&mut self, budget: Arc<crate::fanout::Budget>) {
        self.budget = Some(budget);
    }

    /// No `subscribe` was ever accepted on this connection.
    pub fn never_subscribed(&self) -> bool {
        !self.subscribed
    }

    pub fn queues(&self) -> impl Iterator<Item = &Arc<SubQueue>> {
        self.subs.iter().map(|s| &s.queue)
    }

    pub fn hello(&self) -> ServerMessage {
        ServerMessage::Hello {
            server: "tickd".into(),
            protocol: crate::protocol::PROTOCOL_VERSION,
            records: tickd_bus::record::RECORD_VERSION,
            encoding: self.encoding,
            heartbeat_ms: self.config.heartbeat_ms,
        }
    }

    /// Handles one control message (a text frame or a control line).
    pub fn handle(&mut self, text: &[u8]) -> Outcome {
        let mut out = Outcome::default();
        let message = match parse_client_message(text) {
            Ok(message) => message,
            Err((id, code, message)) => {
                out.replies.push(ServerMessage::error(id, code, message));
                return out;
            }
        };
        let id = message.id();
        if !self.rate.allow() {
            out.replies.push(ServerMessage::error(
                id,
                ErrorCode::RateLimited,
                format!(
                    "more than {} messages per second; slow down",
                    self.admission.key.limits.max_messages_per_sec
                ),
            ));
            return out;
        }
        match message {
            ClientMessage::Hello {
                encoding, api_key, ..
            } => {
                if let (Some(key), Some(auth)) = (api_key.as_deref(), &self.auth) {
                    if let Err(err) = auth.upgrade(&mut self.admission, key) {
                        out.replies.push(ServerMessage::error(
                            id,
                            ErrorCode::Unauthorized,
                            err.to_string(),
                        ));
                        return out;
                    }
                    self.rate = RateLimiter::new(self.admission.key.limits.max_messages_per_sec);
                }
                if let Some(encoding) = encoding {
                    if !self.subs.is_empty() && encoding != self.encoding {
                        out.replies.push(ServerMessage::error(
                            id,
                            ErrorCode::BadRequest,
                            "encoding can only change before the first subscribe",
                        ));
                        return out;
                    }
                    self.encoding = encoding;
                }
                out.replies.push(ack(id, "hello", Vec::new()));
            }
            ClientMessage::Ping { id } => out.replies.push(ServerMessage::Pong { id }),
            ClientMessage::List { id } => out.replies.push(ServerMessage::Subscriptions {
                id,
                streams: self.subs.iter().map(|s| s.pattern.clone()).collect(),
            }),
            ClientMessage::Subscribe {
                id,
                streams,
                policy,
                from,
            } => {
                let from = match from.map(|f| self.replay_start(f)).transpose() {
                    Ok(from) => from,
                    Err((code, message)) => {
                        out.replies.push(ServerMessage::error(id, code, message));
                        return out;
                    }
                };
                self.subscribe(id, streams, policy.unwrap_or_default(), from, &mut out);
            }
            ClientMessage::Unsubscribe { id, streams } => self.unsubscribe(id, streams, &mut out),
        }
        out
    }

    fn subscribe(
        &mut self,
        id: Option<u64>,
        texts: Vec<String>,
        policy: SlowPolicy,
        from: Option<u64>,
        out: &mut Outcome,
    ) {
        if texts.is_empty() {
            out.replies.push(ServerMessage::error(
                id,
                ErrorCode::BadRequest,
                "\"streams\" is empty; give patterns like [\"trades.binance.BTC-USDT\"]",
            ));
            return;
        }
        let mut patterns = Vec::with_capacity(texts.len());
        for text in &texts {
            match Pattern::parse(text) {
                Ok(pattern) => patterns.push(normalize(self.router.registry(), pattern)),
                Err(e) => {
                    out.replies
                        .push(ServerMessage::error(id, e.code(), e.to_string()));
                    return;
                }
            }
        }
        let mut resolved = BTreeSet::new();
        let mut fresh = Vec::new();
        for pattern in patterns {
            let name = pattern.to_string();
            let streams = resolve(self.router.registry(), &pattern);
            if streams.is_empty() && !self.router_knows(&pattern) {
                out.replies.push(ServerMessage::error(
                    id,
                    ErrorCode::NoSuchStream,
                    format!("{name} matches no stream this server has; see GET /v1/instruments"),
                ));
                return;
            }
            resolved.extend(streams);
            if !self.subs.iter().any(|s| s.pattern == name)
                && !fresh.iter().any(|(n, _)| *n == name)
            {
                fresh.push((name, pattern));
            }
        }
        let limit = self.config.max_subscriptions_per_connection;
        if self.subs.len() + fresh.len() > limit {
            out.replies.push(ServerMessage::error(
                id,
                ErrorCode::TooManySubscriptions,
                format!(
                    "a connection may hold {limit} subscriptions; it has {}",
                    self.subs.len()
                ),
            ));
            return;
        }
        if !self.admission.reserve_subscriptions(fresh.len() as u32) {
            out.replies.push(ServerMessage::error(
                id,
                ErrorCode::TooManySubscriptions,
                format!(
                    "this API key may hold {} subscriptions across its connections",
                    self.admission.key.limits.max_subscriptions
                ),
            ));
            return;
        }
        for (name, pattern) in fresh {
            let mut queue =
                SubQueue::new(policy, self.config.subscriber_queue, (self.make_notify)());
            if let Some(budget) = &self.budget {
                queue = queue.with_budget(Arc::clone(budget));
            }
            let queue = Arc::new(queue);
            if from.is_some() {
                queue.hold_for_replay();
            }
            let (sub_id, seen, positions) = self
                .router
                .subscribe_at(pattern.clone(), Arc::clone(&queue));
            if let (Some(from), Some((journal, replies, metrics))) = (from, &self.replay) {
                replay::spawn(
                    Replay {
                        id,
                        pattern: pattern.clone(),
                        from,
                        journal: journal.clone(),
                        registry: self.router.registry().clone(),
                        positions,
                        run_start_ns: self.router.started_ns(),
                        queue: Arc::clone(&queue),
                        max_records: self.config.max_replay_records,
                        metrics: Arc::clone(metrics),
                    },
                    Arc::clone(replies),
                );
            }
            let mut streams: BTreeSet<String> = resolve(self.router.registry(), &pattern)
                .into_iter()
                .collect();
            streams.extend(seen.iter().cloned());
            resolved.extend(seen);
            out.added
                .push((Arc::clone(&queue), streams.into_iter().collect()));
            self.subs.push(Subscription {
                pattern: name,
                id: sub_id,
                queue,
            });
        }
        self.subscribed = true;
        out.replies
            .push(ack(id, "subscribe", resolved.into_iter().collect()));
    }

    /// Checks a `from` before anything is subscribed.
    fn replay_start(&self, from: TimeSpec) -> Result<u64, (ErrorCode, String)> {
        use tickd_storage::history::time::{format_time, parse_time, TIME_FORMS};
        if self.replay.is_none() {
            return Err((
                ErrorCode::BadRequest,
                "this gateway has no journal: \"from\" cannot replay; subscribe without it".into(),
            ));
        }
        let at = match from {
            TimeSpec::Nanos(ns) => ns,
            TimeSpec::Text(text) => parse_time(&text).map_err(|e| {
                let mut message = format!("\"from\": {e}");
                if !message.contains(TIME_FORMS) {
                    message.push_str(&format!("; expected {TIME_FORMS}"));
                }
                (ErrorCode::BadTime, message)
            })?,
        };
        let now = crate::metrics::now_ns();
        if at > now {
            return Err((
                ErrorCode::BadTime,
                format!(
                    "\"from\" {} is in the future (now {}); expected a past time: {TIME_FORMS}",
                    format_time(at),
                    format_time(now)
                ),
            ));
        }
        Ok(at)
    }

    fn router_knows(&self, pattern: &Pattern) -> bool {
        self.router.streams().iter().any(|(name, _, _)| {
            Pattern::parse(name).is_ok_and(|p| p.is_concrete() && pattern_matches_name(pattern, &p))
        })
    }

    fn unsubscribe(&mut self, id: Option<u64>, texts: Vec<String>, out: &mut Outcome) {
        let mut removed = Vec::new();
        for text in texts {
            let name = match Pattern::parse(&text) {
                Ok(p) => normalize(self.router.registry(), p).to_string(),
                Err(e) => {
                    out.replies
                        .push(ServerMessage::error(id, e.code(), e.to_string()));
                    return;
                }
            };
            if let Some(at) = self.subs.iter().position(|s| s.pattern == name) {
                let sub = self.subs.swap_remove(at);
                self.router.unsubscribe(sub.id);
                sub.queue.retire();
                self.admission.release_subscriptions(1);
                removed.push(name);
            }
        }
        out.replies.push(ack(id, "unsubscribe", removed));
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for sub in self.subs.drain(..) {
            self.router.unsubscribe(sub.id);
        }
    }
}

fn ack(id: Option<u64>, op: &str, streams: Vec<String>) -> ServerMessage {
    ServerMessage::Ack {
        id,
        op: op.into(),
        streams,
    }
}

fn pattern_matches_name(pattern: &Pattern, concrete: &Pattern) -> bool {
    match (&concrete.channel, concrete.venue, &concrete.symbol) {
        (Some(channel), Some(venue), Some(symbol)) => {
            pattern.matches(&crate::protocol::StreamKey {
                channel: *channel,
                venue,
                symbol: symbol.clone(),
            })
        }
        _ => false,
    }
}

/// Replaces a venue's own symbol (`BTCUSDT`) by the normalized one (`BTC-USDT`).
fn normalize(registry: &SharedRegistry, mut pattern: Pattern) -> Pattern {
    let Some(symbol) = pattern.symbol.as_deref() else {
        return pattern;
    };
    let Ok(registry) = registry.read() else {
        return pattern;
    };
    let venues: Vec<Venue> = match pattern.venue {
        Some(venue) => vec![venue],
        None => Venue::ALL.to_vec(),
    };
    let found = venues
        .into_iter()
        .find_map(|venue| registry.resolve(venue, symbol).map(|i| i.symbol.clone()));
    if let Some(normalized) = found {
        pattern.symbol = Some(normalized);
    }
    pattern
}

/// The concrete streams a pattern names among the registry's instruments.
pub fn resolve(registry: &SharedRegistry, pattern: &Pattern) -> Vec<String> {
    let Ok(registry) = registry.read() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for instrument in registry.iter() {
        let venue = instrument.spec.venue;
        if pattern.venue.is_some_and(|v| v != venue)
            || pattern
                .symbol
                .as_deref()
                .is_some_and(|s| !s.eq_ignore_ascii_case(&instrument.symbol))
        {
            continue;
        }
        let channels: Vec<StreamChannel> = match pattern.channel {
            Some(channel) => vec![channel],
            None => Channel::supported_by(venue)
                .iter()
                .map(|c| StreamChannel::Feed(*c))
                .chain([StreamChannel::Status])
                .collect(),
        };
        for channel in channels {
            out.push(format!("{channel}.{venue}.{}", instrument.symbol));
        }
    }
    out
}
