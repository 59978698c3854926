//! WebSocket client connections: tokio-tungstenite over rustls with the `ring`
//! provider installed explicitly (never a process-wide default, never aws-lc-rs).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::endpoint::{BadUrl, Endpoint};

pub use tokio_tungstenite::tungstenite::Message;

pub type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Largest message accepted from a venue; anything bigger is hostile or broken.
pub const MAX_MESSAGE_BYTES: usize = 8 << 20;

/// A rustls client config with the ring provider and the webpki root store,
/// built once per process.
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(config.clone());
    }
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(CONFIG.get_or_init(|| Arc::new(config)).clone())
}

/// Why a connection could not be opened; `Display` names the endpoint and the reason.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    #[error(transparent)]
    BadUrl(#[from] BadUrl),
    #[error("cannot reach {endpoint}: timed out after {after:?}")]
    Timeout { endpoint: String, after: Duration },
    #[error("cannot reach {endpoint}: {reason}")]
    Connect { endpoint: String, reason: String },
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
}

/// Open a WebSocket to `url` (`ws://` or `wss://`) within `timeout`.
pub async fn connect(url: &str, timeout: Duration) -> Result<WsStream, WsError> {
    let endpoint = Endpoint::parse(url)?;
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let connector = if endpoint.tls {
        Connector::Rustls(tls_config()?)
    } else {
        Connector::Plain
    };
    let attempt =
        tokio_tungstenite::connect_async_tls_with_config(url, Some(config), true, Some(connector));
    match tokio::time::timeout(timeout, attempt).await {
        Err(_) => Err(WsError::Timeout {
            endpoint: endpoint.authority(),
            after: timeout,
        }),
        Ok(Err(err)) => Err(WsError::Connect {
            endpoint: endpoint.authority(),
            reason: describe(&err),
        }),
        Ok(Ok((stream, _response))) => Ok(stream),
    }
}

/// A short human reason: "connection refused", "dns error: …", "HTTP error: 404".
fn describe(err: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    match err {
        Error::Io(io) => io.to_string(),
        Error::Http(response) => format!("HTTP {}", response.status()),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{SinkExt, StreamExt};

    #[tokio::test]
    async fn connects_over_loopback_and_exchanges_frames() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            ws.send(Message::Ping(vec![1, 2, 3].into())).await.unwrap();
            ws.send(Message::text("hello")).await.unwrap();
            // The client answers the ping with the same payload, unprompted.
            let mut pong = None;
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Pong(p) = msg {
                    pong = Some(p.to_vec());
                    break;
                }
            }
            pong
        });
        let mut ws = connect(&format!("ws://{addr}/ws/x"), Duration::from_secs(5))
            .await
            .unwrap();
        let mut got_text = false;
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg {
                assert_eq!(t.as_str(), "hello");
                got_text = true;
                break;
            }
        }
        assert!(got_text);
        // Keep reading so queued pongs are flushed.
        let reader = tokio::spawn(async move { while ws.next().await.is_some() {} });
        assert_eq!(server.await.unwrap(), Some(vec![1, 2, 3]));
        reader.abort();
    }

    #[tokio::test]
    async fn refused_connection_names_the_endpoint() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let Err(err) = connect(&format!("ws://{addr}/"), Duration::from_secs(5)).await else {
            panic!("nobody listens on {addr}");
        };
        let text = err.to_string();
        assert!(text.starts_with(&format!("cannot reach {addr}")), "{text}");
        assert!(connect("tcp://x", Duration::from_secs(1)).await.is_err());
    }

    #[test]
    fn tls_config_uses_ring_and_has_roots() {
        let config = tls_config().expect("ring supports the default versions");
        assert!(!config.crypto_provider().cipher_suites.is_empty());
    }
}
