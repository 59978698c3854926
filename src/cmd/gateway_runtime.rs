//! `[gateway]` from the config file → the gateway crate's runtime settings
//! (`tickd_gateway::GatewayConfig`), for the commands that start a gateway.

use std::net::{SocketAddr, ToSocketAddrs};

use tickd_gateway::{ApiKeyConfig, KeyLimits, TlsFiles};

use crate::config::GatewayConfig;
use crate::exit::Failure;

fn addr(path: &str, text: &str) -> Result<SocketAddr, Failure> {
    text.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| Failure::Invalid(format!("{path} = {text:?}: expected host:port")))
}

/// Fails early, before any feed starts, when the gateway's address (or its QUIC UDP
/// address) is taken, with the fix. A race with another process binding it between this
/// check and the gateway's own bind still fails there, with the same kind of error.
pub fn check_listen_free(config: &GatewayConfig) -> Result<(), Failure> {
    let busy = |what: &str, addr: SocketAddr, err: std::io::Error| {
        Failure::Runtime(anyhow::anyhow!(
            "{what} {addr} is not available ({err}): another tickd may be running there; \
             stop it, or pick a free port with --listen or [gateway] listen / quic_listen"
        ))
    };
    let listen = addr("gateway.listen", &config.listen)?;
    if listen.port() != 0 {
        std::net::TcpListener::bind(listen).map_err(|e| busy("gateway.listen", listen, e))?;
    }
    if let Some(quic) = config.quic_listen.as_deref() {
        let quic = addr("gateway.quic_listen", quic)?;
        if quic.port() != 0 {
            std::net::UdpSocket::bind(quic).map_err(|e| busy("gateway.quic_listen", quic, e))?;
        }
    }
    Ok(())
}

/// Converts a validated `[gateway]` section; `journal_dir` is where history comes from.
pub fn runtime_config(config: &GatewayConfig) -> Result<tickd_gateway::GatewayConfig, Failure> {
    let defaults = tickd_gateway::GatewayConfig::default();
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    Ok(tickd_gateway::GatewayConfig {
        listen: addr("gateway.listen", &config.listen)?,
        quic_listen: config
            .quic_listen
            .as_deref()
            .map(|q| addr("gateway.quic_listen", q))
            .transpose()?,
        tls,
        allow_anonymous: config.allow_anonymous,
        anonymous_limits: KeyLimits {
            max_connections: u32::MAX,
            // Anonymous clients are limited per connection, not as one shared key.
            max_subscriptions: u32::MAX,
            ..KeyLimits::default()
        },
        api_keys: config
            .api_keys
            .iter()
            .map(|k| ApiKeyConfig {
                key: k.key.clone(),
                limits: KeyLimits {
                    max_connections: k.max_connections,
                    max_subscriptions: k.max_subscriptions,
                    max_messages_per_sec: k.max_messages_per_sec,
                },
            })
            .collect(),
        max_frame_bytes: config.max_frame_bytes as usize,
        max_subscriptions_per_connection: config.max_subscriptions_per_connection as usize,
        max_pending_requests: config.max_pending_requests as usize,
        subscriber_queue: config.subscriber_queue as usize,
        heartbeat_ms: defaults.heartbeat_ms,
        max_replay_records: defaults.max_replay_records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ApiKey;

    #[test]
    fn converts_every_field() {
        let config = GatewayConfig {
            listen: "127.0.0.1:9000".into(),
            quic_listen: Some("127.0.0.1:9443".into()),
            api_keys: vec![ApiKey {
                key: "k".repeat(16),
                max_connections: 3,
                ..ApiKey::default()
            }],
            subscriber_queue: 77,
            ..GatewayConfig::default()
        };
        let runtime = runtime_config(&config).unwrap();
        assert_eq!(runtime.listen.port(), 9000);
        assert_eq!(runtime.quic_listen.map(|a| a.port()), Some(9443));
        assert_eq!(runtime.api_keys[0].limits.max_connections, 3);
        assert_eq!(runtime.subscriber_queue, 77);
        assert!(runtime.tls.is_none());
        let bad = GatewayConfig {
            listen: "nowhere".into(),
            ..GatewayConfig::default()
        };
        assert!(runtime_config(&bad).is_err());
    }
}
