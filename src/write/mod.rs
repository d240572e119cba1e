//! The write path: creations accepted through group commit (the intake), recorded as jobs in the
//! same transaction, and the workers that drain the job table into the messages and chats
//! tables. Every statement of this path lives in `sql/` beside this module.
//!
//! - [`intake`]: group commit and its exactly-once resolution.
//! - [`bell`]: wakes the workers (here at once, elsewhere through the announcer's NOTIFY).
//! - [`worker`]: one batch of jobs in one transaction.
//! - [`workers`]: the worker tasks and their pacing.
//! - [`stats`]: the job queue's figures for `/metrics`.
//! - `hooks`: the webhook deliveries of a batch's creations, in its transaction.
//! - [`load`]: the bulk loader (`demo`): the same numbers and counts, without the queue.

mod apply;
pub mod bell;
mod hooks;
pub mod intake;
pub mod keys;
pub mod load;
pub mod stats;
pub mod worker;
pub mod workers;

pub use bell::Bell;
pub use intake::{Intake, IntakeConfig};
pub use load::Loader;
pub use stats::queue_stats;
pub use worker::{BatchOutcome, Worker};
pub use workers::spawn_workers;
