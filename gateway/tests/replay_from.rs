//! `subscribe` with `from`: a real journal with known trades, the same trades routed
//! live before the subscription, more published after it. The subscriber gets the
//! journal's records (flagged REPLAY) then the live ones, numbered without a gap or a
//! duplicate at the seam.

mod common;

use std::path::Path;

use common::*;
use tickd_bus::{RecordBuf, Venue};
use tickd_gateway::client::{Client, Event};
use tickd_gateway::protocol::{Encoding, ServerMessage};
use tickd_storage::journal::{Journal, JournalConfig};

const BTC: (Venue, &str) = (Venue::Binance, "BTC-USDT");

fn write_journal(dir: &Path, records: &[RecordBuf]) {
    let (mut journal, _) = Journal::open(JournalConfig::new(dir)).unwrap();
    for record in records {
        journal.append(record).unwrap();
    }
    journal.close().unwrap();
}

/// Publishes `n` BTC trades (and one ETH trade) and waits until the router routed them.
async fn publish_history(f: &mut Fixture, n: u64) -> Vec<RecordBuf> {
    let mut probe = subscribed(ws_client(f, &["trades.binance.*"], Encoding::Json)).await;
    let mut published = Vec::new();
    for i in 1..=n {
        published.push(f.publish(f.trade(BTC.0, BTC.1, i)));
        if i == 2 {
            published.push(f.publish(f.trade(Venue::Binance, "ETH-USDT", i)));
        }
    }
    collect(&mut probe, published.len()).await;
    published
}

fn btc(records: &[RecordBuf]) -> Vec<RecordBuf> {
    let id = records[0].header().instrument_id;
    records
        .iter()
        .filter(|r| r.header().instrument_id == id)
        .copied()
        .collect()
}

/// Reads `count` records, checking each one's REPLAY flag and that the sequence runs on.
async fn expect_seam(
    client: &mut Client,
    replayed: &[RecordBuf],
    live: &[RecordBuf],
) -> Vec<Event> {
    let (got, other) = collect(client, replayed.len() + live.len()).await;
    let (got_replay, got_live) = got.split_at(replayed.len());
    for (have, want) in got_replay.iter().zip(replayed) {
        assert!(
            have.header().flags.contains(tickd_bus::Flags::REPLAY),
            "replayed: {have:?}"
        );
        let mut plain = *have;
        plain.header_mut().flags = want.header().flags;
        assert_eq!(&plain, want);
    }
    for (have, want) in got_live.iter().zip(live) {
        assert!(
            !have.header().flags.contains(tickd_bus::Flags::REPLAY),
            "live: {have:?}"
        );
        assert_eq!(have, want);
    }
    let seqs: Vec<u64> = got.iter().map(|r| r.header().sequence).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "not consecutive: {seqs:?}"
    );
    other
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_replay_from_ns_then_live_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = start_with_journal(test_config(), Some(dir.path().to_path_buf())).await;
    let history = publish_history(&mut f, 8).await;
    write_journal(dir.path(), &history);
    let history = btc(&history);
    // From the third trade on: the first two are older than `from`.
    let from = history[2].header().ts_recv;
    let config = ws_client(&f, &["trades.binance.BTC-USDT"], Encoding::Json).from(from.to_string());
    let mut client = subscribed(config).await;
    let live: Vec<RecordBuf> = (9..=15)
        .map(|i| f.publish(f.trade(BTC.0, BTC.1, i)))
        .collect();
    let other = expect_seam(&mut client, &history[2..], &live).await;
    assert!(
        other.iter().all(|e| !matches!(e, Event::Gap { .. })),
        "{other:?}"
    );
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_replay_from_before_the_journal_starts_at_its_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = start_with_journal(test_config(), Some(dir.path().to_path_buf())).await;
    let history = publish_history(&mut f, 6).await;
    write_journal(dir.path(), &history);
    let history = btc(&history);
    let config =
        ws_client(&f, &["trades.binance.BTCUSDT"], Encoding::Binary).from("2020-01-01T00:00:00Z");
    let mut client = subscribed(config).await;
    let live: Vec<RecordBuf> = (7..=20)
        .map(|i| f.publish(f.trade(BTC.0, BTC.1, i)))
        .collect();
    let other = expect_seam(&mut client, &history, &live).await;
    assert!(
        other.iter().all(|e| !matches!(e, Event::Gap { .. })),
        "{other:?}"
    );
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_that_never_catches_up_leaves_an_exact_gap() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = start_with_journal(test_config(), Some(dir.path().to_path_buf())).await;
    let history = publish_history(&mut f, 7).await;
    let btc_history = btc(&history);
    // The journal lost the last three BTC trades the router saw.
    let kept: Vec<RecordBuf> = history
        .iter()
        .filter(|r| {
            r.header().instrument_id != btc_history[0].header().instrument_id
                || r.header().sequence <= 4
        })
        .copied()
        .collect();
    write_journal(dir.path(), &kept);
    let config = ws_client(&f, &["trades.binance.BTC-USDT"], Encoding::Json).from("2020-01-01");
    let mut client = subscribed(config).await;
    let live = f.publish(f.trade(BTC.0, BTC.1, 8));
    let (got, other) = collect(&mut client, 5).await;
    let seqs: Vec<u64> = got.iter().map(|r| r.header().sequence).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 8]);
    assert_eq!(got[4], live);
    let gaps: Vec<u64> = other
        .iter()
        .filter_map(|e| match e {
            Event::Gap { lost, reason, .. } if reason != "sequence_jump" => Some(*lost),
            _ => None,
        })
        .collect();
    assert_eq!(gaps, vec![3], "{other:?}");
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_behind_the_live_position_is_re_read_until_it_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = start_with_journal(test_config(), Some(dir.path().to_path_buf())).await;
    let history = publish_history(&mut f, 7).await;
    let (early, late) = history.split_at(4);
    write_journal(dir.path(), early);
    let config = ws_client(&f, &["trades.binance.BTC-USDT"], Encoding::Json).from("2020-01-01");
    let mut client = subscribed(config).await;
    // The journal's writer catches up after the subscription (a later segment, as a
    // restarted writer would make): the replay's re-reads must pick it up.
    write_journal(dir.path(), late);
    let live: Vec<RecordBuf> = (8..=10)
        .map(|i| f.publish(f.trade(BTC.0, BTC.1, i)))
        .collect();
    let other = expect_seam(&mut client, &btc(&history), &live).await;
    assert!(
        other.iter().all(|e| !matches!(e, Event::Gap { .. })),
        "{other:?}"
    );
    f.gateway.shutdown().await;
}

/// Publishes BTC trades 1 and 2, the second received (`ts_recv`) a millisecond before
/// the first, as Kraken's venue status comes after its `connected` record; waits until
/// the router routed both.
async fn publish_stepping_back(f: &mut Fixture) -> Vec<RecordBuf> {
    let mut probe = subscribed(ws_client(f, &["trades.binance.BTC-USDT"], Encoding::Json)).await;
    let first = f.publish(f.trade(BTC.0, BTC.1, 1));
    let earlier = first.header().ts_recv - 1_000_000;
    let second = f.publish_received_at(f.trade(BTC.0, BTC.1, 2), earlier);
    collect(&mut probe, 2).await;
    vec![first, second]
}

/// The seam within [`WAIT`] (a record the replay lost would keep `collect` waiting
/// through the heartbeats), with no gap.
async fn seam_without_gap(client: &mut Client, replayed: &[RecordBuf], live: &[RecordBuf]) {
    let other = tokio::time::timeout(WAIT, expect_seam(client, replayed, live))
        .await
        .expect("the replay never delivered every record");
    no_gap(&other);
}

fn no_gap(other: &[Event]) {
    assert!(
        other.iter().all(|e| !matches!(e, Event::Gap { .. })),
        "{other:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_whose_ts_recv_steps_back_is_replayed_without_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = start_with_journal(test_config(), Some(dir.path().to_path_buf())).await;
    let history = publish_stepping_back(&mut f).await;
    write_journal(dir.path(), &history);
    let config = ws_client(&f, &["trades.binance.BTC-USDT"], Encoding::Json).from("2020-01-01");
    let mut client = subscribed(config).await;
    let live: Vec<RecordBuf> = (3..=5)
        .map(|i| f.publish(f.trade(BTC.0, BTC.1, i)))
        .collect();
    seam_without_gap(&mut client, &history, &live).await;
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_read_of_the_tail_finds_a_record_received_before_the_last_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = start_with_journal(test_config(), Some(dir.path().to_path_buf())).await;
    let history = publish_stepping_back(&mut f).await;
    write_journal(dir.path(), &history[..1]);
    let config = ws_client(&f, &["trades.binance.BTC-USDT"], Encoding::Json).from("2020-01-01");
    let mut client = subscribed(config).await;
    // The journal gets the second trade only after the replay sent the first.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    write_journal(dir.path(), &history[1..]);
    let live: Vec<RecordBuf> = (3..=5)
        .map(|i| f.publish(f.trade(BTC.0, BTC.1, i)))
        .collect();
    seam_without_gap(&mut client, &history, &live).await;
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_replay_then_live_on_the_subscription_stream() {
    let dir = tempfile::tempdir().unwrap();
    let config = tickd_gateway::GatewayConfig {
        quic_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..test_config()
    };
    let mut f = start_with_journal(config, Some(dir.path().to_path_buf())).await;
    let history = publish_history(&mut f, 5).await;
    write_journal(dir.path(), &history);
    let config = f
        .quic_client()
        .streams(["trades.binance.BTC-USDT"])
        .encoding(Encoding::Binary)
        .from("2020-01-01T00:00:00Z");
    let mut client = subscribed(config).await;
    let live: Vec<RecordBuf> = (6..=9)
        .map(|i| f.publish(f.trade(BTC.0, BTC.1, i)))
        .collect();
    let other = expect_seam(&mut client, &btc(&history), &live).await;
    assert!(
        other.iter().all(|e| !matches!(e, Event::Gap { .. })),
        "{other:?}"
    );
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_over_the_limit_is_refused_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = tickd_gateway::GatewayConfig {
        max_replay_records: 3,
        ..test_config()
    };
    let mut f = start_with_journal(config, Some(dir.path().to_path_buf())).await;
    let history = publish_history(&mut f, 6).await;
    write_journal(dir.path(), &history);
    let config = ws_client(&f, &["trades.binance.BTC-USDT"], Encoding::Json).from("2020-01-01");
    let mut client = subscribed(config).await;
    loop {
        match client.next_timeout(WAIT).await {
            Some(Event::Control(ServerMessage::Error { id, message, .. })) => {
                assert_eq!(id, Some(1));
                assert!(message.contains("max_replay_records"), "{message}");
                break;
            }
            Some(Event::Control(_)) => {}
            other => panic!("expected the replay's error, got {other:?}"),
        }
    }
    // The subscription was cancelled: nothing of it arrives before the connection ends.
    f.publish(f.trade(BTC.0, BTC.1, 7));
    f.publish(f.trade(BTC.0, BTC.1, 8));
    f.gateway.shutdown().await;
    while let Some(event) = client.next_timeout(WAIT).await {
        assert!(
            !matches!(event, Event::Record { .. } | Event::Gap { .. }),
            "{event:?}"
        );
        if matches!(event, Event::Disconnected(_)) {
            break;
        }
    }
}

async fn subscribe_error(f: &Fixture, from: &str) -> (String, String) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (mut ws, _) = tokio_tungstenite::connect_async(f.ws_url()).await.unwrap();
    let request = format!(
        r#"{{"op":"subscribe","id":7,"streams":["trades.binance.BTC-USDT"],"from":{from}}}"#
    );
    ws.send(Message::text(request)).await.unwrap();
    loop {
        let message = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
        let Some(Ok(Message::Text(text))) = message else {
            panic!("{message:?}")
        };
        match serde_json::from_str::<ServerMessage>(&text).unwrap() {
            ServerMessage::Error {
                id, code, message, ..
            } => {
                assert_eq!(id, Some(7));
                return (format!("{code:?}"), message);
            }
            ServerMessage::Ack { .. } => panic!("{from} was accepted"),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_from_values_get_bad_time_and_no_journal_gets_bad_request() {
    let dir = tempfile::tempdir().unwrap();
    let f = start_with_journal(test_config(), Some(dir.path().to_path_buf())).await;
    let future = tickd_gateway::metrics::now_ns() + 3_600_000_000_000;
    for from in [
        r#""yesterday""#.to_string(),
        r#""2026-13-45T00:00:00Z""#.to_string(),
        format!("{future}"),
        r#""2999-01-01T00:00:00Z""#.to_string(),
    ] {
        let (code, message) = subscribe_error(&f, &from).await;
        assert_eq!(code, "BadTime", "{from}: {message}");
        assert!(message.contains("RFC 3339"), "{from}: {message}");
    }
    f.gateway.shutdown().await;

    let f = start(test_config()).await;
    let (code, message) = subscribe_error(&f, r#""2020-01-01""#).await;
    assert_eq!(code, "BadRequest");
    assert!(message.contains("no journal"), "{message}");
    f.gateway.shutdown().await;
}

/// Sequence numbers restart at 1 in each server run: a replay `from` an earlier run's
/// start must give all of that run's records and then all of this run's, not compare
/// one run's numbers with the other's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_across_two_server_runs_gives_both_runs_whole() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Some(dir.path().to_path_buf());
    // Run 1: twelve trades, journaled; then the server stops.
    let mut first = start_with_journal(test_config(), journal.clone()).await;
    let run1 = publish_history(&mut first, 12).await;
    write_journal(dir.path(), &run1);
    first.gateway.shutdown().await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // Run 2: numbering starts over at 1; five trades before the subscription.
    let mut second = start_with_journal(test_config(), journal).await;
    let run2 = publish_history(&mut second, 5).await;
    write_journal(dir.path(), &run2);
    let config =
        ws_client(&second, &["trades.binance.BTC-USDT"], Encoding::Json).from("2020-01-01");
    let mut client = subscribed(config).await;
    let live: Vec<RecordBuf> = (6..=8)
        .map(|i| second.publish(second.trade(BTC.0, BTC.1, i)))
        .collect();
    let (run1, run2) = (btc(&run1), btc(&run2));
    let (got, other) = collect(&mut client, run1.len() + run2.len() + live.len()).await;
    let replayed: Vec<RecordBuf> = run1.iter().chain(&run2).copied().collect();
    for (have, want) in got.iter().zip(&replayed) {
        assert!(have.header().flags.contains(tickd_bus::Flags::REPLAY));
        let mut plain = *have;
        plain.header_mut().flags = want.header().flags;
        assert_eq!(&plain, want);
    }
    assert_eq!(&got[replayed.len()..], &live[..]);
    let seqs: Vec<u64> = got.iter().map(|r| r.header().sequence).collect();
    let want: Vec<u64> = (1..=12).chain(1..=8).collect();
    assert_eq!(seqs, want);
    assert!(
        other
            .iter()
            .all(|e| !matches!(e, Event::Gap { reason, .. } if reason != "sequence_jump")),
        "{other:?}"
    );
    second.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_book_replay_starts_with_the_book_image_at_from_then_deltas() {
    use tickd_bus::record::{BookAction, BookSide};
    use tickd_bus::{Flags, RecordRef};
    let dir = tempfile::tempdir().unwrap();
    let mut f = start_with_journal(test_config(), Some(dir.path().to_path_buf())).await;
    let (snap, last) = (Flags::SNAPSHOT, Flags::SNAPSHOT.union(Flags::LAST));
    let mut history = Vec::new();
    for (side, action, level, flags, update) in [
        (BookSide::Bid, BookAction::Clear, (0, 0), snap, 10),
        (BookSide::Bid, BookAction::Set, (100, 5), snap, 10),
        (BookSide::Ask, BookAction::Set, (110, 7), last, 10),
        (BookSide::Bid, BookAction::Set, (101, 2), Flags::LAST, 11),
        (BookSide::Ask, BookAction::Set, (110, 3), Flags::LAST, 12),
        (BookSide::Bid, BookAction::Set, (100, 0), Flags::LAST, 13),
        (BookSide::Ask, BookAction::Set, (111, 1), Flags::LAST, 14),
    ] {
        history.push(f.publish(f.delta(BTC, side, action, level, flags, update)));
    }
    // The router has routed the deltas once a trade published after them arrives.
    let mut probe = subscribed(ws_client(&f, &["trades.binance.BTC-USDT"], Encoding::Json)).await;
    let trade = f.publish(f.trade(BTC.0, BTC.1, 1));
    collect(&mut probe, 1).await;
    history.push(trade);
    write_journal(dir.path(), &history);
    // From update 13 on: the book then was bids 101 x 2, 100 x 5 and ask 110 x 3.
    let from = history[5].header().ts_recv;
    let config = ws_client(&f, &["book.binance.BTC-USDT"], Encoding::Binary).from(from.to_string());
    let mut client = subscribed(config).await;
    let live = f.publish(f.delta(
        BTC,
        BookSide::Bid,
        BookAction::Set,
        (99, 4),
        Flags::LAST,
        15,
    ));
    let (got, _) = collect(&mut client, 4 + 2 + 1).await;
    let (image, rest) = got.split_at(4);
    let mut sets = Vec::new();
    for (i, record) in image.iter().enumerate() {
        let RecordRef::BookDelta(d) = record.as_ref().unwrap() else {
            panic!("not a delta: {record:?}");
        };
        assert!(d.hd.flags.is_snapshot() && d.hd.flags.contains(Flags::REPLAY));
        assert_eq!(d.hd.flags.is_last(), i == 3, "LAST closes the image");
        assert_eq!(d.hd.sequence, history[5].header().sequence - 1);
        if i == 0 {
            assert_eq!(d.action, BookAction::Clear as u8);
        } else {
            sets.push((d.side, d.price.raw(), d.size.raw()));
        }
    }
    sets.sort();
    assert_eq!(
        sets,
        [
            (BookSide::Bid as u8, 100, 5),
            (BookSide::Bid as u8, 101, 2),
            (BookSide::Ask as u8, 110, 3)
        ]
    );
    for (have, want) in rest[..2].iter().zip(&history[5..7]) {
        let mut plain = *have;
        plain.header_mut().flags = want.header().flags;
        assert_eq!(&plain, want, "then the journal's deltas from `from`");
    }
    assert_eq!(rest[2], live, "then live");
    f.gateway.shutdown().await;
}

/// Flips a byte in the payload of the oldest segment's first block (file header 64 +
/// block header 48).
fn damage_first_block(dir: &Path) {
    let mut segments = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "seg") {
                segments.push(path);
            }
        }
    }
    segments.sort();
    let mut bytes = std::fs::read(&segments[0]).unwrap();
    bytes[64 + 48 + 40] ^= 0xFF;
    std::fs::write(&segments[0], &bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_over_a_damaged_block_says_so_with_a_gap_status_and_metric() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = start_with_journal(test_config(), Some(dir.path().to_path_buf())).await;
    let history = btc(&publish_history(&mut f, 8).await);
    let (early, late) = history.split_at(4);
    write_journal(dir.path(), early);
    write_journal(dir.path(), late);
    damage_first_block(dir.path());
    // Binary: the notice is a `status` record (kind gap, reason journal_damaged).
    let config = ws_client(&f, &["trades.binance.BTC-USDT"], Encoding::Binary).from("2020-01-01");
    let mut client = subscribed(config).await;
    let live: Vec<RecordBuf> = (9..=10)
        .map(|i| f.publish(f.trade(BTC.0, BTC.1, i)))
        .collect();
    let (got, other) = collect(&mut client, late.len() + live.len()).await;
    let seqs: Vec<u64> = got.iter().map(|r| r.header().sequence).collect();
    assert_eq!(seqs, (5..=10).collect::<Vec<u64>>(), "{other:?}");
    assert!(
        other.iter().any(
            |e| matches!(e, Event::Gap { reason, lost: 0, .. } if reason == "journal_damaged")
        ),
        "no journal_damaged gap in {other:?}"
    );
    let (_, metrics) = http_get(f.gateway.local_addr(), "/metrics").await;
    assert!(
        metrics.contains("tickd_gateway_journal_damaged_total 1"),
        "{metrics}"
    );
    f.gateway.shutdown().await;
}
