//! The dashboard page in real headless Chromium against a real gateway fed from a
//! real bus ring and a real journal: the DOM Chromium renders must show the venues'
//! status, the published trades' exact prices, the best bid/offer and the 1m bars.
//! Saves a screenshot (`$CARGO_TARGET_TMPDIR/dashboard.png`) for a human to look at.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering::Relaxed;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use tickd_bus::record::{BboMsg, StatusKind, StatusMsg, StatusReason, TradeMsg};
use tickd_bus::{Price, RecordBuf, RecordHeader, Size, Venue};
use tickd_storage::journal::{Journal, JournalConfig};

const CHROMIUM: &str = "/usr/bin/chromium";
/// Chromium's whole run, page load to DOM dump; killed after this.
const BROWSER_LIMIT: Duration = Duration::from_secs(25);
const MINUTE: u64 = 60_000_000_000;

fn now_ns() -> u64 {
    tickd_gateway::metrics::now_ns()
}

fn trade(venue: Venue, id: u32, ts: u64, price: &str, size: &str, side: u8) -> RecordBuf {
    RecordBuf::new(&TradeMsg {
        hd: RecordHeader::new::<TradeMsg>(venue, id, ts, ts),
        price: Price::parse_str(price).unwrap(),
        size: Size::parse_str(size).unwrap(),
        trade_id: ts,
        trade_id_hi: 0,
        side,
        _reserved: [0; 7],
    })
}

fn bbo(venue: Venue, id: u32, bid: &str, ask: &str) -> RecordBuf {
    RecordBuf::new(&BboMsg {
        hd: RecordHeader::new::<BboMsg>(venue, id, now_ns(), 0),
        bid_price: Price::parse_str(bid).unwrap(),
        bid_size: Size::parse_str("1.25").unwrap(),
        ask_price: Price::parse_str(ask).unwrap(),
        ask_size: Size::parse_str("0.75").unwrap(),
    })
}

fn status(venue: Venue, kind: StatusKind, reason: StatusReason, lost: u64) -> RecordBuf {
    RecordBuf::new(&StatusMsg {
        hd: RecordHeader::new::<StatusMsg>(venue, 0, now_ns(), 0),
        kind: kind as u8,
        _reserved: 0,
        reason: reason as u16,
        conn: 1,
        lost,
        detail: 0,
    })
}

/// Ten minutes of binance BTC-USDT trades ending a minute ago, for `/v1/bars`.
fn write_journal(dir: &Path, btc: u32) -> String {
    let start = (now_ns() / MINUTE - 10) * MINUTE;
    let (mut journal, _) = Journal::open(JournalConfig::new(dir)).unwrap();
    let mut last = String::new();
    for minute in 0..10u64 {
        // A drift with some down minutes, so the chart shows both colours.
        let close = [30i64, -25, 45, 60, -40, 20, 55, -30, 35, 25][minute as usize];
        for (k, delta) in [(0u64, 0i64), (20, 70), (40, -45), (55, close)] {
            let cents = 6_400_000 + minute as i64 * 25 + delta;
            last = format!("{}.{:02}", cents / 100, cents % 100);
            let ts = start + minute * MINUTE + k * 1_000_000_000;
            journal
                .append(&trade(Venue::Binance, btc, ts, &last, "0.5", 1))
                .unwrap();
        }
    }
    journal.close().unwrap();
    // As the gateway prints it (canonical decimal form).
    Price::parse_str(&last).unwrap().to_string()
}

/// Headless Chromium loading one URL, with its output drained on threads so it never
/// blocks on a full pipe. Killed on drop, so a failing test leaves no browser behind.
struct Browser {
    child: Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
    deadline: Instant,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// `--dump-dom` after `budget_ms` of virtual time; a screenshot too when `shot` is set.
    fn dump_dom(url: &str, budget_ms: u32, shot: Option<&Path>) -> Browser {
        assert!(
            Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: run `apt-get install chromium fonts-dejavu-core` \
             (scripts/setup.sh --test installs it)"
        );
        let profile = tempfile::tempdir().unwrap();
        let mut command = Command::new(CHROMIUM);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--run-all-compositor-stages-before-draw",
                "--window-size=1280,900",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--virtual-time-budget={budget_ms}"));
        if let Some(shot) = shot {
            command.arg(format!("--screenshot={}", shot.display()));
        }
        let mut child = command
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMIUM}: {e}"));
        Browser {
            stdout: Some(drain(child.stdout.take())),
            stderr: Some(drain(child.stderr.take())),
            child,
            deadline: Instant::now() + BROWSER_LIMIT,
            _profile: profile,
        }
    }

    /// The DOM once Chromium has exited successfully, `None` while it runs; panics
    /// (after killing it) when it fails or outlives [`BROWSER_LIMIT`].
    fn finished(&mut self) -> Option<String> {
        let exit = self.child.try_wait().unwrap();
        if exit.is_none() && Instant::now() < self.deadline {
            return None;
        }
        self.kill();
        let join =
            |h: Option<JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
        let (dom, log) = (join(self.stdout.take()), join(self.stderr.take()));
        match exit {
            Some(exit) if exit.success() => Some(dom),
            Some(exit) => panic!("Chromium failed ({exit}); stderr:\n{log}"),
            None => {
                panic!("Chromium did not finish within {BROWSER_LIMIT:?}; killed. stderr:\n{log}")
            }
        }
    }

    fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Drains a pipe on its own thread so Chromium never blocks writing to it.
fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// Whether the page has subscribed over the WebSocket: trades+status and bbo, 3 patterns.
fn page_subscribed(f: &Fixture) -> bool {
    f.gateway.metrics().subscribers.load(Relaxed) >= 3
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_renders_live_status_trades_quotes_and_bars_in_chromium() {
    let journal = tempfile::tempdir().unwrap();
    let last_close = write_journal(journal.path(), 1);
    let mut f = start_with_journal(test_config(), Some(journal.path().to_path_buf())).await;
    let btc = f.id(Venue::Binance, "BTC-USDT");
    assert_eq!(btc, 1, "the journal was written for instrument id 1");
    let eth = f.id(Venue::Binance, "ETH-USDT");
    let okx = f.id(Venue::Okx, "BTC-USDT");
    let addr = f.gateway.local_addr();
    let (code, html) = http_get(addr, "/").await;
    assert_eq!(code, 200);
    assert!(html.contains("<title>tickd</title>"), "{html:.200}");

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let mut browser = Browser::dump_dom(&format!("http://{addr}/"), 8000, Some(&shot));

    // Publish once the page has subscribed, then keep trading until Chromium has
    // dumped the page.
    let mut published: Vec<String> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(40));
    let mut live = false;
    let dom = loop {
        tick.tick().await;
        if let Some(dom) = browser.finished() {
            break dom;
        }
        if !live && page_subscribed(&f) {
            live = true;
            publish_statuses(&mut f);
            f.publish(bbo(Venue::Binance, btc, "64321.50", "64321.51"));
            f.publish(bbo(Venue::Binance, eth, "3150.2", "3150.25"));
            f.publish(bbo(Venue::Okx, okx, "64320.9", "64321.7"));
        }
        // A burst beyond the tape's 50 rows first, then a trade per tick.
        let burst = if published.is_empty() { 60 } else { 1 };
        for _ in 0..burst {
            if live && published.len() < 200 {
                let n = published.len();
                published.push(publish_trade(&mut f, n, [btc, okx]));
            }
        }
    };
    let _ = std::fs::write(shot.with_extension("html"), &dom);
    assert!(live, "the page never subscribed over the WebSocket");

    // The feeds table: both venues, their states and okx's gap.
    let feeds = section(&dom, "id=\"feeds\"");
    for want in ["binance", "okx", "connected", "disconnected"] {
        assert!(feeds.contains(want), "feeds table lacks {want}: {feeds}");
    }
    // The tape: exact decimal strings as published, newest first, at most 50 rows.
    let tape = section(&dom, "id=\"tape\"");
    let prices = cells(tape, "price");
    assert_eq!(
        prices.len(),
        50,
        "the tape keeps the latest 50 trades: {tape}"
    );
    let Some(newest) = published.iter().position(|p| p == prices[0]) else {
        panic!("the tape's newest price {} was never published", prices[0]);
    };
    let want: Vec<&str> = published[..=newest]
        .iter()
        .rev()
        .take(50)
        .map(String::as_str)
        .collect();
    assert_eq!(
        prices, want,
        "the tape is not the latest 50 trades, newest first"
    );
    assert!(tape.contains("0.0125"), "trade size missing: {tape}");
    // Best bid/offer as sent.
    let quotes = section(&dom, "id=\"bbo\"");
    for want in [
        "64321.5", "64321.51", "3150.2", "3150.25", "64320.9", "ETH-USDT",
    ] {
        assert!(quotes.contains(want), "bbo table lacks {want}: {quotes}");
    }
    // The 1m chart for the selected instrument, from the journal.
    assert!(
        dom.contains(&format!("close {last_close}")),
        "bar chart lacks the last close {last_close}"
    );
    assert!(dom.contains("<rect"), "no candles drawn");
    assert!(!dom.contains("class=\"show\""), "disconnected banner shown");
    if shot.exists() {
        println!("screenshot: {}", shot.display());
    }
    f.gateway.shutdown().await;
}

/// binance connected; okx connected, lost 3 updates, then disconnected.
fn publish_statuses(f: &mut Fixture) {
    use StatusKind::*;
    f.publish(status(Venue::Binance, Connected, StatusReason::Startup, 0));
    f.publish(status(Venue::Okx, Connected, StatusReason::Startup, 0));
    f.publish(status(Venue::Okx, Gap, StatusReason::SequenceGap, 3));
    f.publish(status(
        Venue::Okx,
        Disconnected,
        StatusReason::ConnectionLost,
        0,
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_says_disconnected_and_retrying_when_the_gateway_goes_away() {
    let f = start(test_config()).await;
    let mut browser = Browser::dump_dom(&format!("http://{}/", f.gateway.local_addr()), 3000, None);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut gateway = Some(f.gateway);
    let dom = loop {
        tick.tick().await;
        if let Some(dom) = browser.finished() {
            break dom;
        }
        let subscribed = gateway
            .as_ref()
            .is_some_and(|g| g.metrics().subscribers.load(Relaxed) >= 3);
        if subscribed {
            if let Some(gateway) = gateway.take() {
                gateway.shutdown().await;
            }
        }
    };
    assert!(
        gateway.is_none(),
        "the page never subscribed over the WebSocket"
    );
    let banner = section_of(&dom, "id=\"banner\"", "</div>");
    assert!(banner.contains("class=\"show\""), "banner hidden: {banner}");
    assert!(banner.contains("Disconnected — retrying in"), "{banner}");
    assert!(dom.contains(">disconnected</span>"), "status pill not red");
}

/// Publishes the `n`th trade of the test (binance and okx BTC-USDT); returns its price
/// as the gateway prints it.
fn publish_trade(f: &mut Fixture, n: usize, [btc, okx]: [u32; 2]) -> String {
    let (venue, id) = if n % 3 == 2 {
        (Venue::Okx, okx)
    } else {
        (Venue::Binance, btc)
    };
    let price = format!("64321.{:04}", 1000 + n);
    let side = if n.is_multiple_of(2) { 1 } else { 2 };
    let record = f.publish(trade(venue, id, now_ns(), &price, "0.0125", side));
    let sent = record.get::<TradeMsg>().map(|t| t.price.to_string());
    sent.unwrap_or(price)
}

/// The text of the `<td>` cells whose class list has `class`, in document order.
fn cells<'a>(html: &'a str, class: &str) -> Vec<&'a str> {
    html.split("<td class=\"")
        .filter_map(|cell| {
            let (classes, rest) = cell.split_once("\">")?;
            let (text, _) = rest.split_once("</td>")?;
            classes.split(' ').any(|c| c == class).then_some(text)
        })
        .collect()
}

/// The `<table ...>` element whose opening tag contains `marker`.
fn section<'a>(dom: &'a str, marker: &str) -> &'a str {
    section_of(dom, marker, "</table>")
}

/// From `marker` to the next `end` (or the end of the DOM).
fn section_of<'a>(dom: &'a str, marker: &str, end: &str) -> &'a str {
    let start = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in the DOM"));
    let rest = &dom[start..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}
