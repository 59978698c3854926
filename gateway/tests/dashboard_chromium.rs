//! The dashboard page in real headless Chromium against a real gateway fed from a
//! real bus ring and a real journal: the DOM Chromium renders must show the venues'
//! status, the published trades' exact prices, the best bid/offer, the book ladder with
//! its exact spread and mid, the candles on a time axis that leaves a missing minute
//! empty, the latency panel, and the log of gaps, resyncs and reconnects.
//! Saves a screenshot (`$CARGO_TARGET_TMPDIR/dashboard.png`) for a human to look at;
//! `tests/dashboard_demo.rs` (root crate) makes `docs/dashboard.png` from `tickd demo`.

#[path = "common/chromium.rs"]
mod chromium;
mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use chromium::{
    assert_no_clipped_column, attr_values, cells, rows, section, section_of, strip_tags, Browser,
};
use common::*;
use tickd_bus::record::{
    BboMsg, BookAction, BookDeltaMsg, BookSide, StatusKind, StatusMsg, StatusReason, TradeMsg,
};
use tickd_bus::{Flags, Price, RecordBuf, RecordHeader, Size, Venue};
use tickd_storage::journal::{Journal, JournalConfig};

const MINUTE: u64 = 60_000_000_000;
/// The journal's minutes (ending a minute ago) with one left out: a gap on the chart.
const JOURNAL_MINUTES: u64 = 10;
const MISSING_MINUTE: u64 = 6;
const WINDOW: (u32, u32) = (1600, 1100);

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

fn status(venue: Venue, id: u32, kind: StatusKind, reason: StatusReason, lost: u64) -> RecordBuf {
    RecordBuf::new(&StatusMsg {
        hd: RecordHeader::new::<StatusMsg>(venue, id, now_ns(), 0),
        kind: kind as u8,
        _reserved: 0,
        reason: reason as u16,
        conn: 1,
        lost,
        detail: 0,
    })
}

/// One level of a binance BTC-USDT book image (a `clear` when `price` is empty).
fn level(id: u32, side: BookSide, price: &str, size: &str, flags: Flags) -> RecordBuf {
    let mut hd = RecordHeader::new::<BookDeltaMsg>(Venue::Binance, id, now_ns(), 0);
    hd.flags = flags;
    let clear = price.is_empty();
    RecordBuf::new(&BookDeltaMsg {
        hd,
        price: if clear {
            Price::UNDEF
        } else {
            Price::parse_str(price).unwrap()
        },
        size: Size::parse_str(size).unwrap(),
        update_id: 7,
        side: if clear { 0 } else { side as u8 },
        action: if clear {
            BookAction::Clear
        } else {
            BookAction::Set
        } as u8,
        _reserved: [0; 6],
    })
}

const BIDS: [(&str, &str); 4] = [
    ("64321.5", "1.2"),
    ("64321.4", "0.5"),
    ("64320", "3"),
    ("64319.99", "0.25"),
];
const ASKS: [(&str, &str); 3] = [("64321.51", "0.8"), ("64321.6", "2"), ("64325", "4.5")];

/// A SNAPSHOT image of binance BTC-USDT: best bid 64321.5, best ask 64321.51.
fn publish_book(f: &mut Fixture, id: u32) {
    f.publish(level(id, BookSide::Bid, "", "0", Flags::SNAPSHOT));
    let levels: Vec<_> = BIDS
        .iter()
        .map(|l| (BookSide::Bid, l))
        .chain(ASKS.iter().map(|l| (BookSide::Ask, l)))
        .collect();
    for (i, (side, (price, size))) in levels.iter().enumerate() {
        let flags = if i + 1 == levels.len() {
            Flags::SNAPSHOT.union(Flags::LAST)
        } else {
            Flags::SNAPSHOT
        };
        f.publish(level(id, *side, price, size, flags));
    }
}

/// Ten minutes of binance BTC-USDT trades ending a minute ago, one minute missing,
/// for `/v1/bars`.
fn write_journal(dir: &Path, btc: u32) -> String {
    let start = (now_ns() / MINUTE - JOURNAL_MINUTES) * MINUTE;
    let (mut journal, _) = Journal::open(JournalConfig::new(dir)).unwrap();
    let mut last = String::new();
    for minute in (0..JOURNAL_MINUTES).filter(|m| *m != MISSING_MINUTE) {
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

/// Whether the page has subscribed over the WebSocket: trades, bbo and status.
fn page_subscribed(f: &Fixture) -> bool {
    f.gateway.metrics().subscribers.load(Relaxed) >= 3
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_renders_feeds_book_candles_latency_events_and_tape_in_chromium() {
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
    let mut browser = Browser::dump_dom(
        &format!("http://{addr}/?venue=binance&symbol=BTC-USDT"),
        8000,
        WINDOW,
        Some(&shot),
    );

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
            publish_statuses(&mut f, btc);
            publish_book(&mut f, btc);
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
    assert_time_axis(&dom);
    assert_ladder(&dom);
    // Latency: the venue's clock to tickd's per venue, from the trades the page got,
    // and the gateway's hops from /v1/status.
    let latency = rows(section(&dom, "id=\"latency\""));
    for venue in ["binance", "okx"] {
        let row = latency
            .iter()
            .find(|r| r.starts_with(&format!("{venue}|")))
            .unwrap_or_else(|| panic!("no latency row for {venue}: {latency:?}"));
        let cols: Vec<&str> = row.split('|').collect();
        assert!(
            cols[1].ends_with("s") && cols[2].ends_with("s") && cols[3] != "0",
            "{venue}: p50, p99 and a sample count: {row}"
        );
    }
    let hops = rows(section(&dom, "id=\"hops\""));
    for hop in ["feed read → router|", "feed read → subscriber socket|"] {
        let row = hops.iter().find(|r| r.starts_with(hop));
        let row = row.unwrap_or_else(|| panic!("no {hop} row: {hops:?}"));
        assert!(!row.ends_with("|0") && !row.contains("|–|"), "{row}");
    }
    // The event log: each status record, newest first.
    let events = rows(section(&dom, "id=\"events\""));
    let kinds: Vec<String> = events
        .iter()
        .map(|r| r.split('|').skip(1).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        kinds,
        [
            "okx disconnected connection_lost",
            "binance reconnected stale_stream",
            "binance disconnected stale_stream",
            "binance book_resync BTC-USDT · checksum_mismatch",
            "okx gap sequence_gap · 3 lost",
            "okx connected startup",
            "binance connected startup",
        ],
        "{events:?}"
    );
    // No gateway journal source here: the panel says so rather than showing zeros.
    let journal = strip_tags(section_of(&dom, "id=\"journal\"", "</section>"));
    assert!(journal.contains("does not report a journal"), "{journal}");
    assert_no_clipped_column(&dom);
    assert!(!dom.contains("class=\"show\""), "disconnected banner shown");
    if shot.exists() {
        println!("screenshot: {}", shot.display());
    }
    f.gateway.shutdown().await;
}

/// Candles sit at their interval's start on a real time axis: the missing minute is an
/// empty slot twice as wide as the others, and the caption counts the empty intervals.
fn assert_time_axis(dom: &str) {
    let xs = attr_values(dom, "<rect class=\"body\"", "x");
    assert_eq!(
        xs.len() as u64,
        JOURNAL_MINUTES - 1,
        "one candle per journaled minute"
    );
    let steps: Vec<f64> = xs.windows(2).map(|w| w[1] - w[0]).collect();
    let one = steps[0];
    assert!(one > 1.0, "candles overlap: {xs:?}");
    for (i, step) in steps.iter().enumerate() {
        let want = if i as u64 + 1 == MISSING_MINUTE {
            2.0
        } else {
            1.0
        } * one;
        assert!(
            (step - want).abs() < 0.01 * one,
            "candle {i}→{}: {step} apart, want {want} ({xs:?})",
            i + 1
        );
    }
    let volumes = attr_values(dom, "<rect class=\"vol\"", "height");
    assert_eq!(volumes.len(), xs.len(), "a volume bar per candle");
    assert!(dom.contains(" empty intervals"), "no empty-interval count");
}

/// The ladder: asks from the highest down to the best, the exact spread and mid, then
/// bids from the best down.
fn assert_ladder(dom: &str) {
    let ladder = section(dom, "id=\"ladder\"");
    // Top to bottom: the asks from the highest, then the bids from the best.
    let levels: Vec<&(&str, &str)> = ASKS.iter().rev().chain(BIDS.iter()).collect();
    let prices = cells(ladder, "px");
    let want: Vec<&str> = levels.iter().map(|(price, _)| *price).collect();
    assert_eq!(prices, want, "ladder prices: {ladder}");
    let sizes: Vec<&str> = cells(ladder, "asksz")
        .into_iter()
        .chain(cells(ladder, "bidsz"))
        .collect();
    let want: Vec<&str> = levels.iter().map(|(_, size)| *size).collect();
    assert_eq!(sizes, want, "ladder sizes: {ladder}");
    assert!(
        ladder.contains("spread 0.01 (0.0016 bps) · mid 64321.505"),
        "spread and mid: {ladder}"
    );
}

/// binance connected, resynced its BTC-USDT book and reconnected; okx connected, lost
/// 3 updates, then disconnected.
fn publish_statuses(f: &mut Fixture, btc: u32) {
    use StatusKind::*;
    let (binance, okx) = (Venue::Binance, Venue::Okx);
    f.publish(status(binance, 0, Connected, StatusReason::Startup, 0));
    f.publish(status(okx, 0, Connected, StatusReason::Startup, 0));
    f.publish(status(okx, 0, Gap, StatusReason::SequenceGap, 3));
    f.publish(status(
        binance,
        btc,
        BookResync,
        StatusReason::ChecksumMismatch,
        0,
    ));
    f.publish(status(
        binance,
        0,
        Disconnected,
        StatusReason::StaleStream,
        0,
    ));
    f.publish(status(binance, 0, Connected, StatusReason::StaleStream, 0));
    f.publish(status(
        okx,
        0,
        Disconnected,
        StatusReason::ConnectionLost,
        0,
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_says_disconnected_and_retrying_when_the_gateway_goes_away() {
    let f = start(test_config()).await;
    let mut browser = Browser::dump_dom(
        &format!("http://{}/", f.gateway.local_addr()),
        3000,
        WINDOW,
        None,
    );
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
