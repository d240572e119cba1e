//! Group commit for creations. Concurrent `POST`s of chats and of messages are coalesced into
//! shared transactions: while up to `in_flight` batches commit, the next one fills; a batch
//! allocates numbers for many chats at once (a hot chat takes a block of numbers in one counter
//! update) and enqueues all its jobs in one statement. Every caller still gets its answer only
//! after its own number and job are committed. On an idle server a request goes out at once, in a
//! batch of one (through the one-request statement, which costs less): there is no waiting time.
//!
//! Exactly once, whatever the connection does: every creation statement records its batch under
//! an id chosen here, in its own transaction (`intake_batches`, V10). When a statement's answer
//! is lost (the connection broke, the server went away), its outcome is resolved, never guessed:
//! the same id is inserted again, which waits for the original transaction if it still runs and
//! then either finds it committed (its record answers the requests) or fences it out for good, so
//! that the requests can be sent again without being created twice (`intake_resolve.sql`).
//!
//! A request that fails on its own (unknown application or chat, a lost idempotency claim) fails
//! alone. A batch that fails for a transient reason is sent again a few times; one that fails
//! otherwise is run request by request, so one request can never fail the others. The queue is
//! bounded (a full one answers at once, nothing done), and a request whose deadline passed before
//! its batch went out is answered without being sent.
//!
//! One job per file, in the order a request passes them:
//! - `handle`: [`Intake`], the entry point (`config`: its [`IntakeConfig`]);
//! - `pending`: a request's reply plumbing (its key, its deadline, whom to answer);
//! - `coalesce`: the batch runner (collect, send, retry, answer; on Citus, a batch split by
//!   application, each part run on its application's node), generic over `creations`;
//! - `creations`: the three kinds of creation and their statements;
//! - `fence`: exactly-once resolution of a statement whose answer was lost.

mod coalesce;
mod config;
mod creations;
mod fence;
mod handle;
mod pending;

pub use config::IntakeConfig;
pub use fence::expire_batches;
pub use handle::Intake;
