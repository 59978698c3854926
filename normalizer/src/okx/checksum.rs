//! OKX's book checksum (`okx.md` §7.4): CRC-32 (IEEE, zlib's) over the top 25 bids
//! and asks interleaved as `bid1px:bid1sz:ask1px:ask1sz:bid2px:...`, read as an `i32`.
//!
//! OKX computes it over the price and size strings it sent, which carry no trailing
//! zeros; a decimal written in its canonical form (no trailing zeros) is the same
//! text, so the book stores exact decimals and this module writes them back out.
//! OKX stopped computing it on 2026-06-23 and sends `0`; clones still send it, so it
//! is verified whenever it is nonzero.

use std::io::Write;

use crate::book::{L2Book, Level};

/// Levels per side the checksum covers.
pub const CHECKSUM_DEPTH: usize = 25;

/// The checksum of `book`'s top 25 levels a side. Streams the text through the CRC
/// without building it, so it allocates nothing.
pub fn of_book(book: &L2Book) -> i32 {
    of_levels(book.bids(), book.asks())
}

/// The checksum of two best-first sides (only the first 25 of each are used).
pub fn of_levels(
    bids: impl IntoIterator<Item = Level>,
    asks: impl IntoIterator<Item = Level>,
) -> i32 {
    let mut hasher = crc32fast::Hasher::new();
    interleave(bids, asks, |piece| hasher.update(piece));
    hasher.finalize() as i32
}

/// The text the checksum is computed over (for tests and diagnostics; allocates).
pub fn text_of(
    bids: impl IntoIterator<Item = Level>,
    asks: impl IntoIterator<Item = Level>,
) -> String {
    let mut text = Vec::new();
    interleave(bids, asks, |piece| text.extend_from_slice(piece));
    String::from_utf8_lossy(&text).into_owned()
}

/// Calls `out` with the pieces of `bid1px:bid1sz:ask1px:ask1sz:bid2px:...` in order.
fn interleave(
    bids: impl IntoIterator<Item = Level>,
    asks: impl IntoIterator<Item = Level>,
    mut out: impl FnMut(&[u8]),
) {
    let mut bids = bids.into_iter().take(CHECKSUM_DEPTH);
    let mut asks = asks.into_iter().take(CHECKSUM_DEPTH);
    let mut first = true;
    loop {
        let (bid, ask) = (bids.next(), asks.next());
        if bid.is_none() && ask.is_none() {
            break;
        }
        for level in [bid, ask].into_iter().flatten() {
            // A decimal's canonical text is at most ~40 bytes.
            let mut buf = [0u8; 96];
            let mut cursor = std::io::Cursor::new(&mut buf[..]);
            let sep = if first { "" } else { ":" };
            first = false;
            if write!(cursor, "{sep}{}:{}", level.price, level.size).is_ok() {
                let len = cursor.position() as usize;
                out(&buf[..len]);
            }
        }
    }
}

/// Whether `book` matches the venue's `checksum`; `None` when there is nothing to
/// check (`0`, OKX since 2026-06-23, or absent).
pub fn verify(book: &L2Book, checksum: Option<i32>) -> Option<bool> {
    let expected = checksum.filter(|&c| c != 0)?;
    Some(of_book(book) == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::{Price, Size};

    fn lv(p: &str, s: &str) -> Level {
        Level::new(Price::parse_str(p).unwrap(), Size::parse_str(s).unwrap())
    }

    /// The worked examples of `okx.md` §7.4.
    #[test]
    fn worked_examples() {
        let cases: [(Vec<Level>, Vec<Level>, &str, i32); 3] = [
            (
                vec![lv("3366.1", "7"), lv("3366", "6")],
                vec![lv("3366.8", "9"), lv("3368", "8")],
                "3366.1:7:3366.8:9:3366:6:3368:8",
                -1881014294,
            ),
            (
                vec![lv("3366.1", "7")],
                vec![lv("3366.8", "9"), lv("3368", "8"), lv("3372", "8")],
                "3366.1:7:3366.8:9:3368:8:3372:8",
                831078360,
            ),
            (
                vec![],
                vec![lv("0.0005", "305"), lv("0.001", "550")],
                "0.0005:305:0.001:550",
                971343753,
            ),
        ];
        for (bids, asks, text, sum) in cases {
            assert_eq!(text_of(bids.clone(), asks.clone()), text);
            assert_eq!(of_levels(bids, asks), sum, "{text}");
        }
    }

    #[test]
    fn only_the_top_25_count_and_zero_is_not_checked() {
        let bids: Vec<Level> = (0..30).map(|i| lv(&format!("{}", 100 - i), "1")).collect();
        let asks: Vec<Level> = (0..30).map(|i| lv(&format!("{}", 200 + i), "1")).collect();
        let all = of_levels(bids.clone(), asks.clone());
        let top = of_levels(bids[..25].to_vec(), asks[..25].to_vec());
        assert_eq!(all, top);
        let mut book = L2Book::new();
        book.replace(bids, asks);
        assert_eq!(of_book(&book), top);
        assert_eq!(verify(&book, Some(top)), Some(true));
        assert_eq!(verify(&book, Some(top ^ 1)), Some(false));
        assert_eq!(verify(&book, Some(0)), None);
        assert_eq!(verify(&book, None), None);
    }
}
