//! The purger: finishes application and chat deletes in small chunks, and expires old
//! idempotency keys, rate-limit windows and creation batch records.

use std::{sync::Arc, time::Duration};

use deadpool_postgres::{Object, Transaction};
use tokio::sync::Notify;
use tokio_postgres::Row;
use tokio_util::sync::CancellationToken;

use crate::{
    store::{Db, DbResult},
    write,
};

/// Rows one purge step deletes per table.
const PURGE_CHUNK: i64 = 5000;
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
    include_str!("sql/purge_app_counters.sql"),
    include_str!("sql/purge_app_jobs.sql"),
    include_str!("sql/purge_app_dead_jobs.sql"),
    include_str!("sql/purge_app_messages.sql"),
    include_str!("sql/purge_app_chats.sql"),
    include_str!("sql/purge_app_members.sql"),
    include_str!("sql/purge_app_words.sql"),
    include_str!("sql/purge_app_idempotency.sql"),
    include_str!("sql/purge_app_webhook_deliveries.sql"),
    include_str!("sql/purge_app_webhooks.sql"),
];
/// A chat purge's deletes (the chat delete itself removed its counter, jobs and row; its
/// members no longer see it, and their rows go here).
const CHAT_PURGE: &[&str] = &[
    include_str!("sql/purge_chat_jobs.sql"),
    include_str!("sql/purge_chat_dead_jobs.sql"),
    include_str!("sql/purge_chat_messages.sql"),
    include_str!("sql/purge_chat_members.sql"),
];

/// Deletes one chunk of the oldest pending purge, in one transaction. False when none is pending.
///
/// A purge is finished only when one snapshot shows nothing of its application (or chat) left
/// in any table (`purge_*_left.sql`), not when a chunk deleted fewer rows than its limit: the
/// jobs a worker batch has claimed are skipped by the purge's delete and their rows appear when
/// the batch commits, possibly after that chunk.
async fn purge_step(db: &Db) -> DbResult<bool> {
    let mut client = db.client().await?;
    let pending = match db.on_citus() {
        true => Some(pending_purges(&client).await?),
        false => None,
    };
    let tx = client.transaction().await?;
    let Some(purge) = claim(&tx, pending).await? else {
        return Ok(false);
    };
    let (id, app, chat): (i64, i64, Option<i64>) = (purge.get(0), purge.get(1), purge.get(2));
    let (deletes, left, done) = match chat {
        None => (
            APP_PURGE,
            include_str!("sql/purge_app_left.sql"),
            include_str!("sql/purge_app_done.sql"),
        ),
        Some(_) => (
            CHAT_PURGE,
            include_str!("sql/purge_chat_left.sql"),
            include_str!("sql/purge_chat_done.sql"),
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

/// How many of the oldest pending purges the claim tries on Citus: an instance holds one at a
/// time, so an unheld one is among them unless that many instances are purging at once.
const CANDIDATES: i64 = 32;

/// On Citus, the oldest pending purges (application, id), read from every shard without locks:
/// Citus takes row locks only within one shard, so `claim` then locks them one by one.
async fn pending_purges(client: &Object) -> DbResult<Vec<(i64, i64)>> {
    let pending = client
        .prepare_cached(include_str!("sql/purge_pending_citus.sql"))
        .await?;
    let rows = client.query(&pending, &[&CANDIDATES]).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Locks the oldest pending purge no other instance holds, for the transaction: (id,
/// application, chat number). Among the `pending` ones on Citus (each on its own shard), else
/// in one statement.
async fn claim(tx: &Transaction<'_>, pending: Option<Vec<(i64, i64)>>) -> DbResult<Option<Row>> {
    let Some(pending) = pending else {
        let claim = tx.prepare_cached(include_str!("sql/purge_claim.sql")).await?;
        return Ok(tx.query_opt(&claim, &[]).await?);
    };
    let claim = tx.prepare_cached(include_str!("sql/purge_claim_citus.sql")).await?;
    for (app, id) in pending {
        if let Some(purge) = tx.query_opt(&claim, &[&app, &id]).await? {
            return Ok(Some(purge));
        }
    }
    Ok(None)
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
        if let Err(e) = write::intake::expire_batches(&db).await {
            tracing::warn!(error = %e, "expiring creation batch records failed; will retry");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = cancel.cancelled() => return,
        }
    }
}
