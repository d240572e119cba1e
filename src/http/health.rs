//! `/healthz` (the process is alive) and `/readyz` (the database answers and is migrated).

use poem::http::StatusCode;
use poem_openapi::{
    payload::{Json, PlainText},
    ApiResponse, OpenApi,
};

use super::{problem::Problem, ApiTags, State};
use crate::store::migrations_applied;

/// Liveness.
#[derive(ApiResponse)]
pub enum AliveResponse {
    /// The process runs.
    #[oai(status = 200)]
    Alive(PlainText<&'static str>),
    /// `invalid_parameter`: the request has a blank or non-ASCII `Idempotency-Key` header
    /// (checked on every request).
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// `server_busy`: the server is at its limit of requests in flight; retry shortly.
    #[oai(status = 503, content_type = "application/problem+json")]
    Busy(Json<Problem>),
}

/// Readiness.
#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// The database is reachable and every migration is applied.
    #[oai(status = 200)]
    Ready(PlainText<&'static str>),
    /// `invalid_parameter`: the request has a blank or non-ASCII `Idempotency-Key` header
    /// (checked on every request).
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// Not ready, with `Retry-After`: `service_unavailable` (the database is unreachable),
    /// `migrations_pending` (it is not migrated to this release yet), or `server_busy` (the
    /// server is at its limit of requests in flight).
    #[oai(
        status = 503,
        content_type = "application/problem+json",
        header(
            name = "Retry-After",
            ty = "Option<u32>",
            description = "Seconds to wait before asking again."
        )
    )]
    NotReady(Json<Problem>),
}

/// Health probes.
pub struct HealthApi(pub State);

#[OpenApi(tag = "ApiTags::Operations")]
impl HealthApi {
    /// Liveness probe
    ///
    /// Answers 200 (`ok`) while the process runs. Needs no database.
    #[oai(path = "/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> AliveResponse {
        AliveResponse::Alive(PlainText("ok"))
    }

    /// Readiness probe
    ///
    /// Answers 200 (`ready`) when the database is reachable and migrated, a 503 problem
    /// otherwise: route traffic to this instance only while it answers 200.
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self) -> ReadyResponse {
        let (code, detail) = match migrations_applied(&self.0.db).await {
            Ok(true) => return ReadyResponse::Ready(PlainText("ready")),
            Ok(false) => ("migrations_pending", "the database is not migrated to this release yet"),
            Err(_) => ("service_unavailable", "the database is unreachable"),
        };
        ReadyResponse::NotReady(Json(Problem::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)))
    }
}
