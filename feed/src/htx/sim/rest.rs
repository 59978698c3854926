//! HTX REST in the simulator (`htx.md` §4, §6.10): the spot symbol list
//! (`/v1/common/symbols`), the USDT-M and coin-M contract lists with contract
//! sizes (`swap_contract_info`), and polled open interest (`swap_open_interest`).

use std::io::Write;

use tickd_bus::{Size, Venue};

use crate::sim::{now_ns, query_param, Response, SimSymbol, SimView};

const SPOT_SYMBOLS: &str = "/v1/common/symbols";
const USDM_CONTRACTS: &str = "/linear-swap-api/v1/swap_contract_info";
const COINM_CONTRACTS: &str = "/swap-api/v1/swap_contract_info";
const USDM_OI: &str = "/linear-swap-api/v1/swap_open_interest";
const COINM_OI: &str = "/swap-api/v1/swap_open_interest";

pub(crate) fn owns(path: &str) -> bool {
    matches!(
        path,
        SPOT_SYMBOLS | USDM_CONTRACTS | COINM_CONTRACTS | USDM_OI | COINM_OI
    )
}

/// HTX's rate-limit answer.
pub(crate) fn limited() -> Vec<u8> {
    br#"{"status":"error","err-code":"api-limit","err-msg":"The number of access exceeded the limit.","data":null}"#.to_vec()
}

fn error(msg: &str) -> Response {
    Response::status(
        400,
        format!(
            r#"{{"status":"error","err-code":"invalid-parameter","err-msg":"{msg}","data":null}}"#
        )
        .into_bytes(),
    )
}

/// A USDT-M contract is 0.001 base, a coin-M one 100 USD.
fn contract_size(venue: Venue) -> &'static str {
    if venue == Venue::HtxCoinm {
        "100"
    } else {
        "0.001"
    }
}

fn list(out: &mut Vec<u8>, venue: Venue, sim: &SimView<'_>) {
    let symbols: Vec<&SimSymbol> = sim.symbols().iter().filter(|s| s.venue == venue).collect();
    out.extend_from_slice(br#"{"status":"ok","data":["#);
    for (i, s) in symbols.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let places = |v: String| {
            v.split_once('.')
                .map_or(0, |(_, f)| f.trim_end_matches('0').len())
        };
        if venue == Venue::Htx {
            let _ = write!(
                out,
                r#"{{"base-currency":"{}","quote-currency":"{}","price-precision":{},"amount-precision":{},"symbol-partition":"main","symbol":"{}","state":"online"}}"#,
                s.base.to_ascii_lowercase(),
                s.quote.to_ascii_lowercase(),
                places(s.tick_size.to_string()),
                places(s.lot_size.to_string()),
                s.raw.to_ascii_lowercase(),
            );
        } else {
            let _ = write!(
                out,
                r#"{{"symbol":"{}","contract_code":"{}","contract_size":{},"price_tick":{},"delivery_date":"","create_date":"20200325","contract_status":1,"business_type":"swap","contract_type":"swap","trade_partition":"{}"}}"#,
                s.base,
                s.raw,
                contract_size(venue),
                s.tick_size,
                if venue == Venue::HtxCoinm { "" } else { "USDT" },
            );
        }
    }
    let _ = write!(out, r#"],"ts":{}}}"#, now_ns() / 1_000_000);
}

pub(crate) fn handle(path: &str, query: &str, sim: &SimView<'_>) -> Response {
    if let Some(body) = sim.replayed_rest(&format!("{path}?{query}")) {
        return Response::ok(body.into_bytes());
    }
    let mut body = Vec::with_capacity(4096);
    let venue = match path {
        SPOT_SYMBOLS => Venue::Htx,
        USDM_CONTRACTS | USDM_OI => Venue::HtxUsdm,
        _ => Venue::HtxCoinm,
    };
    if matches!(path, SPOT_SYMBOLS | USDM_CONTRACTS | COINM_CONTRACTS) {
        list(&mut body, venue, sim);
        return Response::ok(body);
    }
    let Some(code) = query_param(query, "contract_code").filter(|c| !c.is_empty()) else {
        return error("contract_code is required");
    };
    // Open interest: the contracts resting in the true book, a number that moves.
    let volume = {
        let market = sim.market();
        let Some(book) = market.find(venue, code) else {
            return error("contract doesn't exist");
        };
        let image = book.snapshot(usize::MAX);
        image
            .bids
            .iter()
            .chain(&image.asks)
            .fold(Size::ZERO, |sum, l| sum.checked_add(l.size).unwrap_or(sum))
    };
    let _ = write!(
        body,
        r#"{{"status":"ok","data":[{{"volume":{volume},"amount":{volume},"symbol":"{}","contract_code":"{code}","business_type":"swap","contract_type":"swap"}}],"ts":{}}}"#,
        code.split('-').next().unwrap_or(""),
        now_ns() / 1_000_000
    );
    Response::ok(body)
}
