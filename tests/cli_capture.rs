//! `tickd record` and `tickd replay` as the user runs them (the real binary).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use tickd_bus::Venue;
use tickd_feed::sim::{SimConfig, SimServer, SimSymbol};
use tickd_storage::journal::{Filter, JournalReader};

const SAMPLE: &str =
    include_str!("../testdata/exchanges/samples/binance_spot/book_sync_sequence.jsonl");

const EXCHANGE_INFO: &str = r#"{"timezone":"UTC","symbols":[{"symbol":"GNTBTC","status":"TRADING","baseAsset":"GNT","quoteAsset":"BTC","filters":[{"filterType":"PRICE_FILTER","tickSize":"0.00000001"},{"filterType":"LOT_SIZE","stepSize":"1.00000000"}]}]}"#;

fn tickd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickd"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("tickd runs")
}

fn line(ts: u64, kind: &str, url: &str, data: &str) -> String {
    serde_json::json!({"ts_recv": ts, "venue": "binance", "conn": 1, "kind": kind, "url": url, "data": data})
        .to_string()
}

/// exchangeInfo, the sample (diff, diff, snapshot, diff), a malformed line and a torn tail.
fn write_sample_capture(path: &Path) {
    let mut lines = vec![line(
        1,
        "rest",
        "http://127.0.0.1:1/api/v3/exchangeInfo",
        EXCHANGE_INFO,
    )];
    for (i, text) in SAMPLE.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        lines.push(if text.contains("lastUpdateId") {
            line(
                10 + i as u64,
                "rest",
                "http://127.0.0.1:1/api/v3/depth?symbol=GNTBTC&limit=1000",
                text,
            )
        } else {
            line(10 + i as u64, "ws", "ws://127.0.0.1:1/stream", text)
        });
    }
    lines.push("this is not a capture line".into());
    let mut text = lines.join("\n");
    text.push_str("\n{\"ts_recv\":99,\"venue\":\"bin");
    std::fs::write(path, text).unwrap();
}

fn journal_bytes(dir: &Path) -> Vec<u8> {
    let reader = JournalReader::open(dir, Filter::all()).expect("journal opens");
    reader
        .records()
        .flat_map(|r| r.as_bytes().to_vec())
        .collect()
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--stats json prints one JSON object")
}

#[test]
fn replay_of_the_book_sample_gives_the_book_records_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("sample.jsonl");
    write_sample_capture(&capture);
    let mut journals = Vec::new();
    for name in ["a", "b"] {
        let into = dir.path().join(name);
        let out = tickd(&[
            "replay",
            capture.to_str().unwrap(),
            "--into",
            into.to_str().unwrap(),
            "--stats",
            "json",
            "--allow-malformed",
        ]);
        let stats = stdout_json(&out);
        assert_eq!(stats["read"]["lines"], 5, "{stats}");
        assert_eq!(stats["read"]["malformed"], 1);
        assert_eq!(stats["read"]["truncated"], 1);
        let binance = &stats["venues"]["binance"];
        assert_eq!(binance["records"]["book"], 11, "{stats}");
        assert_eq!(binance["records"]["bbo"], 1);
        assert_eq!(binance["snapshots_applied"], 1);
        assert_eq!(binance["decode_errors"], 0);
        assert_eq!(stats["journal_records"], 12);
        assert!(into.join("instruments.json").exists());
        journals.push(journal_bytes(&into));
    }
    assert_eq!(
        journals[0].len(),
        11 * 80 + 96,
        "eleven 80-byte book deltas and a 96-byte bbo"
    );
    assert!(
        journals[0] == journals[1],
        "two replays of one capture differ"
    );

    // The same capture again into the same journal: nothing doubles.
    let into = dir.path().join("a");
    let args = [
        "replay",
        capture.to_str().unwrap(),
        "--into",
        into.to_str().unwrap(),
    ];
    let out = tickd(&[&args[..], &["--stats", "json", "--allow-malformed"]].concat());
    let stats = stdout_json(&out);
    assert_eq!(stats["journal_records"], 0, "{stats}");
    assert_eq!(stats["already_in_journal"], 12, "{stats}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("skipped 12 records already in"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        journal_bytes(&into) == journals[0],
        "the journal is unchanged"
    );

    // Without --allow-malformed, a damaged capture is replayed but fails the run.
    let out = tickd(&args);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 malformed line(s) (first: line") && stderr.contains("--allow-malformed"),
        "{stderr}"
    );

    // The table form (default) for people.
    let out = tickd(&["replay", capture.to_str().unwrap(), "--allow-malformed"]);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("5 lines, 1 malformed, 1 truncated"),
        "{table}"
    );
    assert!(table.contains("book 11"), "{table}");
    assert!(table.contains("dry run"), "{table}");
}

#[test]
fn replay_of_a_venue_tickd_cannot_replay_says_so_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("other.jsonl");
    // Every venue of `Venue::ALL` has an adapter now: a name tickd does not know.
    let other = serde_json::json!({"ts_recv": 1, "venue": "nasdaq", "conn": 1, "kind": "ws",
        "url": "wss://example.invalid/feed", "data": "{}"});
    std::fs::write(&capture, format!("{other}\n")).unwrap();
    let out = tickd(&["replay", capture.to_str().unwrap(), "--stats", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot replay \"nasdaq\" (1 lines)"),
        "{stderr}"
    );
    let stats: Value = serde_json::from_slice(&out.stdout).expect("the counts still print");
    assert_eq!(stats["unsupported_venues"]["nasdaq"], 1, "{stats}");
}

#[test]
fn books_that_never_synced_are_reported() {
    // The REST snapshot comes before the diffs it belongs to: the book never asked
    // for it, so it never syncs and its deltas are missing.
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("early_snapshot.jsonl");
    let samples: Vec<&str> = SAMPLE.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut lines = vec![line(
        1,
        "rest",
        "http://h/api/v3/exchangeInfo",
        EXCHANGE_INFO,
    )];
    for (i, text) in samples
        .iter()
        .filter(|t| t.contains("lastUpdateId"))
        .enumerate()
    {
        lines.push(line(
            2 + i as u64,
            "rest",
            "http://h/api/v3/depth?symbol=GNTBTC&limit=1000",
            text,
        ));
    }
    for (i, text) in samples
        .iter()
        .filter(|t| !t.contains("lastUpdateId"))
        .enumerate()
    {
        lines.push(line(10 + i as u64, "ws", "ws://h/stream", text));
    }
    std::fs::write(&capture, lines.join("\n")).unwrap();
    let out = tickd(&["replay", capture.to_str().unwrap(), "--stats", "json"]);
    let stats = stdout_json(&out);
    assert_eq!(
        stats["venues"]["binance"]["books_never_synced"][0], "GNTBTC",
        "{stats}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 book(s) never synced") && stderr.contains("GNTBTC"),
        "{stderr}"
    );
}

#[test]
fn replay_of_a_file_that_is_not_a_capture_fails() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, says) in [
        (
            "garbage.jsonl",
            &b"this is not json\nneither is this\n"[..],
            "no capture lines",
        ),
        // Refused on opening, as what it is.
        ("plain.jsonl.zst", &b"{\"not\": \"zstd\"}\n"[..], "not zstd"),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let out = tickd(&["replay", file.to_str().unwrap(), "--allow-malformed"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(says), "{name}: {stderr}");
    }
}

#[test]
fn replay_of_a_missing_file_is_a_usage_error() {
    let out = tickd(&["replay", "/nonexistent/capture.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/capture.jsonl"));
}

#[test]
fn record_from_the_simulator_then_replay() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = runtime
        .block_on(SimServer::start(SimConfig {
            symbols: SimSymbol::generate(Venue::Binance, 4),
            rate_per_sec: 500,
            ..SimConfig::default()
        }))
        .expect("sim starts");
    let addr = sim.local_addr().to_string();
    // Coinbase off, for the usage error of `--venue coinbase` below.
    let config = include_str!("../configs/demo.toml")
        .replace("127.0.0.1:9100", &addr)
        .replace(
            "[venues.coinbase]\nenabled = true",
            "[venues.coinbase]\nenabled = false",
        );
    assert!(config.contains("[venues.coinbase]\nenabled = false"));
    let config_path = dir.path().join("tickd.toml");
    std::fs::write(&config_path, config).unwrap();
    let capture = dir.path().join("rec.jsonl.zst");
    let out = tickd(&[
        "record",
        "-c",
        config_path.to_str().unwrap(),
        "--out",
        capture.to_str().unwrap(),
        "--journal",
        dir.path().join("live").to_str().unwrap(),
        "--venue",
        "binance",
        "--duration",
        "2",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("REST bodies"), "{stderr}");
    // Asked for, the live records go to a journal too.
    let live = dir.path().join("live");
    assert!(
        journal_bytes(&live).len() >= 64,
        "no live records journaled"
    );
    assert!(live.join("instruments.json").exists());

    let stats = stdout_json(&tickd(&[
        "replay",
        capture.to_str().unwrap(),
        "--stats",
        "json",
    ]));
    let binance = &stats["venues"]["binance"];
    assert!(
        binance["records"]["trade"].as_u64().unwrap_or(0) > 0,
        "{stats}"
    );
    assert!(
        binance["snapshots_applied"].as_u64().unwrap_or(0) >= 1,
        "{stats}"
    );
    assert_eq!(binance["decode_errors"], 0, "{stats}");
    assert_eq!(
        stats["read"]["truncated"], 0,
        "the capture was finished properly"
    );
    assert!(
        stats["venues"].get("binance-usdm").is_none(),
        "only --venue binance"
    );

    let out = tickd(&[
        "record",
        "-c",
        config_path.to_str().unwrap(),
        "--out",
        capture.to_str().unwrap(),
        "--venue",
        "coinbase",
        "--duration",
        "1",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    runtime.block_on(sim.shutdown());
}

#[test]
fn ctrl_c_finishes_a_readable_zstd_capture() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = runtime
        .block_on(SimServer::start(SimConfig {
            symbols: SimSymbol::generate(Venue::Binance, 2),
            rate_per_sec: 500,
            ..SimConfig::default()
        }))
        .expect("sim starts");
    let config = include_str!("../configs/demo.toml")
        .replace("127.0.0.1:9100", &sim.local_addr().to_string());
    let config_path = dir.path().join("tickd.toml");
    std::fs::write(&config_path, config).unwrap();
    let capture = dir.path().join("interrupted.jsonl.zst");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tickd"))
        .args(["record", "-c", config_path.to_str().unwrap(), "--out"])
        .arg(&capture)
        .args(["--venue", "binance"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tickd record starts");
    // The writer flushes about once a second: wait (bounded) until data is on disk.
    let mut waited = 0;
    while std::fs::metadata(&capture).map_or(0, |m| m.len()) < 1024 && waited < 150 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let status = child.wait().expect("tickd record ends");
    assert!(status.success(), "{status:?}");
    runtime.block_on(sim.shutdown());

    let stats = stdout_json(&tickd(&[
        "replay",
        capture.to_str().unwrap(),
        "--stats",
        "json",
    ]));
    assert!(stats["read"]["lines"].as_u64().unwrap_or(0) > 0, "{stats}");
    assert_eq!(
        stats["read"]["truncated"], 0,
        "Ctrl-C must end the zstd frame: {stats}"
    );
    assert_eq!(stats["read"]["malformed"], 0);
}

#[test]
fn an_unwritable_journal_dir_and_a_plain_file_named_zst_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("sample.jsonl");
    write_sample_capture(&capture);
    // A regular file where a directory should be: no directory can be made under it.
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let into = blocker.join("journal");
    let into = into.to_str().unwrap();
    let out = tickd(&["replay", capture.to_str().unwrap(), "--into", into]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(into), "the error names the path: {stderr}");
    // Plain JSON Lines under a `.zst` name: said so, not "1 truncated".
    let named_zst = dir.path().join("plain.jsonl.zst");
    std::fs::copy(&capture, &named_zst).unwrap();
    let out = tickd(&["replay", named_zst.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("plain.jsonl.zst") && stderr.contains("not zstd"),
        "{stderr}"
    );
}
