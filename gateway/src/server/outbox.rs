//! Control replies waiting to be written, shared by a connection's reader (which
//! handles requests) and its writer (which owns the socket).

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::protocol::{ErrorCode, ServerMessage};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Text(String),
    /// Send `closing` with this reason, then close.
    Close(String),
    /// As `Close`, with this WebSocket close code (1009: a frame was too large).
    CloseCode(String, u16),
}

pub struct Outbox {
    queue: Mutex<VecDeque<Out>>,
    /// Wakes the connection's writer (shared with its subscription queues).
    pub notify: Arc<Notify>,
    limit: usize,
}

/// What the reader should do with the next request.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    Handle,
    /// Reply `too_many_pending_requests` instead.
    Refuse,
    /// The client does not read its replies at all: close.
    Close,
}

impl Outbox {
    pub fn new(notify: Arc<Notify>, limit: usize) -> Self {
        Outbox {
            queue: Mutex::new(VecDeque::new()),
            notify,
            limit: limit.max(1),
        }
    }

    /// Whether a new request may be handled, given the replies not yet written.
    pub fn admit(&self) -> Admit {
        let pending = self.queue.lock().len();
        if pending < self.limit {
            Admit::Handle
        } else if pending < 2 * self.limit {
            Admit::Refuse
        } else {
            Admit::Close
        }
    }

    /// Refuses `request`, naming its `id` so the client knows which one to resend.
    pub fn refuse(&self, request: &[u8]) {
        self.push(ServerMessage::error(
            crate::protocol::request_id(request),
            ErrorCode::TooManyPendingRequests,
            format!(
                "{} replies are waiting to be read; read them before sending more",
                self.limit
            ),
        ));
    }

    pub fn push(&self, message: ServerMessage) {
        self.queue.lock().push_back(Out::Text(message.to_json()));
        self.notify.notify_one();
    }

    /// Close with a WebSocket close code (QUIC has none: there it is a plain close).
    pub fn close_with_code(&self, reason: impl Into<String>, code: u16) {
        self.queue
            .lock()
            .push_back(Out::CloseCode(reason.into(), code));
        self.notify.notify_one();
    }

    pub fn close(&self, reason: impl Into<String>) {
        self.queue.lock().push_back(Out::Close(reason.into()));
        self.notify.notify_one();
    }

    pub fn take(&self) -> Vec<Out> {
        self.queue.lock().drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_request_it_refuses() {
        let outbox = Outbox::new(Arc::new(Notify::new()), 1);
        outbox.refuse(br#"{"op":"subscribe","id":42,"streams":["trades.*"]}"#);
        outbox.refuse(b"not json");
        let out = outbox.take();
        let Out::Text(first) = &out[0] else {
            panic!("{out:?}")
        };
        let first: ServerMessage = serde_json::from_str(first).unwrap();
        assert!(
            matches!(
                first,
                ServerMessage::Error {
                    id: Some(42),
                    code: ErrorCode::TooManyPendingRequests,
                    ..
                }
            ),
            "{first:?}"
        );
        let Out::Text(second) = &out[1] else {
            panic!("{out:?}")
        };
        assert!(!second.contains("\"id\""), "{second}");
    }
}
