//! With `allow_anonymous = false`, every HTTP path but `/health` (and `/metrics` when
//! `open_metrics`) needs an API key, sent as `Authorization: Bearer` (scheme in any
//! case) or `?api_key=`; a key's request rate is limited like its messages.

mod common;

use common::*;
use tickd_gateway::{ApiKeyConfig, GatewayConfig, KeyLimits};

const KEY: &str = "0123456789abcdef0123";

/// Every path the HTTP API serves, with parameters that make it answer 200 when
/// authorized (history paths answer 404 here: the fixture has no journal).
const PATHS: [&str; 8] = [
    "/v1/status",
    "/v1/instruments",
    "/v1/trades?venue=binance&symbol=BTC-USDT",
    "/v1/bars?venue=binance&symbol=BTC-USDT",
    "/v1/book?venue=binance&symbol=BTC-USDT",
    "/metrics",
    "/",
    "/dashboard",
];

fn closed(rate: u32, open_metrics: bool) -> GatewayConfig {
    GatewayConfig {
        allow_anonymous: false,
        open_metrics,
        api_keys: vec![ApiKeyConfig {
            key: KEY.into(),
            limits: KeyLimits {
                max_messages_per_sec: rate,
                ..KeyLimits::default()
            },
        }],
        ..test_config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_but_health_needs_a_key() {
    let f = start(closed(1000, false)).await;
    let addr = f.gateway.local_addr();
    for path in PATHS {
        let (status, body) = http_get(addr, path).await;
        assert_eq!(status, 401, "{path} without a key: {body}");
        assert!(body.contains("API key"), "{path}: {body}");
        let (status, _) = http_get_with(
            addr,
            path,
            &[("Authorization", "Bearer wrong-key-wrong-key")],
        )
        .await;
        assert_eq!(status, 401, "{path} with a wrong key");
        let (status, _) =
            http_get_with(addr, path, &[("Authorization", &format!("Basic {KEY}"))]).await;
        assert_eq!(status, 401, "{path} with another scheme");
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let auth = format!("{scheme} {KEY}");
            let (status, body) = http_get_with(addr, path, &[("Authorization", &auth)]).await;
            assert!(
                status != 401 && status != 429,
                "{path} with {scheme}: {status} {body}"
            );
        }
        let sep = if path.contains('?') { '&' } else { '?' };
        let (status, _) = http_get(addr, &format!("{path}{sep}api_key={KEY}")).await;
        assert!(status != 401, "{path} with ?api_key");
    }
    let (status, body) = http_get(addr, "/health").await;
    assert_eq!((status, body.trim()), (200, "ok"));
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_open_by_config_only() {
    let f = start(closed(1000, true)).await;
    let addr = f.gateway.local_addr();
    assert_eq!(http_get(addr, "/metrics").await.0, 200);
    assert_eq!(http_get(addr, "/v1/status").await.0, 401);
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_over_its_request_rate_gets_429() {
    let f = start(closed(5, false)).await;
    let addr = f.gateway.local_addr();
    let auth = format!("Bearer {KEY}");
    let mut codes = Vec::new();
    for _ in 0..20 {
        codes.push(
            http_get_with(addr, "/v1/status", &[("Authorization", &auth)])
                .await
                .0,
        );
    }
    let refused = codes.iter().filter(|&&c| c == 429).count();
    assert!(refused >= 10, "{codes:?}");
    assert!(codes.iter().take(5).all(|&c| c == 200), "{codes:?}");
    f.gateway.shutdown().await;
}
