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
        let shown = url
            .as_str()
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let connector = match url.scheme() {
            "wss" => config
                .trust
                .client_config(rustls::DEFAULT_VERSIONS)?
                .map(|tls| tokio_tungstenite::Connector::Rustls(std::sync::Arc::new(tls))),
            _ => None,
        };
        let (mut socket, _) =
            tokio_tungstenite::connect_async_tls_with_config(request, None, false, connector)
                .await
                .map_err(|e| ClientError::Connect(explain(&shown, &e)))?;
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

/// A connection failure that names the URL, with a hint where the cause is a common one.
fn explain(url: &str, err: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    let hint = match err {
        // An HTTP answer, not an upgrade: usually the path (a 200 from the dashboard).
        Error::Http(response) if !url.ends_with("/v1/stream") => format!(
            " (HTTP {}: the stream endpoint is /v1/stream, e.g. ws://HOST:PORT/v1/stream)",
            response.status()
        ),
        Error::Http(response) => format!(" (HTTP {})", response.status()),
        // rustls' verdict arrives as a TLS or an I/O error, depending on the stage.
        Error::Tls(_) | Error::Io(_) if err.to_string().contains("certificate") => {
            " (for a self-signed server certificate pass --cert FILE, or --insecure to skip the check)"
                .into()
        }
        _ => String::new(),
    };
    format!("{url}: {err}{hint}")
}
