//! The HTTP API on the WebSocket port: history (`/v1/bars`, `/v1/trades`, `/v1/book`),
//! `/v1/instruments`, `/v1/status`, `/metrics` (Prometheus) and `/health`.
//! Decimals are strings; bars and trades also come as CSV (`format=csv`).
//! Bad parameters get a 400 whose body says what is valid. History comes from
//! `tickd_storage::history` over the journal directory given to `Gateway::start`.

pub mod dashboard;
pub mod guard;
pub mod history;
pub mod params;
pub mod stream;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{json, Value};
use tickd_bus::record::BookSide;
use tickd_storage::bars::BarRow;

use crate::metrics::now_ns;
use crate::server::Shared;
use guard::RequestKey;
use params::Params;
use stream::Prepared;

/// The HTTP API, every path behind [`guard::require_key`].
pub fn routes(shared: &Shared) -> axum::Router<Shared> {
    axum::Router::new()
        .route("/health", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/v1/status", get(status))
        .route("/v1/instruments", get(instruments))
        .route("/v1/bars", get(bars))
        .route("/v1/trades", get(trades))
        .route("/v1/book", get(book))
        .merge(dashboard::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            guard::require_key,
        ))
}

fn bad(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": message})),
    )
        .into_response()
}

fn failed(error: history::HistoryError) -> Response {
    let status = match error {
        history::HistoryError::NoJournal => StatusCode::NOT_FOUND,
        history::HistoryError::BadQuery(_) => StatusCode::BAD_REQUEST,
        history::HistoryError::Journal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, axum::Json(json!({"error": error.to_string()}))).into_response()
}

const CSV: &str = "text/csv; charset=utf-8";
const JSON: &str = "application/json";

async fn metrics(State(shared): State<Shared>) -> Response {
    shared.metrics.http_requests.fetch_add(1, Relaxed);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        shared.metrics.render(),
    )
        .into_response()
}

async fn status(State(shared): State<Shared>) -> Response {
    let m = &shared.metrics;
    let streams: Vec<Value> = shared
        .router
        .streams()
        .into_iter()
        .map(|(name, seq, subs)| json!({"stream": name, "last_seq": seq, "subscriptions": subs}))
        .collect();
    // Each hop from the record's `ts_recv` (the feed read the frame): to the router,
    // and to the subscriber's socket.
    let hop = |hop| {
        let (p50, p99, p999, max, count) = m.percentiles(hop);
        json!({"p50": p50, "p99": p99, "p999": p999, "max": max, "count": count})
    };
    let mut body = json!({
        "uptime_s": shared.started.elapsed().as_secs(),
        "connections": m.connections.load(Relaxed),
        "subscriptions": m.subscribers.load(Relaxed),
        "gaps": m.gaps.load(Relaxed),
        "bus_lagged_records": m.bus_lagged.load(Relaxed),
        "drops": m.drops.load(Relaxed),
        "journal_damaged": m.journal_damaged.load(Relaxed),
        "streams": streams,
        "lag_ns": {"router": hop(crate::metrics::Hop::Router), "send": hop(crate::metrics::Hop::Send)},
    });
    if let Value::Object(fields) = &mut body {
        fields.extend(m.source_status());
    }
    axum::Json(body).into_response()
}

async fn instruments(State(shared): State<Shared>, Query(p): Query<Params>) -> Response {
    let venue = match p.get("venue") {
        Some(_) => match params::venue(&p) {
            Ok(v) => Some(v),
            Err(e) => return bad(e),
        },
        None => None,
    };
    let Ok(registry) = shared.router.registry().read() else {
        return bad("registry unavailable".into());
    };
    let list: Vec<Value> = registry
        .iter()
        .filter(|i| venue.is_none_or(|v| v == i.spec.venue))
        .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
        .collect();
    axum::Json(list).into_response()
}

async fn bars(
    State(shared): State<Shared>,
    Extension(key): Extension<RequestKey>,
    Query(p): Query<Params>,
) -> Response {
    let parsed = (|| {
        let (venue, instrument) = params::instrument(&p, shared.router.registry())?;
        let interval = params::interval(&p)?;
        let from = params::time(&p, "from", 0)?;
        let to = params::time(&p, "to", u64::MAX)?;
        if from >= to {
            return Err("from must be before to".to_string());
        }
        Ok((venue, instrument, interval, from, to, params::csv(&p)?))
    })();
    let (venue, instrument, interval, from, to, csv) = match parsed {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    let permits = match shared.history.acquire(&key.0) {
        Ok(permits) => permits,
        Err(busy) => return busy.into_response(),
    };
    let dir = shared.journal_dir.clone();
    let id = instrument.id;
    let symbol = instrument.symbol.clone();
    let metrics = Arc::clone(&shared.metrics);
    let open = move || {
        let bars = history::bars(dir.as_deref(), venue, id, interval, (from, to))?;
        let error = bars.error_handle();
        // Damage in the first day is known now (a header); later days' at the end.
        let first_day = history::skipped(&bars.problems_handle().get());
        let problems = bars.problems_handle();
        let skipped_at_end = move || {
            let skipped = history::skipped(&problems.get());
            metrics.journal_skipped(&skipped);
            skipped
        };
        // One time for the whole answer: which bars may still change.
        let now = now_ns();
        Ok(if csv {
            Prepared {
                content_type: CSV,
                headers: first_day.header(),
                head: format!("{}\n", tickd_storage::bars::CSV_HEADER),
                rows: Box::new(bars.map(move |b| BarRow::new(&b, now).csv())),
                separator: "",
                tail: Box::new(move |_| {
                    let mut tail = skipped_at_end().csv_comments();
                    if let Some(e) = error.take() {
                        tail.push_str(&format!("# error: {e}\n"));
                    }
                    tail
                }),
            }
        } else {
            Prepared {
                content_type: JSON,
                headers: first_day.header(),
                head: format!(
                    "{{\"venue\":{},\"symbol\":{},\"bars\":[",
                    json!(venue.as_str()),
                    json!(symbol)
                ),
                rows: Box::new(bars.map(move |b| BarRow::new(&b, now).json())),
                separator: ",",
                tail: Box::new(move |_| {
                    let skipped = format!("],\"journal_skipped\":{}", skipped_at_end().to_json());
                    match error.take() {
                        // The status line is gone by now: say so in the body.
                        Some(e) => format!("{skipped},\"error\":{}}}", json!(e.to_string())),
                        None => format!("{skipped}}}"),
                    }
                }),
            }
        })
    };
    stream::respond(permits, open).await.unwrap_or_else(failed)
}

async fn trades(
    State(shared): State<Shared>,
    Extension(key): Extension<RequestKey>,
    Query(p): Query<Params>,
) -> Response {
    let parsed = (|| {
        let (venue, instrument) = params::instrument(&p, shared.router.registry())?;
        let from = params::time(&p, "from", 0)?;
        let to = params::time(&p, "to", u64::MAX)?;
        let limit = params::limit(&p, 1000, 100_000)?;
        let cursor = p
            .get("cursor")
            .map(|c| c.parse::<tickd_storage::history::TradeCursor>())
            .transpose()?;
        Ok::<_, String>((
            venue,
            instrument,
            (from, to, cursor),
            limit,
            params::csv(&p)?,
        ))
    })();
    let (venue, instrument, (from, to, cursor), limit, csv) = match parsed {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    let permits = match shared.history.acquire(&key.0) {
        Ok(permits) => permits,
        Err(busy) => return busy.into_response(),
    };
    let dir = shared.journal_dir.clone();
    let id = instrument.id;
    let symbol = instrument.symbol.clone();
    let metrics = Arc::clone(&shared.metrics);
    let open =
        move || {
            let mut trades = history::trades(dir.as_deref(), venue, id, (from, to), cursor)?;
            let skipped = history::skipped(trades.problems());
            metrics.journal_skipped(&skipped);
            trades.track_cursor();
            // The rows take from it; the tail then asks it whether more follow.
            let trades = Arc::new(parking_lot::Mutex::new(trades));
            let page = Arc::clone(&trades);
            let rows = (0..limit).map_while(move |_| page.lock().next());
            let next = move || {
                let mut trades = trades.lock();
                if !trades.has_more() {
                    return None;
                }
                trades
                    .cursor()
                    .map(|c| history::next_page("/v1/trades", &p, c))
            };
            Ok(if csv {
                Prepared {
                    content_type: CSV,
                    headers: skipped.header(),
                    head: "ts_event,ts_recv,seq,price,size,side,trade_id\n".into(),
                    rows: Box::new(rows.map(|t| {
                        format!(
                            "{},{},{},{},{},{},{}\n",
                            t.hd.ts_event,
                            t.hd.ts_recv,
                            t.hd.sequence,
                            t.price,
                            t.size,
                            t.side().as_str(),
                            t.trade_id_string()
                        )
                    })),
                    separator: "",
                    // A partial page ends with the link to the next (CSV readers skip
                    // `#` lines with `comment='#'`).
                    tail: Box::new(move |_| {
                        next().map_or_else(String::new, |link| format!("# next: {link}\n"))
                    }),
                }
            } else {
                Prepared {
                content_type: JSON,
                headers: skipped.header(),
                head: format!(
                    "{{\"venue\":{},\"symbol\":{},\"journal_skipped\":{},\"trades\":[",
                    json!(venue.as_str()),
                    json!(symbol),
                    skipped.to_json()
                ),
                rows: Box::new(rows.map(|t| {
                    json!({"ts_event": t.hd.ts_event, "ts_recv": t.hd.ts_recv, "seq": t.hd.sequence,
                           "price": t.price.to_string(), "size": t.size.to_string(),
                           "side": t.side().as_str(), "trade_id": t.trade_id_string()})
                    .to_string()
                })),
                separator: ",",
                tail: Box::new(move |_| {
                    let next = next();
                    format!("],\"partial\":{},\"next\":{}}}", next.is_some(), json!(next))
                }),
            }
            })
        };
    stream::respond(permits, open).await.unwrap_or_else(failed)
}

async fn book(
    State(shared): State<Shared>,
    Extension(key): Extension<RequestKey>,
    Query(p): Query<Params>,
) -> Response {
    let parsed = (|| {
        let (venue, instrument) = params::instrument(&p, shared.router.registry())?;
        let at = match p.get("at") {
            Some(_) => Some(params::time(&p, "at", 0)?),
            None => None,
        };
        let depth = params::count(&p, "depth", 50, 10_000)?;
        Ok::<_, String>((venue, instrument, at, depth))
    })();
    let (venue, instrument, at, depth) = match parsed {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    let levels = match at {
        None => shared
            .router
            .book_image(venue, instrument.id)
            .map(|records| {
                let mut replay = tickd_normalizer::book::BookReplay::new();
                for r in &records {
                    let _ = replay.apply_record(r);
                }
                let book = replay.book();
                (
                    book.top_n(BookSide::Bid, depth),
                    book.top_n(BookSide::Ask, depth),
                    replay.last_update_id(),
                    false,
                )
            }),
        Some(at) => {
            let permits = match shared.history.acquire(&key.0) {
                Ok(permits) => permits,
                Err(busy) => return busy.into_response(),
            };
            let dir = shared.journal_dir.clone();
            let id = instrument.id;
            let query = move || {
                let _permits = permits;
                history::book_at(dir.as_deref(), venue, id, at, depth)
            };
            match tokio::task::spawn_blocking(query).await {
                Ok(Ok(book)) => book.map(|b| (b.bids, b.asks, b.update_id, b.gap_since_snapshot)),
                Ok(Err(e)) => return failed(e),
                Err(_) => {
                    return failed(history::HistoryError::Journal("query task failed".into()))
                }
            }
        }
    };
    let Some((bids, asks, update_id, gap)) = levels else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "no complete book for this instrument at that time"})),
        )
            .into_response();
    };
    let side = |levels: &[tickd_normalizer::Level]| -> Vec<Value> {
        levels
            .iter()
            .map(|l| json!([l.price.to_string(), l.size.to_string()]))
            .collect()
    };
    axum::Json(json!({
        "venue": venue.as_str(), "symbol": instrument.symbol, "update_id": update_id,
        "gap_since_snapshot": gap, "bids": side(&bids), "asks": side(&asks),
    }))
    .into_response()
}
