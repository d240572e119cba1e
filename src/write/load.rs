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
}

impl<'a> Loader<'a> {
    /// Starts a load on `client`.
    pub async fn begin(client: &'a mut Object) -> DbResult<Self> {
        Ok(Loader {
            tx: client.transaction().await?,
            lexicon: Lexicon::default(),
        })
    }

    /// Creates an application named `name`, dated `at`, with a fresh token: (its id, its token).
    pub async fn application(&self, name: &str, at: DateTime<Utc>) -> DbResult<(i64, Uuid)> {
        let sql = include_str!("sql/load_application.sql");
        let row = self.tx.query_one(sql, &[&name, &at]).await?;
        Ok((row.get(0), row.get(1)))
    }

    /// Creates `count` chats, dated `at`, in the application `app` (its id): their numbers.
    pub async fn chats(&self, app: i64, count: i64, at: DateTime<Utc>) -> DbResult<Vec<i64>> {
        let sql = include_str!("sql/load_chat_numbers.sql");
        let numbers: Vec<i64> = self
            .tx
            .query(sql, &[&app, &count])
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let jobs: Vec<Job> = numbers.iter().map(|&number| job(app, number, None, at)).collect();
        self.apply(&jobs).await?;
        Ok(numbers)
    }

    /// Adds `messages` (body, time) to chat `chat` of the application `app`, numbered in this
    /// order after the chat's last message.
    pub async fn messages(&self, app: i64, chat: i64, messages: Vec<(String, DateTime<Utc>)>) -> DbResult<()> {
        let sql = include_str!("sql/load_message_numbers.sql");
        let count = messages.len() as i64;
        let taken: i64 = self.tx.query_one(sql, &[&app, &chat, &count]).await?.get(0);
        let jobs: Vec<Job> = (taken + 1..)
            .zip(messages)
            .map(|(number, (body, at))| job(app, chat, Some((number, body)), at))
            .collect();
        self.apply(&jobs).await
    }

    /// Writes `jobs` as the workers do.
    async fn apply(&self, jobs: &[Job]) -> DbResult<()> {
        let applied = apply(&self.tx, jobs, Some(&self.lexicon), false, None).await?;
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
