//! chat-system: a multi-tenant chat API that does on one PostgreSQL database what its predecessor
//! needed MySQL, Redis, RabbitMQ and Elasticsearch for.
//!
//! - [`api`]: the HTTP API (poem-openapi), problem+json errors, Swagger UI.
//! - [`db`]: the database facade: pool, migrations, queries per table family.
//! - [`demo`]: the `demo` subcommand: realistic demo data with a progress bar.
//! - [`intake`]: group commit: concurrent creations coalesced into shared transactions.
//! - [`queue`]: the workers that drain the job table, and the LISTEN connection that wakes them.
//! - [`live`]: live message streams: events published through NOTIFY, fanned out per chat.
//! - [`maintenance`]: the purger (finishes large deletes) and the count reconciler.
//! - [`cluster`]: a private PostgreSQL cluster for `cargo run` without `DATABASE_URL`, and tests.
//! - [`search`]: query parsing, relevance and snippets for message search.
//! - [`metrics`]: counters and histograms for `/metrics` (Prometheus text format).
//! - [`model`]: the resources as clients see them.
//! - [`config`]: every setting, by flag or environment variable.
//! - [`startup`]: wiring and graceful shutdown.

pub mod api;
pub mod cluster;
pub mod config;
pub mod db;
pub mod demo;
pub mod intake;
pub mod live;
pub mod maintenance;
pub mod metrics;
pub mod model;
pub mod queue;
pub mod search;
pub mod startup;
