//! `orderbook.full` (`bybit.md` §6.2): deltas with no image, spliced onto REST
//! `/v5/market/full_orderbook` by `seq` and linked by `u`. The real
//! `samples/bybit/book.jsonl` deltas (the same data shape; §6.2 ships no sample of
//! its own) decoded as `orderbook.full`, spliced onto an image built from an
//! independent reference, rebuild that reference after every event; then every
//! branch of the procedure through the generic book sync.

mod bybit_common;

use bybit_common::reference::{text, Reference};
use bybit_common::*;
use tickd_bus::record::{BookDeltaMsg, StatusKind, StatusMsg, StatusReason};
use tickd_bus::{RecordBuf, Venue};
use tickd_normalizer::bybit::{decode_rest_book, BybitRule};
use tickd_normalizer::engine::{
    BookEvent, BookSnapshot, BookSync, Frame, FrameDecoder, RestEvent, RestKind, SyncAction,
    SyncState, VenueEvent,
};
use tickd_normalizer::Level;

/// The `full_orderbook` body of the reference's book.
fn rest_body(r: &Reference) -> String {
    let side = |levels: Vec<(&i128, &i128)>| {
        levels
            .into_iter()
            .map(|(p, s)| format!(r#"["{}","{}"]"#, text(*p), text(*s)))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"retCode":0,"retMsg":"OK","result":{{"s":"XRPUSDT","b":[{}],"a":[{}],"ts":1733011200999,"u":{},"seq":{},"cts":1733011200998}},"retExtInfo":{{}},"time":1733011201000}}"#,
        side(r.bids.iter().rev().collect()),
        side(r.asks.iter().collect()),
        r.u,
        r.seq
    )
}

/// The sync's book is the reference's, at its `u`.
fn assert_synced_to(r: &Reference, sync: &BookSync<BybitRule>, at: &str) {
    r.assert_equals(sync.book(), at);
    assert_eq!(sync.last_update_id(), Some(r.u), "{at}");
}

/// The sample's line as an `orderbook.full` frame.
fn as_full(line: &str) -> String {
    line.replace("orderbook.500.", "orderbook.full.")
}

#[test]
fn the_sample_deltas_spliced_onto_a_rest_image_rebuild_the_reference() {
    let lines = sample("book.jsonl");
    let mut decoder = decoder();
    let id = id("XRPUSDT");
    let mut sync = BookSync::new(Venue::Bybit, id, BybitRule::FullBook, 64);
    let mut out: Vec<RecordBuf> = Vec::new();
    let mut references = Vec::new();
    let mut reference = Reference::default();
    for line in &lines {
        reference.apply(line);
        references.push(reference.clone());
    }
    let mut feed = |i: usize, sync: &mut BookSync<BybitRule>, out: &mut Vec<RecordBuf>| {
        let frame = as_full(&lines[i]);
        let VenueEvent::Book(ev) = decoder
            .decode(Frame::Text(frame.as_bytes()), TS_RECV, out)
            .unwrap()
        else {
            panic!("line {i}: not a book event")
        };
        assert!(!ev.snapshot, "line {i}");
        sync.on_event(&ev, TS_RECV, out)
    };
    // Deltas 1..=8 are buffered; the first asks for the image.
    assert_eq!(feed(1, &mut sync, &mut out), SyncAction::FetchSnapshot);
    for i in 2..=8 {
        assert_eq!(feed(i, &mut sync, &mut out), SyncAction::None, "line {i}");
    }
    assert!(out.is_empty(), "nothing is published before the image");
    let rest = |r: &Reference| {
        let snapshot = decode_rest_book(rest_body(r).as_bytes()).unwrap();
        assert_eq!(
            (snapshot.last_update_id, snapshot.record_id),
            (r.u, Some(r.seq))
        );
        snapshot
    };
    // The image before the first buffered delta cannot be placed: fetched again.
    assert_eq!(
        sync.on_snapshot(rest(&references[0]), TS_RECV, &mut out),
        SyncAction::FetchSnapshot
    );
    assert_eq!(sync.stats().snapshots_refetched, 1);
    // The image at delta 5: 1..=4 are in it, 5 is it, 6..=8 apply on top.
    assert_eq!(
        sync.on_snapshot(rest(&references[5]), TS_RECV, &mut out),
        SyncAction::None
    );
    assert_eq!(sync.state(), SyncState::Synced);
    assert_eq!(sync.stats().buffered_events_skipped, 5);
    assert_synced_to(&references[8], &sync, "after the splice");
    for (i, reference) in references.iter().enumerate().skip(9) {
        let published = out.len();
        assert_eq!(feed(i, &mut sync, &mut out), SyncAction::None, "line {i}");
        assert_synced_to(reference, &sync, &format!("after line {i}"));
        // The records carry `seq`.
        assert!(out[published..]
            .iter()
            .filter_map(|r| r.get::<BookDeltaMsg>())
            .all(|d| d.update_id == reference.seq));
    }
    assert_eq!(sync.stats().gaps, 0);
}

fn delta(u: u64, seq: u64, bids: &[Level]) -> BookEvent<'_> {
    BookEvent {
        instrument_id: 7,
        snapshot: false,
        first: u,
        last: u,
        prev: None,
        checksum: None,
        record_id: Some(seq),
        ts_event: 0,
        bids,
        asks: &[],
    }
}

fn image(u: u64, seq: Option<u64>) -> BookSnapshot {
    BookSnapshot {
        last_update_id: u,
        record_id: seq,
        ts_event: 0,
        bids: vec![lv("10", "1")],
        asks: vec![lv("20", "1")],
    }
}

fn statuses(out: &[RecordBuf]) -> Vec<(u8, u16)> {
    out.iter()
        .filter_map(|r| r.get::<StatusMsg>())
        .map(|s| (s.kind, s.reason))
        .collect()
}

fn synced_at(u: u64, seq: u64) -> (BookSync<BybitRule>, Vec<RecordBuf>) {
    let mut sync = BookSync::new(Venue::Bybit, 7, BybitRule::FullBook, 64);
    let mut out = Vec::new();
    assert_eq!(
        sync.on_event(&delta(u, seq, &[]), 0, &mut out),
        SyncAction::FetchSnapshot
    );
    assert_eq!(
        sync.on_snapshot(image(u, Some(seq)), 0, &mut out),
        SyncAction::None
    );
    assert_eq!(sync.last_update_id(), Some(u));
    (sync, out)
}

#[test]
fn buffering_drops_a_seq_that_went_back_and_restarts_on_a_u_jump() {
    let mut sync = BookSync::new(Venue::Bybit, 7, BybitRule::FullBook, 64);
    let mut out = Vec::new();
    assert_eq!(
        sync.on_event(&delta(10, 100, &[]), 0, &mut out),
        SyncAction::FetchSnapshot
    );
    // An older delta again: dropped, the chain still ends at 10.
    assert_eq!(
        sync.on_event(&delta(9, 90, &[]), 0, &mut out),
        SyncAction::None
    );
    assert_eq!(sync.stats().stale_events_dropped, 1);
    // 11 lost: the buffer restarts at 12, so an image at 10 is now too old.
    assert_eq!(
        sync.on_event(&delta(12, 120, &[]), 0, &mut out),
        SyncAction::None
    );
    assert_eq!(sync.stats().gaps, 1);
    assert_eq!(
        sync.on_snapshot(image(10, Some(100)), 0, &mut out),
        SyncAction::FetchSnapshot
    );
    assert_eq!(
        sync.on_snapshot(image(12, Some(120)), 0, &mut out),
        SyncAction::None
    );
    assert_eq!(sync.last_update_id(), Some(12));
}

#[test]
fn the_delta_at_the_images_seq_must_be_at_its_u() {
    let mut sync = BookSync::new(Venue::Bybit, 7, BybitRule::FullBook, 64);
    let mut out = Vec::new();
    let _ = sync.on_event(&delta(10, 100, &[]), 0, &mut out);
    let _ = sync.on_event(&delta(11, 110, &[]), 0, &mut out);
    // seq 110 is u 11, not 12: the ids disagree, fetch again.
    assert_eq!(
        sync.on_snapshot(image(12, Some(110)), 0, &mut out),
        SyncAction::FetchSnapshot
    );
    // An image without seq cannot be placed either.
    assert_eq!(
        sync.on_snapshot(image(11, None), 0, &mut out),
        SyncAction::FetchSnapshot
    );
    assert_eq!(sync.stats().snapshots_refetched, 2);
    assert_eq!(sync.state(), SyncState::AwaitingSnapshot);
    // An image ahead of everything buffered: installed at its u; the stream then
    // continues from it, older deltas ignored.
    assert_eq!(
        sync.on_snapshot(image(14, Some(140)), 0, &mut out),
        SyncAction::None
    );
    assert_eq!(sync.stats().buffered_events_skipped, 2);
    assert_eq!(
        sync.on_event(&delta(13, 130, &[]), 0, &mut out),
        SyncAction::None
    );
    assert_eq!(sync.stats().stale_events_dropped, 1);
    let bid = [lv("11", "2")];
    assert_eq!(
        sync.on_event(&delta(15, 150, &bid), 0, &mut out),
        SyncAction::None
    );
    assert_eq!(sync.last_update_id(), Some(15));
    assert_eq!(sync.book().bid_len(), 2);
}

#[test]
fn a_skipped_u_or_a_restart_fetches_the_image_again() {
    for (next, lost) in [(23, 2), (1, tickd_bus::LOST_UNKNOWN)] {
        let (mut sync, mut out) = synced_at(20, 200);
        out.clear();
        assert_eq!(
            sync.on_event(&delta(next, 990, &[]), 0, &mut out),
            SyncAction::FetchSnapshot,
            "u {next}"
        );
        assert_eq!(sync.state(), SyncState::AwaitingSnapshot);
        assert_eq!(
            statuses(&out),
            [
                (StatusKind::Gap as u8, StatusReason::SequenceGap as u16),
                (
                    StatusKind::BookResync as u8,
                    StatusReason::SequenceGap as u16
                )
            ],
            "u {next}"
        );
        let gap = out.iter().find_map(|r| r.get::<StatusMsg>()).unwrap();
        assert_eq!((gap.lost, gap.detail), (lost, 21), "u {next}");
        // The delta after the hole starts the new buffer: an image at it splices.
        assert_eq!(
            sync.on_snapshot(image(next, Some(990)), 0, &mut out),
            SyncAction::None
        );
        assert_eq!(sync.last_update_id(), Some(next));
    }
}

#[test]
fn the_rest_body_decodes_through_the_frame_decoder() {
    let mut reference = Reference::default();
    reference.apply(&sample("book.jsonl")[0]);
    let mut out: Vec<RecordBuf> = Vec::new();
    let kind = RestKind::BookSnapshot { instrument_id: 4 };
    let RestEvent::Snapshot(snapshot) = decoder()
        .decode_rest(kind, rest_body(&reference).as_bytes(), TS_RECV, &mut out)
        .unwrap()
    else {
        panic!("not a snapshot")
    };
    assert_eq!(snapshot.last_update_id, 20254869);
    assert_eq!(snapshot.record_id, Some(reference.seq));
    assert_eq!((snapshot.bids.len(), snapshot.asks.len()), (500, 500));
    assert!(
        snapshot.bids[0].price > snapshot.bids[1].price,
        "best first"
    );
}
