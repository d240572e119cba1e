//! One worker batch: claim ready jobs with `FOR UPDATE SKIP LOCKED` (deleting them in the same
//! statement), write their chats and messages with multi-row statements and bump the counts,
//! all in one transaction, so each job takes effect exactly once. A batch that fails is retried job by job,
//! so one bad job is retried with backoff without holding up the rest.
//!
//! An accepted item is never moved out of sight: a job that keeps failing stays queued (readable
//! through its job row) and is retried with backoff capped at 5 minutes; after `stuck_after`
//! failed attempts it is logged as stuck at every attempt and counted in `/metrics`
//! (`chat_jobs_stuck`). Transient failures (a lost connection, lock or statement timeouts,
//! serialization failures and deadlocks) are not attempts: the batch is simply run again.

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use tokio::sync::Notify;
use tokio_postgres::{types::ToSql, Row};

use super::{
    hooks::{Created, Creation},
    keys::{keyed, Keyed},
};
use crate::store::{
    lexicon::{self, Lexicon, NewWords},
    Db, DbError, DbResult,
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
    fn from_row(row: &Row) -> Self {
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
    fn created(&self) -> Creation<'_> {
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

/// Drains the job table; cheap to clone, one per worker task.
#[derive(Clone)]
pub struct Worker {
    db: Db,
    batch_size: i64,
    stuck_after: i32,
    /// Told when a batch queued webhook deliveries (`waking`).
    deliveries: Option<Arc<Notify>>,
    /// False: messages are written without search keys (`without_search_keys`).
    keys: bool,
}

/// What one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Jobs claimed.
    pub claimed: usize,
    /// Jobs that failed and were rescheduled or set aside.
    pub failed: usize,
}

impl Worker {
    /// A worker taking at most `batch_size` jobs per transaction, logging a job as stuck once it
    /// failed `stuck_after` times.
    pub fn new(db: Db, batch_size: i64, stuck_after: i32) -> Self {
        Worker {
            db,
            batch_size: batch_size.max(1),
            stuck_after: stuck_after.max(1),
            deliveries: None,
            keys: true,
        }
    }

    /// This worker writes messages without search keys or dictionary words (NULL keys: the key
    /// filler computes them later), at none of their cost. For measuring what search costs the
    /// write path (the benchmark's "no search" baseline).
    pub fn without_search_keys(mut self) -> Self {
        self.keys = false;
        self
    }

    /// The dictionary memory to key messages with, unless this worker writes none.
    fn lexicon(&self) -> Option<&Lexicon> {
        self.keys.then(|| self.db.lexicon())
    }

    /// This worker tells `deliveries` when a batch it commits queued webhook deliveries, so that
    /// this process's delivery workers look at once instead of at their next poll.
    pub fn waking(mut self, deliveries: Arc<Notify>) -> Self {
        self.deliveries = Some(deliveries);
        self
    }

    /// Tells the delivery workers, if `queued` deliveries were committed.
    fn committed(&self, queued: u64) {
        if let (Some(deliveries), true) = (&self.deliveries, queued > 0) {
            deliveries.notify_one();
        }
    }

    /// Runs one batch. Returns how many jobs it claimed (0: the queue has nothing ready).
    pub async fn run_batch(&self) -> DbResult<BatchOutcome> {
        let mut client = self.db.client().await?;
        let tx = client.transaction().await?;
        let claim = tx.prepare_cached(include_str!("sql/jobs_claim.sql")).await?;
        // The batch's commit need not wait for the disk: if a crash loses it, it loses the
        // jobs' deletion with their effects, and the jobs run again. Pipelined with the claim.
        let limit: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&self.batch_size];
        // `biased`: polled in order, so the first failure is the error returned (after a failed
        // statement, the later ones of the transaction fail with 25P02, which names no cause).
        let (_, rows) = tokio::try_join!(
            biased;
            tx.batch_execute(include_str!("sql/jobs_async_commit.sql")),
            tx.query(&claim, &limit)
        )?;
        let mut jobs: Vec<Job> = rows.iter().map(Job::from_row).collect();
        jobs.sort_unstable_by_key(|j| j.id);
        if jobs.is_empty() {
            tx.commit().await?;
            return Ok(BatchOutcome::default());
        }
        match apply(&tx, &jobs, self.lexicon()).await {
            Ok(Applied { queued, words }) => {
                tx.commit().await?;
                self.db.lexicon().learned(words);
                self.committed(queued);
                Ok(BatchOutcome {
                    claimed: jobs.len(),
                    failed: 0,
                })
            }
            Err(e) if e.is_unavailable() => Err(e),
            Err(e) => {
                tracing::warn!(error = %e, jobs = jobs.len(), "batch failed; retrying its jobs one by one");
                tx.rollback().await?;
                drop(client);
                let mut failed = 0;
                for job in &jobs {
                    failed += usize::from(!self.run_one(job).await?);
                }
                Ok(BatchOutcome {
                    claimed: jobs.len(),
                    failed,
                })
            }
        }
    }

    /// Runs `job` alone. False when it failed for a reason that is not transient (and was
    /// rescheduled with backoff).
    async fn run_one(&self, job: &Job) -> DbResult<bool> {
        let mut client = self.db.client().await?;
        let tx = client.transaction().await?;
        let claim = tx.prepare_cached(include_str!("sql/jobs_claim_one.sql")).await?;
        let Some(row) = tx.query_opt(&claim, &[&job.application_id, &job.id]).await? else {
            return Ok(true); // taken by another worker, or deleted with its chat
        };
        let job = Job::from_row(&row);
        let error = match apply(&tx, std::slice::from_ref(&job), self.lexicon()).await {
            Ok(Applied { queued, words }) => {
                tx.commit().await?;
                self.db.lexicon().learned(words);
                self.committed(queued);
                return Ok(true);
            }
            Err(e) if e.is_unavailable() => return Err(e),
            Err(e) => e.to_string(),
        };
        tx.rollback().await?;
        let retry = client.prepare_cached(include_str!("sql/jobs_retry.sql")).await?;
        let attempts: i32 = match client
            .query_opt(&retry, &[&job.application_id, &job.id, &error])
            .await?
        {
            Some(row) => row.get(0),
            None => return Ok(false),
        };
        if attempts >= self.stuck_after {
            tracing::error!(job = job.id, attempts, %error, "job stuck: it keeps failing; it stays queued and is retried");
        } else {
            tracing::warn!(job = job.id, attempts, %error, "job failed; will retry");
        }
        Ok(false)
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
/// dictionary, unless `lexicon` is `None`) and bumps the counts (the claim deleted the jobs). The
/// statements are pipelined, the webhook outbox (`hooks`) last: one round trip for the lot. The
/// bulk loader (`load`) writes through this too.
pub(super) async fn apply(tx: &Transaction<'_>, jobs: &[Job], lexicon: Option<&Lexicon>) -> Result<Applied, DbError> {
    let (chats, messages): (Vec<&Job>, Vec<&Job>) = jobs.iter().partition(|j| j.message_number.is_none());
    let (chats_per_app, messages_per_chat) = tallies(&chats, &messages);

    let insert_chats = tx.prepare_cached(include_str!("sql/jobs_insert_chats.sql"));
    let insert_messages = tx.prepare_cached(match lexicon {
        Some(_) => include_str!("sql/jobs_insert_messages.sql"),
        None => include_str!("sql/jobs_insert_messages_unkeyed.sql"),
    });
    let count_messages = tx.prepare_cached(include_str!("sql/jobs_count_messages.sql"));
    let count_chats = tx.prepare_cached(include_str!("sql/jobs_count_chats.sql"));
    let outbox = tx.prepare_cached(super::hooks::ENQUEUE_CREATED);
    let add_words = tx.prepare_cached(lexicon::ADD);
    let (insert_chats, insert_messages, count_messages, count_chats, outbox, add_words) = tokio::try_join!(
        biased; insert_chats, insert_messages, count_messages, count_chats, outbox, add_words
    )?;
    let created: Created = jobs.iter().map(Job::created).collect();

    let chat_apps: Vec<i64> = chats.iter().map(|j| j.application_id).collect();
    let chat_numbers: Vec<i64> = chats.iter().map(|j| j.chat_number).collect();
    let chat_created: Vec<DateTime<Utc>> = chats.iter().map(|j| j.created_at).collect();
    let chat_updated: Vec<DateTime<Utc>> = chats.iter().map(|j| j.updated_at).collect();
    let msg_apps: Vec<i64> = messages.iter().map(|j| j.application_id).collect();
    let msg_chats: Vec<i64> = messages.iter().map(|j| j.chat_number).collect();
    let msg_numbers: Vec<i64> = messages.iter().filter_map(|j| j.message_number).collect();
    let msg_bodies: Vec<&str> = messages.iter().map(|j| j.body.as_deref().unwrap_or_default()).collect();
    let msg_created: Vec<DateTime<Utc>> = messages.iter().map(|j| j.created_at).collect();
    let msg_updated: Vec<DateTime<Utc>> = messages.iter().map(|j| j.updated_at).collect();
    let msg_senders: Vec<Option<&str>> = messages.iter().map(|j| j.sender.as_deref()).collect();
    let keyed = lexicon.map_or_else(Keyed::default, |lexicon| {
        keyed(
            lexicon,
            messages
                .iter()
                .map(|j| (j.application_id, j.body.as_deref().unwrap_or_default())),
        )
    });
    let (count_chat_apps, count_chat_numbers): (Vec<i64>, Vec<i64>) = messages_per_chat.keys().copied().unzip();
    let count_chat_n: Vec<i64> = messages_per_chat.values().copied().collect();
    let (count_app_ids, count_app_n): (Vec<i64>, Vec<i64>) = chats_per_app.into_iter().unzip();

    // Order matters for locks: chats rows before applications rows, as in a chat delete.
    // `biased`: polled in order, so the first failure is the error returned (after a failed
    // statement, the later ones of the transaction fail with 25P02, which names no cause).
    let (_, _, _, _, _, queued) = tokio::try_join!(
        biased;
        keyed.words.add(tx, &add_words),
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
        async {
            if messages.is_empty() {
                return Ok(0);
            }
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![
                &msg_apps,
                &msg_chats,
                &msg_numbers,
                &msg_bodies,
                &msg_created,
                &msg_updated,
                &msg_senders,
            ];
            if lexicon.is_some() {
                params.extend([&keyed.folded as &(dyn ToSql + Sync), &keyed.keys, &keyed.from, &keyed.to]);
            }
            tx.execute(&insert_messages, &params).await
        },
        async {
            if count_chat_n.is_empty() {
                return Ok(0);
            }
            tx.execute(&count_messages, &[&count_chat_apps, &count_chat_numbers, &count_chat_n])
                .await
        },
        async {
            if count_app_n.is_empty() {
                return Ok(0);
            }
            tx.execute(&count_chats, &[&count_app_ids, &count_app_n]).await
        },
        created.enqueue(tx, &outbox),
    )?;
    Ok(Applied {
        queued,
        words: keyed.words,
    })
}
