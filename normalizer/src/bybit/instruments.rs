//! REST bodies (`bybit.md` §4): `GET /v5/market/instruments-info?category=..` pages
//! → instrument specs (and the cursor of the next page), and
//! `GET /v5/market/orderbook` → a book image.
//!
//! Only `status: Trading` rows. Raw symbols are qualified by the body's `category`
//! (`linear/BTCUSDT`, [`Category::raw_symbol`]). Spot: base/quote coins, tick
//! `priceFilter.tickSize`, step `lotSizeFilter.basePrecision`. Linear and inverse:
//! `contractType` `LinearPerpetual`/`InversePerpetual` are perpetuals,
//! `LinearFutures`/`InverseFutures` futures expiring at `deliveryTime`; the step is
//! `qtyStep`; linear sizes are in the base coin (a contract of 1 base coin), inverse
//! sizes in 1-USD contracts, settled in `settleCoin`. A trading row that cannot be
//! read is skipped and logged rather than failing the list.

use serde::Deserialize;
use sonic_rs::LazyValue;
use tickd_bus::instrument::{ContractSpec, ContractType, InstrumentKind, InstrumentSpec};
use tickd_bus::{Price, Size, Venue};

use super::decode::parse_book;
use super::Category;
use crate::binance::decode::exchange_info::utc_date;
use crate::binance::decode::json::{self, req};
use crate::engine::BookSnapshot;
use crate::error::DecodeError;

/// One page holds at most 1000 rows (about 1 MB).
pub const MAX_INSTRUMENTS_BYTES: usize = 16 << 20;

#[derive(Deserialize)]
struct Reply<'a> {
    #[serde(rename = "retCode")]
    ret_code: Option<i64>,
    #[serde(rename = "retMsg")]
    ret_msg: Option<String>,
    #[serde(borrow)]
    result: Option<LazyValue<'a>>,
}

/// The `result` of a REST reply; a nonzero `retCode` is the venue refusing.
fn result_of(body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    if body.len() > MAX_INSTRUMENTS_BYTES {
        return Err(DecodeError::FrameTooLarge {
            len: body.len(),
            max: MAX_INSTRUMENTS_BYTES,
        });
    }
    // sonic-rs builds `LazyValue` text from skipped bytes unchecked: validate first.
    std::str::from_utf8(body).map_err(DecodeError::json)?;
    let reply: Reply<'_> = json::sonic(body)?;
    if reply.ret_code.is_some_and(|c| c != 0) {
        tracing::debug!(
            code = reply.ret_code,
            msg = reply.ret_msg.as_deref().unwrap_or(""),
            "bybit REST error"
        );
        return Err(DecodeError::OutOfRange { field: "retCode" });
    }
    let result = reply
        .result
        .ok_or(DecodeError::MissingField { field: "result" })?;
    Ok(result.as_raw_str().as_bytes().to_vec())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    category: Option<String>,
    #[serde(default)]
    list: Vec<Row>,
    next_page_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    symbol: Option<String>,
    contract_type: Option<String>,
    status: Option<String>,
    base_coin: Option<String>,
    quote_coin: Option<String>,
    settle_coin: Option<String>,
    delivery_time: Option<String>,
    price_filter: Option<PriceFilter>,
    lot_size_filter: Option<LotSizeFilter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriceFilter {
    tick_size: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LotSizeFilter {
    qty_step: Option<String>,
    base_precision: Option<String>,
}

fn page(body: &[u8]) -> Result<Page, DecodeError> {
    json::sonic(&result_of(body)?)
}

/// Every trading spot, linear and inverse instrument on one instruments-info page.
pub fn decode_instruments(body: &[u8]) -> Result<Vec<InstrumentSpec>, DecodeError> {
    let page = page(body)?;
    let category = Category::from_name(req(page.category.as_deref(), "category")?)
        .ok_or(DecodeError::OutOfRange { field: "category" })?;
    let mut specs = Vec::with_capacity(page.list.len());
    for row in &page.list {
        if row.status.as_deref() != Some("Trading") {
            continue;
        }
        match spec_of(category, row) {
            Ok(spec) => specs.push(spec),
            Err(err) => tracing::debug!(
                symbol = row.symbol.as_deref().unwrap_or(""),
                error = %err,
                "bybit instruments row skipped"
            ),
        }
    }
    Ok(specs)
}

/// The `cursor` of the page after this one (`nextPageCursor`), `None` on the last.
pub fn next_page_cursor(body: &[u8]) -> Result<Option<String>, DecodeError> {
    Ok(page(body)?.next_page_cursor.filter(|c| !c.is_empty()))
}

fn spec_of(category: Category, row: &Row) -> Result<InstrumentSpec, DecodeError> {
    let symbol = req(non_empty(&row.symbol), "symbol")?;
    let base = req(non_empty(&row.base_coin), "baseCoin")?.to_string();
    let quote = req(non_empty(&row.quote_coin), "quoteCoin")?.to_string();
    let tick = row
        .price_filter
        .as_ref()
        .and_then(|f| non_empty(&f.tick_size));
    let lot = row.lot_size_filter.as_ref();
    let (kind, step, contract) = match category {
        Category::Spot => (
            InstrumentKind::Spot,
            lot.and_then(|l| non_empty(&l.base_precision).or(non_empty(&l.qty_step))),
            None,
        ),
        Category::Linear | Category::Inverse => {
            let kind = match req(non_empty(&row.contract_type), "contractType")? {
                "LinearPerpetual" | "InversePerpetual" => InstrumentKind::Perpetual,
                "LinearFutures" | "InverseFutures" => {
                    let ms = req(non_empty(&row.delivery_time), "deliveryTime")?;
                    let ms: u64 = ms.parse().map_err(|_| DecodeError::OutOfRange {
                        field: "deliveryTime",
                    })?;
                    InstrumentKind::Future {
                        expiry: utc_date(ms).map_err(|_| DecodeError::OutOfRange {
                            field: "deliveryTime",
                        })?,
                    }
                }
                _ => {
                    return Err(DecodeError::OutOfRange {
                        field: "contractType",
                    })
                }
            };
            let settle = req(non_empty(&row.settle_coin), "settleCoin")?.to_string();
            let (value_currency, kind_of_contract) = match category {
                Category::Inverse => (quote.clone(), ContractType::Inverse),
                _ => (base.clone(), ContractType::Linear),
            };
            let contract = ContractSpec {
                value: Size::from_raw(Size::ONE_RAW),
                value_currency,
                kind: kind_of_contract,
                settle_currency: settle,
            };
            (
                kind,
                lot.and_then(|l| non_empty(&l.qty_step)),
                Some(contract),
            )
        }
    };
    Ok(InstrumentSpec {
        venue: Venue::Bybit,
        raw_symbol: category.raw_symbol(symbol),
        base,
        quote,
        kind,
        tick_size: DecodeError::decimal(
            "tickSize",
            Price::parse_str(req(tick, "priceFilter.tickSize")?),
        )?,
        step_size: DecodeError::decimal(
            "qtyStep",
            Size::parse_str(req(step, "lotSizeFilter.qtyStep")?),
        )?,
        contract,
    })
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// Parse a `/v5/market/orderbook` or `/v5/market/full_orderbook` body: levels
/// best first, at its `u` (and `seq`, the image's record id).
pub fn decode_rest_book(body: &[u8]) -> Result<BookSnapshot, DecodeError> {
    let result = result_of(body)?;
    let (mut bids, mut asks) = (Vec::new(), Vec::new());
    let head = parse_book(&result, &mut bids, &mut asks)?;
    bids.sort_by_key(|l| std::cmp::Reverse(l.price));
    asks.sort_by_key(|l| l.price);
    Ok(BookSnapshot {
        last_update_id: head.u,
        record_id: head.seq,
        ts_event: super::decode::ms_ns(head.ts, "ts")?,
        bids,
        asks,
    })
}
