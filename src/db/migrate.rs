//! Schema migrations (refinery, `sql/migrations/`), applied on a connection of their own under an
//! advisory lock, so that many instances starting at once apply each migration once.

use super::{Db, DbResult};

refinery::embed_migrations!("sql/migrations");

/// The session-level advisory lock held while migrations run ("chatmig"): an instance that
/// finds it taken waits until the holder is done, then finds nothing left to apply.
pub const MIGRATION_LOCK: i64 = 0x0063_6861_746d_6967;

/// Applies every pending migration.
///
/// Not on a pooled connection: those carry the service's statement and lock timeouts (15 s), and
/// a migration may rewrite a big table for longer than that, or wait longer than that for another
/// instance's migrations (the lock wait). Nor its planner settings: migrations may backfill whole
/// tables and get PostgreSQL's defaults. The connection has the pool's address and TLS settings.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    let mut config = db.pg_config().clone();
    config
        .application_name("chat-system migrations")
        .options("-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0");
    let (mut client, connection) = config.connect(db.tls()).await?;
    // Ends when `client` is dropped below; closing the session releases the lock in any case.
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %super::describe(&e), "migration connection failed");
        }
    });
    let free: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?
        .get(0);
    if !free {
        tracing::info!("another instance is applying migrations; waiting for it");
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await?;
    }
    let report = migrations::runner().run_async(&mut client).await?;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
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
