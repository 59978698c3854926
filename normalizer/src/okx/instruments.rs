//! REST bodies: `GET /api/v5/public/instruments?instType=SPOT|SWAP|FUTURES` →
//! instrument specs with contract terms, and `GET /api/v5/market/books` → a book
//! snapshot for the REST splice (`okx.md` §4, §7.3).
//!
//! Only `state: live` rows. Spot base/quote from `baseCcy`/`quoteCcy`; swaps and
//! futures from `instFamily` (`uly` on older bodies), with `ctVal`, `ctValCcy`,
//! `ctType` and `settleCcy` as the contract terms. A future's expiry is the date in
//! its `instId` (`BTC-USDT-261225` → 2026-12-25). Options and margin rows are skipped.
//! A live row that cannot be read is skipped and logged rather than failing the list.

use serde::Deserialize;
use tickd_bus::instrument::{ContractSpec, ContractType, Date, InstrumentKind, InstrumentSpec};
use tickd_bus::{Price, Size, Venue};

use super::decode::{book, fields::ms_ns};
use crate::binance::decode::json::{self, req};
use crate::engine::BookSnapshot;
use crate::error::DecodeError;

/// The instruments list is one body per instType; SPOT is the largest (~1 MB).
pub const MAX_INSTRUMENTS_BYTES: usize = 16 << 20;

#[derive(Deserialize)]
struct Reply<T> {
    code: Option<String>,
    msg: Option<String>,
    data: Option<T>,
}

/// The data of a REST reply; a nonzero `code` is the venue refusing the request.
fn data_of<T>(reply: Reply<T>) -> Result<T, DecodeError> {
    if let Some(code) = reply.code.as_deref().filter(|c| *c != "0") {
        tracing::debug!(
            code,
            msg = reply.msg.as_deref().unwrap_or(""),
            "okx REST error"
        );
        return Err(DecodeError::OutOfRange { field: "code" });
    }
    reply
        .data
        .ok_or(DecodeError::MissingField { field: "data" })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    inst_type: Option<String>,
    inst_id: Option<String>,
    inst_family: Option<String>,
    uly: Option<String>,
    base_ccy: Option<String>,
    quote_ccy: Option<String>,
    settle_ccy: Option<String>,
    ct_val: Option<String>,
    ct_val_ccy: Option<String>,
    ct_type: Option<String>,
    tick_sz: Option<String>,
    lot_sz: Option<String>,
    state: Option<String>,
}

/// Every live spot, swap and futures instrument in an instruments body.
pub fn decode_instruments(body: &[u8]) -> Result<Vec<InstrumentSpec>, DecodeError> {
    if body.len() > MAX_INSTRUMENTS_BYTES {
        return Err(DecodeError::FrameTooLarge {
            len: body.len(),
            max: MAX_INSTRUMENTS_BYTES,
        });
    }
    let rows: Vec<Row> = data_of(json::sonic(body)?)?;
    let mut specs = Vec::with_capacity(rows.len());
    for row in rows {
        if row.state.as_deref() != Some("live") {
            continue;
        }
        match spec_of(&row) {
            Ok(Some(spec)) => specs.push(spec),
            Ok(None) => {}
            Err(err) => tracing::debug!(
                inst_id = row.inst_id.as_deref().unwrap_or(""),
                error = %err,
                "okx instruments row skipped"
            ),
        }
    }
    Ok(specs)
}

fn spec_of(row: &Row) -> Result<Option<InstrumentSpec>, DecodeError> {
    let inst_id = req(row.inst_id.as_deref(), "instId")?;
    let (kind, spot) = match req(row.inst_type.as_deref(), "instType")? {
        "SPOT" => (InstrumentKind::Spot, true),
        "SWAP" => (InstrumentKind::Perpetual, false),
        "FUTURES" => (
            InstrumentKind::Future {
                expiry: expiry_of(inst_id)?,
            },
            false,
        ),
        _ => return Ok(None),
    };
    let (base, quote) = if spot {
        (
            req(non_empty(&row.base_ccy), "baseCcy")?.to_string(),
            req(non_empty(&row.quote_ccy), "quoteCcy")?.to_string(),
        )
    } else {
        let family = req(
            non_empty(&row.inst_family).or(non_empty(&row.uly)),
            "instFamily",
        )?;
        let (base, quote) = family.split_once('-').ok_or(DecodeError::OutOfRange {
            field: "instFamily",
        })?;
        (base.to_string(), quote.to_string())
    };
    let contract = if spot { None } else { Some(contract_of(row)?) };
    Ok(Some(InstrumentSpec {
        venue: Venue::Okx,
        raw_symbol: inst_id.to_string(),
        base,
        quote,
        kind,
        tick_size: decimal(&row.tick_sz, "tickSz", Price::parse_str)?,
        step_size: decimal(&row.lot_sz, "lotSz", Size::parse_str)?,
        contract,
    }))
}

fn contract_of(row: &Row) -> Result<ContractSpec, DecodeError> {
    let kind = match req(non_empty(&row.ct_type), "ctType")? {
        "linear" => ContractType::Linear,
        "inverse" => ContractType::Inverse,
        _ => return Err(DecodeError::OutOfRange { field: "ctType" }),
    };
    Ok(ContractSpec {
        value: decimal(&row.ct_val, "ctVal", Size::parse_str)?,
        value_currency: req(non_empty(&row.ct_val_ccy), "ctValCcy")?.to_string(),
        kind,
        settle_currency: req(non_empty(&row.settle_ccy), "settleCcy")?.to_string(),
    })
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

fn decimal<T>(
    value: &Option<String>,
    field: &'static str,
    parse: fn(&str) -> Result<T, tickd_bus::DecimalError>,
) -> Result<T, DecodeError> {
    DecodeError::decimal(field, parse(req(non_empty(value), field)?))
}

/// `BTC-USDT-261225` → 2026-12-25.
fn expiry_of(inst_id: &str) -> Result<Date, DecodeError> {
    let bad = DecodeError::OutOfRange { field: "instId" };
    let suffix = inst_id
        .rsplit('-')
        .next()
        .filter(|s| s.len() == 6)
        .ok_or(bad.clone())?;
    Date::parse(&format!("20{suffix}")).map_err(|_| bad)
}

/// Parse a `/api/v5/market/books` body: levels best first, at its `seqId` (the splice
/// point; 0 on bodies from before the 2026 change, which carry none).
pub fn decode_rest_books(body: &[u8]) -> Result<BookSnapshot, DecodeError> {
    if body.len() > super::MAX_FRAME_BYTES {
        return Err(DecodeError::FrameTooLarge {
            len: body.len(),
            max: super::MAX_FRAME_BYTES,
        });
    }
    #[derive(Deserialize)]
    struct Raw<'a> {
        #[serde(borrow)]
        data: Option<sonic_rs::LazyValue<'a>>,
        code: Option<String>,
        msg: Option<String>,
    }
    // sonic-rs builds `LazyValue` text from skipped bytes unchecked: validate first.
    std::str::from_utf8(body).map_err(DecodeError::json)?;
    let raw: Raw<'_> = json::sonic(body)?;
    let data = data_of(Reply {
        code: raw.code,
        msg: raw.msg,
        data: raw.data,
    })?;
    let (mut bids, mut asks) = (Vec::new(), Vec::new());
    let head = book::parse(data.as_raw_str().as_bytes(), &mut bids, &mut asks)?;
    let seq_id = head
        .seq_id
        .map(|id| u64::try_from(id).map_err(|_| DecodeError::OutOfRange { field: "seqId" }))
        .transpose()?;
    bids.sort_by_key(|l| std::cmp::Reverse(l.price));
    asks.sort_by_key(|l| l.price);
    Ok(BookSnapshot {
        last_update_id: seq_id.unwrap_or(0),
        record_id: None,
        ts_event: ms_ns(head.ts, "ts")?,
        bids,
        asks,
    })
}
