//! Background upkeep shared by all instances: the purger (finishes application and chat deletes
//! in small chunks), the count reconciler (corrects any drift of `chats_count` and
//! `messages_count`, the safety net behind the 1-hour bound), the cleaner that merges the
//! search indexes' GIN pending lists, and the job table's vacuum.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db::{Db, DbResult};

/// Rows one purge step deletes per table.
const PURGE_CHUNK: i64 = 5000;
/// Advisory lock that keeps reconcilers of different instances from running at once.
const RECONCILE_LOCK: i64 = 0x0063_6861_7472_6563; // "chatrec"

/// Runs purge steps until no purge is pending. Returns how many steps ran.
pub async fn purge_all(db: &Db) -> DbResult<usize> {
    let mut steps = 0;
    while purge_step(db).await? {
        steps += 1;
    }
    Ok(steps)
}

/// An application purge's deletes, in lock order: the counters first (once they are gone no
/// message can be created under the application), then the queue (waiting for any worker batch
/// holding its jobs), then the rows those batches wrote, then what only names the application.
const APP_PURGE: &[&str] = &[
    include_str!("../sql/queries/purge_app_counters.sql"),
    include_str!("../sql/queries/purge_app_jobs.sql"),
    include_str!("../sql/queries/purge_app_dead_jobs.sql"),
    include_str!("../sql/queries/purge_app_messages.sql"),
    include_str!("../sql/queries/purge_app_chats.sql"),
    include_str!("../sql/queries/purge_app_idempotency.sql"),
];
/// A chat purge's deletes (the chat delete itself removed its counter, jobs and row).
const CHAT_PURGE: &[&str] = &[
    include_str!("../sql/queries/purge_chat_jobs.sql"),
    include_str!("../sql/queries/purge_chat_dead_jobs.sql"),
    include_str!("../sql/queries/purge_chat_messages.sql"),
];

/// Deletes one chunk of the oldest pending purge, in one transaction. False when none is pending.
///
/// A purge is finished only when one snapshot shows nothing of its application (or chat) left
/// in any table (`purge_*_left.sql`), not when a chunk deleted fewer rows than its limit: the
/// jobs a worker batch has claimed are skipped by the purge's delete and their rows appear when
/// the batch commits, possibly after that chunk.
async fn purge_step(db: &Db) -> DbResult<bool> {
    let mut client = db.client().await?;
    let tx = client.transaction().await?;
    let claim = tx
        .prepare_cached(include_str!("../sql/queries/purge_claim.sql"))
        .await?;
    let Some(purge) = tx.query_opt(&claim, &[]).await? else {
        return Ok(false);
    };
    let (id, app, chat): (i64, i64, Option<i64>) = (purge.get(0), purge.get(1), purge.get(2));
    let (deletes, left, done) = match chat {
        None => (
            APP_PURGE,
            include_str!("../sql/queries/purge_app_left.sql"),
            include_str!("../sql/queries/purge_app_done.sql"),
        ),
        Some(_) => (
            CHAT_PURGE,
            include_str!("../sql/queries/purge_chat_left.sql"),
            include_str!("../sql/queries/purge_chat_done.sql"),
        ),
    };
    for sql in deletes {
        let stmt = tx.prepare_cached(sql).await?;
        let deleted = match chat {
            None => tx.execute(&stmt, &[&app, &PURGE_CHUNK]).await?,
            Some(number) => tx.execute(&stmt, &[&app, &PURGE_CHUNK, &number]).await?,
        };
        if deleted as i64 >= PURGE_CHUNK {
            // More of this table next time; one chunk per table and transaction keeps each short.
            tx.commit().await?;
            return Ok(true);
        }
    }
    let left_stmt = tx.prepare_cached(left).await?;
    let anything_left: bool = match chat {
        None => tx.query_one(&left_stmt, &[&app]).await?,
        Some(number) => tx.query_one(&left_stmt, &[&app, &number]).await?,
    }
    .get(0);
    if !anything_left {
        let done_stmt = tx.prepare_cached(done).await?;
        match chat {
            None => tx.execute(&done_stmt, &[&app]).await?,
            Some(_) => tx.execute(&done_stmt, &[&app, &id]).await?,
        };
    }
    tx.commit().await?;
    Ok(true)
}

/// Corrects every count that drifted from the rows. Returns how many counts it changed, or
/// `None` when another instance is reconciling right now.
pub async fn reconcile_counts(db: &Db) -> DbResult<Option<u64>> {
    let mut client = db.client().await?;
    let tx = client.transaction().await?;
    let locked: bool = tx
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&RECONCILE_LOCK])
        .await?
        .get(0);
    if !locked {
        return Ok(None);
    }
    // Whole-table counts: sequential scans allowed (the service's connections disable them).
    tx.batch_execute("SET LOCAL statement_timeout = 0; SET LOCAL enable_seqscan = on")
        .await?;
    let chats = tx
        .execute(include_str!("../sql/queries/reconcile_chats_count.sql"), &[])
        .await?;
    let messages = tx
        .execute(include_str!("../sql/queries/reconcile_messages_count.sql"), &[])
        .await?;
    tx.commit().await?;
    Ok(Some(chats + messages))
}

/// The purger task: runs pending purges when woken (by a delete in this process) or every few
/// seconds (for deletes made through other instances), and expires old idempotency keys,
/// rate-limit windows and creation batch records.
pub async fn run_purger(db: Db, wake: Arc<Notify>, cancel: CancellationToken) {
    loop {
        if let Err(e) = purge_all(&db).await {
            tracing::warn!(error = %e, "purge failed; will retry");
        }
        if let Err(e) = db.expire_idempotency().await {
            tracing::warn!(error = %e, "expiring idempotency keys failed; will retry");
        }
        if let Err(e) = db.expire_rate_limits().await {
            tracing::warn!(error = %e, "expiring rate-limit windows failed; will retry");
        }
        if let Err(e) = crate::intake::expire_batches(&db).await {
            tracing::warn!(error = %e, "expiring creation batch records failed; will retry");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// The reconciler task: corrects counts every `interval`.
pub async fn run_reconciler(db: Db, interval: Duration, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = cancel.cancelled() => return,
        }
        match reconcile_counts(&db).await {
            Ok(Some(n)) if n > 0 => {
                tracing::warn!(corrected = n, "reconciler corrected drifted counts")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "count reconciliation failed; will retry"),
        }
    }
}

/// Base of the advisory locks (one per index: base + the index's oid) that keep cleaners of
/// different instances from merging the same index at once.
const GIN_CLEAN_LOCK: i64 = 0x6769_6e00_0000_0000; // "gin"

/// An index merged longer ago than this is merged whatever its row count says (the statistics
/// can lag by seconds, be reset, or be switched off).
const GIN_MERGE_MAX_AGE_SECS: f64 = 60.0;

/// A GIN index of a messages partition, as the cleaner sees it.
struct GinIndex {
    oid: u32,
    /// Rows written to its partition so far (from the statistics).
    written: i64,
    /// `written` as of its last merge, and how many seconds ago that was (`None`: never).
    last_merge: Option<(i64, f64)>,
}

impl GinIndex {
    /// Whether its pending list is due for a merge: a lot of `merge_rows` new rows, a reset of
    /// the statistics, or a merge too long ago.
    fn due(&self, merge_rows: i64) -> bool {
        self.last_merge.is_none_or(|(last, age)| {
            self.written - last >= merge_rows || self.written < last || age >= GIN_MERGE_MAX_AGE_SECS
        })
    }
}

/// The GIN indexes of every messages partition.
async fn gin_indexes(db: &Db) -> DbResult<Vec<GinIndex>> {
    let client = db.client().await?;
    let statement = client
        .prepare_cached(include_str!("../sql/queries/gin_pending_indexes.sql"))
        .await?;
    let rows = client.query(&statement, &[]).await?;
    Ok(rows
        .iter()
        .map(|r| GinIndex {
            oid: r.get(0),
            written: r.get(1),
            last_merge: r.get::<_, Option<i64>>(2).zip(r.get::<_, Option<f64>>(3)),
        })
        .collect())
}

/// Merges one index's pending list and records it (in `gin_merges`, shared by all instances).
/// Returns the pages merged, or `None` when another instance is merging it.
async fn clean_gin_index(db: &Db, index: &GinIndex) -> DbResult<Option<i64>> {
    let client = db.client().await?;
    let statement = client
        .prepare_cached(include_str!("../sql/queries/gin_clean.sql"))
        .await?;
    let merged: i64 = client
        .query_one(&statement, &[&GIN_CLEAN_LOCK, &index.oid, &index.written])
        .await?
        .get(0);
    Ok((merged >= 0).then_some(merged))
}

/// Vacuums the job table. It is a hot queue: every job is inserted and deleted within moments,
/// so waiting for autovacuum's once-a-minute look lets its indexes bloat; a vacuum of a table
/// that holds a few hundred live rows takes milliseconds. It never truncates the table
/// (migrations V7, V9): truncation takes a lock that every creation waits behind.
pub async fn vacuum_jobs(db: &Db) -> DbResult<()> {
    let client = db.client().await?;
    client.batch_execute("VACUUM (SKIP_LOCKED) jobs").await?;
    Ok(())
}

/// The job table's vacuum task: every `interval`.
pub async fn run_jobs_vacuum(db: Db, interval: Duration, cancel: CancellationToken) {
    while pause(interval, &cancel).await {
        if let Err(e) = vacuum_jobs(&db).await {
            tracing::warn!(error = %e, "vacuuming the job table failed; will retry");
        }
    }
}

/// The pending-list cleaner task: every `interval`, merges the pending list of each search
/// index whose partition has had `merge_rows` rows written since its last merge by any instance
/// (or whose last merge is a minute old), so inserting workers only ever append to the pending
/// lists and never stall on a merge, and a search never reads a long pending list. Merging in
/// lots is what keeps the write path affordable: merging every index every second cost more
/// database time per message than inserting it (0.3 ms a row). The merges run one index at a
/// time, each followed by a pause twice as long as it took, so they hold at most a third of a
/// core: under an even load every partition reaches its lot at about the same moment, and
/// merging them back to back starved the workers and the creations of a core for seconds.
pub async fn run_gin_cleaner(db: Db, interval: Duration, merge_rows: i64, cancel: CancellationToken) {
    while pause(interval, &cancel).await {
        let indexes = match gin_indexes(&db).await {
            Ok(indexes) => indexes,
            Err(e) => {
                tracing::warn!(error = %e, "listing the search indexes failed; will retry");
                continue;
            }
        };
        let spacing = interval / u32::try_from(indexes.len().max(1)).unwrap_or(u32::MAX);
        for index in indexes.iter().filter(|i| i.due(merge_rows)) {
            let started = Instant::now();
            if let Err(e) = clean_gin_index(&db, index).await {
                tracing::warn!(error = %e, index = index.oid, "merging a search index's pending list failed; will retry");
            }
            if !pause(spacing.max(started.elapsed() * 2), &cancel).await {
                return;
            }
        }
    }
}

/// Sleeps for `d`; false when cancelled first.
async fn pause(d: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = cancel.cancelled() => false,
    }
}
