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

/// The Rust client (and so `tickd tail`) over wss:// and QUIC to a server with a
/// self-signed certificate: refused with a hint when nothing says to trust it, delivered
/// with `Trust::Cert` or `Trust::Insecure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_trusts_the_servers_certificate_or_any_when_insecure() {
    use tickd_gateway::client::{Client, ClientConfig, Transport, Trust};

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
        quic_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..test_config()
    };
    let mut f = start(config).await;
    let wss = Transport::Ws(format!(
        "wss://localhost:{}/v1/stream",
        f.gateway.local_addr().port()
    ));
    let quic = Transport::Quic {
        addr: f.gateway.quic_addr().unwrap(),
        server_name: "localhost".into(),
    };
    let streams = ["trades.binance.BTC-USDT"];

    for transport in [wss.clone(), quic.clone()] {
        let refused = Client::connect(
            ClientConfig::new(transport.clone())
                .streams(streams)
                .reconnect(false),
        )
        .await
        .err()
        .unwrap_or_else(|| panic!("{transport:?}: an unknown certificate was accepted"));
        assert!(
            refused.to_string().contains("--insecure"),
            "{transport:?}: {refused}"
        );
    }

    let cert = Trust::Cert(generated.cert.der().to_vec());
    let mut clients = Vec::new();
    for (transport, trust) in [
        (wss.clone(), cert.clone()),
        (wss, Trust::Insecure),
        (quic.clone(), Trust::Insecure),
    ] {
        clients.push(subscribed(ClientConfig::new(transport).streams(streams).trust(trust)).await);
    }
    let published = f.publish(f.trade(Venue::Binance, "BTC-USDT", 1));
    for (i, client) in clients.iter_mut().enumerate() {
        let (got, _) = collect(client, 1).await;
        assert_eq!(got, vec![published], "client {i}");
    }
    f.gateway.shutdown().await;
}
