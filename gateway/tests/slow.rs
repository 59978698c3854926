//! A stalled subscriber is handled by its policy (drop with an exact gap, conflate to
//! the latest quote, or disconnect with a reason) while a fast subscriber on the same
//! streams gets every record in order.

mod common;

use std::sync::atomic::Ordering::Relaxed;

use common::*;
use futures_util::{SinkExt, StreamExt};
use tickd_bus::Venue;
use tickd_gateway::client::Event;
use tickd_gateway::protocol::{Encoding, ServerMessage};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Raw = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// A raw client with a tiny receive buffer, so it stalls quickly when it stops reading.
async fn stalled_client(f: &Fixture, subscribe: &str) -> Raw {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(f.gateway.local_addr()).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(f.ws_url(), MaybeTlsStream::Plain(tcp))
        .await
        .unwrap();
    ws.send(Message::text(subscribe)).await.unwrap();
    loop {
        let text = next_text(&mut ws).await;
        if text.contains(r#""type":"ack""#) {
            return ws;
        }
        assert!(!text.contains(r#""type":"error""#), "{text}");
    }
}

async fn next_text(ws: &mut Raw) -> String {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return t.to_string(),
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) => return String::new(),
            Ok(Some(Ok(_))) => {}
            other => panic!("no message: {other:?}"),
        }
    }
}

fn small_queue() -> tickd_gateway::GatewayConfig {
    tickd_gateway::GatewayConfig {
        subscriber_queue: 64,
        ..test_config()
    }
}

/// Publishes batches (smaller than the queue), each read in full by `fast`, until `done` says the stalled
/// subscriber's policy has acted, then `extra` more batches. Returns records published.
async fn publish_until(
    f: &mut Fixture,
    fast: &mut tickd_gateway::client::Client,
    bbo: bool,
    done: impl Fn(&tickd_gateway::metrics::Metrics) -> bool,
) -> u64 {
    let mut published = 0u64;
    let mut extra = 3;
    for round in 0..20_000 {
        let mut batch = Vec::new();
        for _ in 0..32 {
            published += 1;
            let record = if bbo {
                f.bbo(Venue::Binance, "BTC-USDT", published)
            } else {
                f.trade(Venue::Binance, "BTC-USDT", published)
            };
            batch.push(f.publish(record));
        }
        if round % 100 == 0 && std::env::var("DEBUG_SLOW").is_ok() {
            let m = f.gateway.metrics();
            eprintln!(
                "published {published} drops {} conflated {} out {}",
                m.drops.load(Relaxed),
                m.conflated.load(Relaxed),
                m.messages_out.load(Relaxed)
            );
        }
        let (got, other) = collect(fast, batch.len()).await;
        assert_eq!(got, batch, "the fast subscriber gets every record in order");
        assert!(
            other.iter().all(|e| !matches!(e, Event::Gap { .. })),
            "{other:?}"
        );
        if done(f.gateway.metrics()) {
            extra -= 1;
            if extra == 0 {
                return published;
            }
        }
    }
    panic!("the stalled subscriber's policy never acted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_policy_counts_every_lost_record_exactly() {
    let mut f = start(small_queue()).await;
    let stream = "trades.binance.BTC-USDT";
    let mut stalled = stalled_client(
        &f,
        r#"{"op":"subscribe","streams":["trades.binance.BTC-USDT"],"policy":"drop"}"#,
    )
    .await;
    let mut fast = subscribed(ws_client(&f, &[stream], Encoding::Json)).await;
    let total = publish_until(&mut f, &mut fast, false, |m| m.drops.load(Relaxed) > 0).await;
    // Now read the stalled one: records + announced losses account for everything.
    let (mut received, mut lost, mut last_seq) = (0u64, 0u64, 0u64);
    while received + lost < total {
        let text = next_text(&mut stalled).await;
        if text.contains(r#""type":"data""#) {
            let record = tickd_gateway::protocol::json::decode(&text).unwrap();
            let seq = record.header().sequence;
            assert!(seq > last_seq, "in order");
            last_seq = seq;
            received += 1;
        } else if let Ok(ServerMessage::Gap {
            lost: n, reason, ..
        }) = serde_json::from_str(&text)
        {
            assert_eq!(reason, "slow_subscriber");
            lost += n;
        } else {
            assert!(
                !text.is_empty(),
                "closed early: {received} + {lost} of {total}"
            );
        }
    }
    assert_eq!(received + lost, total);
    assert!(lost > 0 && received > 0);
    assert_eq!(f.gateway.metrics().drops.load(Relaxed), lost);
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflate_policy_keeps_the_latest_quote() {
    let mut f = start(small_queue()).await;
    let stream = "bbo.binance.BTC-USDT";
    let mut stalled = stalled_client(
        &f,
        r#"{"op":"subscribe","streams":["bbo.binance.BTC-USDT"],"policy":"conflate"}"#,
    )
    .await;
    let mut fast = subscribed(ws_client(&f, &[stream], Encoding::Json)).await;
    let total = publish_until(&mut f, &mut fast, true, |m| m.conflated.load(Relaxed) > 0).await;
    let (mut last_seq, mut conflated) = (0u64, 0u64);
    while last_seq < total {
        let text = next_text(&mut stalled).await;
        assert!(!text.is_empty(), "closed before the latest quote");
        if text.contains(r#""type":"data""#) {
            let seq = tickd_gateway::protocol::json::decode(&text)
                .unwrap()
                .header()
                .sequence;
            assert!(seq > last_seq, "in order");
            last_seq = seq;
        } else if let Ok(ServerMessage::Gap { lost, reason, .. }) = serde_json::from_str(&text) {
            assert_eq!(reason, "conflated");
            conflated += lost;
        }
    }
    assert_eq!(last_seq, total, "the newest quote arrives");
    assert!(conflated > 0);
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_policy_closes_with_a_reason() {
    let mut f = start(small_queue()).await;
    let stream = "trades.binance.BTC-USDT";
    let mut stalled = stalled_client(
        &f,
        r#"{"op":"subscribe","streams":["trades.binance.BTC-USDT"],"policy":"disconnect"}"#,
    )
    .await;
    let mut fast = subscribed(ws_client(&f, &[stream], Encoding::Json)).await;
    publish_until(&mut f, &mut fast, false, |m| {
        m.slow_disconnects.load(Relaxed) > 0
    })
    .await;
    let mut closing = None;
    for _ in 0..1_000_000 {
        let text = next_text(&mut stalled).await;
        if text.is_empty() {
            break;
        }
        if let Ok(ServerMessage::Closing { reason }) = serde_json::from_str(&text) {
            closing = Some(reason);
        }
    }
    let reason = closing.expect("a closing message before the close");
    assert!(reason.contains("slow subscriber"), "{reason}");
    f.gateway.shutdown().await;
}
