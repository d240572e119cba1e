//! The expiry of finished deliveries older than a week, a chunk at a time (every minute, by the
//! dispatcher).

use crate::store::{Db, DbResult};

/// Applications whose old deliveries one round expires on Citus (a chunk each).
const APPS_PER_ROUND: i64 = 100;

/// Deletes a chunk of finished deliveries older than a week: how many. On Citus, a chunk per
/// application with some (found by a read of every shard without locks), each deleted on the
/// application's shard: there a statement that picks rows by `ctid` across shards is refused.
pub(super) async fn expire(db: &Db) -> DbResult<u64> {
    let client = db.client().await?;
    if !db.on_citus() {
        let expire = client.prepare_cached(include_str!("sql/expire.sql")).await?;
        return Ok(client.execute(&expire, &[]).await?);
    }
    let apps = client.prepare_cached(include_str!("sql/expire_apps_citus.sql")).await?;
    let apps = client.query(&apps, &[&APPS_PER_ROUND]).await?;
    let expire = client.prepare_cached(include_str!("sql/expire_citus.sql")).await?;
    let mut expired = 0;
    for app in apps.iter().map(|r| r.get::<_, i64>(0)) {
        expired += client.execute(&expire, &[&app]).await?;
    }
    Ok(expired)
}
