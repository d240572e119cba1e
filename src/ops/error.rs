//! What the operations fail with, one error type per kind of operation, so that the HTTP layer
//! can only answer what each kind can fail with: a read, edit or delete of something addressed
//! ([`ReadError`]), a creation ([`CreateError`], [`CreateAppError`]), a search
//! ([`SearchFailure`]); all of them can meet server [`Trouble`]. Causes are kept as sources.
//!
//! The store answers every statement with one wide `DbError`; each conversion below says which
//! of its variants the kind of operation can meet. One it cannot meet (a read whose idempotency
//! claim was lost, an application creation that found something missing) is a bug:
//! `Trouble::Internal`, with the error as its source.

use crate::store::{DbError, Missing};

/// Server trouble, which any operation can meet.
#[derive(Debug, thiserror::Error)]
pub enum Trouble {
    /// The database is unreachable or overloaded, or the server is shutting down: retrying
    /// later may work.
    #[error("database unavailable")]
    Unavailable(#[source] DbError),
    /// The server is at a limit, or a creation's outcome could not be learned.
    #[error(transparent)]
    Overloaded(#[from] Overload),
    /// A bug.
    #[error("internal error")]
    Internal(#[source] DbError),
}

/// A limit that refused a creation, or an outcome that could not be learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Overload {
    /// The creation queue is full: nothing was created.
    #[error("creation queue full")]
    Queue,
    /// The request's deadline passed before its creation was sent: nothing was created.
    #[error("deadline passed before the creation was sent")]
    Expired,
    /// The connection broke while the creation committed and its outcome could not be learned.
    #[error("outcome of the creation unknown")]
    OutcomeUnknown,
}

/// The error a batch's failure wraps (`DbError::Shared`), or `e` itself.
fn root(e: &DbError) -> &DbError {
    match e {
        DbError::Shared(shared) => root(shared),
        e => e,
    }
}

impl From<DbError> for Trouble {
    fn from(e: DbError) -> Self {
        match root(&e) {
            DbError::Busy => Overload::Queue.into(),
            DbError::Expired => Overload::Expired.into(),
            DbError::OutcomeUnknown => Overload::OutcomeUnknown.into(),
            _ if e.is_unavailable() => Trouble::Unavailable(e),
            _ => Trouble::Internal(e),
        }
    }
}

/// Reading, listing, editing or deleting something addressed by token and numbers.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The token, chat number or message number names nothing.
    #[error("{0:?} not found")]
    NotFound(Missing),
    /// Server trouble.
    #[error(transparent)]
    Trouble(#[from] Trouble),
}

impl From<DbError> for ReadError {
    fn from(e: DbError) -> Self {
        match root(&e) {
            DbError::NotFound(missing) => ReadError::NotFound(*missing),
            _ => ReadError::Trouble(e.into()),
        }
    }
}

/// Why an `Idempotency-Key` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyConflict {
    /// A request with the same key is still running (or took this request's claim over).
    #[error("idempotency key in use")]
    InUse,
    /// The key was used for a different request.
    #[error("idempotency key reused")]
    Reused,
}

/// Creating a chat or a message.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The application or chat to create in does not exist.
    #[error("{0:?} not found")]
    NotFound(Missing),
    /// The idempotency key was refused.
    #[error(transparent)]
    Key(#[from] KeyConflict),
    /// Server trouble.
    #[error(transparent)]
    Trouble(#[from] Trouble),
}

impl From<DbError> for CreateError {
    fn from(e: DbError) -> Self {
        match root(&e) {
            DbError::NotFound(missing) => CreateError::NotFound(*missing),
            DbError::ClaimLost => KeyConflict::InUse.into(),
            _ => CreateError::Trouble(e.into()),
        }
    }
}

/// Creating an application: nothing it addresses can be missing.
#[derive(Debug, thiserror::Error)]
pub enum CreateAppError {
    /// The idempotency key was refused.
    #[error(transparent)]
    Key(#[from] KeyConflict),
    /// Server trouble.
    #[error(transparent)]
    Trouble(#[from] Trouble),
}

impl From<CreateError> for CreateAppError {
    fn from(e: CreateError) -> Self {
        match e {
            // An application creation addresses nothing that could be missing: a bug.
            CreateError::NotFound(missing) => Trouble::Internal(DbError::NotFound(missing)).into(),
            CreateError::Key(conflict) => conflict.into(),
            CreateError::Trouble(trouble) => trouble.into(),
        }
    }
}

impl From<DbError> for CreateAppError {
    fn from(e: DbError) -> Self {
        CreateError::from(e).into()
    }
}

/// Searching a chat's messages.
#[derive(Debug, thiserror::Error)]
pub enum SearchFailure {
    /// The query cannot be searched (the source says why, in words fit for the client).
    #[error("query refused")]
    BadQuery(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The page starts at or past `search::MAX_OFFSET` hits.
    #[error("page too deep")]
    TooDeep,
    /// As many searches as allowed are running: in this process (`true`) or for this
    /// application (`false`).
    #[error("too many searches at once")]
    Busy {
        /// True when the per-process cap was reached, false for the per-application one.
        everyone: bool,
    },
    /// The search ran out of its time budget in the database.
    #[error("search timed out")]
    TimedOut,
    /// The application or chat does not exist, or server trouble.
    #[error(transparent)]
    Read(#[from] ReadError),
}

impl From<crate::search::SearchError> for SearchFailure {
    fn from(e: crate::search::SearchError) -> Self {
        use crate::search::SearchError;
        match e {
            SearchError::Db(e) => SearchFailure::Read(e.into()),
            SearchError::Busy { everyone } => SearchFailure::Busy { everyone },
            SearchError::TimedOut => SearchFailure::TimedOut,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn each_kind_of_operation_keeps_what_it_can_meet_and_calls_the_rest_a_bug() {
        let shared = |e| DbError::Shared(Arc::new(e));

        assert!(matches!(
            ReadError::from(shared(DbError::NotFound(Missing::Chat))),
            ReadError::NotFound(Missing::Chat)
        ));
        assert!(matches!(
            CreateError::from(shared(DbError::ClaimLost)),
            CreateError::Key(KeyConflict::InUse)
        ));
        assert!(matches!(
            ReadError::from(DbError::ClaimLost),
            ReadError::Trouble(Trouble::Internal(DbError::ClaimLost))
        ));
        assert!(matches!(
            CreateAppError::from(DbError::NotFound(Missing::Application)),
            CreateAppError::Trouble(Trouble::Internal(DbError::NotFound(Missing::Application)))
        ));
        assert!(matches!(
            Trouble::from(shared(DbError::Busy)),
            Trouble::Overloaded(Overload::Queue)
        ));
        assert!(matches!(
            Trouble::from(DbError::ShuttingDown),
            Trouble::Unavailable(DbError::ShuttingDown)
        ));
    }

    #[test]
    fn server_trouble_keeps_its_cause_as_the_source() {
        let trouble = Trouble::Unavailable(DbError::ShuttingDown);
        let source = std::error::Error::source(&trouble).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("shutting down"));
    }
}
