//! Commands the maintenance tasks run on the nodes of a Citus cluster, through the coordinator
//! (`master_run_on_worker`: the service connects to the coordinator only). The job table's
//! shards and the search indexes' GIN pending lists are on the nodes that hold the shards; the
//! coordinator's own tables are empty shells.

use anyhow::bail;
use tokio_postgres::Row;

/// Each node's answer, from the rows of a statement that ran a command on the nodes (node name,
/// port, success, result); an error naming every node that failed, and why, if any did.
pub(super) fn answers(rows: &[Row]) -> anyhow::Result<Vec<&str>> {
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| !r.get::<_, bool>(2))
        .map(|r| {
            format!(
                "{}:{}: {}",
                r.get::<_, &str>(0),
                r.get::<_, i32>(1),
                r.get::<_, &str>(3)
            )
        })
        .collect();
    if !failed.is_empty() {
        bail!("on the nodes: {}", failed.join("; "));
    }
    Ok(rows.iter().map(|r| r.get(3)).collect())
}

/// `answers`, for a statement that returns only what failed.
pub(super) fn failures(rows: &[Row]) -> anyhow::Result<()> {
    answers(rows).map(drop)
}
