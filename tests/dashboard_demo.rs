//! The dashboard of the shipped binary: `tickd demo` (the simulator, eight venues' real
//! feeds, the journal writer and the gateway in one process, on ephemeral loopback
//! ports) loaded in headless Chromium. Every panel must show what the running server
//! reports: each venue connected with its books in sync, the book ladder, 1s candles,
//! per-venue latency, the event log (the start-up status records, replayed from the
//! journal), the journal and its disk, and a trade tape that clips no column.
//!
//! The screenshot it saves (`$CARGO_TARGET_TMPDIR/dashboard-demo.png`) is
//! `docs/dashboard.png`: copy it there when the page changes.

#[path = "../gateway/tests/common/chromium.rs"]
mod chromium;
#[path = "support/demo.rs"]
mod demo;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chromium::{
    assert_no_clipped_column, attr_values, cells, rows, section, section_of, strip_tags, Browser,
};
use demo::{http_get, start_demo};
use serde_json::Value;

const TICKD: &str = env!("CARGO_BIN_EXE_tickd");
/// The venues `configs/demo.toml` enables (the demo runs exactly those).
fn demo_venues() -> usize {
    let config: toml::Table = include_str!("../configs/demo.toml")
        .parse()
        .expect("configs/demo.toml parses");
    config["venues"]
        .as_table()
        .expect("[venues]")
        .values()
        .filter(|v| v.get("enabled").and_then(toml::Value::as_bool) == Some(true))
        .count()
}

/// The body of a GET (the gateway answers small JSON with a Content-Length).
fn get(addr: &str, path: &str) -> String {
    let response = http_get(addr, path);
    response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_string())
}

/// Every venue connected with all its books in sync, and a few 1s bars journaled.
fn ready(addr: &str) -> Result<(), String> {
    let status: Value =
        serde_json::from_str(&get(addr, "/v1/status")).map_err(|e| e.to_string())?;
    let venues = status["venues"].as_array().cloned().unwrap_or_default();
    let up = venues.iter().filter(|v| {
        v["state"] == "connected"
            && v["books_total"].as_u64() > Some(0)
            && v["books_synced"] == v["books_total"]
    });
    if up.count() < demo_venues() {
        return Err(format!("venues not all up and in sync: {venues:?}"));
    }
    let bars = get(
        addr,
        "/v1/bars?venue=binance&symbol=BTC-USDT&interval=1s&from=2020-01-01",
    );
    if bars.matches("\"start_ns\"").count() < 4 {
        return Err(format!("fewer than 4 bars: {bars:.300}"));
    }
    Ok(())
}

#[test]
fn dashboard_of_tickd_demo_shows_every_panel_with_live_data() {
    let data = tempfile::tempdir().unwrap();
    let (_demo, addr) = start_demo(TICKD, data.path(), 90);
    let deadline = Instant::now() + Duration::from_secs(40);
    while let Err(why) = ready(&addr) {
        assert!(Instant::now() < deadline, "the demo never got ready: {why}");
        std::thread::sleep(Duration::from_millis(250));
    }

    // /v1/status reports the journal and its disk, and both gateway hops.
    let status: Value = serde_json::from_str(&get(&addr, "/v1/status")).unwrap();
    let journal = &status["journal"];
    assert_eq!(journal["paused"], false, "{journal}");
    assert!(journal["bytes"].as_u64() > Some(0), "{journal}");
    assert!(journal["disk_free_bytes"].as_u64() > Some(0), "{journal}");
    assert!(journal["records"].as_u64() > Some(0), "{journal}");
    for hop in ["router", "send"] {
        assert!(status["lag_ns"][hop]["count"].is_u64(), "{status}");
    }

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-demo.png");
    let _ = std::fs::remove_file(&shot);
    let url = format!("http://{addr}/?venue=binance&symbol=BTC-USDT&interval=1s");
    let dom = Browser::dump_dom(&url, 6000, (1600, 1100), Some(&shot)).wait();
    let _ = std::fs::write(shot.with_extension("html"), &dom);

    // Feeds: the gateway's own view of each venue (from /v1/status).
    let feeds = rows(section(&dom, "id=\"feeds\""));
    assert_eq!(feeds.len(), demo_venues(), "{feeds:?}");
    for row in &feeds {
        let cols: Vec<&str> = row.split('|').collect();
        assert_eq!(cols[1], "connected", "{row}");
        let (synced, total) = cols[6].split_once(" / ").unwrap_or_else(|| panic!("{row}"));
        assert_eq!(synced, total, "books out of sync: {row}");
    }
    // The ladder: ten levels a side of binance BTC-USDT, its spread and mid.
    let ladder = section(&dom, "id=\"ladder\"");
    assert_eq!(cells(ladder, "px").len(), 20, "{ladder}");
    assert!(
        ladder.contains("spread ") && ladder.contains(" · mid "),
        "{ladder}"
    );
    // Candles: 1s bars from the journal, each with its volume.
    let candles = attr_values(&dom, "<rect class=\"body\"", "x").len();
    assert!(candles >= 4, "{candles} candles");
    assert_eq!(attr_values(&dom, "<rect class=\"vol\"", "x").len(), candles);
    // Latency: each venue's exchange→tickd delay from the trades the page got, and its
    // feed hop from /v1/status.
    let latency = rows(section(&dom, "id=\"latency\""));
    assert_eq!(latency.len(), demo_venues(), "{latency:?}");
    let measured = latency.iter().filter(|r| {
        let cols: Vec<&str> = r.split('|').collect();
        cols[1].ends_with('s')
            && cols[3] != "0"
            && cols[4].ends_with('s')
            && cols[6].ends_with(" s")
    });
    assert!(measured.count() >= demo_venues() / 2, "{latency:?}");
    let hops = rows(section(&dom, "id=\"hops\""));
    assert_eq!(hops.len(), 2, "{hops:?}");
    // Events: the venues' start-up, replayed from the journal.
    let events = rows(section(&dom, "id=\"events\""));
    assert!(
        events
            .iter()
            .any(|r| r.contains("|binance|connected startup")),
        "{events:?}"
    );
    // The journal and its disk, as /v1/status reports them.
    let journal = strip_tags(section_of(&dom, "id=\"journal\"", "</section>"));
    for want in ["writing", "disk free", " of ", "records written"] {
        assert!(
            journal.contains(want),
            "journal panel lacks {want:?}: {journal}"
        );
    }
    assert!(
        journal.contains(&data.path().display().to_string()),
        "{journal}"
    );
    // The tape: full, every price and size shown in full.
    assert_eq!(cells(section(&dom, "id=\"tape\""), "price").len(), 50);
    assert_no_clipped_column(&dom);
    assert!(shot.exists(), "no screenshot");
    println!("screenshot: {}", shot.display());
}
