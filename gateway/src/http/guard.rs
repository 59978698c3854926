//! Every HTTP path but `/health` (and `/metrics` when `open_metrics`) needs an API key
//! when anonymous access is off, with the key's limits: its connection count covers
//! requests in flight, its message rate covers requests per second.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::server::auth::{presented_key, AuthError};
use crate::server::Shared;

/// The key state of the request's admission, for per-key limits further in.
#[derive(Clone)]
pub struct RequestKey(pub std::sync::Arc<crate::server::auth::KeyState>);

pub async fn require_key(
    State(shared): State<Shared>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path == "/health" || (path == "/metrics" && shared.config.open_metrics) {
        return next.run(request).await;
    }
    let key = presented_key(request.headers(), request.uri().query());
    let admission = match shared.auth.admit(key.as_deref()) {
        Ok(admission) => admission,
        Err(e) => {
            let status = match e {
                AuthError::KeyRequired | AuthError::UnknownKey => StatusCode::UNAUTHORIZED,
                AuthError::TooManyConnections(_) | AuthError::TooManySubscriptions(_) => {
                    StatusCode::TOO_MANY_REQUESTS
                }
                // `admit` never answers this (only a connection's `hello` can).
                AuthError::KeyAlreadySet => StatusCode::BAD_REQUEST,
            };
            shared.metrics.error(match status {
                StatusCode::UNAUTHORIZED => "unauthorized",
                _ => "too_many_connections",
            });
            return refused(status, &e.to_string());
        }
    };
    if !admission.key.allow_request() {
        shared.metrics.error("rate_limited");
        let limit = admission.key.limits.max_messages_per_sec;
        return refused(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("more than {limit} requests per second with this API key, its limit"),
        );
    }
    request
        .extensions_mut()
        .insert(RequestKey(std::sync::Arc::clone(&admission.key)));
    let response = next.run(request).await;
    drop(admission);
    response
}

fn refused(status: StatusCode, message: &str) -> Response {
    let mut response = (status, axum::Json(json!({"error": message}))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}
