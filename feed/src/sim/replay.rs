//! Replay of a capture file: JSON Lines (optionally zstd), one object per frame or
//! response: `{"ts_recv":<ns>,"venue":"..","conn":<n>,"kind":"ws"|"rest","url":"..","data":"<raw>"}`.
//! WebSocket frames go to the subscribers of their stream; REST bodies answer the
//! matching path and symbol.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tickd_bus::Venue;

use super::config::ReplayPace;
use super::protocol::protocol_for;
use super::state::{Outbound, Shared};
use super::SimError;
use crate::capture::{request_target, CaptureKind, CaptureReader, LineError};

/// One line of a capture file (the one definition is in [`crate::capture`]).
pub use crate::capture::CaptureLine as CaptureEntry;

/// Read a whole capture (`.zst` is decompressed). A malformed line is an error; a
/// torn last line (a recorder that was killed) is skipped with a warning.
pub fn load_capture(path: &Path) -> Result<Vec<CaptureEntry>, SimError> {
    let reader = CaptureReader::open(path).map_err(|source| SimError::Capture {
        path: path.to_path_buf(),
        source,
    })?;
    let mut entries = Vec::new();
    for item in reader {
        match item {
            Ok(entry) => entries.push(entry),
            Err(LineError::Truncated { line }) => {
                tracing::warn!(path = %path.display(), line, "capture ends in a torn line; skipped");
            }
            Err(LineError::Malformed { line, why }) => {
                return Err(SimError::CaptureLine {
                    path: path.to_path_buf(),
                    line: line as usize,
                    msg: why,
                })
            }
            Err(err @ (LineError::TooLong { .. } | LineError::Io { .. })) => {
                return Err(SimError::CaptureLine {
                    path: path.to_path_buf(),
                    line: 0,
                    msg: err.to_string(),
                })
            }
        }
    }
    Ok(entries)
}

/// A recorded event ready to send: the subscriptions it belongs to (in the venue
/// protocol's naming) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayFrame {
    pub venue: Venue,
    pub streams: Vec<String>,
    pub data: String,
}

/// A captured WebSocket frame as its venue's simulator protocol replays it.
pub(crate) fn frame_of(entry: &CaptureEntry) -> Option<ReplayFrame> {
    let venue: Venue = entry.venue.parse().ok()?;
    if entry.kind != CaptureKind::Ws {
        return None;
    }
    protocol_for(venue)?.replay_frame(venue, &entry.data)
}

fn path_and_symbol(url: &str) -> (String, String) {
    let (path, symbol) = request_target(url);
    (path.to_string(), symbol)
}

/// Recorded REST bodies by (path, symbol), served in order; the last one repeats.
#[derive(Default)]
pub(crate) struct RestReplay {
    bodies: Mutex<HashMap<(String, String), VecDeque<String>>>,
}

impl RestReplay {
    pub fn from_entries(entries: &[CaptureEntry]) -> Self {
        let mut bodies: HashMap<(String, String), VecDeque<String>> = HashMap::new();
        for e in entries.iter().filter(|e| e.kind == CaptureKind::Rest) {
            bodies
                .entry(path_and_symbol(&e.url))
                .or_default()
                .push_back(e.data.clone());
        }
        Self {
            bodies: Mutex::new(bodies),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.bodies.lock().is_empty()
    }

    /// The next recorded body for this request target.
    pub fn answer(&self, target: &str) -> Option<String> {
        let key = path_and_symbol(target);
        let mut bodies = self.bodies.lock();
        let queue = bodies.get_mut(&key)?;
        if queue.len() > 1 {
            queue.pop_front()
        } else {
            queue.front().cloned()
        }
    }
}

/// Publish the frames at `pace`, starting at the first subscription.
pub(crate) async fn run(
    shared: Arc<Shared>,
    entries: Vec<CaptureEntry>,
    pace: ReplayPace,
    repeat: bool,
) {
    let frames: Vec<(u64, Arc<Outbound>)> = entries
        .iter()
        .filter_map(|e| frame_of(e).map(|f| (e.ts_recv, Arc::new(Outbound::Replay(f)))))
        .collect();
    shared.first_subscribe.notified().await;
    let capacity = shared.config.queue_len.max(2);
    loop {
        let start = tokio::time::Instant::now();
        let first_ts = frames.first().map_or(0, |f| f.0);
        for (i, (ts, frame)) in frames.iter().enumerate() {
            match pace {
                ReplayPace::Recorded => {
                    tokio::time::sleep_until(
                        start + Duration::from_nanos(ts.saturating_sub(first_ts)),
                    )
                    .await;
                }
                ReplayPace::Rate(n) => {
                    let per = Duration::from_secs(1) / n.max(1);
                    tokio::time::sleep_until(start + per * i as u32).await;
                }
                ReplayPace::Max => {
                    // Back-pressure instead of overrunning slow sessions' queues.
                    while shared.tx.len() > capacity / 2 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    if i % 256 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            }
            let _ = shared.tx.send(frame.clone());
            shared.counters.replay_frames.fetch_add(1, Relaxed);
        }
        if !repeat || frames.is_empty() {
            break;
        }
    }
    shared.counters.replay_finished.store(true, Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, url: &str, data: &str) -> CaptureEntry {
        CaptureEntry {
            ts_recv: 1,
            venue: "binance".into(),
            conn: 0,
            kind: match kind {
                "rest" => CaptureKind::Rest,
                _ => CaptureKind::Ws,
            },
            url: url.into(),
            data: data.into(),
            data_b64: None,
        }
    }

    #[test]
    fn frames_are_routed_by_stream_or_event() {
        let f = frame_of(&entry(
            "ws",
            "",
            r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","s":"BTCUSDT","p":"1.10"}}"#,
        ))
        .unwrap();
        assert_eq!(f.streams, ["btcusdt@aggTrade"]);
        assert_eq!(f.data, r#"{"e":"aggTrade","s":"BTCUSDT","p":"1.10"}"#);
        let f = frame_of(&entry(
            "ws",
            "",
            r#"{"u":1,"s":"BNBUSDT","b":"1","B":"1","a":"2","A":"1"}"#,
        ))
        .unwrap();
        assert_eq!(f.streams, ["bnbusdt@bookTicker"]);
        assert!(frame_of(&entry("ws", "", "not json")).is_none());
        let rest = RestReplay::from_entries(&[
            entry(
                "rest",
                "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=10",
                "A",
            ),
            entry("rest", "/api/v3/depth?symbol=BTCUSDT", "B"),
        ]);
        assert_eq!(
            rest.answer("/api/v3/depth?limit=5&symbol=btcusdt")
                .as_deref(),
            Some("A")
        );
        assert_eq!(
            rest.answer("/api/v3/depth?symbol=BTCUSDT").as_deref(),
            Some("B")
        );
        assert_eq!(
            rest.answer("/api/v3/depth?symbol=BTCUSDT").as_deref(),
            Some("B")
        );
        assert_eq!(rest.answer("/api/v3/depth?symbol=ETHUSDT"), None);
    }
}
