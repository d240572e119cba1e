//! The HTTP API: the OpenAPI service, Swagger UI at `/docs`, the spec at `/openapi.json`, health
//! probes, and the middleware that makes every error problem+json and bounds request bodies.
//!
//! One handler module per resource (`applications`, `chats`, `readers` (members and read
//! positions; `inbox_params`), `messages` with `search`, `stream`): each takes its parameters, checks them (`params`, `text`, `idempotency`), calls
//! the chat operations (`crate::ops`) and turns the result into its operation's response. The
//! bodies and response enums are in `schema`, their example values beside them (`examples` holds
//! the shared ones). Errors: `problem` (the problem+json body), `respond` (`op_response!` and
//! the compile-time check that an operation answers only statuses it declares), `answer` and
//! `input` (which problem answers which error).

pub mod answer;
pub mod applications;
pub mod chats;
pub mod examples;
pub mod front;
pub mod health;
pub mod hook_fields;
pub mod idempotency;
pub mod inbox_params;
pub mod input;
pub mod limits;
pub mod message;
pub mod messages;
pub mod observe;
pub mod params;
mod paths;
pub mod problem;
pub mod problem_types;
pub mod readers;
pub mod respond;
pub mod schema;
pub mod search;
pub mod slow;
pub mod stream;
pub mod text;
pub mod webhooks;

use std::sync::Arc;

use poem::{middleware::CatchPanic, Endpoint, EndpointExt, IntoEndpoint, Response, Route};
use poem_openapi::{LicenseObject, OpenApiService, Tags};
use tokio::sync::Notify;

use paths::Paths;

use crate::{
    live::{Announcer, Hub},
    ops::Ops,
    store::Db,
    write::Bell,
};
pub use limits::Limits;

/// Shared by every operation: the chat operations, and what HTTP itself and the background
/// tasks need.
#[derive(Clone)]
pub struct State {
    /// The chat operations the handlers call.
    pub ops: Ops,
    /// The database (readiness, `/metrics`, the rate limit).
    pub db: Db,
    /// The operator key, if configured; listing applications needs it.
    pub operator_key: Option<Arc<str>>,
    /// Wakes this process's purger after a delete.
    pub purge_wake: Arc<Notify>,
    /// Wakes this process's workers (they are also woken by NOTIFY).
    pub bell: Bell,
    /// Publishes live events to every instance.
    pub announcer: Announcer,
    /// This process's live message streams.
    pub hub: Hub,
    /// Failed attempts after which a queued job counts as stuck in `/metrics`.
    pub stuck_after: i32,
    /// Webhook URLs may name private addresses (`WEBHOOK_ALLOW_PRIVATE`).
    pub webhook_allow_private: bool,
}

/// Groups of operations in the spec.
#[derive(Tags)]
pub enum ApiTags {
    /// Tenants: create one to get a token.
    Applications,
    /// Chats inside an application, numbered 1, 2, 3…
    Chats,
    /// Messages inside a chat, numbered 1, 2, 3…, and search.
    Messages,
    /// Webhooks: the application's events, POSTed to its endpoints and signed.
    Webhooks,
    /// Liveness and readiness probes.
    Operations,
}

/// The OpenAPI service (also used to write the spec file).
pub fn service(state: State) -> OpenApiService<impl poem_openapi::OpenApi, ()> {
    let apis = (
        applications::ApplicationsApi(state.clone()),
        chats::ChatsApi(state.clone()),
        readers::ReadersApi(state.clone()),
        stream::StreamApi(state.clone()),
        messages::MessagesApi(state.clone()),
        webhooks::WebhooksApi(state.clone()),
        health::HealthApi(state),
    );
    OpenApiService::new(apis, "Chat System API", env!("CARGO_PKG_VERSION"))
        .description(include_str!("description.md"))
        .license(LicenseObject::new("MIT").url("https://opensource.org/licenses/MIT"))
        .server("/")
}

/// The OpenAPI document as served at `/openapi.json`.
pub fn spec_json(state: State) -> String {
    service(state).spec()
}

/// The whole HTTP application.
pub fn routes(state: State, limits: Limits) -> impl Endpoint<Output = Response> {
    let api = service(state.clone());
    let paths = Arc::new(Paths::from_spec(&api.spec()));
    let docs = front::docs(&api.swagger_ui_html());
    let key_configured = state.operator_key.is_some();
    let spec = api.spec_endpoint();
    let metrics = poem::endpoint::make(move |_| {
        let state = state.clone();
        async move { observe::render(&state).await }
    });
    Route::new()
        .nest("/", api)
        .nest("/docs", docs)
        .at("/openapi.json", spec)
        .at("/metrics", poem::get(metrics))
        .at("/problems/:code", poem::get(problem_types::problem_type))
        .around(move |ep, req| limits::guard(ep, req, limits.clone()))
        .with(CatchPanic::new().with_handler(problem::from_panic))
        .catch_all_error(|err| async move { problem::from_poem_error(err) })
        .around(move |ep, req| front::guard(ep, req, key_configured))
        .around(move |ep, req| {
            let paths = paths.clone();
            async move {
                let path = req.uri().path().to_owned();
                let mut response = ep.call(req).await?;
                if response.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED {
                    if let Some(methods) = paths.allow(&path) {
                        response.headers_mut().insert(poem::http::header::ALLOW, methods);
                    }
                }
                Ok(paths.name_parameters(&path, response).await)
            }
        })
        .around(|ep, req| async move { observe::observe(&ep, req).await })
        .into_endpoint()
}
