//! The job table's vacuum.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::sleep::sleep;
use crate::store::{Db, DbResult};

/// Vacuums the job table. It is a hot queue: every job is inserted and deleted within moments,
/// so waiting for autovacuum's once-a-minute look lets its indexes bloat; a vacuum of a table
/// that holds a few hundred live rows takes milliseconds. It never truncates the table
/// (migrations V7, V9): truncation takes a lock that every creation waits behind.
pub async fn vacuum_jobs(db: &Db) -> DbResult<()> {
    let client = db.client().await?;
    client.batch_execute(include_str!("sql/jobs_vacuum.sql")).await?;
    Ok(())
}

/// The job table's vacuum task: every `interval`.
pub async fn run_jobs_vacuum(db: Db, interval: Duration, cancel: CancellationToken) {
    while sleep(interval, &cancel).await {
        if let Err(e) = vacuum_jobs(&db).await {
            tracing::warn!(error = %e, "vacuuming the job table failed; will retry");
        }
    }
}
