//! The chat operations the HTTP handlers call: create, read, list, edit and delete applications,
//! chats and messages, and search. This layer owns what an operation means beyond its statement:
//! idempotency (one claim-then-create path for every creation, `idempotency`) and the events it
//! publishes (live streams, the purger's wake-up after a delete). It knows nothing of HTTP: its
//! errors are domain errors (`error`), which the HTTP layer maps to problems. `readers`: chat
//! members, read positions and inboxes.

mod applications;
mod chats;
pub mod error;
mod idempotency;
mod messages;
mod readers;
mod search;

use std::sync::Arc;

use tokio::sync::Notify;

pub use error::{CreateAppError, CreateError, KeyConflict, Overload, ReadError, SearchFailure, Trouble};
pub use idempotency::Created;

use crate::{live::Announcer, search::Searches, store::Db, write::Intake};

/// What the operations need; cheap to clone.
#[derive(Clone)]
pub struct Ops {
    db: Db,
    intake: Intake,
    announcer: Announcer,
    searches: Searches,
    purge_wake: Arc<Notify>,
}

impl Ops {
    /// The operations over `db`, creating through `intake`, publishing through `announcer`,
    /// searching under the caps of `searches` and waking the purger with `purge_wake`.
    pub fn new(db: Db, intake: Intake, announcer: Announcer, searches: Searches, purge_wake: Arc<Notify>) -> Self {
        Ops {
            db,
            intake,
            announcer,
            searches,
            purge_wake,
        }
    }
}
