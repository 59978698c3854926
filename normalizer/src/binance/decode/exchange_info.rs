//! `/api/v3/exchangeInfo` and `/fapi/v1/exchangeInfo` → instrument specs.
//!
//! Only `status: TRADING` symbols. Base/quote from `baseAsset`/`quoteAsset`, tick from
//! the `PRICE_FILTER` filter's `tickSize`, lot from `LOT_SIZE`'s `stepSize`. On futures,
//! `contractType` `PERPETUAL` (and `TRADIFI_PERPETUAL`) is a perpetual; the quarterly
//! and monthly delivery types are dated futures expiring on the UTC date of
//! `deliveryDate`; other contract types are skipped. Runs once per (re)connect, so it
//! parses into owned values. A TRADING row that cannot be read (missing filter, bad
//! decimal, bad delivery date) is skipped and logged rather than failing the whole list.

use serde::Deserialize;
use tickd_bus::instrument::{Date, InstrumentKind, InstrumentSpec};
use tickd_bus::{Price, Size};

use super::{json, venue_of, BinanceMarket, MAX_FRAME_BYTES};
use crate::error::DecodeError;

#[derive(Deserialize)]
struct ExchangeInfo {
    symbols: Option<Vec<SymbolInfo>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SymbolInfo {
    symbol: Option<String>,
    status: Option<String>,
    base_asset: Option<String>,
    quote_asset: Option<String>,
    contract_type: Option<String>,
    delivery_date: Option<u64>,
    #[serde(default)]
    filters: Vec<Filter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    filter_type: Option<String>,
    tick_size: Option<String>,
    step_size: Option<String>,
}

/// Every tradable instrument in an exchangeInfo body.
pub fn decode_exchange_info(
    market: BinanceMarket,
    body: &[u8],
) -> Result<Vec<InstrumentSpec>, DecodeError> {
    if body.len() > MAX_EXCHANGE_INFO_BYTES {
        return Err(DecodeError::FrameTooLarge {
            len: body.len(),
            max: MAX_EXCHANGE_INFO_BYTES,
        });
    }
    let info: ExchangeInfo = json::sonic(body)?;
    let symbols = info
        .symbols
        .ok_or(DecodeError::MissingField { field: "symbols" })?;
    let mut specs = Vec::with_capacity(symbols.len());
    for row in symbols {
        if row.status.as_deref() != Some("TRADING") {
            continue;
        }
        match spec_of(market, &row) {
            Ok(Some(spec)) => specs.push(spec),
            Ok(None) => {}
            Err(err) => tracing::debug!(
                symbol = row.symbol.as_deref().unwrap_or(""),
                error = %err,
                "exchangeInfo row skipped"
            ),
        }
    }
    Ok(specs)
}

/// exchangeInfo lists every symbol with all its filters: spot's is several MB.
pub const MAX_EXCHANGE_INFO_BYTES: usize = 64 * MAX_FRAME_BYTES;

fn spec_of(market: BinanceMarket, row: &SymbolInfo) -> Result<Option<InstrumentSpec>, DecodeError> {
    let kind = match market {
        BinanceMarket::Spot => InstrumentKind::Spot,
        BinanceMarket::UsdmFutures => match row.contract_type.as_deref() {
            Some("PERPETUAL" | "TRADIFI_PERPETUAL") => InstrumentKind::Perpetual,
            Some("CURRENT_QUARTER" | "NEXT_QUARTER" | "CURRENT_MONTH" | "NEXT_MONTH") => {
                let ms = row.delivery_date.ok_or(DecodeError::MissingField {
                    field: "deliveryDate",
                })?;
                InstrumentKind::Future {
                    expiry: utc_date(ms)?,
                }
            }
            _ => return Ok(None),
        },
    };
    let filter = |name: &str| {
        row.filters
            .iter()
            .find(|f| f.filter_type.as_deref() == Some(name))
    };
    let tick = filter("PRICE_FILTER")
        .and_then(|f| f.tick_size.as_deref())
        .ok_or(DecodeError::MissingField {
            field: "PRICE_FILTER.tickSize",
        })?;
    let step = filter("LOT_SIZE")
        .and_then(|f| f.step_size.as_deref())
        .ok_or(DecodeError::MissingField {
            field: "LOT_SIZE.stepSize",
        })?;
    Ok(Some(InstrumentSpec {
        venue: venue_of(market),
        raw_symbol: row
            .symbol
            .clone()
            .ok_or(DecodeError::MissingField { field: "symbol" })?,
        base: row
            .base_asset
            .clone()
            .ok_or(DecodeError::MissingField { field: "baseAsset" })?,
        quote: row.quote_asset.clone().ok_or(DecodeError::MissingField {
            field: "quoteAsset",
        })?,
        kind,
        tick_size: DecodeError::decimal("tickSize", Price::parse(tick.as_bytes()))?,
        step_size: DecodeError::decimal("stepSize", Size::parse(step.as_bytes()))?,
        contract: None,
    }))
}

/// The UTC calendar date of a millisecond timestamp (Howard Hinnant's
/// `civil_from_days`).
pub(crate) fn utc_date(ms: u64) -> Result<Date, DecodeError> {
    let out_of_range = DecodeError::OutOfRange {
        field: "deliveryDate",
    };
    let days = i64::try_from(ms / 86_400_000).map_err(|_| out_of_range.clone())?;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let year = u16::try_from(year).map_err(|_| out_of_range.clone())?;
    Date::new(year, month as u8, day as u8).map_err(|_| out_of_range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_from_milliseconds() {
        assert_eq!(
            utc_date(0).unwrap(),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        // 2021-06-25T08:00:00Z, the ETHUSDT_210625 delivery.
        assert_eq!(
            utc_date(1_624_608_000_000).unwrap(),
            Date {
                year: 2021,
                month: 6,
                day: 25
            }
        );
        // 2024-02-29T23:59:59.999Z
        assert_eq!(
            utc_date(1_709_251_199_999).unwrap(),
            Date {
                year: 2024,
                month: 2,
                day: 29
            }
        );
        // 2100-12-25 (Binance's "no delivery" sentinel is 4133404800000 = 2100-12-25).
        assert_eq!(
            utc_date(4_133_404_800_000).unwrap(),
            Date {
                year: 2100,
                month: 12,
                day: 25
            }
        );
        assert!(utc_date(u64::MAX).is_err());
    }
}
