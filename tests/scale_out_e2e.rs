//! Scale-out end to end, every part a real process on loopback: simulator → feed nodes
//! A (binance) and B (binance-usdm) → nats-server (JetStream) → edge nodes C and D →
//! subscribers. Every record a subscriber of C or D gets equals (byte for byte) what a
//! subscriber of A or B gets for the same stream and sequence, in order, with no gap
//! and no duplicate; each edge's book snapshot on subscribe equals the feed's book at
//! that sequence.

mod scale_out;

use std::collections::HashMap;
use std::time::Duration;

use scale_out::*;
use tickd_bus::RecordBuf;
use tickd_gateway::client::{Client, ClientConfig, Event, Transport};
use tickd_gateway::protocol::Encoding;
use tickd_normalizer::book::apply::BookReplay;

const STREAMS_A: [&str; 2] = ["trades.binance.BTC-USDT", "book.binance.BTC-USDT"];
const STREAMS_B: [&str; 2] = [
    "trades.binance-usdm.BTC-USDT-PERP",
    "book.binance-usdm.BTC-USDT-PERP",
];

/// (venue, instrument, record type): one stream.
type Key = (u8, u32, u8);

#[derive(Default)]
struct Received {
    records: HashMap<Key, Vec<RecordBuf>>,
    gaps: Vec<String>,
}

async fn subscribe(port: u16, streams: &[&str]) -> Client {
    let url = format!("ws://127.0.0.1:{port}/v1/stream");
    let config = ClientConfig::new(Transport::Ws(url))
        .encoding(Encoding::Binary)
        .streams(streams.iter().copied())
        .reconnect(false);
    Client::connect(config).await.expect("subscribe")
}

async fn collect(mut client: Client, for_how_long: Duration) -> Received {
    let mut got = Received::default();
    let deadline = tokio::time::Instant::now() + for_how_long;
    while let Some(left) = deadline.checked_duration_since(tokio::time::Instant::now()) {
        match client.next_timeout(left).await {
            Some(Event::Record { record, .. }) => {
                let hd = record.header();
                got.records
                    .entry((hd.venue, hd.instrument_id, hd.rtype))
                    .or_default()
                    .push(record);
            }
            Some(Event::Gap {
                stream,
                lost,
                reason,
            }) => got.gaps.push(format!("{stream} {lost} {reason}")),
            Some(Event::Disconnected(why)) => panic!("subscriber disconnected: {why}"),
            Some(_) => {}
            None => break,
        }
    }
    got
}

/// The image at the front of a book stream (SNAPSHOT records up to LAST), and the rest.
fn split_image(records: &[RecordBuf]) -> (&[RecordBuf], &[RecordBuf]) {
    if !records
        .first()
        .is_some_and(|r| r.header().flags.is_snapshot())
    {
        return (&[], records);
    }
    let end = records
        .iter()
        .position(|r| r.header().flags.is_last())
        .map_or(records.len(), |i| i + 1);
    records.split_at(end)
}

/// Checks one stream seen through an edge against the same stream seen on its feed node.
fn check_stream(edge_name: &str, key: Key, direct: &[RecordBuf], edge: &[RecordBuf]) -> usize {
    let (direct_image, direct_live) = split_image(direct);
    let (edge_image, edge_live) = split_image(edge);
    let is_book = !edge_image.is_empty();
    assert!(
        !edge_live.is_empty(),
        "{edge_name} {key:?}: no live records"
    );
    // In order, no gap, no duplicate: consecutive per-stream sequence numbers.
    let first = edge_image
        .first()
        .map_or(edge_live[0].header().sequence, |r| r.header().sequence + 1);
    for (i, r) in edge_live.iter().enumerate() {
        assert_eq!(
            r.header().sequence,
            first + i as u64,
            "{edge_name} {key:?}: sequence jump or duplicate at {i}"
        );
    }
    // Byte for byte what the feed node's own subscriber got.
    let by_seq: HashMap<u64, &RecordBuf> = direct_live
        .iter()
        .map(|r| (r.header().sequence, r))
        .collect();
    let mut compared = 0;
    for r in edge_live {
        if let Some(d) = by_seq.get(&r.header().sequence) {
            assert_eq!(
                r.as_bytes(),
                d.as_bytes(),
                "{edge_name} {key:?} seq {}",
                r.header().sequence
            );
            compared += 1;
        }
    }
    if is_book {
        // The snapshot on subscribe equals the feed's book at that sequence.
        let at = edge_image[0].header().sequence;
        let mut truth = BookReplay::new();
        for r in direct_image {
            truth.apply_record(r).unwrap();
        }
        for r in direct_live.iter().filter(|r| r.header().sequence <= at) {
            truth.apply_record(r).unwrap();
        }
        let mut seen = BookReplay::new();
        for r in edge_image {
            seen.apply_record(r).unwrap();
        }
        assert!(seen.is_valid(), "{edge_name} {key:?}: image incomplete");
        assert!(
            direct_image
                .first()
                .is_some_and(|r| r.header().sequence <= at),
            "{edge_name} {key:?}: the direct subscriber started after the edge's image"
        );
        assert_eq!(
            seen.book(),
            truth.book(),
            "{edge_name} {key:?}: snapshot differs at seq {at}"
        );
    }
    compared
}

/// History on an edge node comes from its own journal, written from the stream: over a
/// window it has seen live, `/v1/trades`, `/v1/bars` and `/v1/book?at=` answer exactly
/// what the feed node's journal answers (retried while the journals catch up).
fn check_history(feed: u16, edge: u16, trades: &[RecordBuf], procs: &[&Proc]) {
    let (Some(first), Some(last)) = (trades.first(), trades.last()) else {
        panic!("no trades seen through the edge");
    };
    let (first, last) = (first.header(), last.header());
    let from = first.ts_event.min(first.ts_recv);
    let to = last.ts_event.max(last.ts_recv) + 1;
    let at = from + (to - from) / 2;
    let base = "venue=binance&symbol=BTC-USDT";
    // Each answer's list that must not be empty, and its shortest length.
    let queries = [
        (
            format!("/v1/trades?{base}&from={from}&to={to}&limit=100000"),
            "trades",
            5,
        ),
        (
            format!("/v1/bars?{base}&interval=1s&from={from}&to={to}"),
            "bars",
            2,
        ),
        (format!("/v1/book?{base}&depth=20&at={at}"), "bids", 1),
    ];
    for (query, list, least) in &queries {
        let same = || {
            let answers = (http_get(feed, query), http_get(edge, query));
            matches!(answers, (Some((200, f)), Some((200, e))) if f == e)
        };
        wait_until(
            &format!("the same history on both nodes: {query}"),
            Duration::from_secs(10),
            procs,
            same,
        );
        let (_, body) = http_get(edge, query).expect("edge history");
        let answer: serde_json::Value = serde_json::from_str(&body).expect("history JSON");
        let len = answer[list].as_array().map_or(0, Vec::len);
        assert!(len >= *least, "{query}: {len} {list} on the edge: {body}");
    }
}

#[test]
fn feed_nodes_to_edge_nodes_over_nats_equal_records_and_books() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start().expect("nats-server (scripts/setup.sh installs it)");
    let url = nats.url();
    let sim_port = free_port();
    let sim = start_sim(dir.path(), sim_port, 1000);
    let (pa, pb, pc, pd) = (free_port(), free_port(), free_port(), free_port());
    let a = feed_node(dir.path(), "feed-a", "binance", sim_port, pa, &url);
    let b = feed_node(dir.path(), "feed-b", "binance-usdm", sim_port, pb, &url);
    let all = [&sim, &a, &b];
    wait_until(
        "feed nodes' instruments",
        Duration::from_secs(30),
        &all,
        || instrument_count(pa) == 2 && instrument_count(pb) == 2,
    );
    let c = edge_node(dir.path(), "edge-c", pc, &url);
    let d = edge_node(dir.path(), "edge-d", pd, &url);
    let all = [&sim, &a, &b, &c, &d];
    // Both venues' symbols on both edges, with the feed nodes' ids.
    wait_until(
        "edge nodes' instruments",
        Duration::from_secs(30),
        &all,
        || instrument_count(pc) == 4 && instrument_count(pd) == 4,
    );
    let ids_a = http_get(pa, "/v1/instruments").unwrap().1;
    let ids_c = http_get(pc, "/v1/instruments").unwrap().1;
    let a_list: Vec<serde_json::Value> = serde_json::from_str(&ids_a).unwrap();
    for instrument in &a_list {
        assert!(
            ids_c.contains(&instrument.to_string()),
            "{instrument} not on edge C"
        );
    }
    // The edges' books are seeded once they have seen data.
    std::thread::sleep(Duration::from_millis(1500));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (direct_a, direct_b, edge_c, edge_d) = runtime.block_on(async {
        let direct_a = subscribe(pa, &STREAMS_A).await;
        let direct_b = subscribe(pb, &STREAMS_B).await;
        // Later, so the feed nodes' subscribers cover the edges' first records.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let all_streams: Vec<&str> = STREAMS_A.iter().chain(&STREAMS_B).copied().collect();
        let edge_c = subscribe(pc, &all_streams).await;
        let edge_d = subscribe(pd, &all_streams).await;
        let window = Duration::from_secs(4);
        tokio::join!(
            collect(direct_a, window + Duration::from_millis(1500)),
            collect(direct_b, window + Duration::from_millis(1500)),
            collect(edge_c, window),
            collect(edge_d, window),
        )
    });
    let mut direct = direct_a.records;
    direct.extend(direct_b.records);
    assert!(
        direct_a.gaps.is_empty() && direct_b.gaps.is_empty(),
        "gaps on the feed nodes"
    );
    for (name, edge) in [("edge C", &edge_c), ("edge D", &edge_d)] {
        assert!(edge.gaps.is_empty(), "{name}: gaps {:?}", edge.gaps);
        assert_eq!(
            edge.records.len(),
            4,
            "{name}: streams {:?}",
            edge.records.keys()
        );
        for (key, records) in &edge.records {
            let feed = direct
                .get(key)
                .unwrap_or_else(|| panic!("{name}: {key:?} not on the feed nodes"));
            let compared = check_stream(name, *key, feed, records);
            assert!(
                compared >= 20,
                "{name} {key:?}: only {compared} records compared"
            );
        }
    }

    let trade_key = edge_c
        .records
        .keys()
        .find(|k| {
            k.0 == tickd_bus::Venue::Binance as u8 && k.2 == tickd_bus::RecordType::Trade as u8
        })
        .copied()
        .expect("binance trades through edge C");
    check_history(pa, pc, &edge_c.records[&trade_key], &[&sim, &a, &b, &c, &d]);

    // Feed node B dies: after the configured silence (2 s) both edges publish a
    // disconnected status for its venue; A's venue is untouched.
    let mut b = b;
    let statuses = runtime.block_on(async {
        let c_status = subscribe(pc, &["status.binance-usdm.*", "status.binance.*"]).await;
        let d_status = subscribe(pd, &["status.binance-usdm.*"]).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        b.kill();
        tokio::join!(
            collect(c_status, Duration::from_secs(4)),
            collect(d_status, Duration::from_secs(4))
        )
    });
    for (name, got) in [("edge C", &statuses.0), ("edge D", &statuses.1)] {
        let disconnected: Vec<u8> = got
            .records
            .values()
            .flatten()
            .filter_map(|r| r.get::<tickd_bus::record::StatusMsg>())
            .filter(|s| s.kind() == Some(tickd_bus::record::StatusKind::Disconnected))
            .map(|s| s.hd.venue)
            .collect();
        assert_eq!(
            disconnected,
            [tickd_bus::Venue::BinanceUsdm as u8],
            "{name}: one disconnected status, for binance-usdm only"
        );
    }
    drop((sim, a, c, d));
}
