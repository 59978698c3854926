//! OKX books from the samples: real snapshots and updates whose checksums verify
//! after being applied to an L2 book (and fail with one digit flipped), the
//! unverifiable (trimmed) captures that must not verify, and the real XRP-JPY
//! `seqId`/`prevSeqId` pair. Plus the instruments bodies. The book sync with OKX's
//! rule is in `okx_book_sync.rs`.

mod okx_common;

use okx_common::*;
use tickd_bus::instrument::{ContractType, Date, InstrumentKind};
use tickd_bus::record::BookSide;
use tickd_normalizer::book::L2Book;
use tickd_normalizer::okx::checksum::verify;
use tickd_normalizer::okx::instruments::decode_instruments;
use tickd_normalizer::okx::BookChannel;

/// Apply a decoded book message as the book sync will: a snapshot replaces, an
/// update sets each level by price (size 0 deletes).
fn apply(book: &mut L2Book, msg: &Book) {
    if msg.snapshot {
        book.replace(msg.bids.iter().copied(), msg.asks.iter().copied());
        return;
    }
    for l in &msg.bids {
        book.apply(BookSide::Bid, l.price, l.size);
    }
    for l in &msg.asks {
        book.apply(BookSide::Ask, l.price, l.size);
    }
}

/// Apply every line of `path` in order; the checksum verdict after each.
fn verdicts(path: &str) -> Vec<Option<bool>> {
    let mut book = L2Book::new();
    decode_file(path)
        .iter()
        .map(|out| {
            let msg = okx_common::book(out);
            apply(&mut book, msg);
            verify(&book, msg.checksum)
        })
        .collect()
}

#[test]
fn real_snapshots_verify() {
    assert_eq!(
        verdicts("book_checksum_verified.jsonl"),
        [Some(true), Some(true)]
    );
}

#[test]
fn real_okcoin_snapshot_and_update_verify() {
    let got = decode_file("book_sequence_okcoin_v5.jsonl");
    let snapshot = okx_common::book(&got[0]);
    assert_eq!(
        (snapshot.bids.len(), snapshot.asks.len()),
        (266, 127),
        "a thin book: fewer than 400 a side"
    );
    assert_eq!(
        verdicts("book_sequence_okcoin_v5.jsonl"),
        [Some(true), Some(true)]
    );
}

#[test]
fn a_flipped_digit_fails() {
    // Flip one digit of one size in the real TRX snapshot: the checksum must not verify.
    let line = &sample("book_checksum_verified.jsonl")[0];
    let flipped = line.replacen(r#"["0.07027","765""#, r#"["0.07027","766""#, 1);
    assert_ne!(&flipped, line);
    let mut d = decoder();
    let Out::Book(msg) = decode_line(&mut d, &flipped) else {
        panic!("not a book")
    };
    let mut book = L2Book::new();
    apply(&mut book, &msg);
    assert_eq!(verify(&book, msg.checksum), Some(false));
    // And a flipped digit in the checksum itself.
    let mut d = decoder();
    let Out::Book(good) = decode_line(&mut d, line) else {
        panic!("not a book")
    };
    let mut book = L2Book::new();
    apply(&mut book, &good);
    let wrong = good.checksum.map(|c| c ^ 0x10);
    assert_eq!(verify(&book, wrong), Some(false));
}

#[test]
fn trimmed_captures_and_the_doc_example_do_not_verify() {
    let mut d = decoder();
    for line in sample("book_samples_unverifiable.jsonl") {
        let Out::Book(msg) = decode_line(&mut d, &line) else {
            panic!("not a book: {line}")
        };
        let mut book = L2Book::new();
        apply(&mut book, &msg);
        assert_eq!(verify(&book, msg.checksum), Some(false), "{line}");
    }
}

#[test]
fn real_sequence_ids_decode() {
    let got = decode_file("book_samples_unverifiable.jsonl");
    let (snap, update) = (okx_common::book(&got[2]), okx_common::book(&got[3]));
    assert_eq!(snap.instrument_id, id("XRP-JPY"));
    assert_eq!(
        (snap.snapshot, snap.seq_id, snap.prev_seq_id),
        (true, Some(4588907), None)
    );
    assert_eq!(
        (update.snapshot, update.seq_id, update.prev_seq_id),
        (false, Some(4588911), Some(4588907))
    );
    assert_eq!(update.checksum, Some(-1242588839));
    assert_eq!(update.asks[1], lv("252.57", "0"), "size 0 deletes");
    assert_eq!(update.channel, BookChannel::Books);
}

#[test]
fn instruments_with_contract_terms() {
    let spot = decode_instruments(&fixture("okx_instruments_spot.json")).unwrap();
    let names: Vec<String> = spot.iter().map(|s| s.normalized_symbol()).collect();
    assert_eq!(
        names,
        ["BTC-USDT", "ETH-USDT"],
        "suspended and unreadable rows skipped"
    );
    assert_eq!(spot[0].tick_size, p("0.1"));
    assert_eq!(spot[0].step_size, q("0.00000001"));
    assert!(spot.iter().all(|s| s.contract.is_none()));

    let swaps = decode_instruments(&fixture("okx_instruments_swap.json")).unwrap();
    let names: Vec<String> = swaps.iter().map(|s| s.normalized_symbol()).collect();
    assert_eq!(names, ["BTC-USDT-PERP", "BTC-USD-PERP", "WNCG-USDT-PERP"]);
    let linear = swaps[0].contract.as_ref().unwrap();
    assert_eq!(
        (
            linear.value,
            linear.value_currency.as_str(),
            linear.kind,
            linear.settle_currency.as_str()
        ),
        (q("0.01"), "BTC", ContractType::Linear, "USDT")
    );
    let inverse = swaps[1].contract.as_ref().unwrap();
    assert_eq!(
        (
            inverse.value,
            inverse.value_currency.as_str(),
            inverse.kind,
            inverse.settle_currency.as_str()
        ),
        (q("100"), "USD", ContractType::Inverse, "BTC")
    );
    assert_eq!(swaps[1].raw_symbol, "BTC-USD-SWAP");

    let futures = decode_instruments(&fixture("okx_instruments_futures.json")).unwrap();
    let names: Vec<String> = futures.iter().map(|s| s.normalized_symbol()).collect();
    assert_eq!(
        names,
        ["BTC-USDT-20261225", "BTC-USD-20261225"],
        "bad date skipped"
    );
    assert_eq!(
        futures[0].kind,
        InstrumentKind::Future {
            expiry: Date::new(2026, 12, 25).unwrap()
        }
    );
    assert!(decode_instruments(
        br#"{"code":"51001","msg":"Instrument ID does not exist","data":[]}"#
    )
    .is_err());
}
