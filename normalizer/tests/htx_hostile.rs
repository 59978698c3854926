//! Broken and hostile HTX frames give typed errors, never a panic or unbounded
//! memory: bad gzip, a gzip bomb past the inflate limit, truncated members,
//! malformed JSON inside a valid member; and a fuzz-style property over
//! arbitrary bytes and mutated real frames.

mod htx_common;

use htx_common::*;
use proptest::prelude::*;
use tickd_bus::{RecordBuf, Venue};
use tickd_normalizer::engine::{Frame, FrameDecoder};
use tickd_normalizer::error::{DecodeError, DecodeErrorKind};
use tickd_normalizer::htx::encode::gzip;
use tickd_normalizer::htx::HtxDecoder;
use tickd_normalizer::SymbolMap;

fn binary_error(dec: &mut HtxDecoder, frame: &[u8]) -> DecodeError {
    let mut sink: Vec<RecordBuf> = Vec::new();
    let result = owned(dec.decode(Frame::Binary(frame), TS_RECV, &mut sink));
    assert!(sink.is_empty(), "records pushed for a rejected frame");
    result.expect_err("should be rejected")
}

const TRADE: &str = r#"{"ch":"market.btcusdt.trade.detail","ts":1,"tick":{"id":1,"ts":1,"data":[{"id":123140716701236887569077664,"ts":1,"tradeId":5,"amount":1.98E-4,"price":58911.07,"direction":"sell"}]}}"#;

#[test]
fn compression_errors_are_typed() {
    use DecodeErrorKind::*;
    let mut dec = decoder(Venue::Htx);
    let good = gzip(TRADE.as_bytes());
    let cases: Vec<(Vec<u8>, DecodeErrorKind)> = vec![
        (b"".to_vec(), BadCompression),
        (TRADE.as_bytes().to_vec(), BadCompression), // text sent as binary
        (good[..good.len() / 2].to_vec(), BadCompression),
        (good[..good.len() - 1].to_vec(), BadCompression),
        (good[..12].to_vec(), BadCompression),
        ([&good[..], &good[..]].concat(), BadCompression), // a second member
        (gzip(b"{not json"), MalformedJson),
        (gzip(&[0xff, 0xfe]), MalformedJson),
        (gzip(b"{}"), UnknownMessage),
        (gzip("[".repeat(100).as_bytes()), NestingTooDeep),
        (
            gzip(TRADE.replace("58911.07", "1E99").as_bytes()),
            BadDecimal,
        ),
        (
            gzip(TRADE.replace("\"tradeId\":5,", "").as_bytes()),
            MissingField,
        ),
        (
            gzip(TRADE.replace("\"tradeId\":5", "\"tradeId\":-5").as_bytes()),
            OutOfRange,
        ),
        (
            gzip(TRADE.replace("trade.detail", "trade.nope").as_bytes()),
            UnknownEvent,
        ),
        (gzip(br#"{"ping":"x"}"#), OutOfRange),
    ];
    for (frame, kind) in cases {
        let err = binary_error(&mut dec, &frame);
        assert_eq!(
            err.kind(),
            kind,
            "{err}: {}",
            String::from_utf8_lossy(&frame)
        );
    }
    // A flipped byte in the deflate data or the trailer.
    for at in 10..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0x55;
        let mut sink = Vec::new();
        if let Err(err) = dec.decode(Frame::Binary(&bad), TS_RECV, &mut sink) {
            assert!(
                matches!(
                    err.kind(),
                    BadCompression
                        | MalformedJson
                        | BadDecimal
                        | UnknownMessage
                        | UnknownEvent
                        | MissingField
                        | OutOfRange
                        | UnknownSymbol
                ),
                "{at}: {err}"
            );
        }
    }
    // The decoder still works after all of it.
    let mut sink = Vec::new();
    assert!(dec.decode(Frame::Binary(&good), TS_RECV, &mut sink).is_ok());
    assert_eq!(sink.len(), 1);
}

#[test]
fn a_gzip_bomb_stops_at_the_configured_limit() {
    use std::io::Write;
    // 4 MiB of spaces inside valid JSON, a few kB compressed.
    let mut text = br#"{"ping":1"#.to_vec();
    text.resize(4 << 20, b' ');
    text.push(b'}');
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&text).unwrap();
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 16 << 10, "{}", bomb.len());
    let limit = 256 << 10;
    let mut dec = HtxDecoder::with_inflate_limit(Venue::Htx, SymbolMap::new(), limit);
    assert_eq!(
        binary_error(&mut dec, &bomb),
        DecodeError::InflateLimit { max: limit }
    );
    assert!(dec.inflate_capacity() <= limit);
    // A compressed frame larger than the limit is refused before inflating.
    let big = vec![0x1f; limit + 1];
    assert_eq!(
        binary_error(&mut dec, &big).kind(),
        DecodeErrorKind::FrameTooLarge
    );
}

#[test]
fn steady_state_keeps_the_inflate_buffer() {
    let mut dec = decoder(Venue::Htx);
    let frames: Vec<Vec<u8>> = sample("book_mbp.jsonl")
        .iter()
        .chain(&sample("trades.jsonl"))
        .map(|l| gzip(l.as_bytes()))
        .collect();
    let mut sink = Vec::new();
    for f in &frames {
        dec.decode(Frame::Binary(f), TS_RECV, &mut sink).unwrap();
    }
    let capacity = dec.inflate_capacity();
    for _ in 0..100 {
        for f in &frames {
            dec.decode(Frame::Binary(f), TS_RECV, &mut sink).unwrap();
        }
    }
    assert_eq!(dec.inflate_capacity(), capacity);
}

fn all_samples() -> Vec<(Venue, String)> {
    let mut out = Vec::new();
    for f in ["trades.jsonl", "bbo.jsonl", "book_mbp.jsonl"] {
        out.extend(sample(f).into_iter().map(|l| (Venue::Htx, l)));
    }
    for f in [
        "swap_book.jsonl",
        "swap_trades.jsonl",
        "funding.jsonl",
        "control.jsonl",
    ] {
        out.extend(sample(f).into_iter().map(|l| (Venue::HtxUsdm, l)));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes, as binary and as text: a result, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut dec = decoder(Venue::HtxUsdm);
        let mut sink = Vec::new();
        let _ = dec.decode(Frame::Binary(&bytes), TS_RECV, &mut sink);
        let _ = dec.decode(Frame::Text(&bytes), TS_RECV, &mut sink);
        let gz = gzip(&bytes);
        let _ = dec.decode(Frame::Binary(&gz), TS_RECV, &mut sink);
    }

    /// Real frames with bytes changed, inserted or cut, inflated or not.
    #[test]
    fn mutated_samples_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
        compress_after in any::<bool>(),
    ) {
        let samples = all_samples();
        let (venue, line) = &samples[pick.index(samples.len())];
        let mut bytes = if compress_after { line.as_bytes().to_vec() } else { gzip(line.as_bytes()) };
        for (at, byte, op) in edits {
            let i = at.index(bytes.len().max(1));
            match op {
                0 if !bytes.is_empty() => bytes[i] = byte,
                1 => bytes.insert(i.min(bytes.len()), byte),
                _ => bytes.truncate(i),
            }
        }
        if compress_after {
            bytes = gzip(&bytes);
        }
        let mut dec = decoder(*venue);
        let mut sink = Vec::new();
        let _ = dec.decode(Frame::Binary(&bytes), TS_RECV, &mut sink);
    }
}
