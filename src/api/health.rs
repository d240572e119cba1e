//! `/healthz` (the process is alive) and `/readyz` (the database answers and is migrated).

use poem::{IntoResponse, Response};
use poem_openapi::{
    payload::{Json, PlainText},
    registry::{MetaMediaType, Registry},
    types::Type,
    ApiResponse, OpenApi, ResponseContent,
};

use super::{
    problem::{Problem, PROBLEM_JSON},
    ApiTags, State,
};
use crate::db::migrations_applied;

/// Liveness.
#[derive(ApiResponse)]
pub enum AliveResponse {
    /// The process runs.
    #[oai(status = 200)]
    Alive(PlainText<&'static str>),
    /// `invalid_parameter`: the request has a blank `Idempotency-Key` header (checked on every
    /// request).
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
    /// `invalid_parameter`: the request has a blank `Idempotency-Key` header (checked on every
    /// request).
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// Not ready: the database is unreachable or not migrated yet (plain text), or the server is
    /// at its limit of requests in flight (a `server_busy` problem).
    #[oai(status = 503)]
    NotReady(NotReady),
}

/// The body of a 503 from `/readyz`: the handler's plain-text reason. The same status comes as
/// problem+json when `limits::guard` refuses the request, so both media types are documented.
pub struct NotReady(pub &'static str);

impl IntoResponse for NotReady {
    fn into_response(self) -> Response {
        PlainText(self.0).into_response()
    }
}

impl ResponseContent for NotReady {
    fn media_types() -> Vec<MetaMediaType> {
        let mut types = PlainText::<&'static str>::media_types();
        types.push(MetaMediaType {
            content_type: PROBLEM_JSON,
            schema: Problem::schema_ref(),
        });
        types
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
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
    /// Answers 200 (`ready`) when the database is reachable and migrated, 503 otherwise: route
    /// traffic to this instance only while it answers 200.
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self) -> ReadyResponse {
        match migrations_applied(&self.0.db).await {
            Ok(true) => ReadyResponse::Ready(PlainText("ready")),
            Ok(false) => ReadyResponse::NotReady(NotReady("migrations pending")),
            Err(_) => ReadyResponse::NotReady(NotReady("database unreachable")),
        }
    }
}
