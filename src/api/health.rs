//! `/healthz` (the process is alive) and `/readyz` (the database answers and is migrated).

use poem_openapi::{payload::PlainText, ApiResponse, OpenApi};

use super::{ApiTags, State};
use crate::db::migrations_applied;

/// Readiness.
#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// The database is reachable and every migration is applied.
    #[oai(status = 200)]
    Ready(PlainText<&'static str>),
    /// The database is unreachable or not migrated yet.
    #[oai(status = 503)]
    NotReady(PlainText<&'static str>),
}

/// Health probes.
pub struct HealthApi(pub State);

#[OpenApi(tag = "ApiTags::Operations")]
impl HealthApi {
    /// Liveness probe
    ///
    /// Answers 200 while the process runs.
    #[oai(path = "/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> PlainText<&'static str> {
        PlainText("ok")
    }

    /// Readiness probe
    ///
    /// Answers 200 when the database is reachable and migrated, 503 otherwise.
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self) -> ReadyResponse {
        match migrations_applied(&self.0.db).await {
            Ok(true) => ReadyResponse::Ready(PlainText("ready")),
            Ok(false) => ReadyResponse::NotReady(PlainText("migrations pending")),
            Err(_) => ReadyResponse::NotReady(PlainText("database unreachable")),
        }
    }
}
