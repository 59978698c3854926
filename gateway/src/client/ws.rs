//! The client's WebSocket transport (tokio-tungstenite, rustls with ring for wss).

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{binary_events, text_events, ClientConfig, ClientError, Event, SeqTracker};
use crate::protocol::Encoding;

pub struct WsConn {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsConn {
    pub async fn open(url: &str, config: &ClientConfig) -> Result<WsConn, ClientError> {
        let mut url = url::Url::parse(url).map_err(|e| ClientError::Address(e.to_string()))?;
        let encoding = match config.encoding {
            Encoding::Json => "json",
            Encoding::Binary => "binary",
        };
        url.query_pairs_mut().append_pair("encoding", encoding);
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| ClientError::Address(e.to_string()))?;
        if let Some(key) = &config.api_key {
            let value = HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|e| ClientError::Address(e.to_string()))?;
            request.headers_mut().insert("authorization", value);
        }
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        if !config.streams.is_empty() {
            socket
                .send(Message::text(config.subscribe_message()))
                .await
                .map_err(|e| ClientError::Connect(e.to_string()))?;
        }
        Ok(WsConn { socket })
    }

    /// Reads until the connection ends; returns why it ended.
    pub async fn pump(
        mut self,
        _config: &ClientConfig,
        tracker: &mut SeqTracker,
        tx: &mpsc::Sender<Event>,
    ) -> String {
        let mut events = Vec::new();
        while let Some(message) = self.socket.next().await {
            match message {
                Ok(Message::Text(text)) => {
                    if let Err(e) = text_events(&text, tracker, &mut events) {
                        return e;
                    }
                }
                Ok(Message::Binary(data)) => {
                    if let Err(e) = binary_events(&data, tracker, &mut events) {
                        return format!("bad binary frame: {e}");
                    }
                }
                Ok(Message::Close(frame)) => {
                    return frame.map_or("closed".into(), |f| format!("closed: {}", f.reason))
                }
                Ok(_) => {}
                Err(e) => return e.to_string(),
            }
            for event in events.drain(..) {
                if tx.send(event).await.is_err() {
                    return "client dropped".into();
                }
            }
        }
        "connection ended".into()
    }
}
