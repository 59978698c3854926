//! The shipped deployment files against the real tools and a real server:
//! - every metric that `deploy/prometheus/alerts.yml` and `deploy/grafana/tickd.json`
//!   use exists in a live `/metrics` of `tickd demo`;
//! - `promtool check rules` accepts the alert rules;
//! - `systemd-analyze verify` accepts `deploy/tickd.service` without a warning.
//!
//! The tools come from Debian (`prometheus`, `systemd`: `scripts/setup.sh --test`
//! installs them). Without them a test says so and passes, except in CI (`CI=true`),
//! where a missing tool fails it.

#[path = "support/demo.rs"]
mod demo;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use demo::{http_get, start_demo};

const TICKD: &str = env!("CARGO_BIN_EXE_tickd");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `Some(path)` of a tool, `None` (after saying why) when it is missing outside CI.
fn tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let hint = format!("{name} not found: apt-get install {package} (scripts/setup.sh --test)");
        assert!(std::env::var("CI").is_err(), "{hint}");
        eprintln!("skipped: {hint}");
    }
    found
}

/// Metric names in PromQL expressions: `tickd_*` and `process_*` identifiers.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        let starts_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if starts_word && (rest.starts_with("tickd_") || rest.starts_with("process_")) {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            names.insert(rest[..len].to_string());
            i += len;
        } else {
            i += 1;
        }
    }
    names
}

/// The PromQL of the alert rules (`expr:` lines) and of the dashboard (`expr` fields).
fn referenced_metrics() -> BTreeSet<String> {
    let alerts = std::fs::read_to_string(root().join("deploy/prometheus/alerts.yml")).unwrap();
    let mut names: BTreeSet<String> = alerts
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .flat_map(metric_names)
        .collect();
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("deploy/grafana/tickd.json")).unwrap(),
    )
    .expect("tickd.json is JSON");
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            names.extend(metric_names(target["expr"].as_str().expect("expr")));
        }
    }
    names
}

/// Exposed metric names, with histogram series folded into their family.
fn exposed(metrics: &str) -> BTreeSet<String> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .flat_map(|name| {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .map(str::to_string);
            [Some(name.to_string()), family].into_iter().flatten()
        })
        .collect()
}

#[test]
fn every_metric_the_alerts_and_dashboard_use_is_exported() {
    let wanted = referenced_metrics();
    assert!(wanted.len() > 20, "parsed the files: {wanted:?}");
    let dir = tempfile::tempdir().unwrap();
    let (demo, addr) = start_demo(TICKD, dir.path(), 30);

    // Until both venues are up with their books synced and records have reached the
    // gateway (its latency histogram starts with the first record), then every name
    // must be there.
    let ready = |body: &str| {
        ["binance", "binance-usdm"].iter().all(|v| {
            body.contains(&format!("tickd_feed_up{{venue=\"{v}\"}} 1"))
                && body.contains(&format!("tickd_feed_books_synced{{venue=\"{v}\"}} 4"))
        }) && body.contains("tickd_gateway_latency_seconds_bucket")
    };
    let deadline = Instant::now() + Duration::from_secs(25);
    let (names, body) = loop {
        let body = http_get(&addr, "/metrics");
        if ready(&body) || Instant::now() > deadline {
            break (exposed(&body), body);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let status = http_get(&addr, "/v1/status");
    drop(demo);

    let missing: Vec<&String> = wanted.difference(&names).collect();
    assert!(
        missing.is_empty(),
        "metrics used by deploy/ but not exported: {missing:?}\n{body}"
    );
    assert!(ready(&body), "the demo's venues never came up:\n{body}");
    // /v1/status says what each venue is doing, not just that data arrives.
    let json = status.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let json = json.trim_start_matches(|c: char| c.is_ascii_hexdigit() || c.is_whitespace());
    assert!(json.contains("\"state\":\"connected\""), "{status}");
    assert!(json.contains("\"venue\":\"binance-usdm\""), "{status}");
    // The journal and the gateway read every ring, by name; the feed hop is measured.
    let status: serde_json::Value = serde_json::from_str(
        json.trim_end_matches(|c: char| c.is_ascii_hexdigit() || c.is_whitespace()),
    )
    .unwrap_or_else(|e| panic!("{e}: {json}"));
    for venue in status["venues"].as_array().expect("venues") {
        let behind = &venue["bus_consumers_behind"];
        assert!(
            behind["journal"].is_u64() && behind["gateway"].is_u64(),
            "{venue}"
        );
        // Measured from the first data frame on (some demo venues may still connect).
        if venue["messages"].as_u64() > Some(0) || venue["venue"] == "binance" {
            assert!(
                venue["hop_p99_us"].as_f64().is_some_and(|us| us > 0.0),
                "{venue}"
            );
        }
    }
    assert!(
        body.contains("tickd_feed_decode_errors_total{venue=\"binance\",kind=\"malformed_json\"} "),
        "{body}"
    );
}

#[test]
fn alert_rules_pass_promtool() {
    let Some(promtool) = tool("promtool", "prometheus") else {
        return;
    };
    let out = Command::new(promtool)
        .args(["check", "rules"])
        .arg(root().join("deploy/prometheus/alerts.yml"))
        .output()
        .expect("run promtool");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("SUCCESS"), "{text}");
}

#[test]
fn systemd_unit_verifies_without_warnings() {
    let Some(analyze) = tool("systemd-analyze", "systemd") else {
        return;
    };
    let unit = std::fs::read_to_string(root().join("deploy/tickd.service")).unwrap();
    // The unit as installed, with this build's binary where it expects /usr/local/bin.
    let dir = tempfile::tempdir().unwrap();
    let config = root().join("configs/tickd.toml");
    let unit = unit
        .replace("/usr/local/bin/tickd", TICKD)
        .replace("/etc/tickd/tickd.toml", &config.display().to_string());
    let path: &Path = &dir.path().join("tickd.service");
    std::fs::write(path, unit).unwrap();
    let out = Command::new(analyze)
        .arg("verify")
        .arg(path)
        .output()
        .expect("run systemd-analyze");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Bad settings are warnings ("ignoring"), not failures: none may appear for our file.
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("tickd.service"))
        .collect();
    assert!(ours.is_empty(), "{stderr}");
}
