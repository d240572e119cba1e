//! The store: the connection pools, errors, migrations and TLS, and the reads, edits and deletes
//! of every table family (one file each). Every statement is a file in `sql/`, parameterised and
//! prepared once per connection (cached); the write path's own statements live with it
//! (`src/write/sql/`) and are sent through [`Db::query`].
//!
//! - `pool`: [`Db`], its two pools and the one way statements are sent;
//! - `error`: [`DbError`] and how to tell transient failures apart;
//! - `retry`: sending an idempotent statement again after a transient failure;
//! - `app_ids`, `rate_limit`, `applications`, `chats`, [`messages`], [`idempotency`]: one table
//!   family each (`citus_edits`: message edits and deletes as Citus runs them); `reads`: single-message reads coalesced into batches under load; `admin`:
//!   creating the database; `migrate`: the schema (`flavours`: its Citus forms);
//!   [`webhook_outbox`]: the webhook deliveries of chat deletes, in their transactions;
//!   [`readers`]: chat members, read positions and inboxes; `releases`: which releases are connected (what the schema lets this one skip).

mod admin;
mod app_ids;
mod applications;
mod chats;
mod citus_edits;
mod error;
mod flavours;
pub mod idempotency;
pub mod lexicon;
pub mod messages;
mod migrate;
mod partition_indexes;
mod pool;
mod rate_limit;
pub mod readers;
mod reads;
mod releases;
mod retry;
pub mod tls;
pub mod webhook_outbox;

pub use applications::ApplicationPage;
pub(crate) use error::describe;
pub use error::{is_transient, DbError, DbResult, Missing};
pub use migrate::{migrate, migrations_applied, MIGRATION_LOCK};
pub use pool::Db;
pub use releases::APPLICATION_NAME;
pub(crate) use retry::retry_idempotent;
