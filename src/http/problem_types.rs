//! `GET /problems/{code}`: a short page for every problem type, so that the `type` URI every
//! problem+json body carries (`/problems/<code>`, RFC 9457) leads somewhere: what the code means,
//! its status, and what to do about it. Not in the OpenAPI document (a page for people, like the
//! Swagger UI).

use poem::{handler, http::StatusCode, web::Path, IntoResponse, Response};

use super::problem::Problem;

/// Every `code` the API answers with: (code, status, what it means and what to do).
pub const PROBLEM_TYPES: &[(&str, u16, &str)] = &[
    ("invalid_parameter", 400, "A path, query or header parameter is malformed or out of range. `field` names it; `detail` says what it accepts. Fix the request; retrying it unchanged fails again."),
    ("bad_request", 400, "The body is not valid JSON, or not a JSON object."),
    ("unauthorized", 401, "The operator key is missing or wrong: send it in `X-Operator-Key`."),
    ("forbidden", 403, "Listing applications is disabled: the server has no operator key configured."),
    ("application_not_found", 404, "No application has this token (or it was deleted)."),
    ("chat_not_found", 404, "The application has no chat with this number (or it was deleted)."),
    ("message_not_found", 404, "The chat has no message with this number (or it was deleted)."),
    ("route_not_found", 404, "No such route. The API lives under `/api`; its description is at `/docs`."),
    ("method_not_allowed", 405, "The path does not serve this method; `Allow` lists the ones it does."),
    ("request_timeout", 408, "The body did not arrive within the request deadline (408), or the answer was not ready within it (503): a creation may still complete; retry with the same `Idempotency-Key` to learn its outcome."),
    ("idempotency_key_in_use", 409, "A request with this `Idempotency-Key` is still running: retry shortly to get its answer."),
    ("payload_too_large", 413, "The body is over the server's limit; `detail` states it in bytes."),
    ("unsupported_media_type", 415, "Send bodies as `Content-Type: application/json`."),
    ("invalid_field", 422, "A body field is missing, null, not a string, blank, too long or contains NUL. `field` names it; `detail` says what it accepts."),
    ("idempotency_key_reused", 422, "This `Idempotency-Key` was used for a different request: use a new key for a new request."),
    ("rate_limited", 429, "The application sent more requests than its limit allows; wait for `Retry-After` seconds."),
    ("internal_error", 500, "A bug: the server logged it with the `error_id` of this answer. Nothing else is said, so as to leak nothing."),
    ("service_unavailable", 503, "The database is unreachable or overloaded; retry after `Retry-After` seconds."),
    ("migrations_pending", 503, "The database is not migrated to this release yet (readiness only)."),
    ("server_busy", 503, "The server is at a limit (requests in flight, or creations queued); nothing was done; retry shortly."),
    ("search_busy", 503, "As many searches as allowed are running (on this server or for this application); retry after `Retry-After` seconds."),
    ("search_timeout", 503, "The search ran over its time budget in the database; narrow it (more terms, a `before`/`after` range) or retry later."),
    ("too_many_streams", 503, "The server has as many live streams open as it allows; retry shortly."),
];

/// The page for problem type `code`, or 404 `route_not_found` for a code the API never uses.
#[handler]
pub fn problem_type(Path(code): Path<String>) -> Response {
    let Some((code, status, meaning)) = PROBLEM_TYPES.iter().find(|(c, _, _)| *c == code) else {
        return Problem::new(StatusCode::NOT_FOUND, "route_not_found", "no such problem type").into_response();
    };
    let title = StatusCode::from_u16(*status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or_default();
    let meaning = escape(meaning);
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{code}</title></head>\n\
         <body><h1><code>{code}</code></h1>\n<p>HTTP {status} {title}</p>\n<p>{meaning}</p>\n\
         <p>Every error is <code>application/problem+json</code> with this <code>code</code>; see \
         <a href=\"/docs\">the API's documentation</a>.</p></body></html>\n"
    );
    poem::web::Html(page).into_response()
}

/// `text` with HTML's special characters escaped, and `code` spans for backquoted words.
fn escape(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{part}</code>"));
        } else {
            out.push_str(part);
        }
    }
    out
}
