//! With a certificate configured, WebSocket and HTTP run over TLS (wss://, https://).

mod common;

use std::sync::Arc;

use common::*;
use futures_util::{SinkExt, StreamExt};
use tickd_bus::Venue;
use tickd_gateway::protocol::ServerMessage;
use tickd_gateway::TlsFiles;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::Connector;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_over_tls_with_a_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, generated.cert.pem()).unwrap();
    std::fs::write(&key_path, generated.signing_key.serialize_pem()).unwrap();
    let config = tickd_gateway::GatewayConfig {
        tls: Some(TlsFiles {
            cert: cert_path,
            key: key_path,
        }),
        ..test_config()
    };
    let mut f = start(config).await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(generated.cert.der().clone()).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let url = format!(
        "wss://localhost:{}/v1/stream",
        f.gateway.local_addr().port()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        url,
        None,
        true,
        Some(Connector::Rustls(Arc::new(tls))),
    )
    .await
    .unwrap();
    ws.send(Message::text(
        r#"{"op":"subscribe","streams":["trades.binance.BTC-USDT"]}"#,
    ))
    .await
    .unwrap();
    let mut acked = false;
    let mut published = None;
    loop {
        let message = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
        let Some(Ok(Message::Text(text))) = message else {
            panic!("{message:?}")
        };
        if text.contains(r#""type":"data""#) {
            let record = tickd_gateway::protocol::json::decode(&text).unwrap();
            assert_eq!(Some(record), published);
            break;
        }
        if let Ok(ServerMessage::Ack { .. }) = serde_json::from_str(&text) {
            acked = true;
            published = Some(f.publish(f.trade(Venue::Binance, "BTC-USDT", 1)));
        }
    }
    assert!(acked);
    // Plain (non-TLS) clients are not served on a TLS port.
    let plain = tokio_tungstenite::connect_async(f.ws_url()).await;
    assert!(plain.is_err());
    f.gateway.shutdown().await;
}
