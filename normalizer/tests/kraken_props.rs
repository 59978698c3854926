//! Properties of the Kraken decoder and book: any book the simulator's encoder
//! writes (numbers printed minimally, checksum of the true book) decodes to the
//! same levels and verifies through the book sync; any bytes decode without a panic.

mod kraken_common;

use kraken_common::*;
use proptest::prelude::*;
use tickd_bus::{Price, Size};
use tickd_normalizer::book::L2Book;
use tickd_normalizer::engine::{Frame, FrameDecoder, VenueEvent};
use tickd_normalizer::kraken::{checksum, encode};
use tickd_normalizer::Level;

/// A level at BTC/USD precision (1 and 8 places), bids below 50 000, asks above.
fn level(ask: bool) -> impl Strategy<Value = Level> {
    (1i128..500_000, 1i128..10_000_000_000).prop_map(move |(tenths, sats)| {
        let tenths = if ask { 500_000 + tenths } else { tenths };
        Level::new(
            Price::from_raw(tenths * 10i128.pow(Price::SCALE - 1)),
            Size::from_raw(sats * 10i128.pow(Size::SCALE - 8)),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn encoded_books_decode_exactly_and_verify(
        bids in prop::collection::vec(level(false), 0..30),
        asks in prop::collection::vec(level(true), 0..30),
        update_bids in prop::collection::vec(level(false), 0..8),
    ) {
        let depth = 25;
        let mut truth = L2Book::new();
        truth.replace(bids.iter().copied(), asks.iter().copied());
        truth.truncate(depth);
        let image_bids: Vec<Level> = truth.bids().collect();
        let image_asks: Vec<Level> = truth.asks().collect();
        let snapshot = encode::book("BTC/USD", true, &image_bids, &image_asks, checksum::of_book(&truth, BTC_PRECISION), 1);
        for l in &update_bids {
            truth.apply(tickd_bus::record::BookSide::Bid, l.price, l.size);
        }
        truth.truncate(depth);
        let update = encode::book("BTC/USD", false, &update_bids, &[], checksum::of_book(&truth, BTC_PRECISION), 2);
        let mut decoder = decoder();
        let mut sync = book_sync(BTC, BTC_PRECISION, depth as u32);
        let mut sink = Vec::new();
        for (frame, expected) in [(&snapshot, &image_bids), (&update, &update_bids)] {
            let Ok(VenueEvent::Book(ev)) = decoder.decode(Frame::Text(frame.as_bytes()), 0, &mut sink) else {
                panic!("{frame}")
            };
            prop_assert_eq!(ev.bids, expected.as_slice());
            let _ = sync.on_event(&ev, 0, &mut sink);
        }
        prop_assert_eq!(sync.stats().checksum_failures, 0);
        prop_assert_eq!(sync.book(), &truth);
    }

    #[test]
    fn any_bytes_decode_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut decoder = decoder();
        let mut sink = Vec::new();
        if let Ok(VenueEvent::Records(n)) = decoder.decode(Frame::Text(&bytes), 0, &mut sink) {
            prop_assert_eq!(n, sink.len());
        }
    }

    #[test]
    fn mutated_samples_decode_without_panicking(line in 0usize..510, at in 0usize..4096, byte in any::<u8>()) {
        let lines = sample("book.jsonl");
        let mut frame = lines[line].clone().into_bytes();
        let at = at % frame.len();
        frame[at] = byte;
        let mut decoder = decoder();
        let mut sink = Vec::new();
        let _ = decoder.decode(Frame::Text(&frame), 0, &mut sink);
    }
}
