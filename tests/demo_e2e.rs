//! The shipped binary end to end: `tickd demo` (simulator + feeds + journal + gateway
//! in one process, on ephemeral loopback ports), a live `tickd tail` subscriber, and
//! then `tickd trades` / `tickd bars` reading back what the journal kept.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const TICKD: &str = env!("CARGO_BIN_EXE_tickd");

/// The shipped demo config, moved to ephemeral ports and a temporary data dir.
fn demo_config(dir: &Path) -> std::path::PathBuf {
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/configs/demo.toml"))
            .expect("configs/demo.toml");
    let data = dir.join("data");
    let config = shipped
        .replace("listen = \"127.0.0.1:9100\"", "listen = \"127.0.0.1:0\"")
        .replace("listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:0\"")
        .replace(
            "dir = \"./data/demo\"",
            &format!("dir = {:?}", data.display().to_string()),
        );
    assert_ne!(
        config, shipped,
        "the demo config's listen/dir lines changed: update this test"
    );
    let path = dir.join("demo.toml");
    std::fs::write(&path, config).unwrap();
    path
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(TICKD).args(args).output().expect("run tickd");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_serves_live_subscribers_and_journals_history() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let started = now_ns();
    let mut demo = Command::new(TICKD)
        .args(["demo", "--duration", "12", "--status-every", "2", "-c"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tickd demo");

    // Find the gateway's address in the log, keep the rest of the log for failures.
    let stderr = demo.stderr.take().unwrap();
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(strip_ansi(&line)).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    let http = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| {
                let _ = demo.kill();
                panic!(
                    "no 'gateway listening' line; log so far:\n{}",
                    log.join("\n")
                )
            });
        log.push(line.clone());
        if line.contains("gateway listening") {
            let at = line
                .find("http=http://")
                .expect("http= in the gateway line")
                + "http=http://".len();
            break line[at..].split_whitespace().next().unwrap().to_string();
        }
    };

    // A live subscriber through the real client.
    let url = format!("ws://{http}/v1/stream");
    // A refused key stops `tail` at once with the server's reason: no retry loop.
    let refused_at = std::time::Instant::now();
    let (ok, _, stderr) = run(&[
        "tail",
        "trades.binance.*",
        "--duration",
        "3",
        "--api-key",
        "not-a-key",
        "--url",
        &url,
    ]);
    assert!(
        !ok && stderr.contains("refused the API key") && !stderr.contains("reconnecting"),
        "{stderr}"
    );
    assert!(refused_at.elapsed() < Duration::from_secs(3), "{stderr}");
    let (ok, stdout, stderr) = run(&[
        "tail",
        "trades.binance.*",
        "--json",
        "--count",
        "25",
        "--duration",
        "8",
        "--url",
        &url,
    ]);
    assert!(ok, "tail failed: {stderr}");
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"))
        })
        .filter(|v| v["type"] == "data")
        .collect();
    assert_eq!(records.len(), 25, "tail printed:\n{stdout}");
    let mut last_seq = std::collections::HashMap::new();
    for record in &records {
        assert_eq!(record["kind"], "trade");
        assert_eq!(record["venue"], "binance");
        let price: f64 = record["price"].as_str().unwrap().parse().unwrap();
        assert!(price > 0.0);
        let seq = record["seq"].as_u64().unwrap();
        if let Some(prev) = last_seq.insert(record["stream"].as_str().unwrap().to_string(), seq) {
            assert_eq!(
                seq,
                prev + 1,
                "sequence numbers run on without gaps: {record}"
            );
        }
    }

    // OKX, Bybit and Kraken run in the same demo, from the same simulator.
    for venue in ["okx", "bybit", "kraken"] {
        let (ok, stdout, stderr) = run(&[
            "tail",
            &format!("trades.{venue}.*"),
            "--json",
            "--count",
            "10",
            "--duration",
            "8",
            "--url",
            &url,
        ]);
        assert!(ok, "tail {venue} failed: {stderr}");
        let trades: Vec<serde_json::Value> = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["type"] == "data")
            .collect();
        assert_eq!(trades.len(), 10, "tail {venue} printed:\n{stdout}");
        assert!(trades
            .iter()
            .all(|r| r["venue"] == venue && r["kind"] == "trade"));
    }

    // And Coinbase (a sequence_num per connection, heartbeats), same simulator.
    let (ok, stdout, stderr) = run(&[
        "tail",
        "trades.coinbase.*",
        "--json",
        "--count",
        "5",
        "--duration",
        "8",
        "--url",
        &url,
    ]);
    assert!(ok, "tail coinbase failed: {stderr}");
    let coinbase = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "data" && v["venue"] == "coinbase" && v["kind"] == "trade")
        .count();
    assert_eq!(coinbase, 5, "tail coinbase printed:\n{stdout}");

    // And HTX (gzip frames, req-spliced books), from the same simulator.
    let (ok, stdout, stderr) = run(&[
        "tail",
        "trades.htx.*",
        "--json",
        "--count",
        "5",
        "--duration",
        "8",
        "--url",
        &url,
    ]);
    assert!(ok, "tail htx failed: {stderr}");
    let htx = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "data" && v["venue"] == "htx" && v["kind"] == "trade")
        .count();
    assert_eq!(htx, 5, "tail htx printed:\n{stdout}");

    // HTX coin-margined swaps in binary records: `tail --binary` names each stream by
    // its symbol (from /v1/instruments), not by the instrument id the records carry.
    let (ok, stdout, stderr) = run(&[
        "tail",
        "trades.htx-coinm.*",
        "--binary",
        "--count",
        "3",
        "--duration",
        "8",
        "--url",
        &url,
    ]);
    assert!(ok, "tail htx-coinm failed: {stderr}");
    let named = stdout
        .lines()
        .filter(|l| {
            l.contains(" trades.htx-coinm.BTC-USD-PERP ")
                || l.contains(" trades.htx-coinm.ETH-USD-PERP ")
        })
        .count();
    assert_eq!(named, 3, "tail htx-coinm --binary printed:\n{stdout}");

    let status = demo.wait().expect("demo exits");
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
        log.push(line);
    }
    let log = log.join("\n");
    assert!(status.success(), "demo failed:\n{log}");
    assert!(log.contains("journal writer stopped"), "{log}");
    assert!(log.contains("records_lost=0"), "{log}");

    // What the journal kept, through the history CLI.
    let data = dir.path().join("data");
    let (from, to) = (
        (started - 60_000_000_000).to_string(),
        (now_ns() + 60_000_000_000).to_string(),
    );
    let data = data.to_str().unwrap();
    let common = [
        "--data", data, "--venue", "binance", "--symbol", "BTC-USDT", "--from", &from, "--to", &to,
    ];
    let (ok, trades, stderr) = run(&[&["trades"][..], &common, &["--format", "csv"]].concat());
    assert!(ok, "{stderr}");
    assert!(
        trades.lines().count() > 20,
        "journal holds the demo's trades:\n{trades}"
    );
    let (ok, bars, stderr) = run(&[
        &["bars"][..],
        &common,
        &["--interval", "1s", "--format", "json"],
    ]
    .concat());
    assert!(ok, "{stderr}");
    let bars: Vec<serde_json::Value> = bars
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(bars.len() >= 3, "one bar per second of trading");
    let traded: u64 = bars
        .iter()
        .map(|b| {
            b["trade_count"]
                .as_u64()
                .or_else(|| b["trades"].as_u64())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(
        traded as usize,
        trades.lines().count() - 1,
        "bars count every journaled trade"
    );
}

/// Starts `tickd demo` (no --duration) on ephemeral ports; returns the child and a
/// channel of its raw stderr lines.
fn spawn_demo(dir: &Path, extra: &[&str]) -> (std::process::Child, mpsc::Receiver<String>) {
    spawn_demo_status_every(dir, extra, "1")
}

/// The same with a status line every `secs` seconds.
fn spawn_demo_status_every(
    dir: &Path,
    extra: &[&str],
    secs: &str,
) -> (std::process::Child, mpsc::Receiver<String>) {
    let config = demo_config(dir);
    let mut demo = Command::new(TICKD)
        .args(extra)
        .args(["demo", "--status-every", secs, "-c"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tickd demo");
    let stderr = demo.stderr.take().unwrap();
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    (demo, lines)
}

/// Reads log lines until one contains `what` (or 30 s pass), keeping them all.
fn wait_for_line(lines: &mpsc::Receiver<String>, log: &mut Vec<String>, what: &str) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(what);
                log.push(line);
                if found {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
    false
}

/// Waits at most 30 s for the child to exit, killing it otherwise.
fn wait_bounded(child: &mut std::process::Child) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[test]
fn sigterm_stops_as_cleanly_as_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let (mut demo, lines) = spawn_demo(dir.path(), &[]);
    let mut log = Vec::new();
    // Two status rounds: the feeds are publishing and the writer journaling.
    let trading = wait_for_line(&lines, &mut log, "gateway listening")
        && wait_for_line(&lines, &mut log, "| bus ")
        && wait_for_line(&lines, &mut log, "| bus ");
    if !trading {
        let _ = demo.kill();
        panic!("the demo did not start:\n{}", log.join("\n"));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &demo.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = wait_bounded(&mut demo);
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
        log.push(line);
    }
    let log = log.join("\n");
    assert!(
        status.is_some_and(|s| s.success()),
        "exit {status:?}:\n{log}"
    );
    assert!(log.contains("SIGTERM: stopping"), "{log}");
    assert!(log.contains("journal writer stopped"), "{log}");
    assert!(log.contains("records_lost=0"), "{log}");
    assert!(log.contains("feed stopped"), "{log}");
    // stderr is a pipe, not a terminal: no colour codes, no Rust debug dumps.
    assert!(!log.contains('\u{1b}'), "ANSI codes in a piped log:\n{log}");
    assert!(!log.contains("Stats {") && !log.contains("=None"), "{log}");

    // Everything journaled before the signal reads back.
    let data = dir.path().join("data");
    let (ok, trades, stderr) = run(&[
        "trades",
        "--data",
        data.to_str().unwrap(),
        "--venue",
        "binance",
        "--symbol",
        "BTC-USDT",
        "--from",
        "0",
        "--format",
        "csv",
    ]);
    assert!(ok, "{stderr}");
    assert!(
        trades.lines().count() > 1,
        "journal holds trades:\n{trades}"
    );
}

#[test]
fn json_log_format_writes_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let (mut demo, lines) = spawn_demo(dir.path(), &["--log-format", "json"]);
    let mut log = Vec::new();
    let started = wait_for_line(&lines, &mut log, "gateway listening");
    let _ = Command::new("kill")
        .args(["-TERM", &demo.id().to_string()])
        .status();
    let status = wait_bounded(&mut demo);
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
        log.push(line);
    }
    assert!(started, "no gateway line:\n{}", log.join("\n"));
    assert!(status.is_some_and(|s| s.success()), "{}", log.join("\n"));
    let gateway = log
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
        })
        .inspect(|v| assert!(v["level"].is_string() && v["timestamp"].is_string(), "{v}"))
        .find(|v| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.contains("gateway listening"))
        })
        .expect("the gateway line");
    assert!(
        gateway["http"]
            .as_str()
            .is_some_and(|h| h.starts_with("http://127.0.0.1:")),
        "{gateway}"
    );
}

#[test]
fn listen_and_data_are_overridden_without_editing_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("elsewhere");
    // The built-in demo config, moved by flags and environment alone.
    let out = Command::new(TICKD)
        .args(["demo", "--duration", "3", "--status-every", "0"])
        .args(["--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0"])
        .env("TICKD_DATA", &data)
        .output()
        .expect("run tickd demo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("http=http://127.0.0.1:"), "{stderr}");
    assert!(
        std::fs::read_dir(&data).is_ok_and(|d| d.count() > 0),
        "TICKD_DATA holds the journal: {stderr}"
    );

    let out = Command::new(TICKD)
        .args(["demo", "--duration", "1", "--listen", "nowhere"])
        .output()
        .expect("run tickd demo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--listen/TICKD_LISTEN"), "{stderr}");
}

#[test]
fn a_busy_gateway_port_fails_before_the_feeds_start() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(TICKD)
        .args([
            "demo",
            "--duration",
            "5",
            "--sim-listen",
            "127.0.0.1:0",
            "--listen",
            &addr,
        ])
        .output()
        .expect("run tickd demo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("gateway.listen {addr} is not available"))
            && stderr.contains("--listen"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("starting feed"),
        "feeds started first:\n{stderr}"
    );
}

#[test]
fn a_bounded_run_that_never_connects_fails() {
    let dir = tempfile::tempdir().unwrap();
    // The demo config pointed at a closed port instead of a simulator.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/configs/demo.toml")).unwrap();
    let config = dir.path().join("nowhere.toml");
    std::fs::write(
        &config,
        shipped.replace("127.0.0.1:9100", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    let out = Command::new(TICKD)
        .args([
            "serve",
            "--duration",
            "3",
            "--status-every",
            "0",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("-c")
        .arg(&config)
        .output()
        .expect("run tickd serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("never connected during the 3 s run: binance"),
        "{stderr}"
    );
}

/// Bytes in the journal's segment files under `dir`.
fn segment_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            total += segment_bytes(&path);
        } else if path.extension().is_some_and(|e| e == "seg") {
            total += entry.metadata().map_or(0, |m| m.len());
        }
    }
    total
}

#[test]
fn a_server_killed_before_its_first_status_line_leaves_a_readable_journal() {
    let dir = tempfile::tempdir().unwrap();
    let started = now_ns();
    // No status line for ten minutes: the kill comes long before the first.
    let (mut demo, lines) = spawn_demo_status_every(dir.path(), &[], "600");
    let mut log = Vec::new();
    if !wait_for_line(&lines, &mut log, "gateway listening") {
        let _ = demo.kill();
        panic!("the demo did not start:\n{}", log.join("\n"));
    }
    // Blocks of records on disk (a segment's header alone is 64 bytes).
    let data = dir.path().join("data");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while segment_bytes(&data.join("binance")) < 4096 {
        if std::time::Instant::now() > deadline {
            let _ = demo.kill();
            panic!("no journaled records in 30 s:\n{}", log.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    demo.kill().expect("SIGKILL the demo");
    let _ = demo.wait();
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(100)) {
        log.push(line);
    }
    assert!(
        !log.iter().any(|l| l.contains("| bus ")),
        "a status line came before the kill:\n{}",
        log.join("\n")
    );
    let (from, to) = (
        (started - 60_000_000_000).to_string(),
        (now_ns() + 60_000_000_000).to_string(),
    );
    let (ok, trades, stderr) = run(&[
        "trades",
        "--data",
        data.to_str().unwrap(),
        "--venue",
        "binance",
        "--symbol",
        "BTC-USDT",
        "--from",
        &from,
        "--to",
        &to,
        "--format",
        "csv",
    ]);
    assert!(ok, "the journal of a killed server is readable: {stderr}");
    assert!(
        trades.lines().count() > 1,
        "trades journaled before the kill:\n{trades}"
    );
}
