//! `/api/applications`: create, list (operator only), read, rename, delete.

use poem_openapi::{
    param::{Header, Path, Query},
    payload::Json,
    OpenApi,
};
use subtle::ConstantTimeEq;

use super::{
    answer::{Forbidden, Unauthorized},
    front,
    idempotency::{self, KeyHeader},
    input::Invalid,
    params::{self, Token, Whole},
    respond::settle,
    schema::applications::*,
    ApiTags, State,
};

/// Operations on applications.
pub struct ApplicationsApi(pub State);

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Applications")]
impl ApplicationsApi {
    /// Create an application
    ///
    /// Creates a tenant and generates its token. The token is the only way to address the
    /// application afterwards: keep it.
    #[oai(path = "/applications", method = "post", operation_id = "create_application")]
    async fn create(
        &self,
        body: Json<CreateApplication>,
        /// Makes retries safe: a retry with the same key returns the original application, its
        /// token included, and creates nothing. Because the answer carries the token, the key
        /// must be a random (version 4) UUID, as hard to guess as the token; it is stored only
        /// as a digest.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<KeyHeader<true>>>,
    ) -> CreateApplicationResponse {
        let result = async {
            let name = body.name.get("name")?;
            let scope = "POST /api/applications".to_owned();
            let key = idempotency::key(idempotency_key.0.as_ref(), scope, None, &[name]);
            let created = self.0.ops.create_application(name.to_owned(), key).await?;
            let location = format!("/api/applications/{}", created.value.token);
            let replayed = created.replayed.then_some(true);
            Ok(CreateApplicationResponse::Created(
                Json(created.value),
                location,
                replayed,
            ))
        };
        settle(result.await)
    }

    /// List all applications (operator only)
    ///
    /// Lists every application with its token, oldest first. Needs the server's operator key
    /// (`OPERATOR_KEY`) in the `X-Operator-Key` header: 401 with `WWW-Authenticate` when it is
    /// missing or wrong. A server without an operator key refuses listing with 403, whatever
    /// key is sent.
    #[oai(path = "/applications", method = "get", operation_id = "list_applications")]
    async fn list(
        &self,
        key: OperatorKey,
        /// Page number, from 1.
        page: Query<Option<Whole<1, 1_000_000>>>,
        /// Page size, 1–100 (default 10).
        limit: Query<Option<Whole<1, 100>>>,
    ) -> ListApplicationsResponse {
        let result = async {
            let Some(expected) = &self.0.operator_key else {
                return Err(Forbidden(front::LISTING_DISABLED).into());
            };
            if !bool::from(key.0.key.as_bytes().ct_eq(expected.as_bytes())) {
                return Err(Unauthorized.into());
            }
            let page = page.0.map_or(1, |p| p.0);
            let limit = limit.0.map_or(params::DEFAULT_LIMIT, |l| l.0);
            let found = self.0.ops.applications((page - 1) * limit, limit).await?;
            let list = ApplicationList {
                data: found.items,
                page,
                limit,
                has_more: found.has_more,
            };
            Ok(ListApplicationsResponse::Ok(Json(list)))
        };
        settle(result.await)
    }

    /// Get an application
    ///
    /// The application's name, its number of chats (which follows creations and deletes
    /// within about a second) and its timestamps.
    #[oai(path = "/applications/:token", method = "get", operation_id = "get_application")]
    async fn get(
        &self,
        /// The application's token.
        token: Path<Token>,
    ) -> GetApplicationResponse {
        let app = self.0.ops.application(token.get()).await;
        app.map_or_else(Into::into, |app| GetApplicationResponse::Ok(Json(app)))
    }

    /// Rename an application
    ///
    /// Replaces the application's name; its token never changes. Also accepts the previous
    /// system's body `{"token": ..., "name": ...}`; a `token` that differs from the one in the
    /// URL is refused.
    #[oai(path = "/applications/:token", method = "put", operation_id = "update_application")]
    async fn update(
        &self,
        /// The application's token.
        token: Path<Token>,
        body: Json<UpdateApplication>,
    ) -> UpdateApplicationResponse {
        let result = async {
            if body.token.get()?.is_some_and(|t| t != token.get()) {
                let detail = "`token` in the body differs from the token in the URL; tokens cannot be changed".into();
                return Err(Invalid { field: "token", detail }.into());
            }
            let name = body.name.get("name")?;
            let app = self.0.ops.rename_application(token.get(), name).await?;
            Ok(UpdateApplicationResponse::Ok(Json(app)))
        };
        settle(result.await)
    }

    /// Delete an application
    ///
    /// Deletes the application with all its chats and messages. The token stops working at
    /// once; the rows are removed in the background.
    #[oai(
        path = "/applications/:token",
        method = "delete",
        operation_id = "delete_application"
    )]
    async fn delete(
        &self,
        /// The application's token.
        token: Path<Token>,
    ) -> DeleteApplicationResponse {
        let deleted = self.0.ops.delete_application(token.get()).await;
        deleted.map_or_else(Into::into, |()| DeleteApplicationResponse::Deleted)
    }
}
