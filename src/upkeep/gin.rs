//! The cleaner that merges the search indexes' GIN pending lists in lots, one index at a time
//! (on Citus, one index of the coordinator's catalog at a time: the same index on every shard of
//! its table, on the nodes).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::bail;
use deadpool_postgres::Object;
use tokio_postgres::types::ToSql;
use tokio_util::sync::CancellationToken;

use super::{nodes::answers, sleep::sleep};
use crate::store::Db;

/// Base of the advisory locks (one per index: base + the index's oid) that keep cleaners of
/// different instances from merging the same index at once.
const GIN_CLEAN_LOCK: i64 = 0x6769_6e00_0000_0000; // "gin"

/// An index merged longer ago than this is merged whatever its row count says (the statistics
/// can lag by seconds, be reset, or be switched off).
const GIN_MERGE_MAX_AGE_SECS: f64 = 60.0;

/// A GIN index of a messages partition or of the search dictionary, as the cleaner sees it.
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

/// The GIN indexes of every messages partition and of the search dictionary. On Citus the
/// coordinator's catalog names them (those of its empty shells), and each one stands for the
/// same index on every shard of its table, on the nodes: the rows written to them all decide
/// when they are merged, together.
async fn gin_indexes(db: &Db) -> anyhow::Result<Vec<GinIndex>> {
    let client = db.client().await?;
    let on_nodes = match db.on_citus() {
        true => Some(written_on_nodes(&client).await?),
        false => None,
    };
    let statement = client
        .prepare_cached(include_str!("sql/gin_pending_indexes.sql"))
        .await?;
    let rows = client.query(&statement, &[]).await?;
    Ok(rows
        .iter()
        .map(|r| GinIndex {
            oid: r.get(0),
            written: match &on_nodes {
                None => r.get(1),
                Some(per_table) => per_table.get(r.get::<_, &str>(4)).copied().unwrap_or(0),
            },
            last_merge: r.get::<_, Option<i64>>(2).zip(r.get::<_, Option<f64>>(3)),
        })
        .collect())
}

/// On Citus, the rows written so far to the shards of each messages partition and of the
/// search dictionary, on every node, by table name (`gin_written_citus.sql`).
async fn written_on_nodes(client: &Object) -> anyhow::Result<HashMap<String, i64>> {
    let written = client.prepare_cached(include_str!("sql/gin_written_citus.sql")).await?;
    let mut per_table: HashMap<String, i64> = HashMap::new();
    for answer in answers(&client.query(&written, &[]).await?)? {
        for (table, rows) in serde_json::from_str::<HashMap<String, i64>>(answer)? {
            *per_table.entry(table).or_default() += rows;
        }
    }
    Ok(per_table)
}

/// Merges one index's pending list and records it (in `gin_merges`, shared by all instances).
/// Returns the pages merged, or `None` when another instance is merging it. On Citus, the index
/// of every shard of its table, on every node that holds some (`gin_clean_citus.sql`).
async fn clean_gin_index(db: &Db, index: &GinIndex) -> anyhow::Result<Option<i64>> {
    let client = db.client().await?;
    let params: [&(dyn ToSql + Sync); 3] = [&GIN_CLEAN_LOCK, &index.oid, &index.written];
    if db.on_citus() {
        let statement = client.prepare_cached(include_str!("sql/gin_clean_citus.sql")).await?;
        let row = client.query_one(&statement, &params).await?;
        if let Some(failed) = row.get::<_, Option<&str>>(2) {
            bail!("on the nodes: {failed}");
        }
        return Ok(row.get::<_, bool>(0).then(|| row.get(1)));
    }
    let statement = client.prepare_cached(include_str!("sql/gin_clean.sql")).await?;
    let merged: i64 = client.query_one(&statement, &params).await?.get(0);
    Ok((merged >= 0).then_some(merged))
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
    while sleep(interval, &cancel).await {
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
            if !sleep(spacing.max(started.elapsed() * 2), &cancel).await {
                return;
            }
        }
    }
}
