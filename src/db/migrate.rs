//! Schema migrations (refinery, `sql/migrations/`), applied under an advisory lock so that many
//! instances starting at once apply each migration once.

use super::{Db, DbResult};

refinery::embed_migrations!("sql/migrations");

const MIGRATION_LOCK: i64 = 0x0063_6861_746d_6967; // "chatmig"

/// Applies every pending migration.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    let mut client = db.client().await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    // Migrations may backfill or rewrite whole tables: the planner's defaults for them, not the
    // service's point-lookup settings (`Db::connect`), restored before the connection goes back.
    client
        .batch_execute("SET enable_seqscan = on; SET jit = on; SET plan_cache_mode = auto")
        .await?;
    let result = migrations::runner().run_async(&mut **client).await;
    client
        .batch_execute("RESET enable_seqscan; RESET jit; RESET plan_cache_mode")
        .await?;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    let report = result?;
    for m in report.applied_migrations() {
        tracing::info!(migration = %m, "applied migration");
    }
    Ok(())
}

/// True when every migration this binary knows is applied.
pub async fn migrations_applied(db: &Db) -> DbResult<bool> {
    let latest = migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| m.version())
        .max()
        .unwrap_or(0);
    let row = db
        .query_opt("SELECT max(version) FROM refinery_schema_history", &[])
        .await;
    match row {
        Ok(Some(row)) => Ok(row.get::<_, Option<i32>>(0).unwrap_or(0) >= latest),
        Ok(None) => Ok(false),
        Err(e) if !e.is_unavailable() => Ok(false),
        Err(e) => Err(e),
    }
}
