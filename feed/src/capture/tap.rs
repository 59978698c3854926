//! [`FrameTap`]: what the feed calls for every frame it receives and every REST body
//! it uses. A bounded queue to the writer thread: a full queue drops the frame and
//! counts it (the writer then writes a `loss` line), so the feed never waits.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;

use bytes::Bytes;
use tickd_bus::Venue;

use super::CaptureKind;

/// One captured item on its way to the writer.
#[derive(Debug)]
pub(crate) struct TapItem {
    pub ts_recv: u64,
    pub venue: Venue,
    pub conn: u32,
    pub kind: CaptureKind,
    pub url: Arc<str>,
    pub data: Bytes,
    /// A binary WebSocket frame (written base64 as `data_b64`).
    pub binary: bool,
}

/// A venue's handle on a capture writer. Cheap to clone.
#[derive(Clone)]
pub struct FrameTap {
    venue: Venue,
    tx: SyncSender<TapItem>,
    dropped: Arc<AtomicU64>,
}

impl fmt::Debug for FrameTap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameTap")
            .field("venue", &self.venue)
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl FrameTap {
    pub(crate) fn new(venue: Venue, tx: SyncSender<TapItem>, dropped: Arc<AtomicU64>) -> Self {
        Self { venue, tx, dropped }
    }

    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// Frames dropped so far because the writer fell behind (or had stopped).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }

    /// A WebSocket data frame of connection `conn` (whose URL is `url`).
    #[inline]
    pub fn ws(&self, conn: u32, url: &Arc<str>, ts_recv: u64, data: &Bytes, binary: bool) {
        self.send(TapItem {
            ts_recv,
            venue: self.venue,
            conn,
            kind: CaptureKind::Ws,
            url: url.clone(),
            data: data.clone(),
            binary,
        });
    }

    /// Connection `conn` opened (`Connect`) or closed (`Disconnect`, `why` as data).
    pub fn connection(&self, kind: CaptureKind, conn: u32, url: &str, ts_recv: u64, why: &str) {
        self.send(TapItem {
            ts_recv,
            venue: self.venue,
            conn,
            kind,
            url: Arc::from(url),
            data: Bytes::copy_from_slice(why.as_bytes()),
            binary: false,
        });
    }

    /// A REST response body the feed received from `url`.
    pub fn rest(&self, url: &str, ts_recv: u64, body: &[u8]) {
        self.send(TapItem {
            ts_recv,
            venue: self.venue,
            conn: 0,
            kind: CaptureKind::Rest,
            url: Arc::from(url),
            data: Bytes::copy_from_slice(body),
            binary: false,
        });
    }

    fn send(&self, item: TapItem) {
        match self.tx.try_send(item) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Relaxed);
            }
        }
    }
}
