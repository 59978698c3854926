//! The QuestDB sink's journal tail against real journals: every record once, in
//! order, resumed from the saved position after a restart, following a live writer.

use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::Ordering;

use std::time::Duration;

use tickd_bus::record::TradeMsg;
use tickd_bus::{Price, RecordBuf, RecordHeader, Size, Venue};
use tickd_storage::journal::{Filter, Journal, JournalConfig, JournalReader};
use tickd_storage::questdb::{JournalTail, QuestDbConfig, QuestDbSink, RecordSource, SourceBatch};

mod questdb_support;
use questdb_support::{acknowledged_rows, ilp_server, wait_until};

const T0: u64 = 1_767_225_600_000_000_000 + 86_400_000_000_000 - 1_000_000_000;

fn trade(venue: Venue, seq: u64) -> RecordBuf {
    // 10 ms apart from one second before midnight: the journal rolls to a new day.
    let ts = T0 + seq * 10_000_000;
    let mut hd = RecordHeader::new::<TradeMsg>(venue, 1, ts, ts);
    hd.sequence = seq;
    RecordBuf::new(&TradeMsg {
        hd,
        price: Price::from_int(100).unwrap(),
        size: Size::from_int(1).unwrap(),
        trade_id: seq,
        trade_id_hi: 0,
        side: 1,
        _reserved: [0; 7],
    })
}

fn small_journal(dir: &Path) -> Journal {
    let mut cfg = JournalConfig::new(dir);
    cfg.block_bytes = 1024;
    cfg.segment_max_bytes = 16 * 1024;
    Journal::open(cfg).unwrap().0
}

fn write(dir: &Path, seqs: std::ops::Range<u64>) {
    let mut journal = small_journal(dir);
    for seq in seqs {
        let venue = if seq % 3 == 0 {
            Venue::Okx
        } else {
            Venue::Binance
        };
        journal.append(&trade(venue, seq)).unwrap();
    }
    journal.close().unwrap();
}

/// Read until the tail is idle, `per_read` at a time (or stop after `limit`).
fn drain(tail: &mut JournalTail, per_read: usize, limit: usize) -> Vec<RecordBuf> {
    let mut out = Vec::new();
    while out.len() < limit {
        let room = per_read.min(limit - out.len());
        match tail.read(room, &mut out).unwrap() {
            SourceBatch::Read(n) => assert!(n <= room),
            SourceBatch::Idle | SourceBatch::End => break,
        }
    }
    out
}

fn seqs_of(records: &[RecordBuf], venue: Venue) -> Vec<u64> {
    records
        .iter()
        .filter(|r| r.header().venue == venue as u8)
        .map(|r| r.header().sequence)
        .collect()
}

#[test]
fn every_record_once_in_order_and_resumed_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 0..3000);
    let reader = JournalReader::open(dir.path(), Filter::all()).unwrap();
    assert!(
        reader.segment_files().count() > 6,
        "several segments and two days"
    );
    let all: Vec<RecordBuf> = reader
        .records()
        .map(|r| RecordBuf::from_bytes(r.as_bytes()).unwrap())
        .collect();
    let state = dir.path().join("questdb.position");

    let mut tail = JournalTail::open(dir.path(), &state).unwrap();
    let got = drain(&mut tail, 37, usize::MAX);
    assert_eq!(got.len(), 3000);
    for venue in [Venue::Binance, Venue::Okx] {
        assert_eq!(seqs_of(&got, venue), seqs_of(&all, venue));
    }

    // Not committed: a restart reads everything again.
    let mut again = JournalTail::open(dir.path(), &state).unwrap();
    assert_eq!(drain(&mut again, 500, usize::MAX).len(), 3000);

    // Committed halfway (mid-block): the restart resumes exactly there.
    let mut first = JournalTail::open(dir.path(), &state).unwrap();
    let mut got = drain(&mut first, 41, 1_234);
    first.commit().unwrap();
    drop(first);
    let mut second = JournalTail::open(dir.path(), &state).unwrap();
    got.extend(drain(&mut second, 1000, usize::MAX));
    assert_eq!(got.len(), 3000, "nothing lost, nothing twice");
    for venue in [Venue::Binance, Venue::Okx] {
        assert_eq!(seqs_of(&got, venue), seqs_of(&all, venue));
    }

    std::fs::write(&state, "binance 1 2 x\n").unwrap();
    let err = JournalTail::open(dir.path(), &state).err().unwrap();
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[test]
fn follows_a_live_writer() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("questdb.position");
    let mut journal = small_journal(dir.path());
    let mut tail = JournalTail::open(dir.path(), &state).unwrap();
    assert!(drain(&mut tail, 100, usize::MAX).is_empty());
    let mut expected = 0;
    for round in 0..5u64 {
        for seq in round * 20..(round + 1) * 20 {
            journal.append(&trade(Venue::Binance, seq)).unwrap();
        }
        journal.flush().unwrap();
        expected += 20;
        let got = drain(&mut tail, 7, usize::MAX);
        assert_eq!(
            seqs_of(&got, Venue::Binance),
            (round * 20..expected).collect::<Vec<_>>()
        );
    }
    journal.close().unwrap();
}

#[test]
fn the_sink_backfills_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("questdb.position");
    write(dir.path(), 0..500);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = ilp_server(listener, vec![]);
    let config = QuestDbConfig {
        conf: format!("http::addr={addr};protocol_version=3;retry_timeout=0;"),
        batch_rows: 64,
        flush_interval: Duration::from_millis(20),
        ..QuestDbConfig::default()
    };
    let names = |_: Venue, _: u32| Some("BTC-USDT".to_string());
    let run = |expected: u64| {
        let tail = JournalTail::open(dir.path(), &state).unwrap();
        let sink = QuestDbSink::start(config.clone(), tail, names).unwrap();
        let stats = sink.stats().clone();
        wait_until("rows sent", || {
            stats.rows_sent.load(Ordering::Relaxed) >= expected
        });
        sink.stop();
        assert_eq!(stats.rows_sent.load(Ordering::Relaxed), expected);
    };
    run(500);
    // tickd restarts; more trades were journaled meanwhile (a new writer session).
    write(dir.path(), 500..800);
    run(300);
    let rows = acknowledged_rows(&seen);
    let mut seqs: Vec<u64> = rows
        .iter()
        .map(|row| {
            let at = row.find("trade_id=\"").expect("trade row") + 10;
            row[at..].split('"').next().unwrap().parse().unwrap()
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..800).collect::<Vec<_>>(), "each trade sent once");
}
