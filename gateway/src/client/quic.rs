//! The client's QUIC transport: JSON lines on the control stream, one server-opened
//! unidirectional stream per subscription (a header line, then JSON lines or records).

use std::net::SocketAddr;
use std::sync::Arc;

use quinn::{Connection, Endpoint, RecvStream};
use tokio::sync::mpsc;

use super::{binary_events, text_events, ClientConfig, ClientError, Event, SeqTracker, Transport};
use crate::protocol::Encoding;
use crate::server::quic::ALPN;

pub struct QuicConn {
    _endpoint: Endpoint,
    conn: Connection,
    control: RecvStream,
    _send: quinn::SendStream,
}

impl QuicConn {
    pub async fn open(config: &ClientConfig) -> Result<QuicConn, ClientError> {
        let Transport::Quic { addr, server_name } = &config.transport else {
            return Err(ClientError::Address("not a QUIC transport".into()));
        };
        let mut tls = config
            .trust
            .client_config(&[&rustls::version::TLS13])?
            .ok_or_else(|| {
                ClientError::Connect(
                    "QUIC needs the server's certificate (--cert FILE) or --insecure".into(),
                )
            })?;
        tls.alpn_protocols = vec![ALPN.to_vec()];
        let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls)
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        let bind: SocketAddr = if addr.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        };
        let mut endpoint =
            Endpoint::client(bind).map_err(|e| ClientError::Connect(e.to_string()))?;
        endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));
        let conn = endpoint
            .connect(*addr, server_name)
            .map_err(|e| ClientError::Connect(e.to_string()))?
            .await
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        let (mut send, control) = conn
            .open_bi()
            .await
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        let hello = serde_json::json!({"op": "hello", "encoding": config.encoding, "api_key": config.api_key});
        let mut lines = format!("{hello}\n");
        if !config.streams.is_empty() {
            lines.push_str(&config.subscribe_message());
            lines.push('\n');
        }
        send.write_all(lines.as_bytes())
            .await
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        Ok(QuicConn {
            _endpoint: endpoint,
            conn,
            control,
            _send: send,
        })
    }

    /// Reads the control stream and every data stream until the connection ends.
    pub async fn pump(
        self,
        config: &ClientConfig,
        tracker: &mut SeqTracker,
        tx: &mpsc::Sender<Event>,
    ) -> String {
        // Each stream is read by its own task into this channel of raw chunks; the
        // tracker stays in one place.
        let (chunks_tx, mut chunks) = mpsc::channel::<Chunk>(1024);
        tokio::spawn(read_lines(self.control, chunks_tx.clone()));
        let conn = self.conn.clone();
        let encoding = config.encoding;
        let acceptor_tx = chunks_tx.clone();
        let acceptor = tokio::spawn(async move {
            while let Ok(stream) = conn.accept_uni().await {
                let tx = acceptor_tx.clone();
                match encoding {
                    Encoding::Json => tokio::spawn(read_lines(stream, tx)),
                    Encoding::Binary => tokio::spawn(read_binary(stream, tx)),
                };
            }
        });
        drop(chunks_tx);
        let mut events = Vec::new();
        let mut reason = "connection ended".to_string();
        loop {
            tokio::select! {
                chunk = chunks.recv() => match chunk {
                    Some(Chunk::Line(line)) => {
                        if let Err(e) = text_events(&line, tracker, &mut events) {
                            reason = e;
                            break;
                        }
                    }
                    Some(Chunk::Records(bytes)) => {
                        if let Err(e) = binary_events(&bytes, tracker, &mut events) {
                            reason = format!("bad binary data: {e}");
                            break;
                        }
                    }
                    None => break,
                },
                closed = self.conn.closed() => {
                    reason = closed.to_string();
                    break;
                }
            }
            for event in events.drain(..) {
                if tx.send(event).await.is_err() {
                    acceptor.abort();
                    return "client dropped".into();
                }
            }
        }
        acceptor.abort();
        // Deliver what was read before the close (e.g. a `closing` message).
        while let Ok(chunk) = chunks.try_recv() {
            if let Chunk::Line(line) = chunk {
                // The connection is ending anyway; a bad hello here changes nothing.
                let _ = text_events(&line, tracker, &mut events);
            }
        }
        for event in events.drain(..) {
            let _ = tx.send(event).await;
        }
        reason
    }
}

enum Chunk {
    Line(String),
    Records(Vec<u8>),
}

async fn read_lines(mut stream: RecvStream, tx: mpsc::Sender<Chunk>) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk).await {
            Ok(Some(n)) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            _ => return,
        }
        while let Some(at) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=at).take(at).collect();
            let line = String::from_utf8_lossy(&line).into_owned();
            if !line.starts_with(r#"{"type":"stream""#) && tx.send(Chunk::Line(line)).await.is_err()
            {
                return;
            }
        }
    }
}

/// A binary data stream: the header line, then records back to back; each chunk sent
/// on holds whole records only.
async fn read_binary(mut stream: RecvStream, tx: mpsc::Sender<Chunk>) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut header_done = false;
    loop {
        match stream.read(&mut chunk).await {
            Ok(Some(n)) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            _ => return,
        }
        if !header_done {
            let Some(at) = buf.iter().position(|b| *b == b'\n') else {
                continue;
            };
            buf.drain(..=at);
            header_done = true;
        }
        let mut whole = 0;
        while let Some(&words) = buf.get(whole) {
            let len = usize::from(words) * 4;
            if len == 0 || whole + len > buf.len() {
                break;
            }
            whole += len;
        }
        if whole > 0
            && tx
                .send(Chunk::Records(buf.drain(..whole).collect()))
                .await
                .is_err()
        {
            return;
        }
        if buf.first() == Some(&0) {
            return; // a zero length can never become a record
        }
    }
}
