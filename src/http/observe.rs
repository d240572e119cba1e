//! Request ids, access logs and metrics for every request, and the `/metrics` endpoint.

use std::time::Instant;

use poem::{http::HeaderValue, Endpoint, IntoResponse, Request, Response};
use poem_openapi::OperationId;
use tracing::Instrument;

use super::State;
use crate::metrics::{metrics, Gauges};

/// The methods counted under their own name in the metrics.
const STANDARD_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

/// The header carrying a request's id, in both directions.
pub const REQUEST_ID: &str = "x-request-id";

/// The caller's request id if it is a sensible one (1–128 of `A-Z a-z 0-9 . _ : -`), else a new
/// UUID.
fn request_id(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=128).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Wraps a request: gives it an id (echoed in `X-Request-Id` and attached to every log line it
/// causes), logs one line when answered (operation, status, time; never the path, which holds
/// the application's token), counts it, and gives a `503` a `Retry-After` if it has none.
pub async fn observe<E: Endpoint<Output = Response>>(ep: &E, req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let id = request_id(&req);
    // Only the standard methods become label values: a client inventing methods must not grow
    // the metrics without bound.
    let method = STANDARD_METHODS
        .into_iter()
        .find(|m| *m == req.method().as_str())
        .unwrap_or("other");
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = ep.call(req).instrument(span.clone()).await?;
    let took = started.elapsed();
    let operation = response.data::<OperationId>().map_or("none", |op| op.0);
    let status = response.status().as_u16();
    metrics().request(operation, method, status, took);
    tracing::info!(
        parent: &span,
        operation,
        method,
        status,
        ms = took.as_secs_f64() * 1e3,
        "answered"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    // Every 503 is worth retrying shortly (busy, the database unavailable, too many streams):
    // say when, where the answer has not already.
    if status == 503 && !response.headers().contains_key(poem::http::header::RETRY_AFTER) {
        response
            .headers_mut()
            .insert(poem::http::header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    Ok(response)
}

/// Jobs waiting, the oldest one's age in seconds, stuck jobs.
type QueueStats = (i64, f64, i64);

/// The queue figures, read at most once a second however often `/metrics` is scraped (and by one
/// request at a time), so scrapes cannot load the database.
async fn queue_stats(state: &State) -> Option<QueueStats> {
    static CACHE: tokio::sync::Mutex<Option<(Instant, Option<QueueStats>)>> = tokio::sync::Mutex::const_new(None);
    let mut cache = CACHE.lock().await;
    match *cache {
        Some((at, stats)) if at.elapsed() < std::time::Duration::from_secs(1) => stats,
        _ => {
            let stats = crate::write::queue_stats(&state.db, state.stuck_after).await.ok();
            *cache = Some((Instant::now(), stats));
            stats
        }
    }
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn render(state: &State) -> Response {
    let queue = queue_stats(state).await;
    let (open, idle) = state.db.pool_status();
    let gauges = Gauges {
        queue: queue.map(|(depth, age, _)| (depth, age)),
        stuck_jobs: queue.map(|(_, _, stuck)| stuck),
        pool: (open.saturating_sub(idle), idle),
        streams: state.hub.open_streams(),
    };
    metrics()
        .render(&gauges)
        .with_content_type("text/plain; version=0.0.4; charset=utf-8")
        .into_response()
}
