//! What the API answers around its operations, for a client finding its way: `/` points to the
//! docs, Swagger UI is titled after the API, a query parameter that is not UTF-8 is refused by
//! name (poem would decode it lossily and search for U+FFFD), and every 401 carries the
//! `WWW-Authenticate` challenge RFC 9110 requires; with no operator key configured, listing is
//! refused as disabled whatever key is sent (poem refuses a missing key before the handler
//! runs, which would otherwise answer 401 for a key that can never be right).

use std::sync::Arc;

use percent_encoding::percent_decode_str;
use poem::{
    endpoint::make_sync,
    http::{header, HeaderValue, Method, StatusCode},
    web::{Html, Redirect},
    Endpoint, IntoResponse, Request, Response, Route,
};
use poem_openapi::OperationId;

use super::problem::Problem;

/// The detail of the 403 for listing applications on a server without an operator key.
pub const LISTING_DISABLED: &str = "listing is disabled on this server (no OPERATOR_KEY configured)";

/// The challenge sent with every 401: the scheme names the header to send the key in.
pub const CHALLENGE: &str = "X-Operator-Key realm=\"operator\"";

/// Swagger UI for the spec `html` (poem-openapi's page), its title the API's name.
pub fn docs(html: &str) -> impl Endpoint<Output = Response> {
    let page = html.replacen("<title>Swagger UI</title>", "<title>Chat System API</title>", 1);
    Route::new().at("/", make_sync(move |_| Html(page.clone()).into_response()))
}

/// Answers `GET /` and `HEAD /` with a permanent redirect to the docs (which link the spec;
/// here, not as a route, because the API is nested at `/` and would take it). Refuses a request
/// to the API whose query string has a value that is not UTF-8 once percent-decoded, naming
/// the parameter. Else passes the request on, then fixes its 401s (see the module's doc).
pub async fn guard<E: Endpoint>(ep: Arc<E>, req: Request, key_configured: bool) -> poem::Result<Response> {
    if req.uri().path() == "/" && [Method::GET, Method::HEAD].contains(req.method()) {
        return Ok(Redirect::permanent("/docs").into_response());
    }
    if req.uri().path().starts_with("/api/") {
        if let Some(name) = req.uri().query().and_then(not_utf8) {
            let detail = format!("`{name}` must be UTF-8 text once percent-decoded");
            let problem = Problem::new(StatusCode::BAD_REQUEST, "invalid_parameter", detail).about(&name);
            return Ok(problem.into_response());
        }
    }
    let response = ep.call(req).await?.into_response();
    Ok(challenge(response, key_configured))
}

/// The name of the first parameter of `query` whose value is not UTF-8 once decoded.
fn not_utf8(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        // (`+` for a space is ASCII either way: it cannot change whether the value is UTF-8.)
        let bad = percent_decode_str(value).decode_utf8().is_err();
        bad.then(|| percent_decode_str(name).decode_utf8_lossy().into_owned())
    })
}

/// A 401 with its challenge, or, with no operator key configured, the 403 that says listing
/// is disabled (the only operation that takes the key is listing applications).
fn challenge(mut response: Response, key_configured: bool) -> Response {
    if response.status() != StatusCode::UNAUTHORIZED {
        return response;
    }
    if !key_configured {
        let operation = response.data::<OperationId>().copied();
        response = Problem::new(StatusCode::FORBIDDEN, "forbidden", LISTING_DISABLED).into_response();
        if let Some(operation) = operation {
            response.set_data(operation);
        }
        return response;
    }
    let value = HeaderValue::from_static(CHALLENGE);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    response
}

#[cfg(test)]
mod tests {
    use super::not_utf8;

    #[test]
    fn a_value_that_is_not_utf8_is_named() {
        assert_eq!(not_utf8("limit=2&query=%ff").as_deref(), Some("query"));
        assert_eq!(not_utf8("query=caf%C3%A9+au+lait&query="), None);
        assert_eq!(not_utf8("query"), None);
    }
}
