//! The job table's vacuum.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{nodes::failures, sleep::sleep};
use crate::store::Db;

/// Vacuums the job table. It is a hot queue: every job is inserted and deleted within moments,
/// so waiting for autovacuum's once-a-minute look lets its indexes bloat; a vacuum of a table
/// that holds a few hundred live rows takes milliseconds. It never truncates the table
/// (migrations V7, V9): truncation takes a lock that every creation waits behind.
///
/// On Citus the table is 32 shards on the nodes, and a `VACUUM jobs` on the coordinator would
/// send one vacuum to each of them every time: instead each node holding shards vacuums those of
/// its shards that have dead rows (by its own statistics), in one command
/// (`jobs_vacuum_citus.sql`): an idle queue costs a look per node, a busy one a vacuum of the
/// shards its applications used.
pub async fn vacuum_jobs(db: &Db) -> anyhow::Result<()> {
    let client = db.client().await?;
    if !db.on_citus() {
        client.batch_execute(include_str!("sql/jobs_vacuum.sql")).await?;
        return Ok(());
    }
    let vacuum = client.prepare_cached(include_str!("sql/jobs_vacuum_citus.sql")).await?;
    failures(&client.query(&vacuum, &[]).await?)
}

/// The job table's vacuum task: every `interval`.
pub async fn run_jobs_vacuum(db: Db, interval: Duration, cancel: CancellationToken) {
    while sleep(interval, &cancel).await {
        if let Err(e) = vacuum_jobs(&db).await {
            tracing::warn!(error = %e, "vacuuming the job table failed; will retry");
        }
    }
}
