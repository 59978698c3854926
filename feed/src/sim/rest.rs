//! REST requests: counted, answered with the 429/418 fault when it is on (in the
//! owning venue's format), else by the venue protocol that owns the path.

use std::sync::atomic::Ordering::Relaxed;

use super::protocol::{Response, SimView};
use super::state::Shared;

pub(crate) fn handle(shared: &Shared, method: &str, target: &str) -> Response {
    let n = shared.counters.rest_requests.fetch_add(1, Relaxed) + 1;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some(protocol) = shared.protocols.iter().find(|p| p.owns_rest(path)) else {
        return Response::status(404, b"{\"msg\":\"Not found.\"}".to_vec());
    };
    if let Some(fault) = shared.faults.read().rest_error_for(n) {
        shared.fault_counters.rest_errors.fetch_add(1, Relaxed);
        let mut r = Response::status(fault.status, protocol.rest_limited(fault.status));
        r.retry_after = Some(fault.retry_after_secs);
        return r;
    }
    if method != "GET" {
        return Response::status(405, b"{\"msg\":\"Only GET is served.\"}".to_vec());
    }
    protocol.rest(path, query, &SimView { shared })
}

/// The value of `name` in a query string.
pub fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| {
        kv.split_once('=')
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v)
    })
}
