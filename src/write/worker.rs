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

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::Notify;

use super::{
    apply::{apply, Applied, Job},
    bell::Hints,
};
use crate::store::{lexicon::Lexicon, Db, DbResult};

/// On Citus, how many applications with jobs ready one round of batches takes at most.
const APPS_PER_ROUND: i64 = 64;
/// On Citus, how often this process's workers read every shard for ready jobs while hints keep
/// them busy: jobs queued by other instances or due for a retry are found within this.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// On Citus, shares of the hints one call of `run_batch` takes at most.
const HINT_SHARES: usize = 4;

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
    /// On Citus, the applications this process queued jobs for (`hinted`).
    hints: Option<Hints>,
    /// When this process's workers last read every shard for ready jobs (shared by the clones).
    swept: Arc<Mutex<Instant>>,
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
            hints: None,
            // The first look reads every shard (jobs left from before the start).
            swept: Arc::new(Mutex::new(
                Instant::now().checked_sub(SWEEP_EVERY).unwrap_or_else(Instant::now),
            )),
        }
    }

    /// On Citus, this worker claims the applications in `hints` (the ones this process's
    /// creations queued jobs for) on their shards first, and reads every shard to find others
    /// only when it has no hint or once every `SWEEP_EVERY`.
    pub fn hinted(mut self, hints: Hints) -> Self {
        self.hints = Some(hints);
        self
    }

    /// Whether the periodic read of every shard is due (and if so, it is now taken).
    fn sweep_due(&self) -> bool {
        let mut swept = self.swept.lock().unwrap();
        let due = swept.elapsed() >= SWEEP_EVERY;
        if due {
            *swept = Instant::now();
        }
        due
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
        if self.db.on_citus() {
            return self.run_per_application().await;
        }
        self.run_claimed(None).await
    }

    /// On Citus, a batch per application with jobs ready: row locks work only within one shard,
    /// so each application's jobs are claimed on its shard (`jobs_claim_app.sql`). Which
    /// applications have jobs: the hints of this process's creations (a share at a time, so that
    /// the workers split them; an application that filled its lot is hinted again), and, without
    /// hints or once every `SWEEP_EVERY` for the process, a read of every shard without locks
    /// (jobs of other instances, retries), rotated so that workers do not all begin with the
    /// same application.
    async fn run_per_application(&self) -> DbResult<BatchOutcome> {
        let mut apps = match self.hints.is_none() || self.sweep_due() {
            true => self.ready_apps().await?,
            false => Vec::new(),
        };
        let mut outcome = BatchOutcome::default();
        // A few shares per call at most: the worker's loop looks at its cancellation between.
        for _ in 0..HINT_SHARES {
            if let Some(hints) = &self.hints {
                for app in hints.take_share() {
                    if !apps.contains(&app) {
                        apps.push(app);
                    }
                }
            }
            if apps.is_empty() {
                break;
            }
            let taken = std::mem::take(&mut apps);
            for (i, &app) in taken.iter().enumerate() {
                let one = self.run_claimed(Some(app)).await.inspect_err(|_| {
                    // The applications not run yet stay hinted for the next round.
                    self.hints
                        .iter()
                        .for_each(|hints| hints.add(taken[i..].iter().copied()));
                })?;
                if let (Some(hints), true) = (&self.hints, one.claimed as i64 >= self.batch_size) {
                    hints.add([app]);
                }
                outcome.claimed += one.claimed;
                outcome.failed += one.failed;
            }
        }
        Ok(outcome)
    }

    /// On Citus, up to `APPS_PER_ROUND` applications with jobs ready, from every shard.
    async fn ready_apps(&self) -> DbResult<Vec<i64>> {
        let rows = self
            .db
            .query(include_str!("sql/jobs_ready_apps.sql"), &[&APPS_PER_ROUND])
            .await?;
        let mut apps: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        if !apps.is_empty() {
            let start = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos() as usize);
            let len = apps.len();
            apps.rotate_left(start % len);
        }
        Ok(apps)
    }

    /// Claims a batch, of any application or of `app` only, and writes it.
    async fn run_claimed(&self, app: Option<i64>) -> DbResult<BatchOutcome> {
        let mut client = self.db.client().await?;
        let tx = client.transaction().await?;
        let claim = tx
            .prepare_cached(match app {
                None => include_str!("sql/jobs_claim.sql"),
                Some(_) => include_str!("sql/jobs_claim_app.sql"),
            })
            .await?;
        // The batch's commit need not wait for the disk: if a crash loses it, it loses the
        // jobs' deletion with their effects, and the jobs run again. Pipelined with the claim.
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = match &app {
            None => vec![&self.batch_size],
            Some(app) => vec![&self.batch_size, app],
        };
        // `biased`: polled in order, so the first failure is the error returned (after a failed
        // statement, the later ones of the transaction fail with 25P02, which names no cause).
        let (_, rows) = tokio::try_join!(
            biased;
            tx.batch_execute(include_str!("sql/jobs_async_commit.sql")),
            tx.query(&claim, &params)
        )?;
        let mut jobs: Vec<Job> = rows.iter().map(Job::from_row).collect();
        jobs.sort_unstable_by_key(|j| j.id);
        if jobs.is_empty() {
            tx.commit().await?;
            return Ok(BatchOutcome::default());
        }
        match apply(&tx, &jobs, self.lexicon(), self.db.leaves_plain_folded_unstored(), app).await {
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
        let one_app = self.db.on_citus().then_some(job.application_id);
        let error = match apply(
            &tx,
            std::slice::from_ref(&job),
            self.lexicon(),
            self.db.leaves_plain_folded_unstored(),
            one_app,
        )
        .await
        {
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
            .query_opt(&retry, &[&job.application_id, &job.id, &error, &epoch_now()])
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

/// Now, in seconds since the epoch (`jobs_retry.sql`'s `$4`).
fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
