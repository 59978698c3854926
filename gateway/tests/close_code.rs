//! An oversized client frame gets `error` `frame_too_large`, `closing`, and a close
//! frame with code 1009 (message too big), as `docs/protocol.md` says.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use tickd_gateway::GatewayConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_closes_with_code_1009() {
    let f = start(GatewayConfig {
        max_frame_bytes: 4096,
        ..test_config()
    })
    .await;
    let (mut ws, _) = tokio_tungstenite::connect_async(f.ws_url()).await.unwrap();
    ws.send(Message::text("x".repeat(10_000))).await.unwrap();
    let mut texts = Vec::new();
    let code = loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no close")
        {
            Some(Ok(Message::Text(text))) => texts.push(text.to_string()),
            Some(Ok(Message::Close(frame))) => break frame.map(|f| f.code),
            Some(Ok(_)) => {}
            other => panic!("connection ended without a close frame: {other:?} after {texts:?}"),
        }
    };
    assert_eq!(code, Some(CloseCode::Size), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("frame_too_large")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("closing")), "{texts:?}");
    f.gateway.shutdown().await;
}
