//! `[gateway]`: the subscriber-facing WebSocket, QUIC and HTTP servers.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::checks;
use super::error::ConfigErrors;

/// Gateway settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// WebSocket + HTTP listen address (`host:port`).
    pub listen: String,
    /// QUIC listen address (UDP); none disables QUIC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quic_listen: Option<String>,
    /// PEM certificate chain for TLS; set both `tls_cert` and `tls_key` or neither.
    /// Relative paths are relative to the working directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Accept connections without an API key (with the limits below).
    pub allow_anonymous: bool,
    /// Serve `/metrics` without an API key (for a Prometheus scraper) even when
    /// `allow_anonymous` is false. `/health` is always open.
    pub open_metrics: bool,
    /// Largest client frame accepted; bigger frames close the connection.
    pub max_frame_bytes: u32,
    /// Subscriptions one connection may hold.
    pub max_subscriptions_per_connection: u32,
    /// Requests one connection may have in flight.
    pub max_pending_requests: u32,
    /// Messages queued per subscriber before the slow-subscriber policy applies.
    pub subscriber_queue: u32,
    /// API keys and their limits.
    pub api_keys: Vec<ApiKey>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: "127.0.0.1:8080".into(),
            quic_listen: None,
            tls_cert: None,
            tls_key: None,
            allow_anonymous: true,
            open_metrics: false,
            max_frame_bytes: 65_536,
            max_subscriptions_per_connection: 1000,
            max_pending_requests: 64,
            subscriber_queue: 4096,
            api_keys: Vec::new(),
        }
    }
}

/// One API key (`[[gateway.api_keys]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// The secret clients present; at least 16 printable ASCII characters, no spaces.
    #[serde(default)]
    pub key: String,
    /// Concurrent connections with this key.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Subscriptions across all of this key's connections.
    #[serde(default = "default_max_subscriptions")]
    pub max_subscriptions: u32,
    /// Client messages per second per connection.
    #[serde(default = "default_max_messages_per_sec")]
    pub max_messages_per_sec: u32,
}

fn default_max_connections() -> u32 {
    10
}
fn default_max_subscriptions() -> u32 {
    1000
}
fn default_max_messages_per_sec() -> u32 {
    50
}

impl Default for ApiKey {
    /// Default limits and an empty key (which `validate` rejects).
    fn default() -> Self {
        ApiKey {
            key: String::new(),
            max_connections: default_max_connections(),
            max_subscriptions: default_max_subscriptions(),
            max_messages_per_sec: default_max_messages_per_sec(),
        }
    }
}

pub const MIN_API_KEY_LEN: usize = 16;

impl GatewayConfig {
    pub fn validate(&self, errs: &mut ConfigErrors) {
        checks::listen_addr(errs, "gateway.listen", &self.listen);
        if let Some(quic) = &self.quic_listen {
            checks::listen_addr(errs, "gateway.quic_listen", quic);
        }
        let both_or_neither = "set both tls_cert and tls_key, or neither";
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => errs.push(
                "gateway.tls_key",
                "missing while tls_cert is set",
                both_or_neither,
            ),
            (None, Some(_)) => errs.push(
                "gateway.tls_cert",
                "missing while tls_key is set",
                both_or_neither,
            ),
            _ => {}
        }
        if let Some(cert) = &self.tls_cert {
            tls_file(errs, "gateway.tls_cert", cert);
        }
        if let Some(key) = &self.tls_key {
            tls_file(errs, "gateway.tls_key", key);
        }
        checks::in_range(
            errs,
            "gateway.max_frame_bytes",
            self.max_frame_bytes.into(),
            512,
            16 << 20,
        );
        checks::in_range(
            errs,
            "gateway.max_subscriptions_per_connection",
            self.max_subscriptions_per_connection.into(),
            1,
            1_000_000,
        );
        checks::in_range(
            errs,
            "gateway.max_pending_requests",
            self.max_pending_requests.into(),
            1,
            65_536,
        );
        checks::in_range(
            errs,
            "gateway.subscriber_queue",
            self.subscriber_queue.into(),
            1,
            1 << 24,
        );
        if !self.allow_anonymous && self.api_keys.is_empty() {
            errs.push(
                "gateway.allow_anonymous",
                "false with no api_keys: nobody could connect",
                "set allow_anonymous = true or add a [[gateway.api_keys]] entry",
            );
        }
        let mut seen: HashSet<&str> = HashSet::new();
        for (i, key) in self.api_keys.iter().enumerate() {
            let path = format!("gateway.api_keys[{i}]");
            key.validate(&path, errs);
            if !key.key.is_empty() && !seen.insert(&key.key) {
                errs.push(
                    format!("{path}.key"),
                    "same key as an earlier entry",
                    "give each client its own key",
                );
            }
        }
    }
}

fn tls_file(errs: &mut ConfigErrors, path: &str, file: &std::path::Path) {
    if !file.is_file() {
        errs.push(
            path,
            format!("file {:?} does not exist", file.display().to_string()),
            "give the path of a PEM file (relative to the working directory)",
        );
    }
}

impl ApiKey {
    /// Checks one key; `path` is `gateway.api_keys[i]`. The key itself is never echoed.
    pub fn validate(&self, path: &str, errs: &mut ConfigErrors) {
        let len = self.key.chars().count();
        if len < MIN_API_KEY_LEN {
            errs.push(
                format!("{path}.key"),
                format!("key is {len} characters long"),
                format!(
                    "use at least {MIN_API_KEY_LEN}, e.g. the output of `openssl rand -hex 16`"
                ),
            );
        } else if !self.key.bytes().all(|b| b.is_ascii_graphic()) {
            errs.push(
                format!("{path}.key"),
                "key contains spaces, control or non-ASCII characters",
                "use printable ASCII only, e.g. the output of `openssl rand -hex 16`",
            );
        }
        checks::in_range(
            errs,
            &format!("{path}.max_connections"),
            self.max_connections.into(),
            1,
            100_000,
        );
        checks::in_range(
            errs,
            &format!("{path}.max_subscriptions"),
            self.max_subscriptions.into(),
            1,
            1_000_000,
        );
        checks::in_range(
            errs,
            &format!("{path}.max_messages_per_sec"),
            self.max_messages_per_sec.into(),
            1,
            100_000,
        );
    }
}
