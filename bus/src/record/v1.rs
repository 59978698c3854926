//! Record layout v1, read only: journals written before layout 2 still open.
//!
//! v1 numbers were `i64` counts: prices at 1e-9, sizes at 1e-8, funding rates at
//! 1e-16, bar notional an `i128` at 1e-17, with `i64::MAX` meaning "not sent". Each
//! converts to layout 2 exactly (only more places), so [`upgrade`] turns a v1 record
//! into the equal v2 record. The header is the same 32 bytes in both layouts; only
//! its `length` changes.

use super::types::*;
use super::{Record, RecordBuf, RecordError, RecordHeader, RecordType};
use crate::decimal::{Fixed, Notional, Price, Rate, Size};

/// Size in bytes of a v1 record of each type.
pub const fn record_size(rtype: RecordType) -> usize {
    match rtype {
        RecordType::Trade => 72,
        RecordType::Bbo | RecordType::BookDelta | RecordType::MarkFunding => 64,
        RecordType::Bar => 96,
        RecordType::Liquidation | RecordType::Status => 56,
        RecordType::OpenInterest => 48,
    }
}

/// Largest v1 record.
pub const MAX_RECORD_SIZE: usize = 96;

const PRICE_SCALE: u32 = 9;
const SIZE_SCALE: u32 = 8;
const RATE_SCALE: u32 = 16;
const NOTIONAL_SCALE: u32 = 17;

/// A v1 record's bytes (any alignment; may be longer than the record) as the equal
/// layout-2 record.
pub fn upgrade(bytes: &[u8]) -> Result<RecordBuf, RecordError> {
    const HEADER: usize = std::mem::size_of::<RecordHeader>();
    let head = bytes
        .get(..HEADER)
        .ok_or(RecordError::TooShort(bytes.len()))?;
    let hd: RecordHeader = bytemuck::pod_read_unaligned(head);
    let rtype = hd.record_type().ok_or(RecordError::UnknownType(hd.rtype))?;
    let expected = record_size(rtype);
    if hd.record_size() != expected {
        return Err(RecordError::BadLength {
            rtype,
            expected,
            found: hd.record_size(),
        });
    }
    let body = Body(bytes.get(..expected).ok_or(RecordError::Truncated {
        needed: expected,
        available: bytes.len(),
    })?);
    Ok(match rtype {
        RecordType::Trade => buf(TradeMsg {
            hd: header::<TradeMsg>(hd),
            price: body.price(32),
            size: body.size(40),
            trade_id: body.u64(48),
            trade_id_hi: body.u64(56),
            side: body.0[64],
            _reserved: [0; 7],
        }),
        RecordType::Bbo => buf(BboMsg {
            hd: header::<BboMsg>(hd),
            bid_price: body.price(32),
            bid_size: body.size(40),
            ask_price: body.price(48),
            ask_size: body.size(56),
        }),
        RecordType::BookDelta => buf(BookDeltaMsg {
            hd: header::<BookDeltaMsg>(hd),
            price: body.price(32),
            size: body.size(40),
            update_id: body.u64(48),
            side: body.0[56],
            action: body.0[57],
            _reserved: [0; 6],
        }),
        RecordType::Bar => {
            let notional = i128::from(body.u64(80)) | (i128::from(body.u64(88) as i64) << 64);
            buf(BarMsg {
                hd: header::<BarMsg>(hd),
                interval_s: body.u32(32),
                trade_count: body.u32(36),
                open: body.price(40),
                high: body.price(48),
                low: body.price(56),
                close: body.price(64),
                volume: body.size(72),
                notional: Notional::from_i128_scaled(
                    notional,
                    crate::decimal::NOTIONAL_SCALE - NOTIONAL_SCALE,
                ),
            })
        }
        RecordType::MarkFunding => buf(MarkFundingMsg {
            hd: header::<MarkFundingMsg>(hd),
            mark_price: body.price(32),
            index_price: body.price(40),
            funding_rate: body.fixed::<RATE_SCALE, { Rate::SCALE }>(48),
            next_funding_time: body.u64(56),
        }),
        RecordType::Liquidation => buf(LiquidationMsg {
            hd: header::<LiquidationMsg>(hd),
            price: body.price(32),
            size: body.size(40),
            side: body.0[48],
            _reserved: [0; 7],
        }),
        RecordType::OpenInterest => buf(OpenInterestMsg {
            hd: header::<OpenInterestMsg>(hd),
            open_interest: body.size(32),
            open_interest_value: body.size(40),
        }),
        // Same layout in both versions.
        RecordType::Status => RecordBuf::from_bytes(body.0)?,
    })
}

fn buf<R: Record>(record: R) -> RecordBuf {
    RecordBuf::new(&record)
}

/// The v1 header with the v2 length of `R`.
fn header<R: Record>(mut hd: RecordHeader) -> RecordHeader {
    hd.length = (std::mem::size_of::<R>() / 4) as u8;
    hd
}

/// A v1 record's bytes, read field by field at v1 offsets.
struct Body<'a>(&'a [u8]);

impl Body<'_> {
    fn u64(&self, at: usize) -> u64 {
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.0[at..at + 8]);
        u64::from_le_bytes(word)
    }

    fn u32(&self, at: usize) -> u32 {
        let mut word = [0u8; 4];
        word.copy_from_slice(&self.0[at..at + 4]);
        u32::from_le_bytes(word)
    }

    /// A v1 `i64` at scale `FROM` as a `Fixed<TO>`; `i64::MAX` (v1 UNDEF) stays UNDEF.
    /// `TO` ≥ `FROM` and 10^(TO-FROM) × i64 fits an i128, so this is exact.
    fn fixed<const FROM: u32, const TO: u32>(&self, at: usize) -> Fixed<TO> {
        let raw = self.u64(at) as i64;
        if raw == i64::MAX {
            return Fixed::UNDEF;
        }
        Fixed::from_raw(i128::from(raw) * 10i128.pow(TO - FROM))
    }

    fn price(&self, at: usize) -> Price {
        self.fixed::<PRICE_SCALE, { Price::SCALE }>(at)
    }

    fn size(&self, at: usize) -> Size {
        self.fixed::<SIZE_SCALE, { Size::SCALE }>(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{RecordRef, Side};
    use crate::Venue;

    /// A v1 trade built byte by byte at v1 offsets.
    fn v1_trade(price: i64, size: i64) -> Vec<u8> {
        let mut hd = RecordHeader::new::<TradeMsg>(Venue::Binance, 3, 10, 20);
        hd.length = 72 / 4;
        hd.sequence = 5;
        let mut bytes = bytemuck::bytes_of(&hd).to_vec();
        bytes.extend_from_slice(&price.to_le_bytes());
        bytes.extend_from_slice(&size.to_le_bytes());
        bytes.extend_from_slice(&7u64.to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes());
        bytes.extend_from_slice(&[Side::Buy as u8, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    #[test]
    fn v1_trade_becomes_the_equal_v2_trade() {
        let bytes = v1_trade(58_942_010_000_000, 35_600);
        let buf = upgrade(&bytes).unwrap();
        let RecordRef::Trade(t) = buf.as_ref().unwrap() else {
            panic!("not a trade")
        };
        assert_eq!(t.price, Price::parse_str("58942.01").unwrap());
        assert_eq!(t.size, Size::parse_str("0.000356").unwrap());
        assert_eq!((t.trade_id, t.side(), t.hd.sequence), (7, Side::Buy, 5));
        assert_eq!(t.hd.record_size(), 88);
        let undef = upgrade(&v1_trade(i64::MAX, -(i64::MAX - 1))).unwrap();
        let t = undef.get::<TradeMsg>().unwrap();
        assert_eq!(t.price, Price::UNDEF);
        assert_eq!(t.size.to_string(), "-92233720368.54775806");
    }

    #[test]
    fn v1_bytes_of_the_wrong_length_are_typed_errors() {
        let bytes = v1_trade(1, 1);
        assert!(matches!(
            upgrade(&bytes[..50]),
            Err(RecordError::Truncated { .. })
        ));
        let mut long = bytes.clone();
        long[0] = 88 / 4;
        assert!(matches!(upgrade(&long), Err(RecordError::BadLength { .. })));
        assert_eq!(upgrade(&bytes[..8]), Err(RecordError::TooShort(8)));
    }
}
