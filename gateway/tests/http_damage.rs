//! Damaged journal blocks a history query steps over are reported: in the response
//! (`journal_skipped`, `X-Tickd-Journal-Skipped`), in `/v1/status` and in `/metrics`.

mod common;

use common::*;
use serde_json::Value;
use tickd_bus::record::TradeMsg;
use tickd_bus::{Price, RecordBuf, RecordHeader, Size, Venue};
use tickd_storage::journal::{Journal, JournalConfig};

/// 2026-01-01T00:00:00Z.
const JAN1: u64 = 1_767_225_600_000_000_000;

fn trade(n: u64) -> RecordBuf {
    let ts = JAN1 + n * 1_000_000_000;
    RecordBuf::new(&TradeMsg {
        hd: RecordHeader::new::<TradeMsg>(Venue::Binance, 1, ts, ts + 1_000),
        price: Price::parse_str("100").unwrap(),
        size: Size::parse_str("1").unwrap(),
        trade_id: n,
        trade_id_hi: 0,
        side: 1,
        _reserved: [0; 7],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_block_is_reported_in_the_response_status_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut journal, _) = Journal::open(JournalConfig::new(dir.path())).unwrap();
        for n in 0..10 {
            journal.append(&trade(n)).unwrap();
        }
        journal.close().unwrap();
    }
    let segment = walk(dir.path())
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    // A byte in the first block's payload: header 64 + block header 48.
    bytes[64 + 48 + 40] ^= 0xFF;
    std::fs::write(&segment, &bytes).unwrap();

    let f = start_with_journal(test_config(), Some(dir.path().to_path_buf())).await;
    let addr = f.gateway.local_addr();
    let path = format!("/v1/trades?venue=binance&symbol=BTC-USDT&from={JAN1}");
    let (status, body) = http_get(addr, &path).await;
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["journal_skipped"]["damaged"], 1, "{body}");
    let problem = json["journal_skipped"]["problems"][0].as_str().unwrap();
    assert!(problem.contains("checksum"), "{problem}");
    let (_, head) = raw_head(addr, &format!("{path}&format=csv")).await;
    assert!(
        head.to_ascii_lowercase()
            .contains("x-tickd-journal-skipped: 1"),
        "{head}"
    );
    // Bars too: in the JSON body, and the header and trailing comments of the CSV.
    let bars = format!("/v1/bars?venue=binance&symbol=BTC-USDT&interval=1s&from={JAN1}");
    let (status, body) = http_get(addr, &bars).await;
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["journal_skipped"]["damaged"], 1, "{body}");
    let (_, head) = raw_head(addr, &format!("{bars}&format=csv")).await;
    assert!(
        head.to_ascii_lowercase()
            .contains("x-tickd-journal-skipped: 1"),
        "{head}"
    );
    let (_, csv) = http_get(addr, &format!("{bars}&format=csv")).await;
    assert!(csv.contains("# journal skipped: 1 damaged"), "{csv}");
    let (_, status_body) = http_get(addr, "/v1/status").await;
    let status_json: Value = serde_json::from_str(&status_body).unwrap();
    assert_eq!(status_json["journal_damaged"], 5, "{status_body}");
    let (_, metrics) = http_get(addr, "/metrics").await;
    assert!(
        metrics.contains("tickd_gateway_journal_damaged_total 5"),
        "{metrics}"
    );
    f.gateway.shutdown().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The status line and headers of a GET.
async fn raw_head(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head)
}
