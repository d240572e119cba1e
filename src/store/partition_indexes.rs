//! Indexes of `messages` built partition by partition without blocking writes. PostgreSQL 15
//! cannot build an index on a partitioned table `CONCURRENTLY`, and refinery runs each migration
//! in a transaction, where no concurrent build can run; a plain `CREATE INDEX` on the parent
//! holds off every write to the table for the whole build (minutes on millions of rows). So a
//! migration creates such an index on the parent only (`ON ONLY`: instant, not valid yet), and
//! after the migrations this builds each partition's index `CONCURRENTLY` (writes go on) and
//! attaches it; the parent index becomes valid when the last partition's is attached. Until
//! then the partitions that have theirs use it, the others are read without it.
//!
//! Run by `migrate`, holding the migration lock (one instance builds; the others wait to start,
//! while the instances already running serve). Idempotent: an interrupted build is taken up
//! where it stopped, an invalid leftover of a failed concurrent build is dropped and rebuilt.

use tokio_postgres::Client;

/// Builds and attaches every missing partition index (see the module doc).
pub async fn build(client: &Client) -> anyhow::Result<()> {
    let missing = client
        .query(include_str!("sql/partition_indexes_missing.sql"), &[])
        .await?;
    for row in &missing {
        let (parent, definition, partition, name): (String, String, String, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let Some(at) = definition.find(" USING ") else {
            anyhow::bail!("unexpected definition of index {parent}: {definition}");
        };
        let how = &definition[at..];
        let started = std::time::Instant::now();
        let valid: Option<bool> = client
            .query_opt(include_str!("sql/partition_index_valid.sql"), &[&name])
            .await?
            .map(|r| r.get(0));
        if valid == Some(false) {
            client
                .batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS \"{name}\""))
                .await?;
        }
        client
            .batch_execute(&format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"{name}\" ON \"{partition}\"{how}"
            ))
            .await?;
        client
            .batch_execute(&format!("ALTER INDEX \"{parent}\" ATTACH PARTITION \"{name}\""))
            .await?;
        tracing::info!(
            index = %parent,
            %partition,
            secs = started.elapsed().as_secs_f64(),
            "built a partition's index"
        );
    }
    Ok(())
}
