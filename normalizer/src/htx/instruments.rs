//! REST bodies (`htx.md` §4, §6.10): the spot symbol list (`/v1/common/symbols`,
//! or `/v2/settings/common/symbols`), the swap contract lists
//! (`/linear-swap-api/v1/swap_contract_info`, `/swap-api/v1/swap_contract_info`)
//! with contract sizes, and polled open interest (`swap_open_interest`).
//!
//! Spot base/quote come from the list, never from splitting `btcusdt`; rows not
//! `online` are skipped. Contracts: only `contract_status` 1 (listing); perpetuals
//! (`BTC-USDT` → `BTC-USDT-PERP`), USDT-M dated futures from `delivery_date`. A
//! row that cannot be read is skipped and logged rather than failing the list.

use serde::Deserialize;
use sonic_rs::LazyValue;
use tickd_bus::instrument::{ContractSpec, ContractType, Date, InstrumentKind, InstrumentSpec};
use tickd_bus::record::OpenInterestMsg;
use tickd_bus::{Fixed, Price, RecordHeader, Size, Venue};

use super::decode::fields::{decimal_or, ms_ns, req_decimal};
use crate::binance::decode::json;
use crate::error::DecodeError;
use crate::okx::decode::fields::for_each;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

/// Instrument lists are a few MB at most.
pub const MAX_INSTRUMENTS_BYTES: usize = 16 << 20;

#[derive(Deserialize)]
struct Reply<'a> {
    #[serde(borrow)]
    status: Option<&'a str>,
    #[serde(borrow)]
    code: Option<LazyValue<'a>>,
    #[serde(borrow)]
    data: Option<LazyValue<'a>>,
    #[serde(borrow)]
    ts: Option<LazyValue<'a>>,
}

/// The `data` of a REST reply (`status: ok`, or v2's `code: 200`).
fn data_of(body: &[u8]) -> Result<(LazyValue<'_>, u64), DecodeError> {
    if body.len() > MAX_INSTRUMENTS_BYTES {
        return Err(DecodeError::FrameTooLarge {
            len: body.len(),
            max: MAX_INSTRUMENTS_BYTES,
        });
    }
    std::str::from_utf8(body).map_err(DecodeError::json)?;
    json::check_depth(body)?;
    let reply: Reply<'_> = json::sonic(body)?;
    let ok = match (reply.status, &reply.code) {
        (Some(status), _) => status == "ok",
        (None, Some(code)) => code.as_raw_str() == "200",
        (None, None) => false,
    };
    if !ok {
        return Err(DecodeError::OutOfRange { field: "status" });
    }
    let ts = ms_ns(&reply.ts, "ts")?;
    Ok((
        reply
            .data
            .ok_or(DecodeError::MissingField { field: "data" })?,
        ts,
    ))
}

#[derive(Deserialize)]
struct SymbolRow<'a> {
    // v1
    #[serde(borrow)]
    symbol: Option<&'a str>,
    #[serde(borrow, rename = "base-currency")]
    base_currency: Option<&'a str>,
    #[serde(borrow, rename = "quote-currency")]
    quote_currency: Option<&'a str>,
    #[serde(rename = "price-precision")]
    price_precision: Option<u32>,
    #[serde(rename = "amount-precision")]
    amount_precision: Option<u32>,
    // v2
    #[serde(borrow)]
    sc: Option<&'a str>,
    #[serde(borrow)]
    bc: Option<&'a str>,
    #[serde(borrow)]
    qc: Option<&'a str>,
    pp: Option<u32>,
    ap: Option<u32>,
    #[serde(borrow)]
    state: Option<&'a str>,
}

/// `10^-places` (a tick or step from a precision).
fn unit<const S: u32>(places: u32, field: &'static str) -> Result<Fixed<S>, DecodeError> {
    if places > S {
        return Err(DecodeError::OutOfRange { field });
    }
    Ok(Fixed::from_raw(10i128.pow(S - places)))
}

/// Every online spot symbol of a v1 or v2 symbols body.
pub fn decode_symbols(body: &[u8]) -> Result<Vec<InstrumentSpec>, DecodeError> {
    let (data, _) = data_of(body)?;
    let mut specs = Vec::new();
    for_each(data.as_raw_str().as_bytes(), |row: SymbolRow<'_>| {
        if row.state != Some("online") {
            return Ok(());
        }
        match spot_spec(&row) {
            Ok(spec) => specs.push(spec),
            Err(err) => tracing::debug!(
                symbol = row.symbol.or(row.sc).unwrap_or(""),
                error = %err,
                "htx symbol row skipped"
            ),
        }
        Ok(())
    })?;
    Ok(specs)
}

fn need<'a>(value: Option<&'a str>, field: &'static str) -> Result<&'a str, DecodeError> {
    value
        .filter(|s| !s.is_empty())
        .ok_or(DecodeError::MissingField { field })
}

fn spot_spec(row: &SymbolRow<'_>) -> Result<InstrumentSpec, DecodeError> {
    let price_places = row
        .price_precision
        .or(row.pp)
        .ok_or(DecodeError::MissingField {
            field: "price-precision",
        })?;
    let amount_places = row
        .amount_precision
        .or(row.ap)
        .ok_or(DecodeError::MissingField {
            field: "amount-precision",
        })?;
    Ok(InstrumentSpec {
        venue: Venue::Htx,
        raw_symbol: need(row.symbol.or(row.sc), "symbol")?.to_string(),
        base: need(row.base_currency.or(row.bc), "base-currency")?.to_ascii_uppercase(),
        quote: need(row.quote_currency.or(row.qc), "quote-currency")?.to_ascii_uppercase(),
        kind: InstrumentKind::Spot,
        tick_size: unit(price_places, "price-precision")?,
        step_size: unit(amount_places, "amount-precision")?,
        contract: None,
    })
}

#[derive(Deserialize)]
struct ContractRow<'a> {
    #[serde(borrow)]
    symbol: Option<&'a str>,
    #[serde(borrow)]
    contract_code: Option<&'a str>,
    #[serde(borrow)]
    contract_size: Option<LazyValue<'a>>,
    #[serde(borrow)]
    price_tick: Option<LazyValue<'a>>,
    #[serde(borrow)]
    delivery_date: Option<&'a str>,
    contract_status: Option<i64>,
    #[serde(borrow)]
    business_type: Option<&'a str>,
    #[serde(borrow)]
    trade_partition: Option<&'a str>,
}

/// Every listed contract of a `swap_contract_info` body: USD-M (`htx-usdm`,
/// linear, contract size in base) or coin-M (`htx-coinm`, inverse, contract size
/// in USD).
pub fn decode_contract_info(venue: Venue, body: &[u8]) -> Result<Vec<InstrumentSpec>, DecodeError> {
    let (data, _) = data_of(body)?;
    let mut specs = Vec::new();
    for_each(data.as_raw_str().as_bytes(), |row: ContractRow<'_>| {
        if row.contract_status != Some(1) {
            return Ok(());
        }
        match contract_spec(venue, &row) {
            Ok(spec) => specs.push(spec),
            Err(err) => tracing::debug!(
                code = row.contract_code.unwrap_or(""),
                error = %err,
                "htx contract row skipped"
            ),
        }
        Ok(())
    })?;
    Ok(specs)
}

fn contract_spec(venue: Venue, row: &ContractRow<'_>) -> Result<InstrumentSpec, DecodeError> {
    let code = row.contract_code.ok_or(DecodeError::MissingField {
        field: "contract_code",
    })?;
    let base = row
        .symbol
        .ok_or(DecodeError::MissingField { field: "symbol" })?;
    let inverse = venue == Venue::HtxCoinm;
    let quote = if inverse {
        "USD"
    } else {
        row.trade_partition.unwrap_or("USDT")
    };
    let kind = match (
        row.business_type,
        row.delivery_date.filter(|d| !d.is_empty()),
    ) {
        (Some("futures"), Some(date)) | (None, Some(date)) => InstrumentKind::Future {
            expiry: Date::parse(date).map_err(|_| DecodeError::OutOfRange {
                field: "delivery_date",
            })?,
        },
        (Some("futures"), None) => {
            return Err(DecodeError::MissingField {
                field: "delivery_date",
            })
        }
        _ => InstrumentKind::Perpetual,
    };
    let value: Size = req_decimal(&row.contract_size, "contract_size")?;
    let tick: Price = req_decimal(&row.price_tick, "price_tick")?;
    let contract = ContractSpec {
        value,
        value_currency: if inverse { "USD" } else { base }.to_string(),
        kind: if inverse {
            ContractType::Inverse
        } else {
            ContractType::Linear
        },
        settle_currency: if inverse { base } else { quote }.to_string(),
    };
    Ok(InstrumentSpec {
        venue,
        raw_symbol: code.to_string(),
        base: base.to_ascii_uppercase(),
        quote: quote.to_ascii_uppercase(),
        kind,
        tick_size: tick,
        // Whole contracts.
        step_size: Size::from_int(1).map_err(|e| DecodeError::BadDecimal {
            field: "step",
            error: e,
        })?,
        contract: Some(contract),
    })
}

#[derive(Deserialize)]
struct OpenInterestRow<'a> {
    #[serde(borrow)]
    contract_code: Option<&'a str>,
    #[serde(borrow)]
    volume: Option<LazyValue<'a>>,
    #[serde(borrow)]
    value: Option<LazyValue<'a>>,
}

/// A `swap_open_interest` body → one record per known contract: `volume` in
/// contracts, `value` in quote where sent (USDT-M).
pub fn decode_open_interest(
    venue: Venue,
    body: &[u8],
    symbols: &SymbolMap,
    ts_recv: u64,
    sink: &mut impl RecordSink,
) -> Result<usize, DecodeError> {
    let (data, ts) = data_of(body)?;
    let mut n = 0;
    for_each(data.as_raw_str().as_bytes(), |row: OpenInterestRow<'_>| {
        let code = row.contract_code.ok_or(DecodeError::MissingField {
            field: "contract_code",
        })?;
        let Some(instrument_id) = symbols.get(code) else {
            return Ok(());
        };
        let record = OpenInterestMsg {
            hd: RecordHeader::new::<OpenInterestMsg>(venue, instrument_id, ts, ts_recv),
            open_interest: req_decimal(&row.volume, "volume")?,
            open_interest_value: decimal_or(&row.value, Size::UNDEF, "value")?,
        };
        sink.push_record(&record);
        n += 1;
        Ok(())
    })?;
    Ok(n)
}
