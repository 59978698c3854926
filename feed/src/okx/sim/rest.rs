//! OKX REST in the simulator: `GET /api/v5/public/instruments?instType=..` (spot and
//! swaps, with contract terms) and `GET /api/v5/market/books?instId=..&sz=..` (the true
//! book with the `seqId` the REST splice needs, `okx.md` §7.3).

use std::sync::atomic::Ordering::Relaxed;

use tickd_bus::instrument::{ContractSpec, ContractType, InstrumentKind, InstrumentSpec};
use tickd_bus::{Size, Venue};
use tickd_normalizer::okx::encode as enc;

use crate::okx::InstType;
use crate::sim::{now_ns, query_param, Response, SimSymbol, SimView};

const INSTRUMENTS: &str = "/api/v5/public/instruments";
const BOOKS: &str = "/api/v5/market/books";

pub(crate) fn owns(path: &str) -> bool {
    path == INSTRUMENTS || path == BOOKS
}

/// `50011`, OKX's "too many requests" (sent with HTTP 429).
pub(crate) fn limited() -> Vec<u8> {
    let mut body = Vec::new();
    enc::encode_rest_error(&mut body, 50011, "Too Many Requests");
    body
}

fn error(status: u16, code: u32, msg: &str) -> Response {
    let mut body = Vec::new();
    enc::encode_rest_error(&mut body, code, msg);
    Response::status(status, body)
}

/// A simulated instrument as OKX lists it: swaps quoted in USD are inverse (100 USD a
/// contract, settled in the base), other swaps linear (0.01 base a contract).
fn spec_of(s: &SimSymbol) -> InstrumentSpec {
    let (kind, contract) = match InstType::of(&s.raw) {
        InstType::Spot | InstType::Futures => (InstrumentKind::Spot, None),
        InstType::Swap if s.quote == "USD" => (
            InstrumentKind::Perpetual,
            Some(ContractSpec {
                value: Size::from_raw(Size::ONE_RAW * 100),
                value_currency: s.quote.clone(),
                kind: ContractType::Inverse,
                settle_currency: s.base.clone(),
            }),
        ),
        InstType::Swap => (
            InstrumentKind::Perpetual,
            Some(ContractSpec {
                value: Size::from_raw(Size::ONE_RAW / 100),
                value_currency: s.base.clone(),
                kind: ContractType::Linear,
                settle_currency: s.quote.clone(),
            }),
        ),
    };
    InstrumentSpec {
        venue: Venue::Okx,
        raw_symbol: s.raw.clone(),
        base: s.base.clone(),
        quote: s.quote.clone(),
        kind,
        tick_size: s.tick_size,
        step_size: s.lot_size,
        contract,
    }
}

pub(crate) fn handle(path: &str, query: &str, sim: &SimView<'_>) -> Response {
    if let Some(body) = sim.replayed_rest(&format!("{path}?{query}")) {
        return Response::ok(body.into_bytes());
    }
    let mut body = Vec::with_capacity(4096);
    if path == INSTRUMENTS {
        let Some(inst_type) = query_param(query, "instType").filter(|t| !t.is_empty()) else {
            return error(400, 50014, "Parameter instType can not be empty.");
        };
        let specs: Vec<InstrumentSpec> = sim
            .symbols()
            .iter()
            .filter(|s| s.venue == Venue::Okx && InstType::of(&s.raw).as_str() == inst_type)
            .map(spec_of)
            .collect();
        enc::encode_instruments(&mut body, &specs);
        return Response::ok(body);
    }
    let Some(inst_id) = query_param(query, "instId").filter(|s| !s.is_empty()) else {
        return error(400, 50014, "Parameter instId can not be empty.");
    };
    let depth = match query_param(query, "sz").map(str::parse::<usize>) {
        None => 1,
        Some(Ok(sz)) if (1..=400).contains(&sz) => sz,
        Some(_) => return error(400, 51000, "Parameter sz error."),
    };
    let stale = sim.faults().stale_snapshot_events;
    let image = {
        let market = sim.market();
        let Some(book) = market.find(Venue::Okx, inst_id) else {
            return error(400, 51001, "Instrument ID does not exist.");
        };
        match stale {
            Some(events) => {
                sim.fault_counters().stale_snapshots.fetch_add(1, Relaxed);
                Some(book.snapshot_events_ago(events as usize, depth))
            }
            None => book.book_at(book.published_id()).map(|mut b| {
                b.bids.truncate(depth);
                b.asks.truncate(depth);
                b
            }),
        }
    };
    let Some(image) = image else {
        return error(500, 50001, "Book unavailable.");
    };
    enc::encode_rest_books(
        &mut body,
        &image.bids,
        &image.asks,
        now_ns() / 1_000_000,
        image.last_update_id,
    );
    Response::ok(body)
}
