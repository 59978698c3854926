//! History answers stream with constant memory per request, concurrent history work is
//! capped per key and across the server, and none of it delays the live fan-out: the
//! process's peak RSS stays flat across concurrent 100,000-trade queries while a live
//! subscriber receives every record with no gap.

mod common;

use std::time::Duration;

use common::*;
use tickd_bus::record::TradeMsg;
use tickd_bus::{Price, RecordBuf, RecordHeader, Size, Venue};
use tickd_gateway::protocol::Encoding;
use tickd_gateway::{ApiKeyConfig, GatewayConfig, KeyLimits};
use tickd_storage::journal::{Journal, JournalConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// 2026-01-01T00:00:00Z.
const JAN1: u64 = 1_767_225_600_000_000_000;
const TRADES: u64 = 120_000;
const QUERIES: usize = 8;
const LIVE: u64 = 2_000;

fn journal_with_trades(dir: &std::path::Path, btc: u32) {
    let (mut journal, _) = Journal::open(JournalConfig::new(dir)).unwrap();
    for n in 0..TRADES {
        let ts = JAN1 + n * 1_000_000;
        let mut hd = RecordHeader::new::<TradeMsg>(Venue::Binance, btc, ts, ts + 1_000);
        hd.sequence = n + 1;
        journal
            .append(&RecordBuf::new(&TradeMsg {
                hd,
                price: Price::parse_str("100.5").unwrap(),
                size: Size::parse_str("0.25").unwrap(),
                trade_id: n,
                trade_id_hi: 0,
                side: 1,
                _reserved: [0; 7],
            }))
            .unwrap();
    }
    journal.close().unwrap();
}

/// The process's resident set now and at its peak, and its anonymous part (heap,
/// not the journal's memory maps), in bytes.
fn rss() -> (u64, u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap()
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"), field("RssAnon:"))
}

/// GETs `path` and counts the lines of the body without keeping it.
async fn count_lines(addr: std::net::SocketAddr, path: &str, auth: &str) -> (u16, usize) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        // HTTP/1.0: the body comes unchunked, so its lines are the CSV's.
        "GET {path} HTTP/1.0\r\nHost: localhost\r\nAuthorization: Bearer {auth}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut head = Vec::new();
    let mut lines = 0;
    let mut in_body = false;
    loop {
        let n = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut buf))
            .await
            .expect("history response stalled")
            .unwrap();
        if n == 0 {
            break;
        }
        if in_body {
            lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
        } else {
            head.extend_from_slice(&buf[..n]);
            if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                lines += head[at + 4..].iter().filter(|&&b| b == b'\n').count();
                in_body = true;
            }
        }
    }
    let text = String::from_utf8_lossy(&head);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, lines)
}

fn keys(n: usize, per_key: u32) -> Vec<ApiKeyConfig> {
    (0..n)
        .map(|i| ApiKeyConfig {
            key: format!("history-key-{i:04}-0123456789"),
            limits: KeyLimits {
                max_history_queries: per_key,
                max_messages_per_sec: 1000,
                ..KeyLimits::default()
            },
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_large_queries_keep_memory_flat_and_live_data_whole() {
    let dir = tempfile::tempdir().unwrap();
    journal_with_trades(dir.path(), 1);
    let config = GatewayConfig {
        api_keys: keys(QUERIES, 1),
        max_history_queries: QUERIES,
        ..test_config()
    };
    let mut f = start_with_journal(config, Some(dir.path().to_path_buf())).await;
    assert_eq!(f.id(Venue::Binance, "BTC-USDT"), 1);
    let addr = f.gateway.local_addr();
    let mut live = subscribed(ws_client(&f, &["trades.binance.ETH-USDT"], Encoding::Json)).await;
    // Warm up: one query end to end, so the baseline includes the page cache maps.
    let path = "/v1/trades?venue=binance&symbol=BTC-USDT&limit=100000&format=csv";
    let key0 = "history-key-0000-0123456789";
    // Header, 100,000 trades, and the link to the next page (the journal holds more).
    assert_eq!(count_lines(addr, path, key0).await, (200, 100_002));
    let (_, before, _) = rss();

    let queries: Vec<_> = (0..QUERIES)
        .map(|i| {
            let key = format!("history-key-{i:04}-0123456789");
            tokio::spawn(async move { count_lines(addr, path, &key).await })
        })
        .collect();
    // Live records published while the queries run, at about one per 0.5 ms.
    let mut sent = Vec::new();
    for n in 0..LIVE {
        sent.push(f.publish(f.trade(Venue::Binance, "ETH-USDT", n)));
        if n % 20 == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    for q in queries {
        assert_eq!(q.await.unwrap(), (200, 100_002));
    }
    let (records, events) = collect(&mut live, LIVE as usize).await;
    assert!(
        !events.iter().any(|e| format!("{e:?}").contains("Gap")),
        "live subscriber saw gaps: {events:?}"
    );
    let seqs: Vec<u64> = records.iter().map(|r| r.header().sequence).collect();
    assert_eq!(seqs, (1..=LIVE).collect::<Vec<_>>());
    let (_, peak, _) = rss();
    let grew = peak.saturating_sub(before);
    eprintln!(
        "peak RSS grew {} MiB over {QUERIES} concurrent 100,000-trade queries",
        grew >> 20
    );
    // Before streaming, each such query held ~350 MB.
    assert!(grew < 128 << 20, "peak RSS grew {} MiB", grew >> 20);
    f.gateway.shutdown().await;
}

/// A client that doesn't read keeps its query in flight: its key's next query gets
/// 429, and with the server's cap reached another key's gets 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_queries_are_capped_per_key_and_globally() {
    let dir = tempfile::tempdir().unwrap();
    journal_with_trades(dir.path(), 1);
    let config = GatewayConfig {
        api_keys: keys(3, 1),
        max_history_queries: 2,
        ..test_config()
    };
    let f = start_with_journal(config, Some(dir.path().to_path_buf())).await;
    let addr = f.gateway.local_addr();
    let path = "/v1/trades?venue=binance&symbol=BTC-USDT&limit=100000&format=csv";
    let mut stuck = Vec::new();
    for i in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer history-key-{i:04}-0123456789\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut first = [0u8; 12];
        stream.read_exact(&mut first).await.unwrap();
        assert_eq!(&first[9..12], b"200");
        stuck.push(stream);
    }
    let (status, body) = http_get_with(
        addr,
        path,
        &[("Authorization", "Bearer history-key-0000-0123456789")],
    )
    .await;
    assert_eq!(status, 429, "{body}");
    let (status, body) = http_get_with(
        addr,
        path,
        &[("Authorization", "Bearer history-key-0002-0123456789")],
    )
    .await;
    assert_eq!(status, 503, "{body}");
    drop(stuck);
    // The permits come back once the stuck clients are gone.
    let mut status = 0;
    for _ in 0..100 {
        status = count_lines(addr, path, "history-key-0002-0123456789")
            .await
            .0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200);
    f.gateway.shutdown().await;
}

/// `subscribe` with `from` goes through the subscription's bounded queue: clients that
/// never read hold at most a queue's worth of replayed records each, not the journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_to_clients_that_never_read_stay_within_the_queue() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let dir = tempfile::tempdir().unwrap();
    journal_with_trades(dir.path(), 1);
    let config = GatewayConfig {
        subscriber_queue: 1024,
        ..test_config()
    };
    let f = start_with_journal(config, Some(dir.path().to_path_buf())).await;
    let (_, _, before) = rss();
    let mut idle = Vec::new();
    for _ in 0..6 {
        let (mut ws, _) = tokio_tungstenite::connect_async(f.ws_url()).await.unwrap();
        let subscribe = r#"{"op":"subscribe","id":1,"streams":["trades.binance.BTC-USDT"],"from":"2020-01-01"}"#;
        ws.send(Message::text(subscribe)).await.unwrap();
        idle.push(ws);
    }
    let mut peak = before;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak = peak.max(rss().2);
    }
    let grew = peak.saturating_sub(before);
    eprintln!(
        "anonymous RSS grew {} MiB with 6 idle replays of {TRADES} trades",
        grew >> 20
    );
    // The whole replay materialized would be 6 × 120,000 records.
    assert!(grew < 24 << 20, "RSS grew {} MiB", grew >> 20);
    drop(idle);
    f.gateway.shutdown().await;
}
