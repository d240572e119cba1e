//! Protection against slow and excessive clients: a cap on requests in flight (503 beyond it,
//! instead of a collapse), a deadline for every request (its body included), the request body
//! size limit, and the optional per-application rate limit (429, counted in the database so it
//! holds across instances). The connection idle timeout is set on the server (`app`).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use poem::{
    http::{header, Method, StatusCode},
    Body, Endpoint, IntoResponse, Request, Response,
};
use tokio::sync::Semaphore;

use uuid::Uuid;

use super::{idempotency, input::BadRequest, problem::Problem};
use crate::{settings::Settings, store::Db};

/// The limits of one server.
#[derive(Clone)]
pub struct Limits {
    /// Requests handled at once; more are answered 503 at once.
    pub in_flight: Arc<Semaphore>,
    /// Longest a request may take, reading its body included.
    pub request_timeout: Duration,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Requests per application per minute, if limited.
    pub rate: Option<RateLimit>,
}

impl Limits {
    /// The limits `settings` describe (`db` counts the rate limit).
    pub fn new(settings: &Settings, db: &Db) -> Self {
        Limits {
            rate: settings.rate_limit_per_minute.map(|per_minute| RateLimit {
                db: db.clone(),
                per_minute,
            }),
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight.max(1))),
            request_timeout: Duration::from_millis(settings.request_timeout_ms),
            max_body_bytes: settings.max_body_bytes,
        }
    }
}

/// The per-application rate limit.
#[derive(Clone)]
pub struct RateLimit {
    /// Where the counts live.
    pub db: Db,
    /// Requests per application per one-minute window.
    pub per_minute: u32,
}

/// The application token a path addresses, if any, decoded as the router decodes it for the
/// handler: a token written with `%xx` escapes is the same token, and counts as such.
fn token_of(path: &str) -> Option<Uuid> {
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("api"), Some("applications"), Some(token)) => percent_encoding::percent_decode_str(token)
            .decode_utf8()
            .ok()?
            .parse()
            .ok(),
        _ => None,
    }
}

impl RateLimit {
    /// Counts a request for the application with `token`: (count so far, seconds to the next
    /// window). Keyed by the application's id, so every spelling of a token counts alike and
    /// the shared table holds no secret. `None` for a token no application has (the request
    /// is answered 404 without being counted).
    async fn hit(&self, token: Uuid) -> crate::store::DbResult<Option<(i32, i32)>> {
        match self.db.app_id(token).await? {
            Some(app) => self.db.hit_rate_limit(app).await.map(Some),
            None => Ok(None),
        }
    }
}

/// Applies `limits` around `ep`.
pub async fn guard<E: Endpoint>(ep: Arc<E>, mut req: Request, limits: Limits) -> poem::Result<Response> {
    let Ok(_permit) = limits.in_flight.clone().try_acquire_owned() else {
        return Ok(busy(
            "server_busy",
            "the server is at its limit of requests in flight; retry shortly",
        ));
    };
    if let Some(key) = req.headers().get(idempotency::HEADER) {
        // A key that is not ASCII never reaches the typed parameter (poem skips it as absent,
        // which would drop the protection the client asked for); refuse it here, and a blank
        // one on any request.
        if key.to_str().map_or(true, |key| key.trim().is_empty()) {
            let creates_application = req.method() == Method::POST && req.uri().path() == "/api/applications";
            let accepts = match creates_application {
                true => idempotency::ACCEPTS_RANDOM,
                false => idempotency::ACCEPTS,
            };
            let detail = format!("`{}` {accepts}", idempotency::HEADER);
            let problem = BadRequest {
                field: idempotency::HEADER,
                detail,
            };
            return Ok(problem.problem().into_response());
        }
    }
    let deadline = Instant::now() + limits.request_timeout;
    let mut rate_headers = None;
    if let (Some(rate), Some(token)) = (&limits.rate, token_of(req.uri().path())) {
        match rate.hit(token).await {
            Ok(None) => {}
            Ok(Some((count, reset))) => {
                let remaining = i64::from(rate.per_minute) - i64::from(count);
                let policy = format!("\"per-application\";q={};w=60", rate.per_minute);
                let state = format!("\"per-application\";r={};t={reset}", remaining.max(0));
                if remaining < 0 {
                    return Ok(rate_limited(reset, &policy, &state));
                }
                rate_headers = Some((policy, state));
            }
            // Counting failed (the database is struggling): serve rather than refuse.
            Err(e) => tracing::warn!(error = %e, "rate limit not counted"),
        }
    }
    if matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH) {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
            return Ok(too_large(limits.max_body_bytes));
        }
        let read = req.take_body().into_bytes_limit(limits.max_body_bytes);
        let body = match tokio::time::timeout_at(deadline.into(), read).await {
            Err(_) => return Ok(too_slow(limits.request_timeout)),
            Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => return Ok(too_large(limits.max_body_bytes)),
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(body)) => body,
        };
        req.set_body(Body::from(body));
    }
    let mut response = match tokio::time::timeout_at(deadline.into(), ep.call(req)).await {
        Ok(response) => response?.into_response(),
        Err(_) => busy(
            "request_timeout",
            "the request did not finish within the request deadline; a creation may still complete: retry with the same Idempotency-Key to learn its outcome",
        ),
    };
    if let Some((policy, state)) = rate_headers {
        let headers = response.headers_mut();
        headers.insert("ratelimit-policy", header::HeaderValue::from_str(&policy).unwrap());
        headers.insert("ratelimit", header::HeaderValue::from_str(&state).unwrap());
    }
    Ok(response)
}

/// The 429 `rate_limited` problem, with `Retry-After` (`reset` seconds) and the `RateLimit`
/// headers.
fn rate_limited(reset: i32, policy: &str, state: &str) -> Response {
    let mut response = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "this application's request limit for the current minute is used up; see Retry-After",
    )
    .into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, header::HeaderValue::from(reset.max(1)));
    headers.insert("ratelimit-policy", header::HeaderValue::from_str(policy).unwrap());
    headers.insert("ratelimit", header::HeaderValue::from_str(state).unwrap());
    response
}

/// The 413 for a body over `max` bytes, which it states.
fn too_large(max: usize) -> Response {
    let detail = format!(
        "the request body is over this server's limit of {max} bytes ({} KiB)",
        max / 1024
    );
    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", detail).into_response()
}

/// The 408 for a body that did not arrive within the request deadline, which it states.
fn too_slow(deadline: Duration) -> Response {
    let detail = format!(
        "the request body did not arrive within the request deadline ({} ms)",
        deadline.as_millis()
    );
    Problem::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", detail).into_response()
}

/// A 503 problem with `Retry-After`.
fn busy(code: &'static str, detail: &'static str) -> Response {
    let mut response = Problem::overloaded(code, detail).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}
