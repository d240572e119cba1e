//! chat-system: a multi-tenant chat API that does on one PostgreSQL database what its predecessor
//! needed MySQL, Redis, RabbitMQ and Elasticsearch for.
//!
//! The layers, each using only the ones below it (ARCHITECTURE.md has the map):
//!
//! 1. [`app`]: start-up (`Application::build`), the background tasks, graceful shutdown.
//! 2. [`http`]: routes, problem+json, middleware, one module per resource.
//! 3. [`ops`]: the chat operations handlers call (idempotency, event publication);
//!    [`upkeep`]: purges, count reconciliation, GIN merges, vacuum; [`demo`]: demo data;
//!    [`hooks`]: webhook endpoints and their delivery workers.
//! 4. [`write`]: group commit and the queue workers.
//! 5. [`search`]: parse, plan, run, rank; [`live`]: live events: outbox, announcer, LISTEN, the
//!    hub of streams.
//! 6. [`store`]: the pools, errors, migrations, TLS, reads and edits.
//! 7. [`model`], [`settings`], [`metrics`], [`cluster`]: the resources, every setting, the
//!    counters for `/metrics`, a private PostgreSQL cluster. They use nothing of ours.

pub mod app;
pub mod cluster;
pub mod demo;
pub mod hooks;
pub mod http;
pub mod live;
pub mod metrics;
pub mod model;
pub mod ops;
pub mod search;
pub mod settings;
pub mod store;
pub mod upkeep;
pub mod write;
