//! The bulk loader: writes many chats and messages at once, already dated, in one transaction
//! (all or nothing), for `chat-system demo`. It is the write path without its queue, so it cannot
//! drift from the path's rules about numbers and counts:
//!
//! - numbers are taken from the same counters the intake takes them from, the same way (an
//!   application's `last_chat_number`, a chat's `chat_counters` row created with the chat;
//!   `load_chat_numbers.sql` and `load_message_numbers.sql` do what `intake_chats.sql` and
//!   `intake_messages.sql` do for a batch, without enqueueing jobs);
//! - the chats, the messages and their counts (`chats_count`, `messages_count`) are written by
//!   the workers' own code and statements ([`apply`](super::apply)), from jobs built
//!   here instead of claimed from the queue.
//!
//! So the service carries on numbering after loaded data exactly as after its own creations. A
//! load stores every message's folded text (`store::releases`: it may run beside any release).
//!
//! On Citus the counters are those V21's creations take (an application's last chat number in
//! `app_counters`), each statement names the application, and the workers' statements take their
//! forms for one application (`apply`'s `one_app`), as a worker's batch there does.

use chrono::{DateTime, Utc};
use deadpool_postgres::{Object, Transaction};
use uuid::Uuid;

use super::apply::{apply, Job};
use crate::store::{lexicon::Lexicon, DbResult};

/// One bulk load: a transaction on a connection of its own; nothing of it is seen until
/// [`Loader::commit`].
pub struct Loader<'a> {
    tx: Transaction<'a>,
    /// The dictionary words this load added (seen by its later statements, in its transaction).
    lexicon: Lexicon,
    /// The database is a Citus coordinator (`Db::on_citus`).
    citus: bool,
    /// The transaction's `now()`, for the statements that may not call it on Citus (the same
    /// value, so the same on one node).
    now: DateTime<Utc>,
}

impl<'a> Loader<'a> {
    /// Starts a load on `client`, of a Citus coordinator when `citus`.
    pub async fn begin(client: &'a mut Object, citus: bool) -> DbResult<Self> {
        let tx = client.transaction().await?;
        let now = tx.query_one("SELECT now()", &[]).await?.get(0);
        Ok(Loader {
            tx,
            lexicon: Lexicon::default(),
            citus,
            now,
        })
    }

    /// Creates an application named `name`, dated `at`, with a fresh token: (its id, its token).
    /// On Citus with its counters' row (`app_counters`), as `application_create_citus` makes it.
    pub async fn application(&self, name: &str, at: DateTime<Utc>) -> DbResult<(i64, Uuid)> {
        let sql = include_str!("sql/load_application.sql");
        let row = self.tx.query_one(sql, &[&name, &at]).await?;
        let (id, token) = (row.get(0), row.get(1));
        if self.citus {
            let sql = include_str!("sql/load_app_counters_citus.sql");
            self.tx.execute(sql, &[&id]).await?;
        }
        Ok((id, token))
    }

    /// Creates `count` chats, dated `at`, in the application `app` (its id): their numbers.
    pub async fn chats(&self, app: i64, count: i64, at: DateTime<Utc>) -> DbResult<Vec<i64>> {
        let numbers: Vec<i64> = match self.citus {
            false => {
                let sql = include_str!("sql/load_chat_numbers.sql");
                let rows = self.tx.query(sql, &[&app, &count]).await?;
                rows.iter().map(|row| row.get(0)).collect()
            }
            true => {
                // Citus never sends an inserting CTE to one shard: the counter, then the chats'
                // message counters.
                let sql = include_str!("sql/load_chat_numbers_citus.sql");
                let taken: i64 = self.tx.query_one(sql, &[&app, &count]).await?.get(0);
                let sql = include_str!("sql/load_chat_counters_citus.sql");
                self.tx.execute(sql, &[&app, &taken, &count, &self.now]).await?;
                (taken + 1..=taken + count).collect()
            }
        };
        let jobs: Vec<Job> = numbers.iter().map(|&number| job(app, number, None, at)).collect();
        self.apply(app, &jobs).await?;
        Ok(numbers)
    }

    /// Adds `messages` (body, time) to chat `chat` of the application `app`, numbered in this
    /// order after the chat's last message.
    pub async fn messages(&self, app: i64, chat: i64, messages: Vec<(String, DateTime<Utc>)>) -> DbResult<()> {
        let sql = include_str!("sql/load_message_numbers.sql");
        let count = messages.len() as i64;
        let taken: i64 = self.tx.query_one(sql, &[&app, &chat, &count, &self.now]).await?.get(0);
        let jobs: Vec<Job> = (taken + 1..)
            .zip(messages)
            .map(|(number, (body, at))| job(app, chat, Some((number, body)), at))
            .collect();
        self.apply(app, &jobs).await
    }

    /// Writes `jobs` (all of application `app`) as the workers do.
    async fn apply(&self, app: i64, jobs: &[Job]) -> DbResult<()> {
        let one_app = self.citus.then_some(app);
        let applied = apply(&self.tx, jobs, Some(&self.lexicon), false, one_app).await?;
        self.lexicon.learned(applied.words);
        Ok(())
    }

    /// Commits the load.
    pub async fn commit(self) -> DbResult<()> {
        Ok(self.tx.commit().await?)
    }
}

/// The job the intake would have queued: a chat's (`message` `None`), or a message's (number,
/// body).
fn job(app: i64, chat: i64, message: Option<(i64, String)>, at: DateTime<Utc>) -> Job {
    let (message_number, body) = message.unzip();
    Job {
        id: 0, // not queued: no id
        application_id: app,
        chat_number: chat,
        message_number,
        body,
        created_at: at,
        updated_at: at,
        sender: None,
    }
}
