//! Which releases are connected, for what the schema lets this one skip (V20): a release before
//! V20 reads every message's folded text from its `search_text` column, so while one is
//! connected to the database this release stores it for every message; once none is, it leaves
//! it NULL where it is the body lower-cased in ASCII (`search::stored_folded`), and its searches
//! read `lower(body)` there. Releases are told apart by their sessions' `application_name`
//! (`APPLICATION_NAME`: the earlier ones called themselves `chat-system`), which
//! `pg_stat_activity` shows for every role's sessions. An instance of an earlier release always
//! holds a session while it runs (its LISTEN connection), so its absence is seen within one
//! look; one started again later (a rollback) is seen at the next look, and from then on every
//! message's folded text is stored again. Only the messages written in between are missed by
//! that instance's searches (ARCHITECTURE.md, "Rolling upgrades").

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use super::{Db, DbResult};

/// The name this release's pooled sessions give the database.
pub const APPLICATION_NAME: &str = "chat-system (V20)";
/// The name of its migration session.
pub const MIGRATIONS_APPLICATION_NAME: &str = "chat-system migrations (V20)";

/// Whether the folded text of a plain body may be left unstored, shared by a `Db`'s clones.
/// Starts false: until the first look, every folded text is stored.
#[derive(Clone, Default)]
pub(super) struct PlainFolded(Arc<AtomicBool>);

impl Db {
    /// True when no release before V20 is connected, as of the last `look_for_earlier_releases`:
    /// a plain body's folded text need not be stored.
    pub fn leaves_plain_folded_unstored(&self) -> bool {
        self.plain_folded.0.load(Ordering::Relaxed)
    }

    /// Looks for sessions of a release before V20 in this database and sets what
    /// `leaves_plain_folded_unstored` answers: whether there is none.
    pub async fn look_for_earlier_releases(&self) -> DbResult<bool> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(include_str!("sql/earlier_release_sessions.sql"))
            .await?;
        let earlier: bool = client.query_one(&stmt, &[]).await?.get(0);
        self.plain_folded.0.store(!earlier, Ordering::Relaxed);
        Ok(!earlier)
    }
}
