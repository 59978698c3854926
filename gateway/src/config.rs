//! The gateway's runtime settings. The `tickd` binary converts its `[gateway]` config
//! section into this (the gateway crate cannot see the root crate's types).

use std::net::SocketAddr;
use std::path::PathBuf;

/// Limits that apply to one API key (or to anonymous clients).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLimits {
    /// Concurrent connections with this key.
    pub max_connections: u32,
    /// Subscriptions across all of this key's connections.
    pub max_subscriptions: u32,
    /// Client messages per second per connection (and HTTP requests per second).
    pub max_messages_per_sec: u32,
    /// History queries (`/v1/trades`, `/v1/bars`, `/v1/book?at=`) in flight at once.
    pub max_history_queries: u32,
}

impl Default for KeyLimits {
    fn default() -> Self {
        KeyLimits {
            max_connections: 10,
            max_subscriptions: 1000,
            max_messages_per_sec: 50,
            max_history_queries: 2,
        }
    }
}

/// One API key and its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyConfig {
    pub key: String,
    pub limits: KeyLimits,
}

/// PEM files for TLS on the WebSocket/HTTP port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// WebSocket + HTTP (TCP).
    pub listen: SocketAddr,
    /// QUIC (UDP); `None` disables QUIC.
    pub quic_listen: Option<SocketAddr>,
    /// TLS for WebSocket/HTTP when set. QUIC always uses TLS: these files, or a
    /// self-signed certificate generated at start when none is configured.
    pub tls: Option<TlsFiles>,
    pub allow_anonymous: bool,
    /// Limits for clients without a key (when `allow_anonymous`).
    pub anonymous_limits: KeyLimits,
    pub api_keys: Vec<ApiKeyConfig>,
    /// `/metrics` answers without a key (for a Prometheus scraper); `/health` always does.
    pub open_metrics: bool,
    /// Largest client frame (WebSocket message or QUIC control line).
    pub max_frame_bytes: usize,
    pub max_subscriptions_per_connection: usize,
    /// Replies a connection may have waiting to be written.
    pub max_pending_requests: usize,
    /// Records queued per subscription before its slow-subscriber policy applies.
    pub subscriber_queue: usize,
    /// A `heartbeat` is sent after this long without any other message.
    pub heartbeat_ms: u64,
    /// Most journal records one `subscribe` with `from` may replay.
    pub max_replay_records: usize,
    /// History queries in flight across the server (each also counts against its key).
    pub max_history_queries: usize,
    /// Open TCP connections across the server (lowered at start to what the process's
    /// open-file limit allows, less a reserve the feeds and storage never compete for).
    pub max_connections: usize,
    /// Open TCP connections from one address while anonymous access is allowed (0: no
    /// cap). With keys required, each key's `max_connections` applies instead.
    pub max_connections_per_ip: usize,
    /// A new connection must send its request headers (or TLS hello) within this.
    pub header_timeout_ms: u64,
    /// A WebSocket connection that has not subscribed within this is closed.
    pub idle_timeout_ms: u64,
    /// A write to a subscriber's socket that takes longer than this closes the
    /// connection (the client is not reading): the slow-subscriber policy for the socket.
    pub write_timeout_ms: u64,
    /// Bytes of records one connection may have queued across its subscriptions; past
    /// it, its subscriptions' slow-subscriber policies apply as if their queues were full.
    pub max_connection_buffer_bytes: usize,
    /// Bytes of records queued across all connections.
    pub max_total_buffer_bytes: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            quic_listen: None,
            tls: None,
            allow_anonymous: true,
            // Anonymous clients are limited per connection, not as one shared key.
            anonymous_limits: KeyLimits {
                max_connections: u32::MAX,
                max_subscriptions: u32::MAX,
                ..KeyLimits::default()
            },
            api_keys: Vec::new(),
            open_metrics: false,
            max_frame_bytes: 65_536,
            max_subscriptions_per_connection: 1000,
            max_pending_requests: 64,
            subscriber_queue: 4096,
            heartbeat_ms: 5000,
            max_replay_records: 1_000_000,
            max_history_queries: 4,
            max_connections: 10_000,
            max_connections_per_ip: 1_000,
            header_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            write_timeout_ms: 10_000,
            max_connection_buffer_bytes: 16 << 20,
            max_total_buffer_bytes: 1 << 30,
        }
    }
}
