//! Kraken REST in the simulator: `GET /0/public/AssetPairs` (every simulated Kraken
//! pair with its precision: `pair_decimals` from the tick, `lot_decimals` from the lot).

use tickd_bus::instrument::{InstrumentKind, InstrumentSpec};
use tickd_bus::Venue;
use tickd_normalizer::kraken::encode;

use crate::sim::{Response, SimSymbol, SimView};

const ASSET_PAIRS: &str = "/0/public/AssetPairs";

pub(crate) fn owns(path: &str) -> bool {
    path == ASSET_PAIRS
}

/// Kraken's rate-limit error (sent with the fault's status).
pub(crate) fn limited() -> Vec<u8> {
    encode::rest_error("EAPI:Rate limit exceeded").into_bytes()
}

/// A simulated pair as Kraken lists it; its precision is the checksum's.
pub(crate) fn spec_of(s: &SimSymbol) -> InstrumentSpec {
    InstrumentSpec {
        venue: Venue::Kraken,
        raw_symbol: s.raw.clone(),
        base: s.base.clone(),
        quote: s.quote.clone(),
        kind: InstrumentKind::Spot,
        tick_size: s.tick_size,
        step_size: s.lot_size,
        contract: None,
    }
}

pub(crate) fn handle(path: &str, query: &str, sim: &SimView<'_>) -> Response {
    if let Some(body) = sim.replayed_rest(&format!("{path}?{query}")) {
        return Response::ok(body.into_bytes());
    }
    let specs: Vec<InstrumentSpec> = sim
        .symbols()
        .iter()
        .filter(|s| s.venue == Venue::Kraken)
        .map(spec_of)
        .collect();
    Response::ok(encode::asset_pairs(&specs).into_bytes())
}
