//! A venue that refuses a SUBSCRIBE: the feed publishes a `SubscriptionRejected`
//! status with the venue's error code, counts it, and keeps the connection.
//! The venue here is a minimal loopback server: exchangeInfo from the recorded
//! fixture over HTTP, and a WebSocket that answers every request with an error.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tickd_bus::instrument::InstrumentRegistry;
use tickd_bus::record::{StatusKind, StatusMsg};
use tickd_bus::ring::{ring, TryRecv};
use tickd_bus::{Channel, Venue};
use tickd_feed::runtime::shutdown_channel;
use tickd_feed::venue::{spawn_venue, VenueSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const EXCHANGE_INFO: &str =
    include_str!("../../testdata/exchanges/fixtures/binance_spot_exchange_info.json");

async fn serve_exchange_info(listener: TcpListener) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let mut buf = vec![0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            EXCHANGE_INFO.len()
        );
        let _ = sock.write_all(head.as_bytes()).await;
        let _ = sock.write_all(EXCHANGE_INFO.as_bytes()).await;
    }
}

async fn serve_refusing_ws(listener: TcpListener) {
    let Ok((tcp, _)) = listener.accept().await else {
        return;
    };
    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        if let Message::Text(text) = msg {
            let v: serde_json::Value = serde_json::from_str(text.as_str()).unwrap_or_default();
            let id = v["id"].as_u64().unwrap_or(0);
            let reply =
                format!(r#"{{"code":2,"msg":"Invalid request: unknown stream","id":{id}}}"#);
            if ws.send(Message::text(reply)).await.is_err() {
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_subscription_is_a_status_record() {
    let rest = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let ws = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (rest_addr, ws_addr) = (
        rest.local_addr().expect("addr"),
        ws.local_addr().expect("addr"),
    );
    tokio::spawn(serve_exchange_info(rest));
    tokio::spawn(serve_refusing_ws(ws));

    let mut settings = VenueSettings::new(
        Venue::Binance,
        &format!("ws://{ws_addr}"),
        &format!("http://{rest_addr}"),
    );
    settings.symbols = vec!["BTC-USDT".into(), "ETHBTC".into()];
    settings.channels = vec![Channel::Trades];
    let (producer, handle) = ring(1024);
    let mut consumer = handle.subscribe_oldest();
    let (trigger, shutdown) = shutdown_channel();
    let registry = InstrumentRegistry::new().into_shared();
    let feed = spawn_venue(
        tickd_feed::engine::registry::feed(Venue::Binance).expect("binance"),
        settings,
        producer,
        registry.clone(),
        shutdown,
    )
    .expect("feed starts");

    let mut rejected = None;
    let mut connected = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while rejected.is_none() {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, consumer.recv()).await {
            Ok(TryRecv::Record(r)) => {
                if let Some(s) = r.get::<StatusMsg>() {
                    match s.kind() {
                        Some(StatusKind::Connected) => connected += 1,
                        Some(StatusKind::SubscriptionRejected) => rejected = Some(*s),
                        _ => {}
                    }
                }
            }
            Ok(TryRecv::Empty | TryRecv::Lagged(_)) => {}
            Ok(TryRecv::Closed) | Err(_) => break,
        }
    }
    let stats = feed.stats.clone();
    trigger.trigger();
    feed.join().expect("feed stops cleanly");
    let rejected = rejected.expect("a SubscriptionRejected status record");
    assert_eq!(rejected.detail, 2, "the venue's error code");
    assert_eq!(connected, 1);
    assert_eq!(stats.counters.snapshot().rejected_subscriptions, 1);
    assert_eq!(stats.counters.snapshot().reconnects, 0);
    // Both symbols were resolved from the fixture (normalized and raw names).
    let reg = registry.read().expect("registry");
    assert!(reg.by_raw(Venue::Binance, "BTCUSDT").is_some());
    assert!(reg.by_raw(Venue::Binance, "ETHBTC").is_some());
}
