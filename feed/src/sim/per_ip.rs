//! A venue's per-host budget as the venue enforces it, per client IP over all of its
//! connections (the [`HostBudget`] its adapter declares; Coinbase: 8 new connections
//! and 8 client messages a second, `coinbase.md` §2): a connect over it is refused
//! with HTTP 429 at the upgrade, a message over it closes the connection that sent it
//! (policy violation), as the per-connection limit does.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use parking_lot::Mutex;
use tickd_bus::Venue;
use tokio::time::Instant;

use crate::engine::adapter::{HostBudget, RateLimit};

type Arrivals = Mutex<HashMap<(IpAddr, Venue), VecDeque<Instant>>>;

/// Arrivals in the last window, per client IP and venue.
#[derive(Debug, Default)]
pub(crate) struct IpLimiter {
    connects: Arrivals,
    messages: Arrivals,
}

/// Count one arrival; false when it is one more than `limit` allows in its window.
fn admit(map: &Arrivals, key: (IpAddr, Venue), limit: Option<RateLimit>) -> bool {
    let Some(limit) = limit.filter(|l| l.max > 0) else {
        return true;
    };
    let now = Instant::now();
    let mut map = map.lock();
    let times = map.entry(key).or_default();
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= limit.per)
    {
        times.pop_front();
    }
    if times.len() >= limit.max as usize {
        return false;
    }
    times.push_back(now);
    true
}

impl IpLimiter {
    pub fn admit_connect(&self, ip: IpAddr, venue: Venue, budget: HostBudget) -> bool {
        admit(&self.connects, (ip, venue), budget.connects)
    }

    pub fn admit_message(&self, ip: IpAddr, venue: Venue, budget: HostBudget) -> bool {
        admit(&self.messages, (ip, venue), budget.messages)
    }
}
