//! Protection against slow and excessive clients: a cap on requests in flight (503 beyond it,
//! instead of a collapse), a deadline for every request (its body included), and the request
//! body size limit. The connection idle timeout is set on the server (`startup`).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use poem::{
    http::{header, Method, StatusCode},
    Body, Endpoint, IntoResponse, Request, Response,
};
use tokio::sync::Semaphore;

use super::problem::ApiError;

/// The limits of one server.
#[derive(Clone)]
pub struct Limits {
    /// Requests handled at once; more are answered 503 at once.
    pub in_flight: Arc<Semaphore>,
    /// Longest a request may take, reading its body included.
    pub request_timeout: Duration,
    /// Largest request body.
    pub max_body_bytes: usize,
}

/// Applies `limits` around `ep`.
pub async fn guard<E: Endpoint>(ep: Arc<E>, mut req: Request, limits: Limits) -> poem::Result<Response> {
    let Ok(_permit) = limits.in_flight.clone().try_acquire_owned() else {
        return Ok(busy(
            "server_busy",
            "the server is at its limit of requests in flight; retry shortly",
        ));
    };
    let deadline = Instant::now() + limits.request_timeout;
    if matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH) {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
            return Err(poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE));
        }
        let read = req.take_body().into_bytes_limit(limits.max_body_bytes);
        let body = match tokio::time::timeout_at(deadline.into(), read).await {
            Err(_) => return Err(poem::Error::from_status(StatusCode::REQUEST_TIMEOUT)),
            Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => {
                return Err(poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE))
            }
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(body)) => body,
        };
        req.set_body(Body::from(body));
    }
    match tokio::time::timeout_at(deadline.into(), ep.call(req)).await {
        Ok(response) => Ok(response?.into_response()),
        Err(_) => Ok(busy(
            "request_timeout",
            "the request took too long and was abandoned; retry shortly",
        )),
    }
}

/// A 503 problem with `Retry-After`.
fn busy(code: &'static str, detail: &'static str) -> Response {
    let mut response = ApiError::Overloaded { code, detail }.into_problem().into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}
