//! Property: a simulated venue emits a random depth stream (random levels, lost and
//! duplicated events, late, stale and failed snapshots, disconnects). Whenever the sync
//! says Synced, its book equals the venue's true book at `last_update_id` (kept as an
//! independent `BTreeMap`), and replaying everything it published through
//! `BookReplay` rebuilds exactly that book.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tickd_bus::{Price, Size, Venue};
use tickd_normalizer::binance::{
    BinanceBookSync, BinanceMarket, DepthSnapshot, SyncAction, SyncState,
};
use tickd_normalizer::book::{BookReplay, L2Book};
use tickd_normalizer::Level;

use super::support::Event;

/// (side: 0 bid / 1 ask, price raw) → size raw.
type RefBook = BTreeMap<(u8, i128), i128>;

#[derive(Debug, Clone, Copy)]
enum Fate {
    Deliver,
    Lose,
    Duplicate,
}

#[derive(Debug, Clone)]
enum Op {
    /// Level changes `(is_bid, price index, size)`, how many ids the event spans, the id
    /// jump before it (futures only), and what the network does with it.
    Event {
        changes: Vec<(bool, u8, u8)>,
        span: u8,
        jump: u8,
        fate: Fate,
    },
    /// Answer the outstanding snapshot request with the book from `lag` events ago, or fail.
    Respond {
        lag: u8,
        fail: bool,
    },
    Disconnect,
}

fn op() -> impl Strategy<Value = Op> {
    let fate =
        prop_oneof![8 => Just(Fate::Deliver), 1 => Just(Fate::Lose), 1 => Just(Fate::Duplicate)];
    prop_oneof![
        12 => (prop::collection::vec((any::<bool>(), 0u8..12, 0u8..4), 0..6), 1u8..4, 1u8..5, fate)
            .prop_map(|(changes, span, jump, fate)| Op::Event { changes, span, jump, fate }),
        4 => (0u8..4, prop::bool::weighted(0.15)).prop_map(|(lag, fail)| Op::Respond { lag, fail }),
        1 => Just(Op::Disconnect),
    ]
}

/// Bids live at prices 1..=12, asks at 21..=32: the true book is never crossed.
fn price_of(is_bid: bool, index: u8) -> Price {
    let base = if is_bid { 1 } else { 21 };
    Price::from_int(base + i64::from(index)).unwrap()
}

fn to_ref(book: &L2Book) -> RefBook {
    let bids = book.bids().map(|l| ((0u8, l.price.raw()), l.size.raw()));
    let asks = book.asks().map(|l| ((1u8, l.price.raw()), l.size.raw()));
    bids.chain(asks).collect()
}

fn snapshot_of(id: u64, book: &RefBook) -> DepthSnapshot {
    let side = |s: u8| -> Vec<Level> {
        book.iter()
            .filter(|((side, _), _)| *side == s)
            .map(|(&(_, p), &q)| Level::new(Price::from_raw(p), Size::from_raw(q)))
            .collect()
    };
    DepthSnapshot {
        last_update_id: id,
        record_id: None,
        ts_event: 0,
        bids: side(0),
        asks: side(1),
    }
}

/// Returns how many steps ended synced.
fn run(market: BinanceMarket, ops: &[Op]) -> Result<usize, TestCaseError> {
    let mut sync = BinanceBookSync::new(Venue::Binance, 1, market, 8);
    let mut replay = BookReplay::new();
    let mut truth = RefBook::new();
    let mut history: Vec<(u64, RefBook)> = vec![(1000, truth.clone())];
    let mut last_u = 1000u64;
    let mut prev_on_stream: Option<u64> = None;
    let mut outstanding = false;
    let mut out = Vec::new();
    let mut synced_steps = 0;

    for op in ops {
        let mut actions = Vec::new();
        match op {
            Op::Event {
                changes,
                span,
                jump,
                fate,
            } => {
                let first = match market {
                    BinanceMarket::Spot => last_u + 1,
                    BinanceMarket::UsdmFutures => last_u + u64::from(*jump),
                };
                let last = first + u64::from(*span) - 1;
                let mut ev = Event::new(first, last, prev_on_stream);
                for &(is_bid, index, size) in changes {
                    let price = price_of(is_bid, index);
                    let size = Size::from_int(i64::from(size)).unwrap();
                    let key = (u8::from(!is_bid), price.raw());
                    if size.is_zero() {
                        truth.remove(&key);
                    } else {
                        truth.insert(key, size.raw());
                    }
                    let level = Level::new(price, size);
                    if is_bid {
                        ev.bids.push(level)
                    } else {
                        ev.asks.push(level)
                    }
                }
                last_u = last;
                prev_on_stream = Some(last);
                history.push((last, truth.clone()));
                let copies = match fate {
                    Fate::Deliver => 1,
                    Fate::Lose => 0,
                    Fate::Duplicate => 2,
                };
                for _ in 0..copies {
                    actions.push(sync.on_diff(&ev.diff(1), 0, &mut out));
                }
            }
            Op::Respond { lag, fail } => {
                if outstanding {
                    outstanding = false;
                    if *fail {
                        actions.push(sync.on_snapshot_failed());
                    } else {
                        let at = history.len().saturating_sub(1 + usize::from(*lag));
                        let (id, book) = &history[at];
                        actions.push(sync.on_snapshot(snapshot_of(*id, book), 0, &mut out));
                    }
                }
            }
            Op::Disconnect => {
                sync.on_disconnect(0, &mut out);
                outstanding = false;
                // A new connection's first futures event carries `pu = -1`.
                prev_on_stream = None;
            }
        }
        for action in actions {
            if action == SyncAction::FetchSnapshot {
                prop_assert!(!outstanding, "asked twice for one snapshot");
                outstanding = true;
            }
        }
        for record in out.drain(..) {
            prop_assert!(replay.apply_record(&record).is_ok());
        }
        let synced = sync.state() == SyncState::Synced;
        prop_assert_eq!(replay.is_valid(), synced);
        if synced {
            synced_steps += 1;
            let u = sync.last_update_id().unwrap();
            let expected = history
                .iter()
                .rev()
                .find(|(id, _)| *id == u)
                .map(|(_, b)| b);
            prop_assert!(
                expected.is_some(),
                "synced at an id the venue never had: {}",
                u
            );
            prop_assert_eq!(&to_ref(sync.book()), expected.unwrap());
            prop_assert_eq!(replay.book(), sync.book());
        }
    }
    Ok(synced_steps)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn spot_book_matches_reference_whenever_synced(ops in prop::collection::vec(op(), 1..80)) {
        run(BinanceMarket::Spot, &ops)?;
    }

    #[test]
    fn usdm_book_matches_reference_whenever_synced(ops in prop::collection::vec(op(), 1..80)) {
        run(BinanceMarket::UsdmFutures, &ops)?;
    }
}

/// The property is not vacuous: a fault-free stream with a prompt snapshot syncs.
#[test]
fn fault_free_stream_syncs() {
    let deliver = |i: u8| Op::Event {
        changes: vec![(i.is_multiple_of(2), i % 12, i % 4)],
        span: 2,
        jump: 3,
        fate: Fate::Deliver,
    };
    for market in [BinanceMarket::Spot, BinanceMarket::UsdmFutures] {
        let ops: Vec<Op> = (0..3)
            .map(deliver)
            .chain([Op::Respond {
                lag: 1,
                fail: false,
            }])
            .chain((3..9).map(deliver))
            .collect();
        assert_eq!(
            run(market, &ops).unwrap(),
            7,
            "{market:?}: synced from the snapshot on"
        );
    }
}
