//! Errors as RFC 9457 problem+json: the API-wide error enum, the `Problem` body, the conversion
//! of poem's own errors (bad JSON, bad parameters, unknown routes, oversized bodies), and the
//! macro that turns an `ApiError` into an operation's documented response.

use poem::{http::StatusCode, IntoResponse, Response};
use poem_openapi::{types::ToJSON, Object};
use uuid::Uuid;

use crate::store::{DbError, Missing};

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error, as RFC 9457 problem details.
#[derive(Debug, Clone, Object)]
#[oai(example)]
pub struct Problem {
    /// A URI reference naming the kind of problem (stable; one per `code`).
    #[oai(rename = "type")]
    pub kind: String,
    /// Short human-readable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, for a human.
    pub detail: String,
    /// Stable machine-readable error code, e.g. `chat_not_found`.
    pub code: String,
    /// The request field at fault, when one is.
    #[oai(skip_serializing_if_is_none)]
    pub field: Option<String>,
    /// For server errors only: quote it when reporting the problem.
    #[oai(skip_serializing_if_is_none)]
    pub error_id: Option<String>,
}

impl Problem {
    pub(super) fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_owned(),
            field: None,
            error_id: None,
        }
    }

    /// The problem as a complete HTTP response.
    pub fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Response::builder()
            .status(status)
            .content_type(PROBLEM_JSON)
            .body(self.to_json_string())
    }
}

/// Everything an operation can fail with, and the status each becomes.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404: the token, chat number or message number names nothing.
    #[error("not found: {0:?}")]
    NotFound(Missing),
    /// 400: a request parameter is malformed or conflicts with another.
    #[error("bad request: {detail}")]
    BadRequest { field: &'static str, detail: String },
    /// 422: the body parsed but a field's value is not acceptable.
    #[error("invalid {field}: {detail}")]
    Invalid { field: &'static str, detail: String },
    /// 409: a request with the same idempotency key is still running.
    #[error("idempotency key in use")]
    KeyInUse,
    /// 422: the idempotency key was used for a different request.
    #[error("idempotency key reused")]
    KeyReused,
    /// 429: the application's rate limit is used up for this minute.
    #[error("rate limited")]
    RateLimited,
    /// 401: the operator key is missing or wrong.
    #[error("unauthorized")]
    Unauthorized,
    /// 403: operator actions are disabled (no key configured).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 503: the server is at a limit (requests in flight, request deadline); retry shortly.
    #[error("overloaded: {detail}")]
    Overloaded { code: &'static str, detail: &'static str },
    /// 503: the database is unreachable or overloaded; retrying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug. The cause is logged with an id; the client sees only the id.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::from(&e)
    }
}

impl From<&DbError> for ApiError {
    fn from(e: &DbError) -> Self {
        match e {
            DbError::NotFound(missing) => ApiError::NotFound(*missing),
            DbError::ClaimLost => ApiError::KeyInUse,
            // A batch's failure, answered to each of its requests.
            DbError::Shared(e) => ApiError::from(&**e),
            DbError::Busy => ApiError::Overloaded {
                code: "server_busy",
                detail: "the server has as many creations queued as it accepts; nothing was created; retry shortly",
            },
            DbError::OutcomeUnknown => ApiError::Overloaded {
                code: "request_timeout",
                detail: "the database connection broke while the creation was committing and its outcome could not be learned: it may have completed; retry with the same Idempotency-Key to learn its outcome",
            },
            DbError::Expired => ApiError::Overloaded {
                code: "request_timeout",
                detail: "the request's deadline passed before its creation could be sent; nothing was created; retry shortly",
            },
            e if e.is_unavailable() => ApiError::Unavailable(e.to_string()),
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<crate::search::SearchError> for ApiError {
    fn from(e: crate::search::SearchError) -> Self {
        use crate::search::SearchError;
        match e {
            SearchError::Db(e) => e.into(),
            SearchError::Busy { everyone: true } => ApiError::Overloaded {
                code: "search_busy",
                detail: "the server is running as many searches as it allows at once; retry after Retry-After seconds",
            },
            SearchError::Busy { everyone: false } => ApiError::Overloaded {
                code: "search_busy",
                detail: "this application is running as many searches as it is allowed at once; retry after Retry-After seconds",
            },
            SearchError::TimedOut => ApiError::Overloaded {
                code: "search_timeout",
                detail: "the search took longer than the server allows and was stopped; narrow it (more or longer words, an `after`/`before` range) or retry later",
            },
        }
    }
}

impl ApiError {
    /// The problem body; logs server errors (with the id the client sees).
    pub fn into_problem(self) -> Problem {
        match self {
            ApiError::NotFound(missing) => {
                let (code, detail) = match missing {
                    Missing::Application => ("application_not_found", "no application has this token"),
                    Missing::Chat => ("chat_not_found", "the application has no chat with this number"),
                    Missing::Message => ("message_not_found", "the chat has no message with this number"),
                };
                Problem::new(StatusCode::NOT_FOUND, code, detail)
            }
            ApiError::BadRequest { field, detail } => Problem {
                field: Some(field.to_owned()),
                ..Problem::new(StatusCode::BAD_REQUEST, "invalid_parameter", detail)
            },
            ApiError::Invalid { field, detail } => Problem {
                field: Some(field.to_owned()),
                ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", detail)
            },
            ApiError::KeyInUse => Problem {
                field: Some("Idempotency-Key".into()),
                ..Problem::new(
                    StatusCode::CONFLICT,
                    "idempotency_key_in_use",
                    "a request with this Idempotency-Key is still in progress; retry shortly",
                )
            },
            ApiError::KeyReused => Problem {
                field: Some("Idempotency-Key".into()),
                ..Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used for a different request",
                )
            },
            ApiError::RateLimited => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "this application's request limit for the current minute is used up; see Retry-After",
            ),
            ApiError::Unauthorized => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid operator key is required in the X-Operator-Key header",
            ),
            ApiError::Forbidden(detail) => Problem::new(StatusCode::FORBIDDEN, "forbidden", detail),
            ApiError::Overloaded { code, detail } => Problem::new(StatusCode::SERVICE_UNAVAILABLE, code, detail),
            ApiError::Unavailable(cause) => {
                tracing::warn!(%cause, "answering 503");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "the database is unavailable; retry shortly",
                )
            }
            ApiError::Internal(cause) => {
                let id = Uuid::new_v4().to_string();
                tracing::error!(error_id = %id, %cause, "internal error");
                Problem {
                    error_id: Some(id),
                    ..Problem::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal_error",
                        "an internal error occurred",
                    )
                }
            }
        }
    }
}

/// Turns any error poem raises outside our handlers (unparseable JSON, wrong types, bad path or
/// query parameters, unknown routes, wrong methods, oversized bodies) into problem+json.
pub fn from_poem_error(err: poem::Error) -> Response {
    // Keep the operation's id (set by poem-openapi) for the metrics and the access log.
    let operation = err.data::<poem_openapi::OperationId>().copied();
    let mut response = problem_of(err);
    if let Some(operation) = operation {
        response.set_data(operation);
    }
    response
}

fn problem_of(err: poem::Error) -> Response {
    let status = err.status();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::NOT_FOUND => "route_not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        s if s.is_server_error() => {
            return ApiError::Internal(err.to_string()).into_problem().into_response();
        }
        _ => "bad_request",
    };
    let detail = match status {
        StatusCode::NOT_FOUND => "no such route".to_owned(),
        StatusCode::UNAUTHORIZED => "a valid operator key is required in the X-Operator-Key header".to_owned(),
        _ => err.to_string(),
    };
    let field = field_of(&detail);
    Problem {
        field,
        ..Problem::new(status, code, detail)
    }
    .into_response()
}

/// The parameter or field a poem-openapi parse error names, e.g. "failed to parse parameter
/// `limit`: ..." or "... field `name` ...".
fn field_of(detail: &str) -> Option<String> {
    let start = detail.find('`')? + 1;
    let len = detail[start..].find('`')?;
    Some(detail[start..start + len].to_owned())
}

/// The response for a panic caught in a handler.
pub fn from_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal("handler panicked".into())
        .into_problem()
        .into_response()
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        Problem::into_response(self)
    }
}

/// Declares an operation's response enum: its success variants as written, then one
/// problem+json variant per listed error status, then 500 and 503 (which every operation can
/// return, 503 with `Retry-After` when the server is busy), and the conversion from `ApiError`.
///
/// The `errors` list names every error status the operation can answer, in status order, each
/// item followed by a comma. `400 => BadRequest: "doc",` is a status the handler itself returns
/// (as an `ApiError`, converted by `From`) and possibly poem too. The bare forms are answered
/// before the handler runs, so they are documented but never built from an `ApiError`:
/// `408 slow_body,` and `413 too_large,` (the body read by `limits::guard`), `415 not_json,`
/// (poem-openapi's JSON body extractor), `429 rate_limited,` (`limits::guard`, for paths under
/// an application token). `503 => "doc",` adds what else the operation's 503 can mean to its
/// description.
#[macro_export]
macro_rules! op_response {
    // Each `@item` arm moves the first item of the error list into variants (and, for statuses
    // the handler returns, into `(status variant)` pairs for `From`); the last one writes the
    // enum.
    (@item [$($vars:tt)*] $arms:tt [408 slow_body, $($rest:tt)*] $head:tt) => {
        $crate::op_response!(@item [$($vars)*
            /// `request_timeout`: the request body did not arrive within the request deadline.
            #[oai(status = 408, content_type = "application/problem+json")]
            RequestTimeout(::poem_openapi::payload::Json<$crate::http::problem::Problem>),
        ] $arms [$($rest)*] $head);
    };
    (@item [$($vars:tt)*] $arms:tt [413 too_large, $($rest:tt)*] $head:tt) => {
        $crate::op_response!(@item [$($vars)*
            /// `payload_too_large`: the request body is over the server's limit (256 KiB unless
            /// configured otherwise).
            #[oai(status = 413, content_type = "application/problem+json")]
            PayloadTooLarge(::poem_openapi::payload::Json<$crate::http::problem::Problem>),
        ] $arms [$($rest)*] $head);
    };
    (@item [$($vars:tt)*] $arms:tt [415 not_json, $($rest:tt)*] $head:tt) => {
        $crate::op_response!(@item [$($vars)*
            /// `unsupported_media_type`: the request has no `Content-Type` header, or it is not
            /// `application/json`.
            #[oai(status = 415, content_type = "application/problem+json")]
            UnsupportedMediaType(::poem_openapi::payload::Json<$crate::http::problem::Problem>),
        ] $arms [$($rest)*] $head);
    };
    (@item [$($vars:tt)*] $arms:tt [429 rate_limited, $($rest:tt)*] $head:tt) => {
        $crate::op_response!(@item [$($vars)*
            /// `rate_limited`: the application's requests for the current minute are used up
            /// (only when the server sets `RATE_LIMIT_PER_MINUTE`). Retry after `Retry-After`
            /// seconds.
            #[oai(
                status = 429,
                content_type = "application/problem+json",
                header(name = "Retry-After", ty = "u32", description = "Seconds until the next window opens."),
                header(name = "RateLimit-Policy", ty = "String", description = "The limit, e.g. `\"per-application\";q=600;w=60`."),
                header(name = "RateLimit", ty = "String", description = "What is left of it, e.g. `\"per-application\";r=0;t=42`."),
            )]
            RateLimited(::poem_openapi::payload::Json<$crate::http::problem::Problem>),
        ] $arms [$($rest)*] $head);
    };
    // `503 => "doc",`: what else this operation's 503 can mean, added to its description.
    (@item $vars:tt $arms:tt [503 => $doc:literal, $($rest:tt)*] { $enum:tt () }) => {
        $crate::op_response!(@item $vars $arms [$($rest)*] { $enum ($doc) });
    };
    (@item [$($vars:tt)*] [$($arms:tt)*]
        [$status:literal => $variant:ident: $doc:literal, $($rest:tt)*] $head:tt) => {
        $crate::op_response!(@item [$($vars)*
            #[doc = $doc]
            #[oai(status = $status, content_type = "application/problem+json")]
            $variant(::poem_openapi::payload::Json<$crate::http::problem::Problem>),
        ] [$($arms)* ($status $variant)] [$($rest)*] $head);
    };
    (@item [$($vars:tt)*] [$(($status:literal $variant:ident))*] []
        { { $(#[$meta:meta])* pub enum $name:ident { $($ok:tt)* } } ($($busy:literal)?) }) => {
        $(#[$meta])*
        #[derive(::poem_openapi::ApiResponse)]
        pub enum $name {
            $($ok)*
            $($vars)*
            /// `internal_error`: a server error; the body carries an `error_id` to quote when
            /// reporting it.
            #[oai(status = 500, content_type = "application/problem+json")]
            Internal(::poem_openapi::payload::Json<$crate::http::problem::Problem>),
            /// `service_unavailable`: the database is unavailable or overloaded; `server_busy`:
            /// the server is at its limit of requests in flight or of queued creations (nothing
            /// was done); `request_timeout`: the answer took longer than the request deadline (a
            /// creation may still complete: retry with the same `Idempotency-Key` to learn its
            /// outcome). Retry shortly.
            $(#[doc = ""] #[doc = $busy])?
            #[oai(
                status = 503,
                content_type = "application/problem+json",
                header(name = "Retry-After", ty = "Option<u32>", description = "Seconds to wait before retrying (when the server is busy)."),
            )]
            Unavailable(::poem_openapi::payload::Json<$crate::http::problem::Problem>),
        }

        impl From<$crate::http::problem::ApiError> for $name {
            fn from(e: $crate::http::problem::ApiError) -> Self {
                let problem = e.into_problem();
                match problem.status {
                    $($status => Self::$variant(::poem_openapi::payload::Json(problem)),)*
                    503 => Self::Unavailable(::poem_openapi::payload::Json(problem)),
                    _ => Self::Internal(::poem_openapi::payload::Json(problem)),
                }
            }
        }
    };

    // The public form.
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($ok:tt)*
        }
        errors { $($errors:tt)* }
    ) => {
        $crate::op_response!(@item [] [] [$($errors)*] {
            { $(#[$meta])* pub enum $name { $($ok)* } } ()
        });
    };
}

#[cfg(test)]
mod tests {
    use poem::IntoResponse;
    use poem_openapi::ApiResponse;

    use super::{ApiError, PROBLEM_JSON};
    use crate::store::Missing;

    crate::op_response! {
        /// An operation's result.
        pub enum TestResponse {
            /// Done.
            #[oai(status = 204)]
            Done,
        }
        errors {
            404 => NotFound: "Missing.",
            413 too_large,
            422 => Invalid: "Unacceptable.",
            429 rate_limited,
        }
    }

    #[test]
    fn declares_the_listed_statuses_then_500_and_503_all_as_problems() {
        let meta = TestResponse::meta();

        let statuses: Vec<_> = meta.responses.iter().map(|r| r.status.unwrap()).collect();
        assert_eq!(statuses, [204, 404, 413, 422, 429, 500, 503]);
        for response in &meta.responses[1..] {
            assert_eq!(response.content[0].content_type, PROBLEM_JSON);
        }
        let rate_limit_headers: Vec<_> = meta.responses[4].headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(rate_limit_headers, ["RETRY-AFTER", "RATELIMIT-POLICY", "RATELIMIT"]);
    }

    crate::op_response! {
        /// An operation whose 503 can mean more.
        pub enum BusyResponse {
            /// Done.
            #[oai(status = 204)]
            Done,
        }
        errors {
            404 => NotFound: "Missing.",
            503 => "`search_busy`: too many at once.",
        }
    }

    #[test]
    fn an_operation_can_say_what_else_its_503_means() {
        let meta = BusyResponse::meta();
        let statuses: Vec<_> = meta.responses.iter().map(|r| r.status.unwrap()).collect();
        assert_eq!(statuses, [204, 404, 500, 503]);
        let unavailable = meta.responses[3].description;
        assert!(unavailable.starts_with("`service_unavailable`"), "{unavailable}");
        assert!(
            unavailable.ends_with("\n\n`search_busy`: too many at once."),
            "{unavailable}"
        );
        assert_eq!(
            TestResponse::meta().responses[6].description,
            BusyResponse::meta().responses[3]
                .description
                .split("\n\n")
                .next()
                .unwrap()
        );
    }

    #[test]
    fn errors_answer_with_their_own_status() {
        let status = |e: ApiError| TestResponse::from(e).into_response().status().as_u16();

        assert_eq!(status(ApiError::NotFound(Missing::Chat)), 404);
        assert_eq!(status(ApiError::KeyReused), 422);
        assert_eq!(status(ApiError::Unavailable("down".into())), 503);
        assert_eq!(status(ApiError::Internal("bug".into())), 500);
    }
}
