//! The handle on the database: two connection pools (reads, and the write path's own), the
//! settings every connection gets, and the one way statements are sent.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, RwLock,
    },
    time::Duration,
};

use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime, Timeouts};
use tokio_postgres::{types::ToSql, Row};
use uuid::Uuid;

use super::{tls, DbResult};
use crate::settings::Settings;

/// The database handle handed to requests and background tasks (cheap to clone).
#[derive(Clone)]
pub struct Db {
    /// Connections for reads and everything not on the write path.
    pool: Pool,
    /// Connections for the write path: the intake, idempotency claims, the queue workers and
    /// their announcer. `pool` and `write` are the same pool in a `Db` returned by `writer()`.
    write: Pool,
    /// The time budget of one search in the database, in milliseconds.
    search_timeout_ms: u64,
    pg_config: tokio_postgres::Config,
    /// TLS for connections outside the pool, as `DATABASE_URL`'s `sslmode` asks.
    tls: tls::Connector,
    /// Application ids by token. Both never change and an id is never reused, so an entry can
    /// only go stale by its application being deleted, which the statements using it check.
    pub(super) app_ids: Arc<RwLock<HashMap<Uuid, i64>>>,
    /// Single-message reads waiting to go out together (`reads`).
    pub(super) reads: Arc<super::reads::Reads>,
    /// The dictionary words this process knows are stored (`lexicon`).
    lexicon: super::lexicon::Lexicon,
    /// Whether a plain body's folded text may be left unstored (`releases`).
    pub(super) plain_folded: super::releases::PlainFolded,
    /// Whether the database is a Citus coordinator (found by `migrate`): statements then take
    /// their Citus forms where they have one, and connections let Citus plan per execution.
    citus: Arc<AtomicBool>,
}

impl Db {
    /// Builds the pool for `url`; connections are opened lazily.
    pub fn connect(url: &str, config: &Settings) -> anyhow::Result<Self> {
        let (mut pg_config, tls) = tls::connection(url)?;
        pg_config.application_name(super::releases::APPLICATION_NAME);
        pg_config.connect_timeout(Duration::from_secs(5));
        // Generic plans for every prepared statement: the service's statements have fixed shapes
        // and take arrays or keys as parameters, and PostgreSQL otherwise kept re-planning the
        // group-commit statement on every call (its custom plans looked cheaper): 0.8 ms of
        // planning against 0.55 ms of execution, measured with pg_stat_statements. Searches
        // switch back to custom plans for their own transaction.
        // No sequential scans either: every statement of the service reads or writes a few rows
        // by key, but a generic plan is made once per connection, and one made while a table is
        // small scans it whole for as long as the connection lives. The workers' claim scanned
        // the job table's heap twice per batch (dead rows of thousands of taken jobs included:
        // 2.2 ms a claim under load), and the group commit and the count update scanned every
        // counter and chat row. With this setting they probe the indexes whatever the tables'
        // sizes (a table with no usable index is still scanned). And no JIT compilation: it pays
        // off for queries that run for seconds, none of which are the service's, and the
        // estimate of a plan that must scan despite the setting above is high enough to trigger
        // it (a 220 ms compilation of a read of the tiny purge table, on every call).
        pg_config.options(format!(
            "-c statement_timeout={} -c idle_in_transaction_session_timeout=60000 -c lock_timeout={} \
             -c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c jit=off",
            config.db_statement_timeout_ms, config.db_statement_timeout_ms
        ));
        // Two pools: the write path (creations and the queue workers) has connections of its own,
        // so reads, however many and however slow, can never hold up acknowledging a creation.
        let citus = Arc::new(AtomicBool::new(false));
        Ok(Db {
            pool: pool(&pg_config, &tls, config.db_pool_size, config, &citus)?,
            write: pool(&pg_config, &tls, config.db_write_pool_size, config, &citus)?,
            search_timeout_ms: config.search_statement_timeout_ms.max(1),
            pg_config,
            tls,
            app_ids: Default::default(),
            reads: Default::default(),
            lexicon: Default::default(),
            plain_folded: Default::default(),
            citus,
        })
    }

    /// True on a Citus coordinator (known once `migrate` has run).
    pub fn on_citus(&self) -> bool {
        self.citus.load(Ordering::Relaxed)
    }

    /// Records that the database is a Citus coordinator: connections opened from now on let
    /// Citus plan per execution, and those already open are closed when next returned.
    pub(super) fn found_citus(&self) {
        if !self.citus.swap(true, Ordering::Relaxed) {
            self.pool.retain(|_, _| false);
            self.write.retain(|_, _| false);
        }
    }

    /// The dictionary words this process knows are stored.
    pub fn lexicon(&self) -> &super::lexicon::Lexicon {
        &self.lexicon
    }

    /// The time budget of one search in the database, in milliseconds.
    pub fn search_timeout_ms(&self) -> u64 {
        self.search_timeout_ms
    }

    /// A pooled connection.
    pub async fn client(&self) -> DbResult<Object> {
        Ok(self.pool.get().await?)
    }

    /// This handle on the write pool: every statement and connection of the returned `Db`
    /// comes from the connections reserved for the write path (`DB_WRITE_POOL_SIZE`).
    pub fn writer(&self) -> Db {
        Db {
            pool: self.write.clone(),
            ..self.clone()
        }
    }

    /// The connection settings, for connections outside the pool (the LISTEN connection, the
    /// migration connection).
    pub fn pg_config(&self) -> &tokio_postgres::Config {
        &self.pg_config
    }

    /// The TLS connector for connections outside the pool (same `sslmode` as the pool's).
    pub fn tls(&self) -> tls::Connector {
        self.tls.clone()
    }

    /// Closes both pools: idle connections end cleanly (the server sees a goodbye, not a broken
    /// connection), and nothing can be taken from them any more. For the end of a shutdown.
    pub async fn close(&self) {
        self.pool.close();
        self.write.close();
        // The connections' tasks send their goodbye when next polled.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    /// Pool figures, both pools together: (size, available).
    pub fn pool_status(&self) -> (usize, usize) {
        let (read, write) = (self.pool.status(), self.write.status());
        (read.size + write.size, read.available + write.available)
    }

    /// Runs one statement on a pooled connection and returns its rows: the one way statements
    /// are sent, the store's own (`src/store/sql/`) and the write path's (`src/write/sql/`).
    /// `sql` is one of those files (`include_str!`), never text built from input; it is prepared
    /// once per connection and cached.
    pub async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> DbResult<Vec<Row>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.query(&stmt, params).await?)
    }

    /// `query`, for a statement that returns at most one row.
    pub(super) async fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> DbResult<Option<Row>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.query_opt(&stmt, params).await?)
    }

    /// True when the database answers.
    pub async fn ping(&self) -> DbResult<()> {
        self.query(include_str!("sql/ping.sql"), &[]).await.map(drop)
    }
}

/// A pool of at most `size` connections with `pg_config`'s settings (both pools are built here).
fn pool(
    pg_config: &tokio_postgres::Config,
    tls: &tls::Connector,
    size: usize,
    config: &Settings,
    citus: &Arc<AtomicBool>,
) -> anyhow::Result<Pool> {
    let manager = Manager::from_config(
        pg_config.clone(),
        tls.clone(),
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let timeout = Duration::from_millis(config.db_acquire_timeout_ms);
    // Generic plans are made once per connection, on the table sizes of that moment: old
    // connections are replaced so that plans follow the data as it grows.
    let max_age = Duration::from_secs(config.db_connection_max_age_secs.max(1));
    let retire = Hook::sync_fn(move |_, metrics| {
        if metrics.age() > max_age {
            Err(HookError::message(
                "connection retired: its plans are made again on a new one",
            ))
        } else {
            Ok(())
        }
    });
    // On Citus, generic plans work only for its fast-path statements (one distributed table,
    // equality on `application_id`); any other statement with unknown parameters fails with
    // "could not create distributed plan". With PostgreSQL's default mode Citus makes the
    // generic plan look too costly where it cannot build one, so such statements are planned
    // per execution (on the parameters' values, which route them to one shard) and fast-path
    // statements keep one plan per connection (FINDINGS.md, scale/citus).
    let citus = citus.clone();
    let custom_plans = Hook::async_fn(move |client: &mut deadpool_postgres::ClientWrapper, _| {
        let citus = citus.load(Ordering::Relaxed);
        Box::pin(async move {
            if citus {
                client
                    .batch_execute("SET plan_cache_mode = auto")
                    .await
                    .map_err(|e| HookError::message(format!("setting the plan mode for Citus: {e}")))?;
            }
            Ok(())
        })
    });
    Ok(Pool::builder(manager)
        .max_size(size.max(1))
        .post_create(custom_plans)
        .pre_recycle(retire)
        .runtime(Runtime::Tokio1)
        .timeouts(Timeouts {
            wait: Some(timeout),
            create: Some(timeout),
            recycle: Some(timeout),
        })
        .build()?)
}
