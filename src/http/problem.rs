//! Errors as RFC 9457 problem+json: the `Problem` body, the server errors (logged with their
//! whole cause chain), and the conversion of poem's own errors (bad JSON, bad parameters,
//! unknown routes, oversized bodies) and of panics. Which problem answers which operation's
//! error is `answer`; the response enums that carry them are `respond`.

use std::{error::Error, fmt};

use poem::{http::StatusCode, IntoResponse, Response};
use poem_openapi::{
    error::{ParseParamError, ParsePathError, ParseRequestPayloadError},
    types::{Example, ToJSON},
    Object,
};
use uuid::Uuid;

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
    /// A problem of kind `code` answered with `status`.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
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

    /// The same problem, about the request field `field`.
    pub fn about(self, field: &str) -> Self {
        Problem {
            field: Some(field.to_owned()),
            ..self
        }
    }

    /// A 500: logs `cause` with a fresh id, which the body carries (and nothing else of the
    /// cause: the client sees only the id).
    pub fn internal(cause: impl fmt::Display) -> Self {
        let id = Uuid::new_v4().to_string();
        tracing::error!(error_id = %id, cause = %cause, "internal error");
        Problem {
            error_id: Some(id),
            ..Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "an internal error occurred",
            )
        }
    }

    /// A 503 for the database being unavailable: logs `cause`.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        tracing::warn!(cause = %cause, "answering 503");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "the database is unavailable; retry shortly",
        )
    }

    /// A 503 for a limit the server is at: `code` says which.
    pub fn overloaded(code: &str, detail: &str) -> Self {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)
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

impl Example for Problem {
    fn example() -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "chat_not_found",
            "the application has no chat with this number",
        )
    }
}

/// An error with its causes, for logs: `outer: cause: root cause`.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
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
    if let Some(problem) = in_our_words(&err) {
        return problem.into_response();
    }
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
            return Problem::internal(&err).into_response();
        }
        _ => "bad_request",
    };
    let detail = match status {
        StatusCode::NOT_FOUND => "no such route".to_owned(),
        StatusCode::UNAUTHORIZED => "a valid operator key is required in the X-Operator-Key header".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => {
            "this path does not serve this method; the `Allow` header lists the methods it serves".to_owned()
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "the request body must be JSON, sent with `Content-Type: application/json`".to_owned()
        }
        _ => err.to_string(),
    };
    Problem::new(status, code, detail).into_response()
}

/// poem-openapi's refusals of a parameter or a body, in the API's words: `invalid_parameter`
/// naming the parameter (a path parameter by position, `param0`, which `paths` renames) with
/// what its type says it accepts; `bad_request` for a body that is not a JSON object (its
/// fields are checked by the handlers: 422 `invalid_field`).
fn in_our_words(err: &poem::Error) -> Option<Problem> {
    let parameter = |name: &str, reason: &str| {
        let detail = format!("`{name}` {}", reason_of(reason));
        Problem::new(StatusCode::BAD_REQUEST, "invalid_parameter", detail).about(name)
    };
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        return Some(parameter(e.name, &e.reason));
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        return Some(parameter(e.name, &e.reason));
    }
    let e = err.downcast_ref::<ParseRequestPayloadError>()?;
    // Every field parses from any JSON value (`text`): the body itself is what failed, either
    // as JSON (serde's reason, in plain words) or as an object.
    let detail = if e.reason.starts_with("Expected input type") {
        "the request body must be a JSON object holding the operation's fields".to_owned()
    } else {
        format!("the request body is not valid JSON: {}", e.reason)
    };
    Some(Problem::new(StatusCode::BAD_REQUEST, "bad_request", detail))
}

/// The reason a parameter type gave (which says what it accepts), without the framing
/// poem-openapi adds around it: `failed to parse "number": …` and `… (occurred while parsing
/// "optional_integer")` name its types.
fn reason_of(reason: &str) -> &str {
    let reason = reason.split(" (occurred while parsing \"").next().unwrap_or(reason);
    match reason.strip_prefix("failed to parse \"") {
        Some(rest) => rest.split_once("\": ").map_or(reason, |(_, said)| said),
        None => reason,
    }
}

/// The response for a panic caught in a handler.
pub fn from_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    Problem::internal("handler panicked").into_response()
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        Problem::into_response(self)
    }
}

#[cfg(test)]
mod tests {
    use super::{reason_of, Chain, Problem};

    #[test]
    fn a_parameters_reason_loses_the_frameworks_type_names() {
        let framed = r#"failed to parse "integer": must be a whole number from 1 to 100 (occurred while parsing "optional_integer")"#;
        assert_eq!(reason_of(framed), "must be a whole number from 1 to 100");
        assert_eq!(reason_of("must be one of `newest`"), "must be one of `newest`");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_chain_names_every_cause() {
        let e = Outer(std::io::Error::other("connection refused"));
        assert_eq!(Chain(&e).to_string(), "outer: connection refused");
    }

    #[test]
    fn a_server_error_shows_only_its_id() {
        let problem = Problem::internal(Chain(&Outer(std::io::Error::other("secret"))));
        assert_eq!((problem.status, problem.code.as_str()), (500, "internal_error"));
        assert!(!problem.detail.contains("secret"));
        assert!(problem.error_id.is_some());
    }
}
