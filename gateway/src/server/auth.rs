//! API keys, their per-key limits, and the per-connection message rate limiter.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::http::{header, HeaderMap};
use parking_lot::Mutex;

use crate::config::{GatewayConfig, KeyLimits};

/// One key's limits and usage across all its connections.
#[derive(Debug)]
pub struct KeyState {
    /// For logs and status: `anonymous` or the key's first four characters.
    pub label: String,
    pub limits: KeyLimits,
    connections: AtomicU32,
    subscriptions: AtomicU32,
    /// HTTP requests across all of this key's clients (`max_messages_per_sec`).
    requests: Mutex<RateLimiter>,
    /// History queries in flight with this key (`max_history_queries`).
    pub history: Arc<tokio::sync::Semaphore>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error(
        "an API key is required: send it as 'Authorization: Bearer KEY', ?api_key=KEY, or in hello"
    )]
    KeyRequired,
    #[error("unknown API key")]
    UnknownKey,
    #[error("this API key already has {0} connections, its limit")]
    TooManyConnections(u32),
    #[error("this API key allows {0} subscriptions, fewer than this connection holds")]
    TooManySubscriptions(u32),
    #[error("this connection already has another API key")]
    KeyAlreadySet,
}

pub struct Auth {
    /// Searched in full on every lookup, comparing in constant time, so the time an
    /// answer takes says nothing about how much of a key a guess got right.
    keys: Vec<(Box<[u8]>, Arc<KeyState>)>,
    anonymous: Option<Arc<KeyState>>,
}

impl Auth {
    pub fn new(config: &GatewayConfig) -> Self {
        let keys = config
            .api_keys
            .iter()
            .map(|k| {
                let label = format!("{}…", k.key.chars().take(4).collect::<String>());
                let key: Box<[u8]> = k.key.as_bytes().into();
                (key, Arc::new(KeyState::new(label, k.limits)))
            })
            .collect();
        let anonymous = config
            .allow_anonymous
            .then(|| Arc::new(KeyState::new(ANONYMOUS.into(), config.anonymous_limits)));
        Auth { keys, anonymous }
    }

    /// Admits one connection presenting `key` (or none).
    pub fn admit(&self, key: Option<&str>) -> Result<Admission, AuthError> {
        let state = match key {
            Some(key) => self.find(key).ok_or(AuthError::UnknownKey)?,
            None => self.anonymous.as_ref().ok_or(AuthError::KeyRequired)?,
        };
        let limit = state.limits.max_connections;
        state
            .connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .map_err(|_| AuthError::TooManyConnections(limit))?;
        Ok(Admission {
            key: Arc::clone(state),
            subscriptions: 0,
        })
    }

    /// A `hello` with `key` on an admitted connection: an anonymous one takes the key's
    /// limits (its subscriptions move over to the key); a keyed one may only repeat its
    /// own key. On an error the connection keeps what it had.
    pub fn upgrade(&self, current: &mut Admission, key: &str) -> Result<(), AuthError> {
        let state = self.find(key).ok_or(AuthError::UnknownKey)?;
        if Arc::ptr_eq(state, &current.key) {
            return Ok(());
        }
        if !current.is_anonymous() {
            return Err(AuthError::KeyAlreadySet);
        }
        let mut keyed = self.admit(Some(key))?;
        if !keyed.reserve_subscriptions(current.subscriptions) {
            return Err(AuthError::TooManySubscriptions(
                keyed.key.limits.max_subscriptions,
            ));
        }
        // The anonymous admission drops here, giving back its connection and subscriptions.
        *current = keyed;
        Ok(())
    }

    fn find(&self, presented: &str) -> Option<&Arc<KeyState>> {
        let mut found = None;
        for (key, state) in &self.keys {
            if constant_time_eq(key, presented.as_bytes()) {
                found = Some(state);
            }
        }
        found
    }
}

/// Equality whose time depends only on the lengths, not on where the bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The API key a request presents: `Authorization: Bearer KEY` (the scheme in any
/// case), else `api_key=KEY` in the query string (less safe: URLs end up in logs).
pub fn presented_key(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    bearer.or_else(|| {
        url::form_urlencoded::parse(query?.as_bytes())
            .find(|(name, _)| name == "api_key")
            .map(|(_, value)| value.into_owned())
    })
}

impl KeyState {
    fn new(label: String, limits: KeyLimits) -> Self {
        KeyState {
            label,
            limits,
            connections: AtomicU32::new(0),
            subscriptions: AtomicU32::new(0),
            requests: Mutex::new(RateLimiter::new(limits.max_messages_per_sec)),
            history: Arc::new(tokio::sync::Semaphore::new(
                limits.max_history_queries.max(1) as usize,
            )),
        }
    }

    /// Takes one HTTP request from the key's rate (anonymous clients: never limited
    /// here as one key; they are limited per connection and per address instead).
    pub fn allow_request(&self) -> bool {
        self.label == ANONYMOUS || self.requests.lock().allow()
    }
}

const ANONYMOUS: &str = "anonymous";

/// One admitted connection; gives its connection and subscriptions back on drop.
#[derive(Debug)]
pub struct Admission {
    pub key: Arc<KeyState>,
    subscriptions: u32,
}

impl Admission {
    pub fn is_anonymous(&self) -> bool {
        self.key.label == ANONYMOUS
    }

    /// Reserves `n` subscriptions against the key's limit.
    pub fn reserve_subscriptions(&mut self, n: u32) -> bool {
        let limit = self.key.limits.max_subscriptions;
        let ok = self
            .key
            .subscriptions
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|total| *total <= limit)
            })
            .is_ok();
        if ok {
            self.subscriptions += n;
        }
        ok
    }

    pub fn release_subscriptions(&mut self, n: u32) {
        let n = n.min(self.subscriptions);
        self.subscriptions -= n;
        self.key.subscriptions.fetch_sub(n, Ordering::AcqRel);
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.key
            .subscriptions
            .fetch_sub(self.subscriptions, Ordering::AcqRel);
        self.key.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Token bucket: `rate` messages per second, bursts up to `rate`.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    pub fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1));
        RateLimiter {
            rate,
            tokens: rate,
            last: Instant::now(),
        }
    }

    /// Takes one token if there is one.
    pub fn allow(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ApiKeyConfig;

    fn config() -> GatewayConfig {
        GatewayConfig {
            allow_anonymous: false,
            api_keys: vec![ApiKeyConfig {
                key: "k".repeat(16),
                limits: KeyLimits {
                    max_connections: 2,
                    max_subscriptions: 3,
                    max_messages_per_sec: 5,
                    ..KeyLimits::default()
                },
            }],
            ..GatewayConfig::default()
        }
    }

    #[test]
    fn keys_and_connection_limits() {
        let auth = Auth::new(&config());
        assert_eq!(auth.admit(None).unwrap_err(), AuthError::KeyRequired);
        assert_eq!(auth.admit(Some("nope")).unwrap_err(), AuthError::UnknownKey);
        let key = "k".repeat(16);
        let a = auth.admit(Some(&key)).unwrap();
        let _b = auth.admit(Some(&key)).unwrap();
        assert_eq!(
            auth.admit(Some(&key)).unwrap_err(),
            AuthError::TooManyConnections(2)
        );
        drop(a);
        assert!(auth.admit(Some(&key)).is_ok());
    }

    #[test]
    fn subscription_limit_spans_connections() {
        let auth = Auth::new(&config());
        let key = "k".repeat(16);
        let mut a = auth.admit(Some(&key)).unwrap();
        let mut b = auth.admit(Some(&key)).unwrap();
        assert!(a.reserve_subscriptions(2));
        assert!(!b.reserve_subscriptions(2));
        assert!(b.reserve_subscriptions(1));
        drop(a);
        assert!(b.reserve_subscriptions(2));
        b.release_subscriptions(3);
        assert!(b.reserve_subscriptions(3));
    }

    #[test]
    fn bearer_scheme_in_any_case_then_query() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            presented_key(&headers, Some("a=1&api_key=q%2Bk")),
            Some("q+k".into())
        );
        assert_eq!(presented_key(&headers, None), None);
        headers.insert(header::AUTHORIZATION, "bEaReR  secret ".parse().unwrap());
        assert_eq!(
            presented_key(&headers, Some("api_key=q")),
            Some("secret".into())
        );
        headers.insert(header::AUTHORIZATION, "Basic secret".parse().unwrap());
        assert_eq!(presented_key(&headers, None), None);
    }

    #[test]
    fn constant_time_eq_compares_whole_keys() {
        assert!(constant_time_eq(b"abcd", b"abcd"));
        assert!(!constant_time_eq(b"abcd", b"abce"));
        assert!(!constant_time_eq(b"abcd", b"abc"));
    }

    #[test]
    fn rate_limiter_allows_a_burst_then_refuses() {
        let mut limiter = RateLimiter::new(5);
        let allowed = (0..20).filter(|_| limiter.allow()).count();
        assert!((5..=6).contains(&allowed), "{allowed}");
    }
}
