//! Replay of a capture file (plain and zstd): frames reach the subscribers of their
//! stream byte for byte, REST answers come from the recorded responses.

mod sim_common;

use std::path::PathBuf;

use sim_common::*;
use tickd_feed::sim::{ReplayPace, SimConfig, SimServer, SimSource};

fn line(ts: u64, venue: &str, kind: &str, url: &str, data: &str) -> String {
    serde_json::json!({"ts_recv": ts, "venue": venue, "conn": 0, "kind": kind, "url": url, "data": data}).to_string()
}

const TRADE: &str = r#"{"e":"trade","E":1554076800945,"s":"BTCUSDT","t":40756030,"p":"0.00426990","q":"33.82000000","T":1554076800940,"m":false,"M":true}"#;
const DEPTH: &str = r#"{"e":"depthUpdate","E":1672515782136,"s":"BTCUSDT","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}"#;
const ETH_TRADE: &str =
    r#"{"e":"trade","E":1,"s":"ETHUSDT","t":5,"p":"2","q":"1","T":1,"m":true,"M":true}"#;
const MARK: &str = r#"{"e":"markPriceUpdate","E":1617308820003,"s":"BTCUSDT","p":"58940.14924532","P":"58905.14663658","i":"58857.26693664","r":"0.00058455","T":1617321600000}"#;
const SNAPSHOT: &str = r#"{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}"#;

fn capture() -> String {
    [
        line(
            1_000,
            "binance",
            "rest",
            "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000",
            SNAPSHOT,
        ),
        line(
            2_000,
            "binance",
            "ws",
            "wss://stream.binance.com/stream",
            &format!(r#"{{"stream":"btcusdt@trade","data":{TRADE}}}"#),
        ),
        line(3_000, "binance", "ws", "", ETH_TRADE),
        line(4_000, "binance-usdm", "ws", "", MARK),
        line(5_000_000, "binance", "ws", "", DEPTH),
        line(
            6_000_000,
            "okx",
            "ws",
            "",
            r#"{"arg":{"channel":"trades"}}"#,
        ),
        line(7_000_000, "binance", "ws", "", TRADE),
    ]
    .join("\n")
}

fn temp_path(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!("tickd-sim-{}-{nanos}-{name}", std::process::id()))
}

async fn replay(path: PathBuf, pace: ReplayPace) {
    let cfg = SimConfig {
        source: SimSource::Replay {
            path: path.clone(),
            pace,
            repeat: false,
        },
        symbols: Vec::new(),
        ..SimConfig::default()
    };
    let sim = SimServer::start(cfg).await.expect("start");
    let addr = sim.local_addr();
    let snap = http_get(addr, "/api/v3/depth?symbol=BTCUSDT&limit=5000").await;
    assert_eq!((snap.status, snap.body.as_str()), (200, SNAPSHOT));
    let mut usdm = connect(addr, "/market/ws/btcusdt@markPrice").await;
    assert_eq!(next_text(&mut usdm).await, MARK);
    // The replay began with the first subscription (above); the spot client connected
    // later, so wait for the end and use a second run for the spot side.
    wait_for("the replay to finish", || sim.stats().replay_finished).await;
    sim.shutdown().await;

    let cfg = SimConfig {
        source: SimSource::Replay {
            path: path.clone(),
            pace,
            repeat: false,
        },
        symbols: Vec::new(),
        ..SimConfig::default()
    };
    let sim = SimServer::start(cfg).await.expect("start");
    let mut spot = connect(sim.local_addr(), "/ws/btcusdt@trade/btcusdt@depth@100ms").await;
    assert_eq!(
        next_text(&mut spot).await,
        TRADE,
        "unwrapped on /ws, ETH and USD-M frames not sent"
    );
    assert_eq!(next_text(&mut spot).await, DEPTH);
    assert_eq!(next_text(&mut spot).await, TRADE);
    wait_for("the replay to finish", || sim.stats().replay_finished).await;
    assert_eq!(
        sim.stats().replay_frames,
        5,
        "the okx frame is not a binance frame"
    );
    sim.shutdown().await;
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn replays_a_plain_capture_at_max_pace() {
    let path = temp_path("capture.jsonl");
    std::fs::write(&path, capture()).unwrap();
    replay(path, ReplayPace::Max).await;
}

#[tokio::test]
async fn replays_a_zstd_capture_at_recorded_pace() {
    let path = temp_path("capture.jsonl.zst");
    std::fs::write(&path, zstd::encode_all(capture().as_bytes(), 3).unwrap()).unwrap();
    replay(path, ReplayPace::Recorded).await;
}

#[tokio::test]
async fn combined_connections_get_the_recorded_stream_wrapper() {
    let path = temp_path("wrapped.jsonl");
    std::fs::write(&path, capture()).unwrap();
    let cfg = SimConfig {
        source: SimSource::Replay {
            path: path.clone(),
            pace: ReplayPace::Rate(1000),
            repeat: false,
        },
        symbols: Vec::new(),
        ..SimConfig::default()
    };
    let sim = SimServer::start(cfg).await.expect("start");
    let mut ws = connect(sim.local_addr(), "/stream?streams=btcusdt@trade").await;
    assert_eq!(
        next_text(&mut ws).await,
        format!(r#"{{"stream":"btcusdt@trade","data":{TRADE}}}"#)
    );
    sim.shutdown().await;
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_bad_capture_line_is_a_typed_error() {
    let path = temp_path("bad.jsonl");
    std::fs::write(&path, "{\"ts_recv\":1}\n").unwrap();
    let cfg = SimConfig {
        source: SimSource::Replay {
            path: path.clone(),
            pace: ReplayPace::Max,
            repeat: false,
        },
        ..SimConfig::default()
    };
    let err = SimServer::start(cfg).await.err().expect("must fail");
    assert!(err.to_string().contains("line 1"), "{err}");
    let _ = std::fs::remove_file(&path);
}
