//! Kraken's v2 book checksum (`kraken.md` §7.2): CRC-32 (IEEE, zlib's) over the top
//! 10 asks (ascending) then the top 10 bids (descending), each level written as its
//! price then its quantity, each formatted with exactly the pair's precision, the
//! `.` removed and leading zeros stripped. Compared as an unsigned 32-bit integer.
//!
//! Kraken sends numbers without trailing zeros (`0.567` for `0.5670`), so the text
//! cannot be the wire's: it is rebuilt from the exact decimals and the precision the
//! registry keeps for the pair. Nothing is allocated: digits stream into the CRC.

use tickd_bus::{Fixed, Price, Size};

use crate::book::{L2Book, Level};

/// Levels per side the checksum covers, whatever the subscribed depth.
pub const CHECKSUM_DEPTH: usize = 10;

/// Decimal places of one pair's prices and quantities (`price_precision`,
/// `qty_precision`; REST `pair_decimals`, `lot_decimals`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Precision {
    pub price: u8,
    pub qty: u8,
}

/// The checksum of `book` at `precision`.
pub fn of_book(book: &L2Book, precision: Precision) -> u32 {
    of_levels(book.asks(), book.bids(), precision)
}

/// The checksum of two best-first sides (asks first; only 10 of each are used).
pub fn of_levels(
    asks: impl IntoIterator<Item = Level>,
    bids: impl IntoIterator<Item = Level>,
    precision: Precision,
) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    pieces(asks, bids, precision, |piece| hasher.update(piece));
    hasher.finalize()
}

/// The text the checksum is computed over (tests and diagnostics; allocates).
pub fn text_of(
    asks: impl IntoIterator<Item = Level>,
    bids: impl IntoIterator<Item = Level>,
    precision: Precision,
) -> String {
    let mut text = Vec::new();
    pieces(asks, bids, precision, |piece| text.extend_from_slice(piece));
    String::from_utf8_lossy(&text).into_owned()
}

fn pieces(
    asks: impl IntoIterator<Item = Level>,
    bids: impl IntoIterator<Item = Level>,
    precision: Precision,
    mut out: impl FnMut(&[u8]),
) {
    let asks = asks.into_iter().take(CHECKSUM_DEPTH);
    let bids = bids.into_iter().take(CHECKSUM_DEPTH);
    for level in asks.chain(bids) {
        let mut buf = [0u8; 40];
        out(digits(level.price, precision.price, &mut buf));
        out(digits(level.size, precision.qty, &mut buf));
    }
}

/// `value` at `places` decimals without the point or leading zeros: the integer
/// `value × 10^places`. Digits beyond `places` (a value finer than the pair's
/// precision, which Kraken never sends) are cut, so such a book fails its checksum
/// rather than panicking.
fn digits<const S: u32>(value: Fixed<S>, places: u8, buf: &mut [u8; 40]) -> &[u8] {
    let places = u32::from(places).min(S);
    let scaled = value.raw().unsigned_abs() / 10u128.pow(S - places);
    let mut n = scaled;
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[at..]
}

/// Whether the digits of `price` and `size` fit `precision` exactly (the simulator
/// and tests use it to check what they generate).
pub fn fits(price: Price, size: Size, precision: Precision) -> bool {
    let exact = |raw: i128, scale: u32, places: u8| {
        let places = u32::from(places).min(scale);
        raw % 10i128.pow(scale - places) == 0
    };
    exact(price.raw(), Price::SCALE, precision.price)
        && exact(size.raw(), Size::SCALE, precision.qty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lv(p: &str, s: &str) -> Level {
        Level::new(Price::parse_str(p).unwrap(), Size::parse_str(s).unwrap())
    }

    /// The worked example of `kraken.md` §7.2 (MATIC/USD, precision 4 and 8).
    #[test]
    fn worked_example_pieces() {
        let p = Precision { price: 4, qty: 8 };
        assert_eq!(
            text_of([lv("0.5668", "4410.79769741")], [], p),
            "5668441079769741"
        );
        assert_eq!(
            text_of([lv("0.567", "49844.89424998")], [], p),
            "56704984489424998"
        );
        assert_eq!(
            text_of([], [lv("0.566", "18097.1547")], p),
            "56601809715470000"
        );
        assert_eq!(
            text_of([], [lv("0.5657", "1098.3947558")], p),
            "5657109839475580"
        );
        assert!(fits(
            Price::parse_str("0.5657").unwrap(),
            Size::parse_str("1098.3947558").unwrap(),
            p
        ));
        assert!(!fits(
            Price::parse_str("0.56571").unwrap(),
            Size::parse_str("1").unwrap(),
            p
        ));
    }

    #[test]
    fn only_ten_levels_a_side_count() {
        let p = Precision { price: 1, qty: 8 };
        let asks: Vec<Level> = (0..15)
            .map(|i| lv(&format!("{}.5", 200 + i), "1"))
            .collect();
        let bids: Vec<Level> = (0..15)
            .map(|i| lv(&format!("{}.5", 100 - i), "2"))
            .collect();
        assert_eq!(
            of_levels(asks.clone(), bids.clone(), p),
            of_levels(asks[..10].to_vec(), bids[..10].to_vec(), p)
        );
        let mut book = L2Book::new();
        book.replace(bids.clone(), asks.clone());
        assert_eq!(of_book(&book, p), of_levels(asks, bids, p));
    }
}
