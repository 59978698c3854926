//! Coinbase REST in the simulator: `GET /api/v3/brokerage/market/products`, the
//! simulated spot products in the public list's shape (`coinbase.md` §1, §5).

use std::fmt::Write;

use tickd_bus::Venue;

use crate::coinbase::PRODUCTS_PATH;
use crate::sim::{Response, SimView};

pub(crate) fn owns(path: &str) -> bool {
    path == PRODUCTS_PATH
}

/// Coinbase's rate-limit answer (sent with HTTP 429).
pub(crate) fn limited() -> Vec<u8> {
    br#"{"error":"rate_limit_exceeded","message":"Too many requests"}"#.to_vec()
}

pub(crate) fn handle(path: &str, query: &str, sim: &SimView<'_>) -> Response {
    if let Some(body) = sim.replayed_rest(&format!("{path}?{query}")) {
        return Response::ok(body.into_bytes());
    }
    let mut body = String::from(r#"{"products":["#);
    let mut n = 0;
    for s in sim.symbols().iter().filter(|s| s.venue == Venue::Coinbase) {
        if n > 0 {
            body.push(',');
        }
        n += 1;
        let _ = write!(
            body,
            r#"{{"product_id":"{}","base_currency_id":"{}","quote_currency_id":"{}","base_increment":"{}","quote_increment":"{}","price_increment":"{}","status":"online","trading_disabled":false,"is_disabled":false,"product_type":"SPOT","alias":"","alias_to":[]}}"#,
            s.raw, s.base, s.quote, s.lot_size, s.tick_size, s.tick_size
        );
    }
    let _ = write!(body, r#"],"num_products":{n}}}"#);
    Response::ok(body.into_bytes())
}
