//! The count reconciler: corrects any drift of `chats_count` and `messages_count`, the safety net
//! behind the 1-hour bound on counts.

use std::time::Duration;

use deadpool_postgres::Transaction;
use tokio_util::sync::CancellationToken;

use crate::store::{Db, DbResult};

/// Advisory lock that keeps reconcilers of different instances from running at once.
const RECONCILE_LOCK: i64 = 0x0063_6861_7472_6563; // "chatrec"

/// Corrects every count that drifted from the rows. Returns how many counts it changed, or
/// `None` when another instance is reconciling right now.
pub async fn reconcile_counts(db: &Db) -> DbResult<Option<u64>> {
    let mut client = db.client().await?;
    let tx = client.transaction().await?;
    let locked: bool = tx
        .query_one(include_str!("sql/reconcile_lock.sql"), &[&RECONCILE_LOCK])
        .await?
        .get(0);
    if !locked {
        return Ok(None);
    }
    // Whole-table counts: sequential scans allowed (the service's connections disable them).
    tx.batch_execute(include_str!("sql/reconcile_settings.sql")).await?;
    let corrected = match db.on_citus() {
        true => reconcile_by_app(&tx).await?,
        false => {
            let chats = tx.execute(include_str!("sql/reconcile_chats_count.sql"), &[]).await?;
            let messages = tx
                .execute(include_str!("sql/reconcile_messages_count.sql"), &[])
                .await?;
            chats + messages
        }
    };
    tx.commit().await?;
    Ok(Some(corrected))
}

/// The reconciliation on Citus. The applications with a drifted count are found by a read of
/// every shard without locks; each is counted again and corrected by statements that name it,
/// which Citus runs on its shard (the node that holds its chats, messages and chat count, all
/// in one snapshot there).
async fn reconcile_by_app(tx: &Transaction<'_>) -> DbResult<u64> {
    let drifted = tx.query(include_str!("sql/reconcile_drifted_citus.sql"), &[]).await?;
    let chats = tx
        .prepare_cached(include_str!("sql/reconcile_chats_count_citus.sql"))
        .await?;
    let messages = tx
        .prepare_cached(include_str!("sql/reconcile_messages_count_citus.sql"))
        .await?;
    let mut corrected = 0;
    for app in drifted.iter().map(|r| r.get::<_, i64>(0)) {
        corrected += tx.execute(&chats, &[&app]).await?;
        corrected += tx.execute(&messages, &[&app]).await?;
    }
    Ok(corrected)
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
