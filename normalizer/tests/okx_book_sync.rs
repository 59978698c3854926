//! OKX books kept by the engine's generic `BookSync` with `OkxRule`, fed through the
//! engine's `FrameDecoder`: real snapshot + update whose checksums verify, a flipped
//! checksum or a skipped `seqId` resyncing only that instrument (gap + resync
//! statuses, then `Resubscribe`), keep-alive updates and `seqId` resets continuing,
//! and the REST splice when a stream starts with an update.

mod okx_common;

use okx_common::*;
use tickd_bus::record::{BookDeltaMsg, StatusKind, StatusMsg, StatusReason};
use tickd_bus::{RecordBuf, RecordType, Venue};
use tickd_normalizer::engine::{
    Frame, FrameDecoder, RestEvent, RestKind, SyncAction, SyncState, VenueEvent,
};
use tickd_normalizer::okx::{OkxBookSync, OkxDecoder, OkxRule};

fn sync(inst_id: &str) -> OkxBookSync {
    OkxBookSync::new(Venue::Okx, id(inst_id), OkxRule, 1024)
}

/// Decode `line` as the engine does and hand its book event to `book`.
fn feed(
    d: &mut OkxDecoder,
    book: &mut OkxBookSync,
    line: &str,
    out: &mut Vec<RecordBuf>,
) -> SyncAction {
    let mut sink = Vec::new();
    match FrameDecoder::decode(d, Frame::Text(line.as_bytes()), TS_RECV, &mut sink) {
        Ok(VenueEvent::Book(ev)) => book.on_event(&ev, TS_RECV, out),
        other => panic!("{line}: {other:?}"),
    }
}

fn statuses(out: &[RecordBuf]) -> Vec<(StatusKind, StatusReason)> {
    out.iter()
        .filter_map(|r| r.get::<StatusMsg>())
        .map(|s| (s.kind().unwrap(), s.reason().unwrap()))
        .collect()
}

fn deltas(out: &[RecordBuf]) -> usize {
    out.iter()
        .filter(|r| r.header().record_type() == Some(RecordType::BookDelta))
        .count()
}

#[test]
fn real_snapshot_and_update_with_checksums() {
    let lines = sample("book_sequence_okcoin_v5.jsonl");
    let (mut d, mut book, mut out) = (decoder(), sync("BTC-USD"), Vec::new());
    assert_eq!(
        feed(&mut d, &mut book, &lines[0], &mut out),
        SyncAction::None
    );
    assert_eq!(book.state(), SyncState::Synced);
    assert_eq!(deltas(&out), 1 + 266 + 127, "clear + every level");
    out.clear();
    assert_eq!(
        feed(&mut d, &mut book, &lines[1], &mut out),
        SyncAction::None
    );
    assert_eq!(statuses(&out), []);
    let delta = out.iter().find_map(|r| r.get::<BookDeltaMsg>()).unwrap();
    assert_eq!((delta.price, delta.size), (p("30382.6"), q("0")));
    assert_eq!(book.stats().checksum_failures, 0);
}

#[test]
fn a_wrong_checksum_resubscribes_that_instrument() {
    let lines = sample("book_sequence_okcoin_v5.jsonl");
    let (mut d, mut book, mut out) = (decoder(), sync("BTC-USD"), Vec::new());
    let _ = feed(&mut d, &mut book, &lines[0], &mut out);
    out.clear();
    let bad = lines[1].replace("1109161389", "1109161388");
    assert_eq!(
        feed(&mut d, &mut book, &bad, &mut out),
        SyncAction::Resubscribe
    );
    assert_eq!(
        statuses(&out),
        [
            (StatusKind::Gap, StatusReason::ChecksumMismatch),
            (StatusKind::BookResync, StatusReason::ChecksumMismatch)
        ]
    );
    assert_eq!(book.state(), SyncState::AwaitingSnapshot);
    // The snapshot the resubscription brings syncs it again.
    out.clear();
    assert_eq!(
        feed(&mut d, &mut book, &lines[0], &mut out),
        SyncAction::None
    );
    assert_eq!(book.state(), SyncState::Synced);
}

/// `books` frames for XRP-JPY with checksum 0 (as OKX sends since 2026-06-23).
fn xrp(action: &str, prev: i64, seq: u64, asks: &str) -> String {
    format!(
        r#"{{"arg":{{"channel":"books","instId":"XRP-JPY"}},"action":"{action}","data":[{{"asks":[{asks}],"bids":[["251.87","601.749","0","1"]],"ts":"1790133750004","checksum":0,"seqId":{seq},"prevSeqId":{prev}}}]}}"#
    )
}

#[test]
fn gaps_resync_only_the_gapped_instrument_and_heartbeats_and_resets_continue() {
    let mut d = decoder();
    let (mut xrp_book, mut btc_book, mut out) = (sync("XRP-JPY"), sync("BTC-USD"), Vec::new());
    let okcoin = sample("book_sequence_okcoin_v5.jsonl");
    let _ = feed(&mut d, &mut btc_book, &okcoin[0], &mut out);
    let _ = feed(
        &mut d,
        &mut xrp_book,
        &xrp("snapshot", -1, 4588907, r#"["252.52","1909.156","0","2"]"#),
        &mut out,
    );
    out.clear();
    for line in [
        // Ids jump by more than one.
        xrp("update", 4588907, 4588911, r#"["252.54","32.4","0","1"]"#),
        // A keep-alive: no levels, seqId == prevSeqId.
        xrp("update", 4588911, 4588911, "")
            .replace(r#""bids":[["251.87","601.749","0","1"]]"#, r#""bids":[]"#),
        // Maintenance reset: seqId goes down, prevSeqId links.
        xrp("update", 4588911, 12, r#"["252.6","1","0","1"]"#),
    ] {
        assert_eq!(
            feed(&mut d, &mut xrp_book, &line, &mut out),
            SyncAction::None,
            "{line}"
        );
    }
    assert_eq!(statuses(&out), []);
    assert_eq!(xrp_book.last_update_id(), Some(12));
    // A skipped update: gap + resync for XRP-JPY only.
    let action = feed(
        &mut d,
        &mut xrp_book,
        &xrp("update", 20, 25, r#"["252.7","1","0","1"]"#),
        &mut out,
    );
    assert_eq!(action, SyncAction::Resubscribe);
    assert_eq!(
        statuses(&out),
        [
            (StatusKind::Gap, StatusReason::SequenceGap),
            (StatusKind::BookResync, StatusReason::SequenceGap)
        ]
    );
    assert!(out
        .iter()
        .filter_map(|r| r.get::<StatusMsg>())
        .all(|s| s.hd.instrument_id == id("XRP-JPY")));
    assert_eq!(
        btc_book.state(),
        SyncState::Synced,
        "the other instrument never notices"
    );
}

#[test]
fn a_stream_without_a_snapshot_splices_a_rest_book() {
    let mut d = decoder();
    let (mut book, mut out) = (sync("XRP-JPY"), Vec::new());
    // The first message is an update: buffer it and ask for a REST snapshot.
    let first = xrp("update", 100, 104, r#"["252.54","32.4","0","1"]"#);
    assert_eq!(
        feed(&mut d, &mut book, &first, &mut out),
        SyncAction::FetchSnapshot
    );
    assert_eq!(
        feed(
            &mut d,
            &mut book,
            &xrp("update", 104, 107, r#"["252.55","1","0","1"]"#),
            &mut out
        ),
        SyncAction::None
    );
    // `GET /api/v5/market/books` at seqId 104: the first update is covered.
    let body = r#"{"code":"0","msg":"","data":[{"asks":[["252.52","1909.156","0","2"],["252.54","32.4","0","1"]],"bids":[["251.87","601.749","0","1"]],"ts":"1790133750004","seqId":104}]}"#;
    let mut sink = Vec::new();
    let RestEvent::Snapshot(snapshot) = d
        .decode_rest(
            RestKind::BookSnapshot {
                instrument_id: id("XRP-JPY"),
            },
            body.as_bytes(),
            TS_RECV,
            &mut sink,
        )
        .unwrap()
    else {
        panic!("not a snapshot")
    };
    assert_eq!(
        book.on_snapshot(snapshot, TS_RECV, &mut out),
        SyncAction::None
    );
    assert_eq!(book.state(), SyncState::Synced);
    assert_eq!(book.last_update_id(), Some(107));
    assert_eq!(book.book().asks().count(), 3);
    assert_eq!(book.stats().buffered_events_skipped, 1);
}

#[test]
fn a_rest_snapshot_older_than_the_stream_is_fetched_again() {
    let mut d = decoder();
    let (mut book, mut out) = (sync("XRP-JPY"), Vec::new());
    let first = xrp("update", 100, 104, r#"["252.54","32.4","0","1"]"#);
    assert_eq!(
        feed(&mut d, &mut book, &first, &mut out),
        SyncAction::FetchSnapshot
    );
    let body = r#"{"code":"0","msg":"","data":[{"asks":[["252.52","1","0","2"]],"bids":[["251.87","1","0","1"]],"ts":"1790133750004","seqId":90}]}"#;
    let mut sink = Vec::new();
    let RestEvent::Snapshot(snapshot) = d
        .decode_rest(
            RestKind::BookSnapshot {
                instrument_id: id("XRP-JPY"),
            },
            body.as_bytes(),
            TS_RECV,
            &mut sink,
        )
        .unwrap()
    else {
        panic!("not a snapshot")
    };
    assert_eq!(
        book.on_snapshot(snapshot, TS_RECV, &mut out),
        SyncAction::FetchSnapshot
    );
    assert_eq!(book.state(), SyncState::AwaitingSnapshot);
}

#[test]
fn engine_events_for_control_frames() {
    let mut d = decoder();
    let mut sink = Vec::new();
    let mut event = |line: &str| {
        format!(
            "{:?}",
            FrameDecoder::decode(&mut d, Frame::Text(line.as_bytes()), TS_RECV, &mut sink).unwrap()
        )
    };
    assert_eq!(event("pong"), "Pong");
    assert_eq!(
        event(r#"{"event":"notice","code":"64008","msg":"x","connId":"1"}"#),
        "Notice(Reconnect { ts_event: 0 })"
    );
    assert_eq!(
        event(r#"{"id":"7","event":"error","code":"60018","msg":"Wrong URL","connId":"1"}"#),
        r#"Reply(Rejected { id: Some(7), code: 60018, msg: "Wrong URL" })"#
    );
    assert_eq!(
        event(r#"{"event":"subscribe","arg":{"channel":"books","instId":"XRP-JPY"},"connId":"1"}"#),
        "Reply(Ack { id: None })"
    );
    let mut d = decoder();
    assert!(
        FrameDecoder::decode(&mut d, Frame::Binary(b"pong"), TS_RECV, &mut Vec::new()).is_err()
    );
}
