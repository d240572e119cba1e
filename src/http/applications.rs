//! `/api/applications`: create, list (operator only), read, rename, delete.

use poem_openapi::{
    auth::ApiKey,
    param::{Header, Path, Query},
    payload::Json,
    types::MaybeUndefined,
    Object, OpenApi, SecurityScheme,
};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::{
    idempotency,
    params::{self, MAX_NAME_CHARS},
    problem::ApiError,
    text::Text,
    ApiTags, State,
};
use crate::{live::ChatEvent, model::Application, op_response};

/// The operator key, sent in the `X-Operator-Key` header.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "X-Operator-Key", key_in = "header")]
pub struct OperatorKey(ApiKey);

/// Body of `POST /api/applications`.
#[derive(Debug, Object)]
#[oai(example)]
pub struct CreateApplication {
    /// Display name (1–200 characters).
    #[oai(validator(min_length = 1, max_length = 200, custom = "super::text::Visible"))]
    pub name: Text,
}

/// Body of `PUT /api/applications/{token}`.
#[derive(Debug, Object)]
#[oai(example)]
pub struct UpdateApplication {
    /// New display name (1–200 characters).
    #[oai(validator(min_length = 1, max_length = 200, custom = "super::text::Visible"))]
    pub name: Text,
    /// Accepted for compatibility with the previous system; must equal the token in the URL.
    pub token: MaybeUndefined<Uuid>,
}

/// A page of applications.
#[derive(Debug, Object)]
#[oai(example)]
pub struct ApplicationList {
    /// The applications, oldest first.
    pub data: Vec<Application>,
    /// The page number.
    pub page: i64,
    /// The page size.
    pub limit: i64,
    /// True when a next page exists.
    pub has_more: bool,
}

op_response! {
    /// Result of creating an application.
    pub enum CreateApplicationResponse {
        /// The application, with its token; `Location` is its URL. `Idempotent-Replayed: true`
        /// marks the answer to a retry.
        #[oai(status = 201)]
        Created(
            Json<Application>,
            /// The new application's URL.
            #[oai(header = "Location")]
            String,
            /// `true` when this answers a retry with a used `Idempotency-Key`.
            #[oai(header = "Idempotent-Replayed")]
            Option<bool>,
        ),
    }
    errors {
        400 => BadRequest: "`bad_request`: the body is not JSON of the documented shape (`name` missing, not a string, blank, over 200 characters or containing NUL), or the `Idempotency-Key` header is malformed; `invalid_parameter`: the `Idempotency-Key` header is blank.",
        408 slow_body,
        409 => Conflict: "`idempotency_key_in_use`: a request with this `Idempotency-Key` is still in progress; retry shortly.",
        413 too_large,
        415 not_json,
        422 => Invalid: "`idempotency_key_reused`: the `Idempotency-Key` was used for a different request; `invalid_field`: the name is not acceptable.",
    }
}

op_response! {
    /// Result of listing applications.
    pub enum ListApplicationsResponse {
        /// A page of applications.
        #[oai(status = 200)]
        Ok(Json<ApplicationList>),
    }
    errors {
        400 => BadRequest: "`bad_request`: `page` or `limit` is not an integer or out of range.",
        401 => Unauthorized: "`unauthorized`: the `X-Operator-Key` header is missing or wrong.",
        403 => Forbidden: "`forbidden`: the server has no operator key configured, so listing is disabled.",
    }
}

op_response! {
    /// Result of reading an application.
    pub enum GetApplicationResponse {
        /// The application.
        #[oai(status = 200)]
        Ok(Json<Application>),
    }
    errors {
        400 => BadRequest: "`bad_request`: the token is not a UUID.",
        404 => NotFound: "`application_not_found`: no application has this token.",
        429 rate_limited,
    }
}

op_response! {
    /// Result of renaming an application.
    pub enum UpdateApplicationResponse {
        /// The renamed application.
        #[oai(status = 200)]
        Ok(Json<Application>),
    }
    errors {
        400 => BadRequest: "`bad_request`: the token is not a UUID, or the body is not JSON of the documented shape (`name` missing, not a string, blank, over 200 characters or containing NUL; `token` not a UUID); `invalid_parameter`: the body's `token` is null.",
        404 => NotFound: "`application_not_found`: no application has this token.",
        408 slow_body,
        413 too_large,
        415 not_json,
        422 => Invalid: "`invalid_field`: the body's `token` differs from the token in the URL (tokens cannot be changed), or the name is not acceptable.",
        429 rate_limited,
    }
}

op_response! {
    /// Result of deleting an application.
    pub enum DeleteApplicationResponse {
        /// Deleted: the token no longer works and everything under it is gone.
        #[oai(status = 204)]
        Deleted,
    }
    errors {
        400 => BadRequest: "`bad_request`: the token is not a UUID.",
        404 => NotFound: "`application_not_found`: no application has this token (or it is already deleted).",
        429 rate_limited,
    }
}

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
        #[oai(
            name = "Idempotency-Key",
            validator(
                max_length = 255,
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}[ \t]*$"
            )
        )]
        idempotency_key: Header<Option<String>>,
    ) -> CreateApplicationResponse {
        let result = async {
            params::text("name", &body.name, MAX_NAME_CHARS)?;
            let scope = "POST /api/applications".to_owned();
            let key = idempotency::key(idempotency_key.0.clone(), scope, None, &[&body.name])?;
            if let Some(earlier) = idempotency::begin(&self.0.db, key.as_ref()).await? {
                let at = earlier.at;
                let token = earlier.token.unwrap_or_default();
                let app = Application {
                    token,
                    name: body.name.0.clone(),
                    chats_count: 0,
                    created_at: at,
                    updated_at: at,
                };
                return Ok::<_, ApiError>((app, true));
            }
            // A creation: the write pool, out of the reads' reach.
            let created = self
                .0
                .intake
                .create_application(body.name.0.clone(), key.clone())
                .await
                .map_err(ApiError::from);
            // A failed creation has freed its key already (see `intake`).
            Ok((created?, false))
        };
        match result.await {
            Ok((app, replayed)) => {
                let location = format!("/api/applications/{}", app.token);
                CreateApplicationResponse::Created(Json(app), location, replayed.then_some(true))
            }
            Err(e) => e.into(),
        }
    }

    /// List all applications (operator only)
    ///
    /// Lists every application with its token, oldest first. Needs the operator key in the
    /// `X-Operator-Key` header; refused when the service has no operator key configured.
    #[oai(path = "/applications", method = "get", operation_id = "list_applications")]
    async fn list(
        &self,
        key: OperatorKey,
        /// Page number, from 1.
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
        page: Query<Option<i64>>,
        /// Page size, 1–100 (default 10).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
    ) -> ListApplicationsResponse {
        let result = async {
            let Some(expected) = &self.0.operator_key else {
                return Err(ApiError::Forbidden(
                    "listing applications is disabled: no operator key is configured",
                ));
            };
            if !bool::from(key.0.key.as_bytes().ct_eq(expected.as_bytes())) {
                return Err(ApiError::Unauthorized);
            }
            let page = page.0.unwrap_or(1);
            let limit = limit.0.unwrap_or(params::DEFAULT_LIMIT);
            let found = self.0.db.applications((page - 1) * limit, limit).await?;
            Ok(ApplicationList {
                data: found.items,
                page,
                limit,
                has_more: found.has_more,
            })
        };
        match result.await {
            Ok(list) => ListApplicationsResponse::Ok(Json(list)),
            Err(e) => e.into(),
        }
    }

    /// Get an application
    ///
    /// The application's name, its number of chats (which follows creations and deletes
    /// within about a second) and its timestamps.
    #[oai(path = "/applications/:token", method = "get", operation_id = "get_application")]
    async fn get(
        &self,
        /// The application's token.
        #[oai(example = "super::examples::token")]
        token: Path<Uuid>,
    ) -> GetApplicationResponse {
        match self.0.db.application(token.0).await {
            Ok(app) => GetApplicationResponse::Ok(Json(app)),
            Err(e) => ApiError::from(e).into(),
        }
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
        #[oai(example = "super::examples::token")]
        token: Path<Uuid>,
        body: Json<UpdateApplication>,
    ) -> UpdateApplicationResponse {
        let result = async {
            if body.token.is_null() {
                return Err(ApiError::BadRequest {
                    field: "token",
                    detail: "`token` must be a UUID string".into(),
                });
            }
            if body.token.value().is_some_and(|t| *t != token.0) {
                return Err(ApiError::Invalid {
                    field: "token",
                    detail: "`token` in the body differs from the token in the URL; tokens cannot be changed".into(),
                });
            }
            params::text("name", &body.name, MAX_NAME_CHARS)?;
            Ok(self.0.db.rename_application(token.0, &body.name.0).await?)
        };
        match result.await {
            Ok(app) => UpdateApplicationResponse::Ok(Json(app)),
            Err(e) => e.into(),
        }
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
        #[oai(example = "super::examples::token")]
        token: Path<Uuid>,
    ) -> DeleteApplicationResponse {
        match self.0.db.delete_application(token.0).await {
            Ok(app) => {
                self.0.purge_wake.notify_one();
                self.0.announcer.publish(ChatEvent::ApplicationGone { app });
                DeleteApplicationResponse::Deleted
            }
            Err(e) => ApiError::from(e).into(),
        }
    }
}
