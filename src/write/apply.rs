//! Writing a lot of jobs: their chats and messages (with the messages' search keys and the
//! dictionary's new words), the counts, and the webhook outbox, in pipelined statements of the
//! caller's transaction; and the job itself. The queue workers (`worker`) and the bulk loader
//! (`load`) write through this.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use tokio_postgres::{types::ToSql, Row, Statement};

use super::{
    hooks::{Created, Creation},
    keys::{keyed, Keyed},
};
use crate::search::stored_folded;
use crate::store::{
    lexicon::{self, Lexicon, NewWords},
    DbError,
};

/// A queued creation (or, for the bulk loader, one to write at once).
#[derive(Debug, Clone)]
pub(super) struct Job {
    pub(super) id: i64,
    pub(super) application_id: i64,
    pub(super) chat_number: i64,
    /// `None` for a chat creation.
    pub(super) message_number: Option<i64>,
    pub(super) body: Option<String>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    /// Who wrote the message, if the request said.
    pub(super) sender: Option<String>,
}

impl Job {
    pub(super) fn from_row(row: &Row) -> Self {
        Job {
            id: row.get(0),
            application_id: row.get(1),
            chat_number: row.get(2),
            message_number: row.get(3),
            body: row.get(4),
            created_at: row.get(5),
            updated_at: row.get(6),
            sender: row.get(7),
        }
    }

    /// The creation, for its webhook deliveries.
    pub(super) fn created(&self) -> Creation<'_> {
        Creation {
            application_id: self.application_id,
            chat_number: self.chat_number,
            number: self.message_number,
            body: self.body.as_deref(),
            sender: self.sender.as_deref(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// How many chats each application gets and how many messages each chat gets, in key order (the
/// order their rows are locked in).
type Tallies = (BTreeMap<i64, i64>, BTreeMap<(i64, i64), i64>);

fn tallies(chats: &[&Job], messages: &[&Job]) -> Tallies {
    let mut chats_per_app: BTreeMap<i64, i64> = BTreeMap::new();
    for j in chats {
        *chats_per_app.entry(j.application_id).or_default() += 1;
    }
    let mut messages_per_chat: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for j in messages {
        *messages_per_chat.entry((j.application_id, j.chat_number)).or_default() += 1;
    }
    (chats_per_app, messages_per_chat)
}

/// What `apply` did.
pub(super) struct Applied {
    /// Webhook deliveries queued.
    pub(super) queued: u64,
    /// Dictionary words it added: known to be stored once the transaction commits.
    pub(super) words: NewWords,
}

/// Writes the jobs' chats and messages (with their search keys, and new words to the
/// dictionary, unless `lexicon` is `None`; with `plain_unstored`, a plain body's folded text left
/// NULL: `search::stored_folded`) and bumps the counts (the claim deleted the jobs). The
/// statements are pipelined, the webhook outbox (`hooks`) last: one round trip for the lot. The
/// bulk loader (`load`) writes through this too.
///
/// `one_app`: every job is this application's (a batch on Citus, `worker`): the counts and the
/// outbox then take the forms that name the application, which Citus runs on its shard.
pub(super) async fn apply(
    tx: &Transaction<'_>,
    jobs: &[Job],
    lexicon: Option<&Lexicon>,
    plain_unstored: bool,
    one_app: Option<i64>,
) -> Result<Applied, DbError> {
    let (chats, messages): (Vec<&Job>, Vec<&Job>) = jobs.iter().partition(|j| j.message_number.is_none());
    let (chats_per_app, messages_per_chat) = tallies(&chats, &messages);

    let [insert_messages, count_messages, count_chats, add_words] = statements(lexicon.is_some(), one_app.is_some());
    let insert_chats = tx.prepare_cached(include_str!("sql/jobs_insert_chats.sql"));
    let insert_messages = tx.prepare_cached(insert_messages);
    let count_messages = tx.prepare_cached(count_messages);
    let count_chats = tx.prepare_cached(count_chats);
    let outbox = tx.prepare_cached(super::hooks::ENQUEUE_CREATED);
    let add_words = tx.prepare_cached(add_words);
    let (insert_chats, insert_messages, count_messages, count_chats, outbox, add_words) = tokio::try_join!(
        biased; insert_chats, insert_messages, count_messages, count_chats, outbox, add_words
    )?;
    let created: Created = jobs.iter().map(Job::created).collect();

    let chat_apps: Vec<i64> = chats.iter().map(|j| j.application_id).collect();
    let chat_numbers: Vec<i64> = chats.iter().map(|j| j.chat_number).collect();
    let chat_created: Vec<DateTime<Utc>> = chats.iter().map(|j| j.created_at).collect();
    let chat_updated: Vec<DateTime<Utc>> = chats.iter().map(|j| j.updated_at).collect();
    let columns = MessageColumns::new(&messages, lexicon, plain_unstored);
    let (count_chat_apps, count_chat_numbers): (Vec<i64>, Vec<i64>) = messages_per_chat.keys().copied().unzip();
    let count_chat_n: Vec<i64> = messages_per_chat.values().copied().collect();
    let (count_app_ids, count_app_n): (Vec<i64>, Vec<i64>) = chats_per_app.into_iter().unzip();

    // Order matters for locks: chats rows before applications rows, as in a chat delete.
    // `biased`: polled in order, so the first failure is the error returned (after a failed
    // statement, the later ones of the transaction fail with 25P02, which names no cause).
    let (_, _, _, _, _, queued) = tokio::try_join!(
        biased;
        columns.keyed.words.add(tx, &add_words, one_app.is_some()),
        async {
            if chats.is_empty() {
                return Ok(0);
            }
            tx.execute(
                &insert_chats,
                &[&chat_apps, &chat_numbers, &chat_created, &chat_updated],
            )
            .await
        },
        columns.insert(tx, &insert_messages),
        async {
            if count_chat_n.is_empty() {
                return Ok(0);
            }
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&count_chat_apps, &count_chat_numbers, &count_chat_n];
            if let Some(app) = &one_app {
                params.push(app);
            }
            tx.execute(&count_messages, &params).await
        },
        async {
            if count_app_n.is_empty() {
                return Ok(0);
            }
            match one_app {
                None => tx.execute(&count_chats, &[&count_app_ids, &count_app_n]).await,
                Some(ref app) => tx.execute(&count_chats, &[app, &count_app_n[0]]).await,
            }
        },
        async {
            match one_app {
                None => created.enqueue(tx, &outbox).await,
                Some(app) => created.enqueue_one_app(tx, app).await,
            }
        },
    )?;
    Ok(Applied {
        queued,
        words: columns.keyed.words,
    })
}

/// The texts of a lot's statements that have other forms: the messages' insert (without keys
/// unless `keyed`), the counts' updates and the dictionary's insert; with `one_app`, the forms
/// for a lot of one application, which Citus runs on its shard.
fn statements(keyed: bool, one_app: bool) -> [&'static str; 4] {
    let insert_messages = match keyed {
        true => include_str!("sql/jobs_insert_messages.sql"),
        false => include_str!("sql/jobs_insert_messages_unkeyed.sql"),
    };
    match one_app {
        false => [
            insert_messages,
            include_str!("sql/jobs_count_messages.sql"),
            include_str!("sql/jobs_count_chats.sql"),
            lexicon::ADD,
        ],
        true => [
            insert_messages,
            include_str!("sql/jobs_count_messages_app.sql"),
            include_str!("sql/jobs_count_chats_app.sql"),
            lexicon::ADD_CITUS,
        ],
    }
}

/// The messages of a lot as the insert's columns, with their folded texts and keys unless
/// written without (`lexicon` `None`).
struct MessageColumns<'j> {
    apps: Vec<i64>,
    chats: Vec<i64>,
    numbers: Vec<i64>,
    bodies: Vec<&'j str>,
    created: Vec<DateTime<Utc>>,
    updated: Vec<DateTime<Utc>>,
    senders: Vec<Option<&'j str>>,
    with_keys: bool,
    keyed: Keyed,
    /// Whether a plain body's folded text is left NULL.
    plain_unstored: bool,
}

impl<'j> MessageColumns<'j> {
    fn new(messages: &[&'j Job], lexicon: Option<&Lexicon>, plain_unstored: bool) -> Self {
        let bodies: Vec<&str> = messages.iter().map(|j| j.body.as_deref().unwrap_or_default()).collect();
        let keyed = lexicon.map_or_else(Keyed::default, |lexicon| {
            keyed(
                lexicon,
                messages.iter().map(|j| j.application_id).zip(bodies.iter().copied()),
            )
        });
        MessageColumns {
            apps: messages.iter().map(|j| j.application_id).collect(),
            chats: messages.iter().map(|j| j.chat_number).collect(),
            numbers: messages.iter().filter_map(|j| j.message_number).collect(),
            bodies,
            created: messages.iter().map(|j| j.created_at).collect(),
            updated: messages.iter().map(|j| j.updated_at).collect(),
            senders: messages.iter().map(|j| j.sender.as_deref()).collect(),
            with_keys: lexicon.is_some(),
            keyed,
            plain_unstored,
        }
    }

    /// Inserts the messages with `statement` (`jobs_insert_messages.sql`, or without keys its
    /// `_unkeyed` form).
    async fn insert(&self, tx: &Transaction<'_>, statement: &Statement) -> Result<u64, tokio_postgres::Error> {
        if self.apps.is_empty() {
            return Ok(0);
        }
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![
            &self.apps,
            &self.chats,
            &self.numbers,
            &self.bodies,
            &self.created,
            &self.updated,
            &self.senders,
        ];
        let folded: Vec<Option<&str>> = (self.bodies.iter().zip(&self.keyed.folded))
            .map(|(body, folded)| stored_folded(body, folded, self.plain_unstored))
            .collect();
        if self.with_keys {
            params.extend([
                &folded as &(dyn ToSql + Sync),
                &self.keyed.keys,
                &self.keyed.from,
                &self.keyed.to,
            ]);
        }
        tx.execute(statement, &params).await
    }
}
