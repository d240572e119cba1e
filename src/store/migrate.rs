//! Schema migrations (refinery, `sql/migrations/`), applied on a connection of their own under an
//! advisory lock, so that many instances starting at once apply each migration once.
//!
//! During a rolling upgrade the previous release keeps running (and restarting) against a schema
//! that the new release has already migrated: every migration is backward compatible (expand
//! now, contract in a later release; see ARCHITECTURE.md). So a binary that finds migrations
//! newer than its own applied runs against them, instead of refusing to start as refinery does
//! when an applied migration is unknown to it.

use tokio_postgres::error::SqlState;

use super::{Db, DbResult};

refinery::embed_migrations!("sql/migrations");

/// The migrations as written (`sql/migrations/`).
pub(super) fn embedded() -> Vec<refinery::Migration> {
    migrations::runner().get_migrations().clone()
}

/// This database's migrations (`flavours`: their Citus forms where it has the extension).
/// Also records on `db` whether the database is a Citus coordinator.
async fn known(db: &Db, client: &tokio_postgres::Client) -> anyhow::Result<Vec<refinery::Migration>> {
    let citus: bool = client
        .query_one(include_str!("sql/citus_present.sql"), &[])
        .await?
        .get(0);
    if citus {
        db.found_citus();
    }
    super::flavours::migrations(&embedded(), citus)
}

/// The session-level advisory lock held while migrations run ("chatmig"): an instance that
/// finds it taken waits until the holder is done, then finds nothing left to apply.
pub const MIGRATION_LOCK: i64 = 0x0063_6861_746d_6967;

/// Applies every pending migration, or accepts a schema migrated further by a newer release.
///
/// Not on a pooled connection: those carry the service's statement and lock timeouts (15 s), and
/// a migration may rewrite a big table for longer than that, or wait longer than that for another
/// instance's migrations (the lock wait). Nor its planner settings: migrations may backfill whole
/// tables and get PostgreSQL's defaults. The connection has the pool's address and TLS settings.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    let mut config = db.pg_config().clone();
    config
        .application_name(super::releases::MIGRATIONS_APPLICATION_NAME)
        .options(
            // No timeouts; and no NOTICEs ("refinery_schema_history already exists, skipping" at
            // every start, logged by the client as if it meant something).
            "-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0 \
             -c client_min_messages=warning",
        );
    let (mut client, connection) = config.connect(db.tls()).await?;
    // Ends when `client` is dropped below; closing the session releases the lock in any case.
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %super::describe(&e), "migration connection failed");
        }
    });
    // Waited for by polling, never inside a statement: a waiting statement is a transaction with
    // a snapshot, which the holder's concurrent index builds (`partition_indexes`) would wait
    // for in turn (a deadlock).
    let mut said = false;
    while !client
        .query_one(include_str!("sql/migration_try_lock.sql"), &[&MIGRATION_LOCK])
        .await?
        .get::<_, bool>(0)
    {
        if !said {
            tracing::info!("another instance is applying migrations; waiting for it");
            said = true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // (In a block, so that the lock below is released whatever it returns.)
    let result: anyhow::Result<_> = async {
        let known = known(db, &client).await?;
        if newer_schema(&client, &known).await? {
            return Ok(None);
        }
        Ok(Some(refinery::Runner::new(&known).run_async(&mut client).await?))
    }
    .await;
    // Indexes a migration left to build partition by partition (`partition_indexes`).
    let result = match result {
        Ok(report) => super::partition_indexes::build(&client).await.map(|()| report),
        Err(e) => Err(e),
    };
    client
        .execute(include_str!("sql/migration_unlock.sql"), &[&MIGRATION_LOCK])
        .await?;
    let Some(report) = result? else { return Ok(()) };
    for m in report.applied_migrations() {
        tracing::info!(migration = %m, "applied migration");
    }
    Ok(())
}

/// True when the database holds migrations newer than this binary's, after checking that every
/// migration this binary knows is among them unchanged (then there is nothing for it to apply).
/// False when refinery should run as usual (nothing newer, or no schema yet).
async fn newer_schema(client: &tokio_postgres::Client, known: &[refinery::Migration]) -> anyhow::Result<bool> {
    let exists: bool = client
        .query_one(include_str!("sql/migration_history_exists.sql"), &[])
        .await?
        .get(0);
    if !exists {
        return Ok(false);
    }
    let rows = match client.query(include_str!("sql/migration_history.sql"), &[]).await {
        Ok(rows) => rows,
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let applied: Vec<(i32, String, String)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    let ours = known.iter().map(|m| m.version()).max().unwrap_or(0);
    let Some(newest) = applied.iter().map(|(v, _, _)| *v).max().filter(|&v| v > ours) else {
        return Ok(false);
    };
    for m in known {
        match applied.iter().find(|(v, _, _)| *v == m.version()) {
            None => anyhow::bail!(
                "the database has migrations up to V{newest}, newer than this binary's (V{ours}), but lacks this \
                 binary's {m}: migrations must be applied in order"
            ),
            Some((_, name, checksum)) if *name != m.name() || *checksum != m.checksum().to_string() => {
                anyhow::bail!(
                    "applied migration V{}__{name} differs from this binary's {m}",
                    m.version()
                )
            }
            Some(_) => {}
        }
    }
    tracing::info!(
        database = newest,
        binary = ours,
        "the database schema was migrated by a newer release; running against it (migrations are backward compatible)"
    );
    Ok(true)
}

/// True when every migration this binary knows is applied.
pub async fn migrations_applied(db: &Db) -> DbResult<bool> {
    let latest = migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| m.version())
        .max()
        .unwrap_or(0);
    let row = db.query_opt(include_str!("sql/migration_latest.sql"), &[]).await;
    match row {
        Ok(Some(row)) => Ok(row.get::<_, Option<i32>>(0).unwrap_or(0) >= latest),
        Ok(None) => Ok(false),
        Err(e) if !e.is_unavailable() => Ok(false),
        Err(e) => Err(e),
    }
}
