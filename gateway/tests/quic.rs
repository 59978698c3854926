//! WebSocket and QUIC, JSON and binary: the same subscription delivers the same records.

mod common;

use std::collections::BTreeMap;

use common::*;
use tickd_bus::{RecordBuf, Venue};
use tickd_gateway::client::Event;
use tickd_gateway::protocol::{Encoding, ServerMessage};

/// Records by (venue, instrument, record type), in arrival order.
fn by_stream(records: &[RecordBuf]) -> BTreeMap<(u8, u32, u8), Vec<RecordBuf>> {
    let mut out: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for r in records {
        let hd = r.header();
        out.entry((hd.venue, hd.instrument_id, hd.rtype))
            .or_default()
            .push(*r);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_and_quic_deliver_the_same_data() {
    let config = tickd_gateway::GatewayConfig {
        quic_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..test_config()
    };
    let mut f = start(config).await;
    let streams = ["trades.binance.*", "bbo.binance.BTC-USDT"];
    let mut clients = Vec::new();
    for encoding in [Encoding::Json, Encoding::Binary] {
        clients.push(subscribed(ws_client(&f, &streams, encoding)).await);
        let quic = f.quic_client().streams(streams).encoding(encoding);
        clients.push(subscribed(quic).await);
    }
    let mut expected = Vec::new();
    for n in 0..300u64 {
        let symbol = if n % 2 == 0 { "BTC-USDT" } else { "ETH-USDT" };
        expected.push(f.publish(f.trade(Venue::Binance, symbol, n)));
        if n % 5 == 0 {
            expected.push(f.publish(f.bbo(Venue::Binance, "BTC-USDT", n)));
        }
        // Not subscribed: must not show up anywhere.
        f.publish(f.trade(Venue::Okx, "BTC-USDT", n));
    }
    let want = by_stream(&expected);
    for (i, client) in clients.iter_mut().enumerate() {
        let (got, other) = collect(client, expected.len()).await;
        assert_eq!(by_stream(&got), want, "client {i}");
        assert!(
            other.iter().all(|e| !matches!(e, Event::Gap { .. })),
            "client {i}: {other:?}"
        );
    }
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_control_stream_answers_requests_and_errors() {
    let config = tickd_gateway::GatewayConfig {
        quic_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..test_config()
    };
    let f = start(config).await;
    let quic = f.quic_client().streams(["trades.nowhere.BTC-USDT"]);
    let mut client = tickd_gateway::client::Client::connect(quic.reconnect(false))
        .await
        .unwrap();
    let mut saw_hello = false;
    loop {
        match client.next_timeout(WAIT).await {
            Some(Event::Control(ServerMessage::Hello {
                protocol, records, ..
            })) => {
                assert_eq!(protocol, 2);
                assert_eq!(records, tickd_bus::record::RECORD_VERSION);
                saw_hello = true;
            }
            Some(Event::Control(ServerMessage::Ack { op, .. })) => assert_eq!(op, "hello"),
            Some(Event::Control(ServerMessage::Error { message, .. })) => {
                assert!(message.contains("unknown venue"), "{message}");
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(saw_hello);
    f.gateway.shutdown().await;
}

/// QUIC connections have the WebSocket's bounds: they count against the server-wide
/// connection cap, and one that does not subscribe in time is closed with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_connections_are_capped_and_must_subscribe_in_time() {
    let f = start(tickd_gateway::GatewayConfig {
        quic_listen: Some("127.0.0.1:0".parse().unwrap()),
        max_connections: 1,
        idle_timeout_ms: 500,
        ..test_config()
    })
    .await;
    let idle = f.quic_client().reconnect(false);
    let mut idle = tickd_gateway::client::Client::connect(idle)
        .await
        .expect("the first connection is admitted");
    // The only place is taken: the next QUIC connection is refused.
    let second = f.quic_client().reconnect(false);
    assert!(
        tickd_gateway::client::Client::connect(second)
            .await
            .is_err(),
        "a QUIC connection past max_connections was admitted"
    );
    let mut reason = None;
    while let Some(event) = idle.next_timeout(WAIT).await {
        if let Event::Control(ServerMessage::Closing { reason: r }) = event {
            reason = Some(r);
            break;
        }
    }
    let reason = reason.expect("closed for not subscribing");
    assert!(reason.contains("no subscription within"), "{reason}");
    f.gateway.shutdown().await;
}
