//! Over QUIC each subscription has its own stream: a book stream the client never reads
//! does not hold up its trades stream.

mod common;

use std::sync::Arc;

use common::*;
use tickd_bus::record::{BookAction, BookSide};
use tickd_bus::{Flags, Venue};

async fn read_line(stream: &mut quinn::RecvStream, buf: &mut Vec<u8>) -> String {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(at) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=at).take(at).collect();
            return String::from_utf8(line).unwrap();
        }
        let n = tokio::time::timeout(WAIT, stream.read(&mut chunk))
            .await
            .expect("data in time")
            .unwrap()
            .expect("stream open");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unread_book_stream_does_not_block_trades() {
    let config = tickd_gateway::GatewayConfig {
        quic_listen: Some("127.0.0.1:0".parse().unwrap()),
        subscriber_queue: 256,
        ..test_config()
    };
    let mut f = start(config).await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(f.gateway.quic_cert().unwrap().clone()).unwrap();
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls.alpn_protocols = vec![b"tickd/1".to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));
    let conn = endpoint
        .connect(f.gateway.quic_addr().unwrap(), "localhost")
        .unwrap()
        .await
        .unwrap();
    let (mut send, mut control) = conn.open_bi().await.unwrap();
    send.write_all(
        concat!(
            r#"{"op":"hello","encoding":"json"}"#,
            "\n",
            r#"{"op":"subscribe","id":1,"streams":["book.binance.BTC-USDT"],"policy":"drop"}"#,
            "\n",
            r#"{"op":"subscribe","id":2,"streams":["trades.binance.BTC-USDT"],"policy":"drop"}"#,
            "\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut control_buf = Vec::new();
    let mut acks = 0;
    while acks < 2 {
        if read_line(&mut control, &mut control_buf)
            .await
            .contains(r#""type":"ack","id""#)
        {
            acks += 1;
        }
    }
    // Two data streams; keep the book one unread.
    let mut trades = None;
    let mut _book = None;
    for _ in 0..2 {
        let mut stream = tokio::time::timeout(WAIT, conn.accept_uni())
            .await
            .unwrap()
            .unwrap();
        let mut buf = Vec::new();
        let header = read_line(&mut stream, &mut buf).await;
        if header.contains("trades.") {
            trades = Some((stream, buf));
        } else {
            assert!(header.contains("book."), "{header}");
            _book = Some(stream);
        }
    }
    let (mut trades, mut buf) = trades.expect("a trades stream");
    let (v, s) = (Venue::Binance, "BTC-USDT");
    // Enough book deltas to fill the unread stream's flow-control window many times.
    let mut price = 0;
    for round in 0..200u64 {
        for _ in 0..100 {
            price += 1;
            f.publish(f.delta(
                (v, s),
                BookSide::Bid,
                BookAction::Set,
                (price, 1),
                Flags::LAST,
                price as u64,
            ));
        }
        let sent = f.publish(f.trade(v, s, round));
        let line = read_line(&mut trades, &mut buf).await;
        let got = tickd_gateway::protocol::json::decode(&line).unwrap();
        assert_eq!(got, sent, "round {round}");
    }
    assert!(
        f.gateway
            .metrics()
            .drops
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0,
        "the book subscription did overflow"
    );
    f.gateway.shutdown().await;
}
