//! Connections are bounded before and after the handshake: a server-wide cap, a
//! per-address cap for anonymous access, a deadline for request headers, an idle limit
//! before the first subscription, and a client that stops reading is dropped.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use common::*;
use futures_util::SinkExt;
use tickd_bus::Venue;
use tickd_gateway::GatewayConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// Whether the server closes `stream` within `within` (reads until EOF or an error).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_is_dropped_at_the_header_deadline() {
    let f = start(GatewayConfig {
        header_timeout_ms: 300,
        ..test_config()
    })
    .await;
    let mut stream = connect(f.gateway.local_addr()).await;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: loc")
        .await
        .unwrap();
    assert!(
        closed_within(&mut stream, Duration::from_secs(3)).await,
        "held a half-sent request"
    );
    // A whole request still answers.
    assert_eq!(http_get(f.gateway.local_addr(), "/health").await.0, 200);
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_wide_cap_refuses_the_connection_past_it() {
    let f = start(GatewayConfig {
        max_connections: 8,
        header_timeout_ms: 60_000,
        ..test_config()
    })
    .await;
    let addr = f.gateway.local_addr();
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(connect(addr).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = connect(addr).await;
    assert!(
        closed_within(&mut extra, Duration::from_secs(3)).await,
        "accepted past the cap"
    );
    for stream in &mut held {
        assert!(!closed_within(stream, Duration::from_millis(20)).await);
    }
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(http_get(addr, "/health").await.0, 200);
    let errors = f.gateway.metrics().errors();
    assert!(
        errors
            .get("connection_refused_server_full")
            .copied()
            .unwrap_or(0)
            >= 1,
        "{errors:?}"
    );
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_clients_are_capped_per_address() {
    let f = start(GatewayConfig {
        max_connections_per_ip: 4,
        header_timeout_ms: 60_000,
        ..test_config()
    })
    .await;
    let addr = f.gateway.local_addr();
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect(addr).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = connect(addr).await;
    assert!(
        closed_within(&mut extra, Duration::from_secs(3)).await,
        "a fifth connection from one address"
    );
    drop(held);
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_that_never_subscribes_is_closed() {
    let f = start(GatewayConfig {
        idle_timeout_ms: 300,
        ..test_config()
    })
    .await;
    let (mut ws, _) = tokio_tungstenite::connect_async(f.ws_url()).await.unwrap();
    let started = Instant::now();
    let mut reason = None;
    while let Ok(Some(Ok(message))) = tokio::time::timeout(
        Duration::from_secs(5),
        futures_util::StreamExt::next(&mut ws),
    )
    .await
    {
        if let Message::Text(text) = message {
            if text.contains("closing") {
                reason = Some(text.to_string());
                break;
            }
        }
    }
    let reason = reason.expect("no closing within 5 s");
    assert!(reason.contains("no subscription"), "{reason}");
    assert!(started.elapsed() < Duration::from_secs(3));
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped_by_the_write_timeout() {
    let mut f = start(GatewayConfig {
        write_timeout_ms: 300,
        subscriber_queue: 1 << 16,
        ..test_config()
    })
    .await;
    let (mut ws, _) = tokio_tungstenite::connect_async(f.ws_url()).await.unwrap();
    ws.send(Message::text(
        r#"{"op":"subscribe","id":1,"streams":["trades.binance.BTC-USDT"]}"#,
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Far more than the loopback socket buffers hold; the client reads none of it.
    let metrics = std::sync::Arc::clone(f.gateway.metrics());
    let mut dropped = false;
    for n in 0..60_000u64 {
        f.publish(f.trade(Venue::Binance, "BTC-USDT", n));
        if n % 2_000 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if metrics.slow_disconnects.load(Relaxed) > 0 {
                dropped = true;
                break;
            }
        }
    }
    for _ in 0..100 {
        if dropped || metrics.slow_disconnects.load(Relaxed) > 0 {
            dropped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(dropped, "a client that never reads was not dropped");
    for _ in 0..100 {
        if metrics.connections.load(Relaxed) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(metrics.connections.load(Relaxed), 0);
    drop(ws);
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_bytes_are_bounded_per_connection_whatever_the_queue_sizes() {
    let budget = 256 * 1024;
    let mut f = start(GatewayConfig {
        subscriber_queue: 1 << 16,
        max_connection_buffer_bytes: budget,
        write_timeout_ms: 60_000,
        ..test_config()
    })
    .await;
    let (mut ws, _) = tokio_tungstenite::connect_async(f.ws_url()).await.unwrap();
    ws.send(Message::text(
        r#"{"op":"subscribe","id":1,"streams":["trades.binance.*","bbo.binance.*"]}"#,
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let metrics = std::sync::Arc::clone(f.gateway.metrics());
    let mut most = 0;
    for n in 0..40_000u64 {
        f.publish(f.trade(Venue::Binance, "BTC-USDT", n));
        f.publish(f.bbo(Venue::Binance, "ETH-USDT", n));
        if n % 1_000 == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            most = most.max(f.gateway.buffered_bytes());
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    most = most.max(f.gateway.buffered_bytes());
    assert!(most <= budget, "{most} bytes queued for one connection");
    assert!(
        metrics.drops.load(Relaxed) > 0,
        "the budget never applied the policy"
    );
    drop(ws);
    f.gateway.shutdown().await;
}
