//! A small HTTP/1.1 GET client for venue REST endpoints (book snapshots, instrument
//! lists, open interest) over tokio, with tokio-rustls (ring) for `https://`.
//!
//! Hand-rolled on purpose: we need one verb, bounded everything (time, header and
//! body size), and the rate-limit signals (429/418 with `Retry-After`, Binance's
//! used-weight header) surfaced as values, not buried in a generic client.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::endpoint::{BadUrl, Endpoint};

const MAX_HEADER_BYTES: usize = 64 << 10;

#[derive(Debug, Clone)]
pub struct RestClient {
    pub timeout: Duration,
    pub max_body: usize,
    /// When recording: every 2xx body goes to the capture (`tickd record`).
    pub tap: Option<crate::capture::FrameTap>,
    /// Sent as `Authorization: Bearer …` (tickd's own HTTP API; venues' public
    /// endpoints need none).
    pub bearer: Option<String>,
    /// The TLS trust for `https://`; `None` is the web's roots.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for RestClient {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_body: 16 << 20,
            tap: None,
            bearer: None,
            tls: None,
        }
    }
}

/// A 2xx answer.
#[derive(Debug, Clone)]
pub struct RestResponse {
    pub status: u16,
    pub body: Vec<u8>,
    /// `X-MBX-USED-WEIGHT-1M` (Binance), when sent.
    pub used_weight: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error(transparent)]
    BadUrl(#[from] BadUrl),
    #[error("cannot reach {endpoint}: timed out after {after:?}")]
    Timeout { endpoint: String, after: Duration },
    #[error("cannot reach {endpoint}: {reason}")]
    Connect { endpoint: String, reason: String },
    /// 429 (slow down) or 418 (IP banned for ignoring 429s).
    #[error("rate limited by {endpoint}: HTTP {status}, retry after {retry_after:?}")]
    RateLimited {
        endpoint: String,
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("HTTP {status} from {endpoint}: {snippet}")]
    Status {
        endpoint: String,
        status: u16,
        snippet: String,
    },
    #[error("response from {endpoint} exceeds {limit} bytes")]
    TooLarge { endpoint: String, limit: usize },
    #[error("malformed HTTP response from {endpoint}: {why}")]
    Malformed { endpoint: String, why: &'static str },
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
}

impl RestError {
    /// How long the venue asked us to wait, for 429/418.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            RestError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn is_rate_limit(&self) -> bool {
        matches!(self, RestError::RateLimited { .. })
    }
}

impl RestClient {
    /// The default client, copying its bodies to `tap` when recording.
    pub fn with_tap(tap: Option<crate::capture::FrameTap>) -> Self {
        Self {
            tap,
            ..Self::default()
        }
    }

    /// `GET url`; any non-2xx is an error, 429/418 a [`RestError::RateLimited`].
    pub async fn get(&self, url: &str) -> Result<RestResponse, RestError> {
        let endpoint = Endpoint::parse(url)?;
        let authority = endpoint.authority();
        let work = self.get_inner(&endpoint);
        match tokio::time::timeout(self.timeout, work).await {
            Ok(Ok(response)) => {
                if let Some(tap) = &self.tap {
                    tap.rest(url, crate::runtime::now_ns(), &response.body);
                }
                Ok(response)
            }
            Ok(result) => result,
            Err(_) => Err(RestError::Timeout {
                endpoint: authority,
                after: self.timeout,
            }),
        }
    }

    async fn get_inner(&self, endpoint: &Endpoint) -> Result<RestResponse, RestError> {
        let connect_err = |e: std::io::Error| RestError::Connect {
            endpoint: endpoint.authority(),
            reason: e.to_string(),
        };
        let tcp = TcpStream::connect((endpoint.host.as_str(), endpoint.port))
            .await
            .map_err(connect_err)?;
        let _ = tcp.set_nodelay(true);
        let auth = self
            .bearer
            .as_ref()
            .map(|key| format!("Authorization: Bearer {key}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: tickd/0.1\r\nAccept: application/json\r\nAccept-Encoding: identity\r\n{auth}Connection: close\r\n\r\n",
            endpoint.path, endpoint.host
        );
        if endpoint.tls {
            let tls = match &self.tls {
                Some(tls) => tls.clone(),
                None => crate::ws::tls_config()?,
            };
            let connector = tokio_rustls::TlsConnector::from(tls);
            let name =
                rustls::pki_types::ServerName::try_from(endpoint.host.clone()).map_err(|_| {
                    RestError::Connect {
                        endpoint: endpoint.authority(),
                        reason: "invalid TLS server name".into(),
                    }
                })?;
            let tls = connector.connect(name, tcp).await.map_err(connect_err)?;
            exchange(tls, &request, self.max_body, endpoint).await
        } else {
            exchange(tcp, &request, self.max_body, endpoint).await
        }
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &str,
    max_body: usize,
    endpoint: &Endpoint,
) -> Result<RestResponse, RestError> {
    let io_err = |e: std::io::Error| RestError::Connect {
        endpoint: endpoint.authority(),
        reason: e.to_string(),
    };
    let malformed = |why| RestError::Malformed {
        endpoint: endpoint.authority(),
        why,
    };
    let too_large = || RestError::TooLarge {
        endpoint: endpoint.authority(),
        limit: max_body,
    };
    stream.write_all(request.as_bytes()).await.map_err(io_err)?;
    stream.flush().await.map_err(io_err)?;

    let mut buf = Vec::with_capacity(16 << 10);
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEADER_BYTES {
            return Err(malformed("headers too long"));
        }
        if read_more(&mut stream, &mut buf).await.map_err(io_err)? == 0 {
            return Err(malformed("connection closed before the headers ended"));
        }
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| malformed("non-UTF-8 headers"))?;
    let head = Head::parse(head).ok_or_else(|| malformed("bad status line"))?;
    let mut body = buf.split_off(head_end);

    let body = if head.chunked {
        loop {
            match decode_chunked(&body, max_body) {
                Chunked::Done(decoded) => break decoded,
                Chunked::TooLarge => return Err(too_large()),
                Chunked::Malformed => return Err(malformed("bad chunked encoding")),
                Chunked::Incomplete => {}
            }
            if body.len() > max_body.saturating_mul(2).saturating_add(4096) {
                return Err(too_large());
            }
            if read_more(&mut stream, &mut body).await.map_err(io_err)? == 0 {
                return Err(malformed("connection closed inside a chunked body"));
            }
        }
    } else if let Some(length) = head.content_length {
        if length > max_body {
            return Err(too_large());
        }
        while body.len() < length {
            if read_more(&mut stream, &mut body).await.map_err(io_err)? == 0 {
                return Err(malformed("connection closed before Content-Length bytes"));
            }
        }
        body.truncate(length);
        body
    } else {
        while read_more(&mut stream, &mut body).await.map_err(io_err)? != 0 {
            if body.len() > max_body {
                return Err(too_large());
            }
        }
        body
    };

    match head.status {
        200..=299 => Ok(RestResponse {
            status: head.status,
            body,
            used_weight: head.used_weight,
        }),
        429 | 418 => Err(RestError::RateLimited {
            endpoint: endpoint.authority(),
            status: head.status,
            retry_after: head.retry_after,
        }),
        status => Err(RestError::Status {
            endpoint: endpoint.authority(),
            status,
            snippet: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        }),
    }
}

async fn read_more<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let mut chunk = [0u8; 16 << 10];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[derive(Debug, Default, PartialEq)]
struct Head {
    status: u16,
    content_length: Option<usize>,
    chunked: bool,
    retry_after: Option<Duration>,
    used_weight: Option<u32>,
}

impl Head {
    fn parse(text: &str) -> Option<Head> {
        let mut lines = text.split("\r\n");
        let status_line = lines.next()?;
        let mut parts = status_line.splitn(3, ' ');
        if !parts.next()?.starts_with("HTTP/1.") {
            return None;
        }
        let mut head = Head {
            status: parts.next()?.parse().ok()?,
            ..Head::default()
        };
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => head.content_length = value.parse().ok(),
                "transfer-encoding" => {
                    head.chunked = value.to_ascii_lowercase().contains("chunked")
                }
                // Seconds; the HTTP-date form is not used by the venues we speak to.
                "retry-after" => head.retry_after = value.parse().ok().map(Duration::from_secs),
                "x-mbx-used-weight-1m" => head.used_weight = value.parse().ok(),
                _ => {}
            }
        }
        Some(head)
    }
}

#[derive(Debug, PartialEq)]
enum Chunked {
    Done(Vec<u8>),
    Incomplete,
    TooLarge,
    Malformed,
}

fn decode_chunked(mut data: &[u8], max_body: usize) -> Chunked {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = find(data, b"\r\n") else {
            return Chunked::Incomplete;
        };
        let line = &data[..line_end];
        let size_text = line.split(|b| *b == b';').next().unwrap_or(line);
        let Some(size) = std::str::from_utf8(size_text)
            .ok()
            .and_then(|t| usize::from_str_radix(t.trim(), 16).ok())
        else {
            return Chunked::Malformed;
        };
        if out.len().saturating_add(size) > max_body {
            return Chunked::TooLarge;
        }
        data = &data[line_end + 2..];
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            return if find(data, b"\r\n").is_some() {
                Chunked::Done(out)
            } else {
                Chunked::Incomplete
            };
        }
        if data.len() < size + 2 {
            return Chunked::Incomplete;
        }
        out.extend_from_slice(&data[..size]);
        if &data[size..size + 2] != b"\r\n" {
            return Chunked::Malformed;
        }
        data = &data[size + 2..];
    }
}

/// Retry policy shared by REST callers: honour the venue's `Retry-After`, else back off.
pub fn rate_limit_pause(err: &RestError, fallback: Duration) -> Duration {
    err.retry_after().unwrap_or(fallback)
}

/// Convenience for a shared client.
pub type SharedRest = Arc<RestClient>;

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// Serve one canned response per connection, for `n` connections.
    async fn serve(responses: Vec<Vec<u8>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for response in responses {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut req = Vec::new();
                while find(&req, b"\r\n\r\n").is_none() {
                    if read_more(&mut sock, &mut req).await.unwrap() == 0 {
                        break;
                    }
                }
                assert!(req.starts_with(b"GET /api/v3/depth?symbol=X HTTP/1.1\r\n"));
                // Split writes to exercise incremental parsing.
                let mid = response.len() / 2;
                sock.write_all(&response[..mid]).await.unwrap();
                sock.flush().await.unwrap();
                tokio::task::yield_now().await;
                sock.write_all(&response[mid..]).await.unwrap();
            }
        });
        format!("http://{addr}/api/v3/depth?symbol=X")
    }

    #[tokio::test]
    async fn content_length_chunked_and_eof_bodies() {
        let url = serve(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-MBX-USED-WEIGHT-1M: 25\r\n\r\nhello".to_vec(),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\n\r\nuntil-eof".to_vec(),
        ])
        .await;
        let client = RestClient::default();
        let r = client.get(&url).await.unwrap();
        assert_eq!(
            (r.body.as_slice(), r.used_weight),
            (&b"hello"[..], Some(25))
        );
        assert_eq!(client.get(&url).await.unwrap().body, b"abcde");
        assert_eq!(client.get(&url).await.unwrap().body, b"until-eof");
    }

    #[tokio::test]
    async fn rate_limits_statuses_and_caps_are_errors() {
        let url = serve(vec![
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
            b"HTTP/1.1 418 I'm a teapot\r\nContent-Length: 2\r\n\r\n{}".to_vec(),
            b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nboom".to_vec(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n".to_vec(),
            b"garbage\r\n\r\n".to_vec(),
        ])
        .await;
        let client = RestClient {
            timeout: Duration::from_secs(5),
            max_body: 100,
            ..RestClient::default()
        };
        let err = client.get(&url).await.unwrap_err();
        assert!(err.is_rate_limit());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(
            rate_limit_pause(&err, Duration::from_secs(1)),
            Duration::from_secs(7)
        );
        let err = client.get(&url).await.unwrap_err();
        assert!(matches!(
            err,
            RestError::RateLimited {
                status: 418,
                retry_after: None,
                ..
            }
        ));
        let err = client.get(&url).await.unwrap_err();
        assert!(
            err.to_string().contains("HTTP 500") && err.to_string().contains("boom"),
            "{err}"
        );
        assert!(matches!(
            client.get(&url).await.unwrap_err(),
            RestError::TooLarge { .. }
        ));
        assert!(matches!(
            client.get(&url).await.unwrap_err(),
            RestError::Malformed { .. }
        ));
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let conn = listener.accept().await;
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(conn);
        });
        let client = RestClient {
            timeout: Duration::from_millis(200),
            max_body: 100,
            ..RestClient::default()
        };
        let err = client.get(&format!("http://{addr}/")).await.unwrap_err();
        assert!(matches!(err, RestError::Timeout { .. }), "{err}");
        hold.abort();
    }

    #[test]
    fn chunked_decoder_edges() {
        assert_eq!(decode_chunked(b"3\r\nab", 10), Chunked::Incomplete);
        assert_eq!(decode_chunked(b"zz\r\n", 10), Chunked::Malformed);
        assert_eq!(decode_chunked(b"ff\r\n", 10), Chunked::TooLarge);
        assert_eq!(decode_chunked(b"2\r\nabXX", 10), Chunked::Malformed);
        assert_eq!(decode_chunked(b"0\r\n\r\n", 10), Chunked::Done(vec![]));
    }
}
