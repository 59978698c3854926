//! REST bodies: `/api/v3/depth` and `/fapi/v1/depth` book images, and
//! `/fapi/v1/openInterest` (Binance has no open-interest stream).
//! These run once per snapshot or poll, so they use sonic-rs and may allocate.

use serde::Deserialize;
use tickd_bus::record::OpenInterestMsg;
use tickd_bus::{RecordHeader, Size, Venue};

use super::depth::{self, LevelScratch};
use super::json::{self, req, size, time_ns, JsonBackend, SimdScratch};
use super::{DepthSnapshot, TimeUnit};
use crate::error::{DecodeError, ShortText};
use crate::symbols::SymbolMap;

/// A REST depth body (`lastUpdateId`, `bids`, `asks`; futures add `E`/`T`). Levels
/// best first.
pub fn decode_rest_depth(body: &[u8]) -> Result<DepthSnapshot, DecodeError> {
    if body.len() > super::MAX_FRAME_BYTES {
        return Err(DecodeError::FrameTooLarge {
            len: body.len(),
            max: super::MAX_FRAME_BYTES,
        });
    }
    let mut levels = LevelScratch::default();
    let mut simd = SimdScratch::default();
    let fields = depth::parse_book(body, JsonBackend::Sonic, &mut simd, &mut levels)?;
    let last_update_id = req(fields.last_update_id, "lastUpdateId")?;
    let ts_event = time_ns(fields.event_time, TimeUnit::Millis, "E")?;
    depth::sort_best_first(&mut levels);
    Ok(DepthSnapshot {
        last_update_id,
        record_id: None,
        ts_event,
        bids: levels.bids,
        asks: levels.asks,
    })
}

#[derive(Deserialize)]
struct OpenInterestBody<'a> {
    #[serde(borrow)]
    symbol: Option<&'a str>,
    #[serde(borrow, rename = "openInterest")]
    open_interest: Option<&'a str>,
    time: Option<u64>,
}

/// `{"symbol":"BTCUSDT","openInterest":"84617.188","time":1654336844754}` → an
/// open-interest record (venue `binance-usdm`, base units; no quote value → UNDEF).
pub fn decode_open_interest(
    body: &[u8],
    symbols: &SymbolMap,
    ts_recv: u64,
) -> Result<OpenInterestMsg, DecodeError> {
    if body.len() > super::MAX_FRAME_BYTES {
        return Err(DecodeError::FrameTooLarge {
            len: body.len(),
            max: super::MAX_FRAME_BYTES,
        });
    }
    let parsed: OpenInterestBody<'_> = json::sonic(body)?;
    let symbol = req(parsed.symbol, "symbol")?;
    let instrument_id = symbols.get(symbol).ok_or(DecodeError::UnknownSymbol {
        symbol: ShortText::new(symbol),
    })?;
    let ts_event = time_ns(parsed.time, TimeUnit::Millis, "time")?;
    Ok(OpenInterestMsg {
        hd: RecordHeader::new::<OpenInterestMsg>(
            Venue::BinanceUsdm,
            instrument_id,
            ts_event,
            ts_recv,
        ),
        open_interest: size(req(parsed.open_interest, "openInterest")?, "openInterest")?,
        open_interest_value: Size::UNDEF,
    })
}
