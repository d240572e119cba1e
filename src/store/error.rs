//! What can go wrong talking to the database, and how to tell a transient failure (worth a retry
//! and a 503) from one that needs a person, or from one whose outcome is unknown.

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use super::tls;

/// Which resource a lookup did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// No application has this token.
    Application,
    /// The application has no chat with this number.
    Chat,
    /// The chat has no message with this number.
    Message,
    /// The application has no webhook with this id.
    Webhook,
    /// The webhook has no delivery with this id.
    Delivery,
}

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The addressed resource does not exist.
    #[error("{0:?} not found")]
    NotFound(Missing),
    /// No connection could be had from the pool.
    #[error("connection pool: {}", describe_pool(.0))]
    Pool(#[from] PoolError),
    /// A statement failed.
    #[error("postgres: {}", describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// The service is shutting down and no longer accepts writes.
    #[error("shutting down")]
    ShuttingDown,
    /// The creation queue of this process is full: nothing was done; retry shortly.
    #[error("creation queue full")]
    Busy,
    /// The request's deadline passed before its creation was sent: nothing was done.
    #[error("deadline passed before the creation was sent")]
    Expired,
    /// The request's `Idempotency-Key` claim was taken over by a later request with the same
    /// key: this request created nothing.
    #[error("idempotency claim taken over")]
    ClaimLost,
    /// A creation's answer was lost and its outcome could not be learned: it may have committed.
    #[error("outcome of the creation unknown")]
    OutcomeUnknown,
    /// The database answered something the service cannot read (a bug, never the client's).
    #[error("unexpected answer from the database: {0}")]
    Unexpected(String),
    /// One failure answered to every request of a batch.
    #[error(transparent)]
    Shared(std::sync::Arc<DbError>),
}

/// Shorthand for results of this module.
pub type DbResult<T> = Result<T, DbError>;

impl DbError {
    /// True when the failure is the database being unreachable, overloaded or shutting down:
    /// worth a 503 and a retry, not a bug.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::NotFound(_) | DbError::ClaimLost | DbError::OutcomeUnknown | DbError::Unexpected(_) => false,
            DbError::Shared(e) => e.is_unavailable(),
            DbError::Pool(_) | DbError::ShuttingDown | DbError::Busy | DbError::Expired => true,
            DbError::Postgres(e) => match e.code() {
                // No SQLSTATE: the connection failed, or the client refused to send something.
                None => e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
                Some(code) => {
                    [
                        SqlState::QUERY_CANCELED,
                        SqlState::LOCK_NOT_AVAILABLE,
                        SqlState::T_R_DEADLOCK_DETECTED,
                        SqlState::T_R_SERIALIZATION_FAILURE,
                        SqlState::ADMIN_SHUTDOWN,
                        SqlState::CRASH_SHUTDOWN,
                        SqlState::CANNOT_CONNECT_NOW,
                        SqlState::TOO_MANY_CONNECTIONS,
                    ]
                    .contains(code)
                        || code.code().starts_with("08")
                }
            },
        }
    }
}

impl DbError {
    /// True when a statement may have committed although it reported an error: the connection
    /// broke (or the server went away) before the answer arrived. Such an outcome must be
    /// resolved, never guessed (see `intake`).
    pub fn outcome_unknown(&self) -> bool {
        let e = match self {
            DbError::Postgres(e) => e,
            DbError::Shared(e) => return e.outcome_unknown(),
            _ => return false,
        };
        match e.code() {
            None => true,
            Some(code) => {
                code.code().starts_with("08") || [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN].contains(code)
            }
        }
    }
}

/// True when `error` (from connecting or migrating) may go away by itself: the server cannot be
/// reached, is starting up or shutting down, or has no connection slot free. Not a refused
/// password or certificate, a missing database or a failing migration: those need an operator.
pub fn is_transient(error: &anyhow::Error) -> bool {
    if error.chain().any(tls::is_rejected_certificate) {
        return false;
    }
    let Some(e) = error.chain().find_map(|e| e.downcast_ref::<tokio_postgres::Error>()) else {
        return false;
    };
    match e.code() {
        // Refused, reset, timed out, the name not resolved yet: an I/O error, or the connection
        // closed. Other client-side errors (bad configuration, a server without TLS when
        // `sslmode` requires it) do not heal.
        None => e.is_closed() || error.chain().any(|c| c.is::<std::io::Error>()),
        Some(code) => {
            [
                SqlState::CANNOT_CONNECT_NOW,
                SqlState::TOO_MANY_CONNECTIONS,
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
            ]
            .contains(code)
                || code.code().starts_with("08")
        }
    }
}

/// The server's message and code when there is one (tokio-postgres' Display says only "db error"),
/// otherwise the client's error with its causes ("error connecting to server" alone does not say
/// that the connection was refused): one line that names the real cause, for logs.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            text
        }
    }
}

/// A pool error with its cause (deadpool's Display says "Error occurred while creating a new
/// object: db error" or names no cause at all).
fn describe_pool(e: &PoolError) -> String {
    match e {
        PoolError::Backend(e) => format!("opening a connection: {}", describe(e)),
        PoolError::Timeout(deadpool_postgres::TimeoutType::Wait) => "no connection free in time".into(),
        PoolError::Timeout(deadpool_postgres::TimeoutType::Create) => {
            "opening a connection timed out (the server did not answer)".into()
        }
        PoolError::Timeout(deadpool_postgres::TimeoutType::Recycle) => "checking a connection timed out".into(),
        other => other.to_string(),
    }
}

/// Which of (application, chat) is missing, for a 404 detail; the item itself otherwise.
pub(super) fn missing(app_exists: bool, chat_exists: bool, item: Missing) -> DbError {
    DbError::NotFound(if !app_exists {
        Missing::Application
    } else if !chat_exists {
        Missing::Chat
    } else {
        item
    })
}
