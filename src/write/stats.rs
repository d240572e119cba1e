//! The job queue's figures for `/metrics`.

use crate::store::{Db, DbResult};

/// The queue for `/metrics`: (jobs waiting, oldest job's age in seconds, jobs that failed at
/// least `stuck_after` times).
pub async fn queue_stats(db: &Db, stuck_after: i32) -> DbResult<(i64, f64, i64)> {
    let rows = db.query(include_str!("sql/queue_stats.sql"), &[&stuck_after]).await?;
    Ok(rows
        .first()
        .map_or((0, 0.0, 0), |row| (row.get(0), row.get(1), row.get(2))))
}
