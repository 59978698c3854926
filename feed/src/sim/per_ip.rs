//! Limits a venue counts per client IP over all of its connections (Coinbase: 8 new
//! connections and 8 client messages a second, `coinbase.md` §2): a connect over
//! the limit is refused with HTTP 429 at the upgrade, a message over it closes the
//! connection that sent it (policy violation), as the per-connection limit does.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use parking_lot::Mutex;
use tickd_bus::Venue;
use tokio::time::Instant;

/// A venue's per-IP limits (0: none), from its [`super::SimProtocol::ip_rules`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpRules {
    pub connects_per_sec: u32,
    pub messages_per_sec: u32,
}

impl IpRules {
    pub const NONE: IpRules = IpRules {
        connects_per_sec: 0,
        messages_per_sec: 0,
    };
}

/// Arrivals in the last second, per client IP and venue.
#[derive(Debug, Default)]
pub(crate) struct IpLimiter {
    connects: Mutex<HashMap<(IpAddr, Venue), VecDeque<Instant>>>,
    messages: Mutex<HashMap<(IpAddr, Venue), VecDeque<Instant>>>,
}

/// Count one arrival; false when it is one more than `limit` in the last second.
fn admit(
    map: &Mutex<HashMap<(IpAddr, Venue), VecDeque<Instant>>>,
    key: (IpAddr, Venue),
    limit: u32,
) -> bool {
    if limit == 0 {
        return true;
    }
    let now = Instant::now();
    let mut map = map.lock();
    let times = map.entry(key).or_default();
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
    {
        times.pop_front();
    }
    if times.len() >= limit as usize {
        return false;
    }
    times.push_back(now);
    true
}

impl IpLimiter {
    pub fn admit_connect(&self, ip: IpAddr, venue: Venue, rules: IpRules) -> bool {
        admit(&self.connects, (ip, venue), rules.connects_per_sec)
    }

    pub fn admit_message(&self, ip: IpAddr, venue: Venue, rules: IpRules) -> bool {
        admit(&self.messages, (ip, venue), rules.messages_per_sec)
    }
}
