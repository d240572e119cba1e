//! The schema of `/api/applications`: the operator key, the bodies, a page of applications and
//! each operation's response.

use poem_openapi::{auth::ApiKey, payload::Json, types::Example, Object, SecurityScheme};

use crate::{
    http::{
        answer::{Forbidden, Unauthorized},
        input::{BadRequest, Invalid},
        params::MAX_NAME_CHARS,
        text::{BodyToken, Text},
    },
    model::Application,
    op_response,
    ops::{CreateAppError, ReadError, Trouble},
};

/// The operator key, sent in the `X-Operator-Key` header.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "X-Operator-Key", key_in = "header")]
pub struct OperatorKey(pub ApiKey);

/// Body of `POST /api/applications`.
#[derive(Debug, Object)]
#[oai(example)]
pub struct CreateApplication {
    /// Display name: 1–200 characters, not only white space, no NUL.
    pub name: Text<MAX_NAME_CHARS>,
}

/// Body of `PUT /api/applications/{token}`.
#[derive(Debug, Object)]
#[oai(example)]
pub struct UpdateApplication {
    /// New display name: 1–200 characters, not only white space, no NUL.
    pub name: Text<MAX_NAME_CHARS>,
    /// Accepted for compatibility with the previous system; must equal the token in the URL.
    pub token: BodyToken,
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
        400 => BadRequest: "`invalid_parameter` (`field`: `Idempotency-Key`): the `Idempotency-Key` header is not a random (version 4) UUID; `bad_request`: the body is not valid JSON, or not a JSON object.",
        408 slow_body,
        409 => Conflict: "`idempotency_key_in_use`: a request with this `Idempotency-Key` is still in progress; retry shortly.",
        413 too_large,
        415 not_json,
        422 => Invalid: "`invalid_field` (`field`: `name`): `name` is missing, null, not a string, blank, over 200 characters or contains NUL; `idempotency_key_reused`: the `Idempotency-Key` was used for a different request.",
    }
    answers { BadRequest, Invalid, CreateAppError }
}

op_response! {
    /// Result of listing applications.
    pub enum ListApplicationsResponse {
        /// A page of applications.
        #[oai(status = 200)]
        Ok(Json<ApplicationList>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): `page` is not a whole number from 1 to 1000000, or `limit` from 1 to 100.",
        401 => Unauthorized: "`unauthorized`: the `X-Operator-Key` header is missing or wrong; the answer carries `WWW-Authenticate: X-Operator-Key realm=\"operator\"`. Send the server's `OPERATOR_KEY` in the `X-Operator-Key` header.",
        403 => Forbidden: "`forbidden`: the server has no operator key configured (`OPERATOR_KEY`), so listing is disabled, whatever key the request sends.",
    }
    answers { Unauthorized, Forbidden, Trouble }
}

op_response! {
    /// Result of reading an application.
    pub enum GetApplicationResponse {
        /// The application.
        #[oai(status = 200)]
        Ok(Json<Application>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field`: `token`): the token is not a UUID.",
        404 => NotFound: "`application_not_found`: no application has this token.",
        429 rate_limited,
    }
    answers { ReadError }
}

op_response! {
    /// Result of renaming an application.
    pub enum UpdateApplicationResponse {
        /// The renamed application.
        #[oai(status = 200)]
        Ok(Json<Application>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field`: `token`): the token is not a UUID; `bad_request`: the body is not valid JSON, or not a JSON object.",
        404 => NotFound: "`application_not_found`: no application has this token.",
        408 slow_body,
        413 too_large,
        415 not_json,
        422 => Invalid: "`invalid_field` (`field` names it): `name` is missing, null, not a string, blank, over 200 characters or contains NUL, or the body's `token` is not a UUID string or differs from the token in the URL (tokens cannot be changed).",
        429 rate_limited,
    }
    answers { BadRequest, Invalid, ReadError }
}

op_response! {
    /// Result of deleting an application.
    pub enum DeleteApplicationResponse {
        /// Deleted: the token no longer works and everything under it is gone.
        #[oai(status = 204)]
        Deleted,
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field`: `token`): the token is not a UUID.",
        404 => NotFound: "`application_not_found`: no application has this token (or it is already deleted).",
        429 rate_limited,
    }
    answers { ReadError }
}

impl Example for CreateApplication {
    fn example() -> Self {
        CreateApplication {
            name: Text::new("Support desk"),
        }
    }
}

impl Example for UpdateApplication {
    fn example() -> Self {
        UpdateApplication {
            name: Text::new("Help desk"),
            token: BodyToken::default(),
        }
    }
}

impl Example for ApplicationList {
    fn example() -> Self {
        ApplicationList {
            data: vec![Application::example()],
            page: 1,
            limit: 10,
            has_more: false,
        }
    }
}
