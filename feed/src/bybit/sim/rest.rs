//! Bybit REST in the simulator: `GET /v5/market/instruments-info?category=..&limit=..
//! [&cursor=..]` (pages of `limit`, the cursor the next row's index) and
//! `GET /v5/market/orderbook?category=..&symbol=..&limit=..` (the true book at its
//! update id, `limit` levels a side) and `GET /v5/market/full_orderbook?category=
//! spot&symbol=..` (spot only: the whole true book, at the `u` and `seq` the
//! `orderbook.full` stream numbers it by; `stale_snapshot_events` makes it older).

use tickd_bus::instrument::{ContractSpec, ContractType, InstrumentKind, InstrumentSpec};
use tickd_bus::{Size, Venue};
use tickd_normalizer::bybit::encode as enc;
use tickd_normalizer::bybit::Category;

use super::{split, BybitSim};
use crate::sim::{query_param, Response, SimSymbol, SimView};

const INSTRUMENTS: &str = "/v5/market/instruments-info";
const ORDERBOOK: &str = "/v5/market/orderbook";
const FULL_ORDERBOOK: &str = "/v5/market/full_orderbook";

/// Levels a side `full_orderbook` returns at most (`bybit.md` §6.2).
const FULL_LEVELS: usize = 10_000;

pub(crate) fn owns(path: &str) -> bool {
    path == INSTRUMENTS || path == ORDERBOOK || path == FULL_ORDERBOOK
}

/// `10006`, Bybit's "too many visits" (sent with HTTP 429).
pub(crate) fn limited() -> Vec<u8> {
    let mut body = Vec::new();
    enc::encode_rest_error(&mut body, 10006, "Too many visits!");
    body
}

fn error(code: u32, msg: &str) -> Response {
    let mut body = Vec::new();
    enc::encode_rest_error(&mut body, code, msg);
    Response::ok(body)
}

/// A simulated instrument as Bybit lists it: spot, or a perpetual or dated future
/// (linear: 1 base coin a contract; inverse: 1 USD, settled in the base coin).
fn spec_of(category: Category, s: &SimSymbol, symbol: &str) -> InstrumentSpec {
    let contract = match category {
        Category::Spot => None,
        Category::Linear => Some(ContractSpec {
            value: Size::from_raw(Size::ONE_RAW),
            value_currency: s.base.clone(),
            kind: ContractType::Linear,
            settle_currency: s.quote.clone(),
        }),
        Category::Inverse => Some(ContractSpec {
            value: Size::from_raw(Size::ONE_RAW),
            value_currency: s.quote.clone(),
            kind: ContractType::Inverse,
            settle_currency: s.base.clone(),
        }),
    };
    InstrumentSpec {
        venue: Venue::Bybit,
        raw_symbol: category.raw_symbol(symbol),
        base: s.base.clone(),
        quote: s.quote.clone(),
        kind: match (category, super::delivery(symbol)) {
            (Category::Spot, _) => InstrumentKind::Spot,
            (_, Some((_, expiry))) => InstrumentKind::Future { expiry },
            (_, None) => InstrumentKind::Perpetual,
        },
        tick_size: s.tick_size,
        step_size: s.lot_size,
        contract,
    }
}

pub(crate) fn handle(path: &str, query: &str, sim: &SimView<'_>) -> Response {
    if let Some(body) = sim.replayed_rest(&format!("{path}?{query}")) {
        return Response::ok(body.into_bytes());
    }
    let Some(category) = query_param(query, "category").and_then(Category::from_name) else {
        return error(10001, "params error: category");
    };
    let mut body = Vec::with_capacity(4096);
    if path == INSTRUMENTS {
        let specs: Vec<InstrumentSpec> = sim
            .symbols()
            .iter()
            .filter(|s| s.venue == Venue::Bybit)
            .filter_map(|s| {
                let (c, symbol) = split(&s.raw)?;
                (c == category).then(|| spec_of(c, s, &symbol))
            })
            .collect();
        let limit = query_param(query, "limit")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(500)
            .clamp(1, 1000);
        let from = query_param(query, "cursor")
            .and_then(|c| c.parse::<usize>().ok())
            .unwrap_or(0)
            .min(specs.len());
        let to = (from + limit).min(specs.len());
        let next = if to < specs.len() {
            to.to_string()
        } else {
            String::new()
        };
        enc::encode_instruments(&mut body, category, &specs[from..to], &next);
        return Response::ok(body);
    }
    let symbol = query_param(query, "symbol").unwrap_or_default();
    let full = path == FULL_ORDERBOOK;
    if full && category != Category::Spot {
        return error(10001, "params error: category only support spot");
    }
    // The depths the adapter asks for (`snapshot_path`); none: the top 25.
    let depth = match query_param(query, "limit").map(str::parse::<usize>) {
        None if full => FULL_LEVELS,
        None => 25,
        Some(Ok(n)) if (1..=1000).contains(&n) && !full => n,
        Some(_) => return error(10001, "params error: limit invalid"),
    };
    let Some(idx) = sim.symbol_index(Venue::Bybit, &category.raw_symbol(symbol)) else {
        return error(10001, "params error: symbol invalid");
    };
    // The stale-snapshot fault: an image this many updates old.
    let behind = if full {
        sim.faults().stale_snapshot_events.map_or(0, u64::from)
    } else {
        0
    };
    let image = {
        let market = sim.market();
        market
            .books
            .get(idx as usize)
            .and_then(|b| {
                let at = b.published_id();
                match behind {
                    0 => b.book_at(at),
                    // As far back as the history goes.
                    n => b
                        .book_at(at.saturating_sub(n))
                        .or_else(|| Some(b.snapshot_events_ago(n as usize, usize::MAX))),
                }
            })
            .map(|mut image| {
                image.bids.truncate(depth);
                image.asks.truncate(depth);
                image
            })
    };
    let Some(image) = image else {
        return error(10001, "params error: symbol invalid");
    };
    enc::encode_rest_book(
        &mut body,
        symbol,
        &image.bids,
        &image.asks,
        image.last_update_id,
        BybitSim::cross_seq(image.last_update_id),
        crate::sim::now_ns() / 1_000_000,
    );
    Response::ok(body)
}
