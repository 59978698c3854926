//! WebSocket libraries on tickd's two WebSocket paths, over an in-memory socket so
//! that only the library is measured (no syscalls, no TLS):
//! - **feed read**: a client reads a burst of unmasked server frames (the
//!   exchange's side) and hands each text payload on, as `feed::connection` does;
//! - **gateway write**: a server writes a batch of small binary frames (tickd's
//!   binary records) and flushes once, as the gateway's writer does per batch.
//!
//! Libraries (crates.io): `tokio-tungstenite` (what tickd uses), `tokio-websockets`
//! and `fastwebsockets`. tungstenite and tokio-websockets check that text frames
//! are UTF-8; fastwebsockets' `read_frame` does not (its `FragmentCollector`
//! would), so its read figure leaves out work the others do, and the venue decoders
//! would have to do it. fastwebsockets also carries past soundness reports (its
//! unmasking and frame-buffer code); weigh that beside its numbers.
//!
//! cargo bench -p tickd-benches --bench websocket -- --warm-up-time 1 --measurement-time 3

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::runtime::Runtime;

/// A Binance aggTrade, the typical small frame.
const TRADE: &str = r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1700000000123,"s":"BTCUSDT","a":2743287461,"p":"37123.45000000","q":"0.01230000","f":3245678901,"l":3245678903,"T":1700000000120,"m":true,"M":true}}"#;

/// Frames per burst: what one wake of the feed reads under load is up to 64.
const BURST: usize = 1_000;

/// One binary trade record as the gateway sends it (`TradeMsg`, layout 2).
const RECORD_BYTES: usize = 88;

/// A depth update of about 2 KiB, the larger common frame.
fn depth_update() -> String {
    let levels = |n: usize| {
        (0..n)
            .map(|i| format!(r#"["37{i:03}.12000000","0.{i:04}5000"]"#))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":1700000000123,"s":"BTCUSDT","U":157,"u":160,"b":[{}],"a":[{}]}}}}"#,
        levels(25),
        levels(25)
    )
}

/// `count` unmasked FIN text frames of `payload`, as a server sends them.
fn server_frames(payload: &str, count: usize) -> Vec<u8> {
    let bytes = payload.as_bytes();
    let mut out = Vec::with_capacity(count * (bytes.len() + 4));
    for _ in 0..count {
        out.push(0x81);
        match bytes.len() {
            len @ 0..=125 => out.push(len as u8),
            len @ 126..=65535 => {
                out.push(126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                out.push(127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(bytes);
    }
    out
}

/// A socket that reads from a byte slice (then EOF) and counts what is written.
struct MemSocket {
    input: &'static [u8],
    written: usize,
}

impl MemSocket {
    fn reading(input: &'static [u8]) -> Self {
        Self { input, written: 0 }
    }

    fn writing() -> Self {
        Self::reading(&[])
    }
}

impl AsyncRead for MemSocket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = buf.remaining().min(self.input.len());
        let (head, rest) = self.input.split_at(n);
        buf.put_slice(head);
        self.input = rest;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemSocket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written += data.len();
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Payload bytes read by tokio-tungstenite, as the feed reads them.
async fn read_tungstenite(input: &'static [u8]) -> usize {
    use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
    use tokio_tungstenite::tungstenite::Message;
    let config = WebSocketConfig::default()
        .max_message_size(Some(8 << 20))
        .max_frame_size(Some(8 << 20));
    let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
        MemSocket::reading(input),
        Role::Client,
        Some(config),
    )
    .await;
    let mut total = 0;
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message {
            total += text.len();
        }
    }
    total
}

async fn read_tokio_websockets(input: &'static [u8]) -> usize {
    let mut ws = tokio_websockets::ClientBuilder::new()
        .limits(tokio_websockets::Limits::default().max_payload_len(Some(8 << 20)))
        .take_over(MemSocket::reading(input));
    let mut total = 0;
    while let Some(Ok(message)) = ws.next().await {
        if let Some(text) = message.as_text() {
            total += text.len();
        }
    }
    total
}

async fn read_fastwebsockets(input: &'static [u8]) -> usize {
    use fastwebsockets::{OpCode, Role, WebSocket};
    let mut ws = WebSocket::after_handshake(MemSocket::reading(input), Role::Client);
    ws.set_auto_close(false);
    ws.set_max_message_size(8 << 20);
    let mut total = 0;
    while let Ok(frame) = ws.read_frame().await {
        if frame.opcode == OpCode::Text {
            total += frame.payload.len();
        }
    }
    total
}

/// Bytes written for `count` binary frames of `record`, one flush at the end.
async fn write_tungstenite(record: &[u8], count: usize) -> usize {
    use tokio_tungstenite::tungstenite::protocol::Role;
    use tokio_tungstenite::tungstenite::Message;
    let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
        MemSocket::writing(),
        Role::Server,
        None,
    )
    .await;
    for _ in 0..count {
        let _ = ws
            .feed(Message::Binary(bytes::Bytes::copy_from_slice(record)))
            .await;
    }
    let _ = ws.flush().await;
    ws.get_ref().written
}

async fn write_tokio_websockets(record: &[u8], count: usize) -> usize {
    let mut ws = tokio_websockets::ServerBuilder::new().serve(MemSocket::writing());
    for _ in 0..count {
        let _ = ws
            .feed(tokio_websockets::Message::binary(
                bytes::Bytes::copy_from_slice(record),
            ))
            .await;
    }
    let _ = ws.flush().await;
    ws.get_ref().written
}

async fn write_fastwebsockets(record: &[u8], count: usize) -> usize {
    use fastwebsockets::{Frame, Payload, Role, WebSocket};
    let mut ws = WebSocket::after_handshake(MemSocket::writing(), Role::Server);
    for _ in 0..count {
        let _ = ws
            .write_frame(Frame::binary(Payload::Borrowed(record)))
            .await;
    }
    ws.into_inner().written
}

fn feed_read(c: &mut Criterion) {
    let runtime = Runtime::new().expect("tokio runtime");
    let mut group = c.benchmark_group("feed_read");
    for (name, payload) in [("trade", TRADE.to_string()), ("depth_2k", depth_update())] {
        let input: &'static [u8] = Vec::leak(server_frames(&payload, BURST));
        let expected = payload.len() * BURST;
        // Every library must read every payload, or its figure means nothing.
        assert_eq!(runtime.block_on(read_tungstenite(input)), expected);
        assert_eq!(runtime.block_on(read_tokio_websockets(input)), expected);
        assert_eq!(runtime.block_on(read_fastwebsockets(input)), expected);
        group.throughput(Throughput::Elements(BURST as u64));
        group.bench_function(BenchmarkId::new("tungstenite", name), |b| {
            b.iter(|| runtime.block_on(read_tungstenite(input)))
        });
        group.bench_function(BenchmarkId::new("tokio_websockets", name), |b| {
            b.iter(|| runtime.block_on(read_tokio_websockets(input)))
        });
        group.bench_function(BenchmarkId::new("fastwebsockets", name), |b| {
            b.iter(|| runtime.block_on(read_fastwebsockets(input)))
        });
    }
    group.finish();
}

fn gateway_write(c: &mut Criterion) {
    let runtime = Runtime::new().expect("tokio runtime");
    let record = [0x5a_u8; RECORD_BYTES];
    let mut group = c.benchmark_group("gateway_write");
    // A batch of 64 records: what the router hands a writer per wake under load.
    let count = 64;
    let expected = (RECORD_BYTES + 2) * count;
    assert_eq!(
        runtime.block_on(write_tungstenite(&record, count)),
        expected
    );
    assert_eq!(
        runtime.block_on(write_tokio_websockets(&record, count)),
        expected
    );
    assert_eq!(
        runtime.block_on(write_fastwebsockets(&record, count)),
        expected
    );
    group.throughput(Throughput::Elements(count as u64));
    group.bench_function("tungstenite", |b| {
        b.iter(|| runtime.block_on(write_tungstenite(&record, count)))
    });
    group.bench_function("tokio_websockets", |b| {
        b.iter(|| runtime.block_on(write_tokio_websockets(&record, count)))
    });
    group.bench_function("fastwebsockets", |b| {
        b.iter(|| runtime.block_on(write_fastwebsockets(&record, count)))
    });
    group.finish();
}

criterion_group!(benches, feed_read, gateway_write);
criterion_main!(benches);
