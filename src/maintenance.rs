//! Background upkeep shared by all instances: the purger (finishes application and chat deletes
//! in small chunks), the count reconciler (corrects any drift of `chats_count` and
//! `messages_count`, the safety net behind the 1-hour bound), and the cleaner that merges the
//! search indexes' GIN pending lists.

use std::{
    collections::HashMap,
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

/// Deletes one chunk of the oldest pending purge, in one transaction. False when none is pending.
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
    // Table order matters: counters, then jobs, then rows (see the statements).
    let steps: &[&str] = match chat {
        None => &[
            include_str!("../sql/queries/purge_app_counters.sql"),
            include_str!("../sql/queries/purge_app_jobs.sql"),
            include_str!("../sql/queries/purge_app_messages.sql"),
            include_str!("../sql/queries/purge_app_chats.sql"),
        ],
        Some(_) => &[
            include_str!("../sql/queries/purge_chat_jobs.sql"),
            include_str!("../sql/queries/purge_chat_messages.sql"),
        ],
    };
    let mut finished = true;
    for sql in steps {
        let stmt = tx.prepare_cached(sql).await?;
        let deleted = match chat {
            None => tx.execute(&stmt, &[&app, &PURGE_CHUNK]).await?,
            Some(number) => tx.execute(&stmt, &[&app, &PURGE_CHUNK, &number]).await?,
        };
        if deleted as i64 >= PURGE_CHUNK {
            finished = false;
            break;
        }
    }
    if finished {
        let done = tx.prepare_cached(include_str!("../sql/queries/purge_done.sql")).await?;
        tx.execute(&done, &[&app, &id]).await?;
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
    tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
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
/// seconds (for deletes made through other instances), and expires old idempotency keys and
/// rate-limit windows.
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

/// The GIN indexes of every messages partition, each with the rows written to its partition so
/// far.
async fn gin_indexes(db: &Db) -> DbResult<Vec<(u32, i64)>> {
    let client = db.client().await?;
    let rows = client
        .query(include_str!("../sql/queries/gin_pending_indexes.sql"), &[])
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Merges one index's pending list. Returns the pages merged, or `None` when another instance
/// is merging it.
async fn clean_gin_index(db: &Db, index: u32) -> DbResult<Option<i64>> {
    let client = db.client().await?;
    let statement = client
        .prepare_cached(include_str!("../sql/queries/gin_clean.sql"))
        .await?;
    let merged: i64 = client.query_one(&statement, &[&GIN_CLEAN_LOCK, &index]).await?.get(0);
    Ok((merged >= 0).then_some(merged))
}

/// Merges the search indexes' pending lists into the indexes now, one index after another.
/// Returns the pages merged (indexes another instance was merging are skipped).
pub async fn clean_gin_pending(db: &Db) -> DbResult<i64> {
    let mut merged = 0;
    for (index, _) in gin_indexes(db).await? {
        merged += clean_gin_index(db, index).await?.unwrap_or(0);
    }
    Ok(merged)
}

/// Vacuums the job table. It is a hot queue: every job is inserted and deleted within moments,
/// so waiting for autovacuum's once-a-minute look lets its indexes bloat; a vacuum of a table
/// that holds a few hundred live rows takes milliseconds.
pub async fn vacuum_jobs(db: &Db) -> DbResult<()> {
    let client = db.client().await?;
    client.batch_execute("VACUUM (SKIP_LOCKED) jobs").await?;
    Ok(())
}

/// The pending-list cleaner task: every `interval`, merges the pending list of each search
/// index whose partition has had `merge_rows` rows written since its last merge (all of them
/// when the task starts), so inserting workers only ever append to the pending lists and never
/// stall on a merge, and a search never reads a long pending list. Merging in lots is what keeps
/// the write path affordable: merging every index every second cost more database time per
/// message than inserting it (0.3 ms a row). The merges run one index at a time, each followed
/// by a pause twice as long as it took, so they hold at most a third of a core: under an even
/// load every partition reaches its lot at about the same moment, and merging them back to back
/// starved the workers and the creations of a core for seconds. The job table is vacuumed every
/// `interval` throughout.
pub async fn run_gin_cleaner(db: Db, interval: Duration, merge_rows: i64, cancel: CancellationToken) {
    // The partition's rows written as of each index's last merge.
    let mut merged_at: HashMap<u32, i64> = HashMap::new();
    let mut vacuumed = Instant::now();
    loop {
        if !pause(interval, &cancel).await {
            return;
        }
        let indexes = match gin_indexes(&db).await {
            Ok(indexes) => indexes,
            Err(e) => {
                tracing::warn!(error = %e, "listing the search indexes failed; will retry");
                Vec::new()
            }
        };
        let spacing = interval / u32::try_from(indexes.len().max(1)).unwrap_or(u32::MAX);
        for (index, written) in indexes {
            let last = merged_at.get(&index).copied();
            // Due: never merged by this process, enough new rows, or statistics reset.
            let due = last.is_none_or(|last| written - last >= merge_rows || written < last);
            if !due {
                continue;
            }
            let started = Instant::now();
            match clean_gin_index(&db, index).await {
                // Merged here or, by another instance, just now: either way the list is short.
                Ok(_) => {
                    merged_at.insert(index, written);
                }
                Err(e) => tracing::warn!(error = %e, index, "merging a search index's pending list failed; will retry"),
            }
            if !pause(spacing.max(started.elapsed() * 2), &cancel).await {
                return;
            }
            if vacuumed.elapsed() >= interval {
                vacuum_jobs_logged(&db).await;
                vacuumed = Instant::now();
            }
        }
        if vacuumed.elapsed() >= interval / 2 {
            vacuum_jobs_logged(&db).await;
            vacuumed = Instant::now();
        }
    }
}

async fn vacuum_jobs_logged(db: &Db) {
    if let Err(e) = vacuum_jobs(db).await {
        tracing::warn!(error = %e, "vacuuming the job table failed; will retry");
    }
}

/// Sleeps for `d`; false when cancelled first.
async fn pause(d: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = cancel.cancelled() => false,
    }
}
