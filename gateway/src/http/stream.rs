//! History responses streamed from a blocking thread in fixed-size chunks, so a
//! request's memory does not grow with its answer, and bounded in number: per API key
//! and across the server ([`HistoryLimits`]). Journal reads run on tokio's blocking
//! pool, never on the runtime threads that drive the live fan-out.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use super::history::HistoryError;
use crate::server::auth::KeyState;

/// Bytes gathered before a chunk goes out.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for a slow client before the producer waits too.
const CHUNKS_AHEAD: usize = 2;

/// What a query gives once its journal is open: the start of the body, its rows
/// (each already formatted), and the end of the body once the rows are done.
pub struct Prepared {
    pub content_type: &'static str,
    /// Extra response headers (e.g. the count of damaged journal blocks skipped).
    pub headers: Vec<(&'static str, String)>,
    pub head: String,
    pub rows: Box<dyn Iterator<Item = String> + Send>,
    /// Between two rows (`,` in a JSON array).
    pub separator: &'static str,
    /// Written after the rows, with whether any row was written before it.
    pub tail: Box<dyn FnOnce(bool) -> String + Send>,
}

/// History queries in flight across the server (the per-key count is the key's own
/// semaphore, [`KeyState::history`]).
pub struct HistoryLimits {
    global: Arc<Semaphore>,
}

impl HistoryLimits {
    pub fn new(global: usize) -> Self {
        HistoryLimits {
            global: Arc::new(Semaphore::new(global.max(1))),
        }
    }

    /// The key's permit and the server's, or the response that says which limit was reached.
    pub fn acquire(&self, key: &KeyState) -> Result<[OwnedSemaphorePermit; 2], Busy> {
        let Ok(mine) = Arc::clone(&key.history).try_acquire_owned() else {
            return Err(Busy(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "{} history queries with this API key (or anonymous) are in flight, its limit; wait for one to finish",
                    key.limits.max_history_queries
                ),
            ));
        };
        let Ok(global) = Arc::clone(&self.global).try_acquire_owned() else {
            return Err(Busy(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is answering as many history queries as it allows; retry shortly"
                    .into(),
            ));
        };
        Ok([mine, global])
    }
}

/// A history query refused for a limit: 429 (the key's) or 503 (the server's).
#[derive(Debug)]
pub struct Busy(StatusCode, String);

impl IntoResponse for Busy {
    fn into_response(self) -> Response {
        let mut response = (self.0, axum::Json(json!({"error": self.1}))).into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        response
    }
}

/// Runs `open` on the blocking pool and streams what it prepares; `open`'s error
/// becomes the response. The permits are held until the last chunk is written or the
/// client goes away.
pub async fn respond<F>(
    permits: [OwnedSemaphorePermit; 2],
    open: F,
) -> Result<Response, HistoryError>
where
    F: FnOnce() -> Result<Prepared, HistoryError> + Send + 'static,
{
    let (ready_tx, ready_rx) = oneshot::channel();
    let (chunks_tx, chunks_rx) = mpsc::channel::<Bytes>(CHUNKS_AHEAD);
    tokio::task::spawn_blocking(move || {
        let _permits = permits;
        match open() {
            Err(e) => {
                let _ = ready_tx.send(Err(e));
            }
            Ok(prepared) => {
                let Prepared {
                    content_type,
                    headers,
                    head,
                    rows,
                    separator,
                    tail,
                } = prepared;
                if ready_tx.send(Ok((content_type, headers))).is_ok() {
                    write_chunks(&chunks_tx, head, rows, separator, tail);
                }
            }
        }
    });
    let (content_type, headers) = ready_rx
        .await
        .map_err(|_| HistoryError::Journal("query task failed".into()))??;
    let body = futures_util::stream::unfold(chunks_rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    let mut response = Body::from_stream(body).into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            out.insert(name, value);
        }
    }
    Ok(response)
}

/// Fills chunks of [`CHUNK`] bytes and sends each, waiting while the client is
/// [`CHUNKS_AHEAD`] behind; stops early when the client is gone.
fn write_chunks(
    tx: &mpsc::Sender<Bytes>,
    head: String,
    rows: Box<dyn Iterator<Item = String> + Send>,
    separator: &str,
    tail: Box<dyn FnOnce(bool) -> String + Send>,
) {
    let mut chunk = String::with_capacity(CHUNK + 1024);
    chunk.push_str(&head);
    let mut any = false;
    for row in rows {
        if any {
            chunk.push_str(separator);
        }
        chunk.push_str(&row);
        any = true;
        if chunk.len() >= CHUNK {
            let full = std::mem::replace(&mut chunk, String::with_capacity(CHUNK + 1024));
            if tx.blocking_send(Bytes::from(full)).is_err() {
                return;
            }
        }
    }
    chunk.push_str(&tail(any));
    let _ = tx.blocking_send(Bytes::from(chunk));
}
