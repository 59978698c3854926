//! Binance's book procedure end to end: the documented splice rules (table-driven), the
//! recorded `book_sync_sequence.jsonl` scenario, crossed books, per-instrument isolation,
//! and a property test against an independent reference book.

#[path = "binance_book_sync/prop.rs"]
mod prop;
#[path = "binance_book_sync/support.rs"]
mod support;

use support::*;
use tickd_bus::record::{BookAction, BookSide, StatusKind, StatusReason};
use tickd_bus::{Flags, Venue, LOST_UNKNOWN};
use tickd_normalizer::binance::{BinanceBookSync, BinanceMarket, SyncAction, SyncState};
use tickd_normalizer::book::BookReplay;

use BinanceMarket::{Spot, UsdmFutures as UsdM};
use SyncAction::{FetchSnapshot as Fetch, None as Nothing};

/// One input to the sync and the action it must answer.
#[derive(Debug, Clone)]
enum Step {
    /// `U`, `u`, `pu`, then the answer.
    Diff(u64, u64, Option<u64>, SyncAction),
    /// A snapshot with `lastUpdateId`, then the answer.
    Snap(u64, SyncAction),
    Failed(SyncAction),
    Disconnect,
}
use Step::*;

struct Case {
    name: &'static str,
    market: BinanceMarket,
    steps: Vec<Step>,
    state: SyncState,
    last_u: Option<u64>,
    /// (kind, reason, lost, detail) of every status, in order.
    statuses: Vec<(StatusKind, StatusReason, u64, u64)>,
    /// gaps, stale events dropped, buffered events skipped, snapshots refetched.
    counters: [u64; 4],
}

fn splice_cases() -> Vec<Case> {
    use StatusKind::{BookResync, Gap};
    use StatusReason::{ConnectionLost, SequenceGap};
    vec![
        Case {
            name: "spot: snapshot older than the first buffered U is fetched again",
            market: Spot,
            steps: vec![Diff(10, 12, None, Fetch), Snap(8, Fetch), Snap(11, Nothing)],
            state: SyncState::Synced,
            last_u: Some(12),
            statuses: vec![],
            counters: [0, 0, 0, 1],
        },
        Case {
            name: "spot: L < U is stale even at L = U - 1 (doc step 3, literal)",
            market: Spot,
            steps: vec![Diff(10, 12, None, Fetch), Snap(9, Fetch)],
            state: SyncState::AwaitingSnapshot,
            last_u: None,
            statuses: vec![],
            counters: [0, 0, 0, 1],
        },
        Case {
            name: "spot: covered events dropped, the straddling one applied, the rest follow",
            market: Spot,
            steps: vec![
                Diff(5, 7, None, Fetch),
                Diff(8, 10, None, Nothing),
                Diff(11, 13, None, Nothing),
                Snap(9, Nothing),
            ],
            state: SyncState::Synced,
            last_u: Some(13),
            statuses: vec![],
            counters: [0, 0, 1, 0],
        },
        Case {
            name: "spot: snapshot newer than the buffer, next live event bridges",
            market: Spot,
            steps: vec![
                Diff(5, 7, None, Fetch),
                Snap(20, Nothing),
                Diff(19, 21, None, Nothing),
            ],
            state: SyncState::Synced,
            last_u: Some(21),
            statuses: vec![],
            counters: [0, 0, 1, 0],
        },
        Case {
            name: "spot: snapshot newer than the buffer, next live event misses it",
            market: Spot,
            steps: vec![
                Diff(5, 7, None, Fetch),
                Snap(20, Nothing),
                Diff(23, 25, None, Fetch),
            ],
            state: SyncState::AwaitingSnapshot,
            last_u: None,
            statuses: vec![(Gap, SequenceGap, 2, 21), (BookResync, SequenceGap, 0, 20)],
            counters: [1, 0, 1, 0],
        },
        Case {
            name: "spot: live gap reports the lost count and the expected id",
            market: Spot,
            steps: vec![
                Diff(10, 12, None, Fetch),
                Snap(11, Nothing),
                Diff(16, 17, None, Fetch),
            ],
            state: SyncState::AwaitingSnapshot,
            last_u: None,
            statuses: vec![(Gap, SequenceGap, 3, 13), (BookResync, SequenceGap, 0, 12)],
            counters: [1, 0, 0, 0],
        },
        Case {
            name: "spot: duplicates are dropped without a gap, overlaps applied",
            market: Spot,
            steps: vec![
                Diff(10, 12, None, Fetch),
                Snap(11, Nothing),
                Diff(11, 12, None, Nothing),
                Diff(9, 10, None, Nothing),
                Diff(12, 14, None, Nothing),
            ],
            state: SyncState::Synced,
            last_u: Some(14),
            statuses: vec![],
            counters: [0, 2, 0, 0],
        },
        Case {
            name: "spot: a hole inside the buffer restarts it; old snapshot refetched",
            market: Spot,
            steps: vec![
                Diff(5, 7, None, Fetch),
                Diff(9, 10, None, Nothing),
                Snap(6, Fetch),
                Snap(9, Nothing),
            ],
            state: SyncState::Synced,
            last_u: Some(10),
            statuses: vec![],
            counters: [1, 0, 0, 1],
        },
        Case {
            name: "usdm: pu chain applies, a broken pu is a gap of unknown size",
            market: UsdM,
            steps: vec![
                Diff(100, 110, Some(90), Fetch),
                Snap(105, Nothing),
                Diff(120, 130, Some(110), Nothing),
                Diff(131, 140, Some(125), Fetch),
            ],
            state: SyncState::AwaitingSnapshot,
            last_u: None,
            statuses: vec![
                (Gap, SequenceGap, LOST_UNKNOWN, 130),
                (BookResync, SequenceGap, 0, 130),
            ],
            counters: [1, 0, 0, 0],
        },
        Case {
            name: "usdm: drops u < L but keeps the event ending at L (U <= L <= u)",
            market: UsdM,
            steps: vec![
                Diff(80, 89, None, Fetch),
                Diff(90, 100, Some(89), Nothing),
                Diff(101, 105, Some(100), Nothing),
                Snap(100, Nothing),
            ],
            state: SyncState::Synced,
            last_u: Some(105),
            statuses: vec![],
            counters: [0, 0, 1, 0],
        },
        Case {
            name: "usdm: pu == L is a valid direct continuation",
            market: UsdM,
            steps: vec![Diff(120, 130, Some(100), Fetch), Snap(100, Nothing)],
            state: SyncState::Synced,
            last_u: Some(130),
            statuses: vec![],
            counters: [0, 0, 0, 0],
        },
        Case {
            name: "usdm: snapshot that neither straddles nor links is fetched again",
            market: UsdM,
            steps: vec![
                Diff(120, 130, Some(110), Fetch),
                Snap(100, Fetch),
                Snap(125, Nothing),
            ],
            state: SyncState::Synced,
            last_u: Some(130),
            statuses: vec![],
            counters: [0, 0, 0, 1],
        },
        Case {
            name: "usdm: first event of a stream has pu = -1; duplicates dropped",
            market: UsdM,
            steps: vec![
                Diff(100, 110, None, Fetch),
                Snap(105, Nothing),
                Diff(100, 110, Some(95), Nothing),
                Diff(111, 115, Some(110), Nothing),
            ],
            state: SyncState::Synced,
            last_u: Some(115),
            statuses: vec![],
            counters: [0, 1, 0, 0],
        },
        Case {
            name: "failed snapshot is asked again; disconnect invalidates until a new diff",
            market: Spot,
            steps: vec![
                Diff(10, 12, None, Fetch),
                Failed(Fetch),
                Snap(11, Nothing),
                Disconnect,
                Snap(13, Nothing),
                Failed(Nothing),
                Diff(40, 41, None, Fetch),
                Snap(40, Nothing),
            ],
            state: SyncState::Synced,
            last_u: Some(41),
            statuses: vec![(BookResync, ConnectionLost, 0, 12)],
            counters: [0, 0, 0, 0],
        },
    ]
}

#[test]
fn documented_splice_rules() {
    for case in splice_cases() {
        let mut sync = BinanceBookSync::new(Venue::Binance, 1, case.market, 16);
        let mut out = Vec::new();
        for (i, step) in case.steps.iter().enumerate() {
            let (got, want) = match *step {
                Diff(first, last, prev, want) => {
                    let ev = Event::new(first, last, prev).bid("1.0", "1");
                    (sync.on_diff(&ev.diff(1), 0, &mut out), want)
                }
                Snap(id, want) => (
                    sync.on_snapshot(snapshot(id, &[("1.0", "2")], &[]), 0, &mut out),
                    want,
                ),
                Failed(want) => (sync.on_snapshot_failed(), want),
                Disconnect => {
                    sync.on_disconnect(0, &mut out);
                    continue;
                }
            };
            assert_eq!(got, want, "{}: step {i} {step:?}", case.name);
        }
        assert_eq!(sync.state(), case.state, "{}", case.name);
        assert_eq!(sync.last_update_id(), case.last_u, "{}", case.name);
        let s = sync.stats();
        let counters = [
            s.gaps,
            s.stale_events_dropped,
            s.buffered_events_skipped,
            s.snapshots_refetched,
        ];
        assert_eq!(counters, case.counters, "{}: {s:?}", case.name);
        let statuses: Vec<_> = decode(&out)
            .into_iter()
            .filter_map(|r| match r {
                Out::Status {
                    kind,
                    reason,
                    lost,
                    detail,
                } => Some((kind, reason, lost, detail)),
                _ => None,
            })
            .collect();
        assert_eq!(statuses, case.statuses, "{}", case.name);
        // Every record carries the instrument and leaves the sequence to the feed.
        assert!(out
            .iter()
            .all(|r| r.header().instrument_id == 1 && r.header().sequence == 0));
    }
}

#[test]
fn recorded_spot_sequence_splices_as_documented() {
    let (diffs, snap) = load_book_sync_sample();
    let mut sync = BinanceBookSync::new(Venue::Binance, 4, Spot, 100);
    let mut out = Vec::new();
    assert_eq!(sync.on_diff(&diffs[0].diff(4), 1, &mut out), Fetch);
    assert_eq!(sync.on_diff(&diffs[1].diff(4), 2, &mut out), Nothing);
    assert!(out.is_empty(), "nothing is published before the snapshot");
    assert_eq!(sync.on_snapshot(snap.clone(), 3, &mut out), Nothing);
    assert_eq!(sync.on_diff(&diffs[2].diff(4), 4, &mut out), Nothing);
    assert_eq!(sync.last_update_id(), Some(41603419));
    assert_eq!(
        sync.stats().buffered_events_skipped,
        1,
        "[41603407,41603413] dropped"
    );
    assert_eq!(
        sync.stats().events_applied,
        2,
        "[..414,..418] straddles, [..417,..419] overlaps"
    );

    let records = decode(&out);
    // Image: Clear + 5 bids + 3 asks, all SNAPSHOT, update id = lastUpdateId.
    let image = &records[..9];
    assert!(matches!(
        image[0],
        Out::Delta {
            action: BookAction::Clear,
            update_id: 41603417,
            ..
        }
    ));
    for (i, r) in image.iter().enumerate() {
        let Out::Delta {
            flags, update_id, ..
        } = r
        else {
            panic!("{r:?}")
        };
        assert!(flags.is_snapshot() && *update_id == 41603417);
        assert_eq!(flags.is_last(), i == 8);
    }
    // Then the derived BBO, then each event's changed levels only (the 2248 bid and 2253
    // ask were already at those sizes; 2257 was never held).
    let rest = &records[9..];
    assert_eq!(rest.len(), 3, "{rest:?}");
    assert!(matches!(
        rest[0],
        Out::Bbo {
            bid: Some(_),
            ask: Some(_),
            derived: true
        }
    ));
    assert_eq!(
        rest[1],
        Out::delta(
            BookSide::Bid,
            "0.00002246",
            "375",
            41603418,
            Flags::LAST,
            1_554_076_808_698_000_000
        )
    );
    assert_eq!(
        rest[2],
        Out::delta(
            BookSide::Ask,
            "0.00002262",
            "6080",
            41603419,
            Flags::LAST,
            1_554_076_809_699_000_000
        )
    );

    let bids = levels(&[
        ("0.00002248", "114"),
        ("0.00002246", "375"),
        ("0.00002245", "2673"),
        ("0.00002244", "390"),
        ("0.00002243", "3425"),
    ]);
    let asks = levels(&[
        ("0.00002253", "3945"),
        ("0.00002256", "50641"),
        ("0.00002258", "1777"),
        ("0.00002262", "6080"),
    ]);
    assert_eq!(sync.book().bids().collect::<Vec<_>>(), bids);
    assert_eq!(sync.book().asks().collect::<Vec<_>>(), asks);

    let mut replay = BookReplay::new();
    for r in &out {
        replay.apply_record(r).unwrap();
    }
    assert!(replay.is_valid());
    assert_eq!(replay.book(), sync.book());
}

#[test]
fn crossed_or_locked_book_resyncs_without_publishing_the_event() {
    let mut sync = BinanceBookSync::new(Venue::BinanceUsdm, 9, UsdM, 16);
    let mut out = Vec::new();
    let first = Event::new(100, 101, Some(99)).bid("10", "1").ask("11", "1");
    assert_eq!(sync.on_diff(&first.diff(9), 0, &mut out), Fetch);
    let snap = snapshot(100, &[("9", "1")], &[("12", "1")]);
    assert_eq!(sync.on_snapshot(snap, 0, &mut out), Nothing);
    out.clear();
    // Locks the book: bid at the best ask.
    let lock = Event::new(102, 103, Some(101)).bid("11", "2");
    assert_eq!(sync.on_diff(&lock.diff(9), 5, &mut out), Fetch);
    assert_eq!(
        decode(&out),
        vec![Out::Status {
            kind: StatusKind::BookResync,
            reason: StatusReason::CrossedBook,
            lost: 0,
            detail: 103
        }]
    );
    assert_eq!(
        (sync.state(), sync.stats().crossed),
        (SyncState::AwaitingSnapshot, 1)
    );

    // A crossed snapshot is never installed.
    let crossed = snapshot(103, &[("12", "1")], &[("11", "1")]);
    assert_eq!(sync.on_snapshot(crossed, 0, &mut out), Fetch);
    assert_eq!(
        (sync.state(), sync.stats().crossed),
        (SyncState::AwaitingSnapshot, 2)
    );
    let good = snapshot(104, &[("10", "1")], &[("11", "1")]);
    assert_eq!(sync.on_snapshot(good, 0, &mut out), Nothing);
    assert_eq!(sync.state(), SyncState::Synced);
}

#[test]
fn buffer_overflow_drops_the_oldest_and_a_stale_snapshot_is_refetched() {
    let mut sync = BinanceBookSync::new(Venue::Binance, 2, Spot, 3);
    let mut out = Vec::new();
    for (k, want) in [
        (1, Fetch),
        (2, Nothing),
        (3, Nothing),
        (4, Nothing),
        (5, Nothing),
    ] {
        let ev = Event::new(k * 10, k * 10 + 9, None).bid("1", "1");
        assert_eq!(sync.on_diff(&ev.diff(2), 0, &mut out), want);
    }
    assert_eq!(sync.stats().buffer_overflows, 2);
    // The snapshot in flight predates the oldest event kept (U = 30): fetch again.
    assert_eq!(sync.on_snapshot(snapshot(25, &[], &[]), 0, &mut out), Fetch);
    assert_eq!(
        sync.on_snapshot(snapshot(35, &[], &[]), 0, &mut out),
        Nothing
    );
    assert_eq!(sync.last_update_id(), Some(59));
}

#[test]
fn malformed_event_resyncs() {
    let mut sync = BinanceBookSync::new(Venue::Binance, 2, Spot, 8);
    let mut out = Vec::new();
    assert_eq!(
        sync.on_diff(&Event::new(10, 12, None).diff(2), 0, &mut out),
        Fetch
    );
    assert_eq!(
        sync.on_snapshot(snapshot(11, &[("1", "1")], &[]), 0, &mut out),
        Nothing
    );
    out.clear();
    let backwards = Event::new(14, 13, None);
    assert_eq!(sync.on_diff(&backwards.diff(2), 0, &mut out), Nothing);
    let kinds: Vec<_> = decode(&out)
        .into_iter()
        .map(|r| match r {
            Out::Status { kind, reason, .. } => (kind, reason),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (StatusKind::Gap, StatusReason::MalformedFrame),
            (StatusKind::BookResync, StatusReason::MalformedFrame)
        ]
    );
    assert_eq!(sync.stats().malformed_events, 1);
    assert_eq!(
        sync.on_diff(&Event::new(13, 14, None).diff(2), 0, &mut out),
        Fetch
    );
    // A snapshot with a negative size is never installed.
    let mut bad = snapshot(13, &[("1", "1")], &[]);
    bad.asks.push(level("2", "-1"));
    assert_eq!(sync.on_snapshot(bad, 0, &mut out), Fetch);
    assert_eq!(
        (sync.stats().malformed_snapshots, sync.state()),
        (1, SyncState::AwaitingSnapshot)
    );
    assert_eq!(
        sync.on_snapshot(snapshot(13, &[("1", "1")], &[]), 0, &mut out),
        Nothing
    );
    assert_eq!(sync.state(), SyncState::Synced);
}

#[test]
fn a_gap_in_one_instrument_leaves_the_other_untouched() {
    // The same interleaved traffic twice, once with instrument 1 losing an event; the
    // shared output filtered to instrument 2 must be byte-identical.
    let run = |lose_one: bool| {
        let mut a = BinanceBookSync::new(Venue::Binance, 1, Spot, 16);
        let mut b = BinanceBookSync::new(Venue::Binance, 2, Spot, 16);
        let mut out = Vec::new();
        let _ = a.on_diff(&Event::new(1, 1, None).bid("5", "1").diff(1), 0, &mut out);
        let _ = b.on_diff(&Event::new(1, 1, None).ask("7", "1").diff(2), 0, &mut out);
        let _ = a.on_snapshot(snapshot(1, &[], &[("6", "1")]), 0, &mut out);
        let _ = b.on_snapshot(snapshot(1, &[("6", "1")], &[]), 0, &mut out);
        for k in 2..20u64 {
            let size = format!("{k}");
            if !(lose_one && k == 7) {
                let _ = a.on_diff(&Event::new(k, k, None).bid("5", &size).diff(1), k, &mut out);
            }
            let _ = b.on_diff(&Event::new(k, k, None).ask("7", &size).diff(2), k, &mut out);
        }
        assert_eq!(b.state(), SyncState::Synced);
        assert_eq!(a.state() == SyncState::Synced, !lose_one);
        let mine: Vec<Vec<u8>> = out
            .iter()
            .filter(|r| r.header().instrument_id == 2)
            .map(|r| r.as_bytes().to_vec())
            .collect();
        let gaps = out
            .iter()
            .filter(|r| r.header().rtype == tickd_bus::RecordType::Status as u8)
            .count();
        (mine, gaps)
    };
    let (clean, clean_statuses) = run(false);
    let (gapped, gapped_statuses) = run(true);
    assert_eq!(clean_statuses, 0);
    assert_eq!(gapped_statuses, 2, "Gap + BookResync for instrument 1 only");
    assert_eq!(clean, gapped);
}

#[test]
fn snapshot_image_of_an_empty_book_is_one_clear() {
    let mut sync = BinanceBookSync::new(Venue::Binance, 3, Spot, 4);
    let mut out = Vec::new();
    let _ = sync.on_diff(&Event::new(5, 6, None).diff(3), 0, &mut out);
    let _ = sync.on_snapshot(snapshot(5, &[], &[]), 0, &mut out);
    let records = decode(&out);
    assert!(matches!(
        records[0],
        Out::Delta { action: BookAction::Clear, flags: Flags(f), update_id: 5, .. } if f == (Flags::SNAPSHOT | Flags::LAST).0
    ));
    assert!(matches!(
        records[1],
        Out::Bbo {
            bid: None,
            ask: None,
            derived: true
        }
    ));
    assert_eq!(
        records.len(),
        2,
        "the applied event changed nothing: no deltas"
    );
}
