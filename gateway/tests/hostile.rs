//! Hostile clients get a clear error or a clean close, and never disturb a well-behaved
//! subscriber on the same server.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use tickd_bus::Venue;
use tickd_gateway::client::Event;
use tickd_gateway::protocol::{Encoding, ErrorCode, ServerMessage};
use tickd_gateway::{ApiKeyConfig, GatewayConfig, KeyLimits};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Raw = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const KEY: &str = "0123456789abcdef-good-key";

fn config() -> GatewayConfig {
    GatewayConfig {
        max_frame_bytes: 4096,
        api_keys: vec![ApiKeyConfig {
            key: KEY.into(),
            limits: KeyLimits::default(),
        }],
        ..test_config()
    }
}

async fn raw(f: &Fixture, query: &str) -> Raw {
    let url = format!("{}{query}", f.ws_url());
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws
}

/// The next server message other than hello/heartbeat; `None` when the server closed.
async fn reply(ws: &mut Raw) -> Option<ServerMessage> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a reply in time")
        {
            Some(Ok(Message::Text(text))) => {
                let message: ServerMessage = serde_json::from_str(&text).unwrap();
                if !matches!(
                    message,
                    ServerMessage::Hello { .. } | ServerMessage::Heartbeat { .. }
                ) {
                    return Some(message);
                }
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

fn code(message: Option<ServerMessage>) -> ErrorCode {
    match message {
        Some(ServerMessage::Error { code, message, .. }) => {
            assert!(!message.is_empty());
            code
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

async fn still_serves(ws: &mut Raw) {
    ws.send(Message::text(r#"{"op":"ping","id":99}"#))
        .await
        .unwrap();
    loop {
        match reply(ws).await {
            Some(ServerMessage::Pong { id }) => {
                assert_eq!(id, Some(99));
                return;
            }
            Some(_) => {}
            None => panic!("connection closed"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_get_errors_or_clean_closes_and_others_are_unaffected() {
    let mut f = start(config()).await;
    let mut good = subscribed(ws_client(&f, &["trades.binance.BTC-USDT"], Encoding::Json)).await;
    let mut sent = Vec::new();
    let mut publish = |f: &mut Fixture, n: u64| {
        for i in 0..10 {
            sent.push(f.publish(f.trade(Venue::Binance, "BTC-USDT", n * 10 + i)));
        }
    };
    publish(&mut f, 0);

    // Malformed JSON, unknown op, bad request, bad pattern: an error each, then business as usual.
    let mut ws = raw(&f, "").await;
    for (text, want) in [
        ("not json {", ErrorCode::BadJson),
        ("[1,2,3]", ErrorCode::BadJson),
        (r#"{"op":"launch","id":1}"#, ErrorCode::UnknownOp),
        (r#"{"op":"subscribe","streams":"x"}"#, ErrorCode::BadRequest),
        (r#"{"op":"subscribe","streams":[]}"#, ErrorCode::BadRequest),
        (
            r#"{"op":"subscribe","streams":["trades.ftx.BTC-USDT"]}"#,
            ErrorCode::UnknownVenue,
        ),
        (
            r#"{"op":"subscribe","streams":["nope.binance.BTC-USDT"]}"#,
            ErrorCode::UnknownChannel,
        ),
        (
            r#"{"op":"subscribe","streams":["trades.binance.DOGE-USDT"]}"#,
            ErrorCode::NoSuchStream,
        ),
        (
            r#"{"op":"subscribe","streams":["trades.binance.BTC-USDT"],"from":"x"}"#,
            ErrorCode::BadRequest,
        ),
    ] {
        ws.send(Message::text(text)).await.unwrap();
        assert_eq!(code(reply(&mut ws).await), want, "{text}");
    }
    still_serves(&mut ws).await;
    publish(&mut f, 1);

    // Binary garbage: an error, not a close.
    ws.send(Message::binary(vec![0xff, 0x00, 0x13, 0x37]))
        .await
        .unwrap();
    assert_eq!(code(reply(&mut ws).await), ErrorCode::UnexpectedBinary);
    still_serves(&mut ws).await;

    // An oversized frame: an error, `closing`, then the close.
    ws.send(Message::text("x".repeat(10_000))).await.ok();
    assert_eq!(code(reply(&mut ws).await), ErrorCode::FrameTooLarge);
    assert!(matches!(
        reply(&mut ws).await,
        Some(ServerMessage::Closing { .. })
    ));
    assert!(reply(&mut ws).await.is_none());
    // A huge one is cut off while it is read, with a close (1009) at the least.
    let mut ws = raw(&f, "").await;
    ws.send(Message::text("x".repeat(1_000_000))).await.ok();
    loop {
        match reply(&mut ws).await {
            None => break,
            Some(ServerMessage::Error { code, .. }) => assert_eq!(code, ErrorCode::FrameTooLarge),
            Some(ServerMessage::Closing { .. }) => {}
            Some(other) => panic!("{other:?}"),
        }
    }
    publish(&mut f, 2);

    // A wrong API key: unauthorized and closing; the right one works.
    let mut ws = raw(&f, "?api_key=wrong-key-wrong-key").await;
    assert_eq!(code(reply(&mut ws).await), ErrorCode::Unauthorized);
    assert!(matches!(
        reply(&mut ws).await,
        Some(ServerMessage::Closing { .. })
    ));
    let mut ws = raw(&f, &format!("?api_key={KEY}")).await;
    still_serves(&mut ws).await;

    // 10,000 subscribe requests in a burst: every reply is an ack or a clear limit
    // error; the connection survives or closes cleanly with `closing`.
    let ws = raw(&f, "").await;
    let burst: Vec<Result<Message, _>> = (0..10_000)
        .map(|i| {
            Ok(Message::text(format!(
                r#"{{"op":"subscribe","id":{i},"streams":["trades.binance.BTC-USDT","bbo.*.BTC-USDT"]}}"#
            )))
        })
        .collect();
    let sender = {
        let (mut sink, mut stream) = ws.split();
        let send = tokio::spawn(async move {
            let _ = sink.send_all(&mut futures_util::stream::iter(burst)).await;
            sink
        });
        let mut acks = 0;
        let mut limited = 0;
        let mut closed = false;
        while acks + limited < 10_000 {
            match tokio::time::timeout(WAIT, stream.next())
                .await
                .expect("replies keep coming")
            {
                Some(Ok(Message::Text(text))) => match serde_json::from_str(&text).unwrap() {
                    ServerMessage::Ack { .. } => acks += 1,
                    ServerMessage::Error { code, .. } => {
                        assert!(
                            matches!(
                                code,
                                ErrorCode::RateLimited | ErrorCode::TooManyPendingRequests
                            ),
                            "{code:?}"
                        );
                        limited += 1;
                    }
                    ServerMessage::Closing { .. } => {
                        closed = true;
                        break;
                    }
                    _ => {}
                },
                Some(Ok(_)) => {}
                _ => {
                    closed = true;
                    break;
                }
            }
        }
        assert!(
            acks >= 1 && (limited > 0 || closed),
            "acks {acks} limited {limited}"
        );
        let sink = send.await.unwrap();
        (sink, stream, closed)
    };
    if let (sink, stream, false) = sender {
        let mut ws = sink.reunite(stream).unwrap();
        // The token bucket refills within a second; ping until it answers.
        loop {
            ws.send(Message::text(r#"{"op":"ping","id":99}"#))
                .await
                .unwrap();
            match reply(&mut ws).await {
                Some(ServerMessage::Pong { .. }) => break,
                Some(ServerMessage::Error {
                    code: ErrorCode::RateLimited,
                    ..
                }) => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Some(_) => {}
                None => panic!("closed"),
            }
        }
    }
    publish(&mut f, 3);

    // Through all of it the good subscriber got every record, in order, no gap.
    let (got, other) = collect(&mut good, sent.len()).await;
    assert_eq!(got, sent);
    assert!(
        other.iter().all(|e| !matches!(e, Event::Gap { .. })),
        "{other:?}"
    );
    let errors = f.gateway.metrics().errors();
    for kind in [
        "bad_json",
        "unknown_op",
        "frame_too_large",
        "unauthorized",
        "rate_limited",
    ] {
        assert!(
            errors.get(kind).copied().unwrap_or(0) > 0,
            "{kind} counted: {errors:?}"
        );
    }
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_required_when_anonymous_access_is_off() {
    let config = GatewayConfig {
        allow_anonymous: false,
        api_keys: vec![ApiKeyConfig {
            key: KEY.into(),
            limits: KeyLimits {
                max_connections: 1,
                max_subscriptions: 1,
                max_messages_per_sec: 50,
                ..KeyLimits::default()
            },
        }],
        ..test_config()
    };
    let f = start(config).await;
    // Without a key the first message must be a hello carrying one.
    let mut ws = raw(&f, "").await;
    ws.send(Message::text(r#"{"op":"ping","id":1}"#))
        .await
        .unwrap();
    assert_eq!(code(reply(&mut ws).await), ErrorCode::Unauthorized);
    let mut ws = raw(&f, "").await;
    ws.send(Message::text(r#"{"op":"hello","id":2,"api_key":"wrong"}"#))
        .await
        .unwrap();
    assert_eq!(code(reply(&mut ws).await), ErrorCode::Unauthorized);
    let mut first = raw(&f, "").await;
    first
        .send(Message::text(format!(
            r#"{{"op":"hello","id":3,"api_key":"{KEY}"}}"#
        )))
        .await
        .unwrap();
    assert!(
        matches!(
            reply(&mut first).await,
            Some(ServerMessage::Ack { id: Some(3), .. })
        ),
        "the hello with the key is acknowledged"
    );
    still_serves(&mut first).await;
    // One connection per key: the second is refused with the reason.
    let mut second = raw(&f, &format!("?api_key={KEY}")).await;
    assert_eq!(code(reply(&mut second).await), ErrorCode::Unauthorized);
    // One subscription per key.
    first
        .send(Message::text(
            r#"{"op":"subscribe","streams":["trades.binance.BTC-USDT"]}"#,
        ))
        .await
        .unwrap();
    assert!(matches!(
        reply(&mut first).await,
        Some(ServerMessage::Ack { .. })
    ));
    first
        .send(Message::text(
            r#"{"op":"subscribe","streams":["trades.okx.BTC-USDT"]}"#,
        ))
        .await
        .unwrap();
    assert_eq!(
        code(reply(&mut first).await),
        ErrorCode::TooManySubscriptions
    );
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hello_with_a_key_gives_an_anonymous_connection_the_keys_limits() {
    let tight = KeyLimits {
        max_connections: 1,
        max_subscriptions: 1,
        ..KeyLimits::default()
    };
    let config = GatewayConfig {
        allow_anonymous: true,
        anonymous_limits: tight,
        api_keys: vec![ApiKeyConfig {
            key: KEY.into(),
            limits: KeyLimits {
                max_subscriptions: 3,
                ..tight
            },
        }],
        ..test_config()
    };
    let f = start(config).await;
    let mut ws = raw(&f, "").await;
    let subscribe = |market: &str| {
        Message::text(format!(
            r#"{{"op":"subscribe","streams":["trades.{market}.BTC-USDT"]}}"#
        ))
    };
    ws.send(subscribe("binance")).await.unwrap();
    assert!(matches!(
        reply(&mut ws).await,
        Some(ServerMessage::Ack { .. })
    ));
    ws.send(subscribe("okx")).await.unwrap();
    assert_eq!(code(reply(&mut ws).await), ErrorCode::TooManySubscriptions);
    // A wrong key is refused and the connection stays what it was.
    ws.send(Message::text(r#"{"op":"hello","id":7,"api_key":"wrong"}"#))
        .await
        .unwrap();
    assert_eq!(code(reply(&mut ws).await), ErrorCode::Unauthorized);
    ws.send(Message::text(format!(
        r#"{{"op":"hello","id":8,"api_key":"{KEY}"}}"#
    )))
    .await
    .unwrap();
    assert!(matches!(
        reply(&mut ws).await,
        Some(ServerMessage::Ack { id: Some(8), .. })
    ));
    // The key's limits now: a second subscription is accepted.
    ws.send(subscribe("okx")).await.unwrap();
    assert!(matches!(
        reply(&mut ws).await,
        Some(ServerMessage::Ack { .. })
    ));
    // The connection counts against the key (one allowed), and no longer against the
    // anonymous limit, so another anonymous client gets in.
    let mut keyed = raw(&f, &format!("?api_key={KEY}")).await;
    assert_eq!(code(reply(&mut keyed).await), ErrorCode::Unauthorized);
    let mut anonymous = raw(&f, "").await;
    still_serves(&mut anonymous).await;
    still_serves(&mut ws).await;
    f.gateway.shutdown().await;
}
