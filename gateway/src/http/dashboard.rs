//! The dashboard page (`GET /` and `/dashboard`): one self-contained HTML file with
//! inline CSS and JS, compiled into the binary so the page works with no internet and
//! no files next to the binary. It reads `/v1/status`, `/v1/instruments`, `/v1/bars`,
//! `/v1/book` and the WebSocket protocol (`trades.*.*`, `bbo.*.*`, `status.*.*`) like
//! any client.

use std::sync::atomic::Ordering::Relaxed;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::server::Shared;

/// The page, as served.
pub const PAGE: &str = include_str!("../../assets/dashboard.html");

/// `/` and `/dashboard`, to be merged into the HTTP router.
pub fn routes() -> axum::Router<Shared> {
    axum::Router::new()
        .route("/", get(page))
        .route("/dashboard", get(page))
}

async fn page(State(shared): State<Shared>) -> Response {
    shared.metrics.http_requests.fetch_add(1, Relaxed);
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            // The page loads nothing from elsewhere; say so to the browser too.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 connect-src 'self' ws: wss:; img-src 'self' data:",
            ),
        ],
        PAGE,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::PAGE;

    #[test]
    fn page_is_self_contained() {
        // The only URL in the page is the SVG namespace, which is never fetched.
        let urls = PAGE.matches("http://").count() + PAGE.matches("https://").count();
        assert_eq!(urls, PAGE.matches("http://www.w3.org/2000/svg").count());
        for external in ["<link", "src=", "@import", "url("] {
            assert!(
                !PAGE.contains(external),
                "dashboard loads something: {external}"
            );
        }
    }

    #[test]
    fn data_never_goes_through_inner_html() {
        assert!(
            !PAGE.contains("innerHTML"),
            "use textContent for server data"
        );
        assert!(!PAGE.contains("insertAdjacentHTML"));
        assert!(!PAGE.contains("document.write"));
    }
}
