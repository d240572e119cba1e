//! Why a search was not answered.

/// Why a search was not answered.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The database failed, or the application or chat does not exist.
    #[error(transparent)]
    Db(#[from] crate::store::DbError),
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
}
