//! The database facade: the connection pool, migrations, and one module of queries per table
//! family. Every statement is parameterised and prepared once per connection (cached).

mod admin;
mod applications;
mod chats;
pub mod idempotency;
pub mod messages;
mod migrate;
pub mod tls;

use std::time::Duration;

use deadpool_postgres::{
    Hook, HookError, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime, Timeouts,
};
use tokio_postgres::{error::SqlState, Row};

pub use applications::ApplicationPage;
pub use migrate::{migrate, migrations_applied, MIGRATION_LOCK};

use crate::settings::Settings;

/// Which resource a lookup did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// No application has this token.
    Application,
    /// The application has no chat with this number.
    Chat,
    /// The chat has no message with this number.
    Message,
}

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The addressed resource does not exist.
    #[error("{0:?} not found")]
    NotFound(Missing),
    /// No connection could be had from the pool.
    #[error("connection pool: {}", describe_pool(.0))]
    Pool(#[from] PoolError),
    /// A statement failed.
    #[error("postgres: {}", describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// The service is shutting down and no longer accepts writes.
    #[error("shutting down")]
    ShuttingDown,
    /// The creation queue of this process is full: nothing was done; retry shortly.
    #[error("creation queue full")]
    Busy,
    /// The request's deadline passed before its creation was sent: nothing was done.
    #[error("deadline passed before the creation was sent")]
    Expired,
    /// The request's `Idempotency-Key` claim was taken over by a later request with the same
    /// key: this request created nothing.
    #[error("idempotency claim taken over")]
    ClaimLost,
    /// A creation's answer was lost and its outcome could not be learned: it may have committed.
    #[error("outcome of the creation unknown")]
    OutcomeUnknown,
    /// One failure answered to every request of a batch.
    #[error("{0}")]
    Shared(std::sync::Arc<DbError>),
}

impl DbError {
    /// True when the failure is the database being unreachable, overloaded or shutting down:
    /// worth a 503 and a retry, not a bug.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::NotFound(_) | DbError::ClaimLost | DbError::OutcomeUnknown => false,
            DbError::Shared(e) => e.is_unavailable(),
            DbError::Pool(_) | DbError::ShuttingDown | DbError::Busy | DbError::Expired => true,
            DbError::Postgres(e) => match e.code() {
                // No SQLSTATE: the connection failed, or the client refused to send something.
                None => e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
                Some(code) => {
                    [
                        SqlState::QUERY_CANCELED,
                        SqlState::LOCK_NOT_AVAILABLE,
                        SqlState::T_R_DEADLOCK_DETECTED,
                        SqlState::T_R_SERIALIZATION_FAILURE,
                        SqlState::ADMIN_SHUTDOWN,
                        SqlState::CRASH_SHUTDOWN,
                        SqlState::CANNOT_CONNECT_NOW,
                        SqlState::TOO_MANY_CONNECTIONS,
                    ]
                    .contains(code)
                        || code.code().starts_with("08")
                }
            },
        }
    }
}

impl DbError {
    /// True when a statement may have committed although it reported an error: the connection
    /// broke (or the server went away) before the answer arrived. Such an outcome must be
    /// resolved, never guessed (see `intake`).
    pub fn outcome_unknown(&self) -> bool {
        let e = match self {
            DbError::Postgres(e) => e,
            DbError::Shared(e) => return e.outcome_unknown(),
            _ => return false,
        };
        match e.code() {
            None => true,
            Some(code) => {
                code.code().starts_with("08") || [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN].contains(code)
            }
        }
    }
}

/// True when `error` (from connecting or migrating) may go away by itself: the server cannot be
/// reached, is starting up or shutting down, or has no connection slot free. Not a refused
/// password or certificate, a missing database or a failing migration: those need an operator.
pub fn is_transient(error: &anyhow::Error) -> bool {
    if error.chain().any(tls::is_rejected_certificate) {
        return false;
    }
    let Some(e) = error.chain().find_map(|e| e.downcast_ref::<tokio_postgres::Error>()) else {
        return false;
    };
    match e.code() {
        // Refused, reset, timed out, the name not resolved yet: an I/O error, or the connection
        // closed. Other client-side errors (bad configuration, a server without TLS when
        // `sslmode` requires it) do not heal.
        None => e.is_closed() || error.chain().any(|c| c.is::<std::io::Error>()),
        Some(code) => {
            [
                SqlState::CANNOT_CONNECT_NOW,
                SqlState::TOO_MANY_CONNECTIONS,
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
            ]
            .contains(code)
                || code.code().starts_with("08")
        }
    }
}

/// Runs an idempotent statement (`run`) up to `attempts` times while it fails for a transient
/// reason (a broken connection, a timeout): sending it again cannot do anything twice.
pub(crate) async fn retry_idempotent<T, F, Fut>(attempts: u32, mut run: F) -> DbResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = DbResult<T>>,
{
    let mut attempt = 1;
    loop {
        match run().await {
            Err(e) if e.is_unavailable() && attempt < attempts => {
                tracing::debug!(error = %e, attempt, "statement failed for a transient reason; sending it again");
                tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// The server's message and code when there is one (tokio-postgres' Display says only "db error"),
/// otherwise the client's error with its causes ("error connecting to server" alone does not say
/// that the connection was refused): one line that names the real cause, for logs.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            text
        }
    }
}

/// A pool error with its cause (deadpool's Display says "Error occurred while creating a new
/// object: db error" or names no cause at all).
fn describe_pool(e: &PoolError) -> String {
    match e {
        PoolError::Backend(e) => format!("opening a connection: {}", describe(e)),
        PoolError::Timeout(deadpool_postgres::TimeoutType::Wait) => "no connection free in time".into(),
        PoolError::Timeout(deadpool_postgres::TimeoutType::Create) => {
            "opening a connection timed out (the server did not answer)".into()
        }
        PoolError::Timeout(deadpool_postgres::TimeoutType::Recycle) => "checking a connection timed out".into(),
        other => other.to_string(),
    }
}

/// Shorthand for results of this module.
pub type DbResult<T> = Result<T, DbError>;

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
    app_ids: std::sync::Arc<std::sync::RwLock<std::collections::HashMap<uuid::Uuid, i64>>>,
}

impl Db {
    /// Builds the pool for `url`; connections are opened lazily.
    pub fn connect(url: &str, config: &Settings) -> anyhow::Result<Self> {
        let (mut pg_config, tls) = tls::connection(url)?;
        pg_config.application_name("chat-system");
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
        Ok(Db {
            pool: pool(&pg_config, &tls, config.db_pool_size, config)?,
            write: pool(&pg_config, &tls, config.db_write_pool_size, config)?,
            search_timeout_ms: config.search_statement_timeout_ms.max(1),
            pg_config,
            tls,
            app_ids: Default::default(),
        })
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

    /// The queue for `/metrics`: (jobs waiting, oldest job's age in seconds, jobs that failed at
    /// least `stuck_after` times).
    pub async fn queue_stats(&self, stuck_after: i32) -> DbResult<(i64, f64, i64)> {
        let rows = self
            .query(include_str!("../write/sql/queue_stats.sql"), &[&stuck_after])
            .await?;
        Ok(rows
            .first()
            .map_or((0, 0.0, 0), |row| (row.get(0), row.get(1), row.get(2))))
    }

    /// Runs one cached statement and returns its rows.
    async fn query(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> DbResult<Vec<Row>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.query(&stmt, params).await?)
    }

    /// Runs one cached statement and returns its rows (for other modules' statements).
    pub async fn query_all(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> DbResult<Vec<Row>> {
        self.query(sql, params).await
    }

    /// Runs one cached statement that returns at most one row.
    async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> DbResult<Option<Row>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.query_opt(&stmt, params).await?)
    }

    /// Counts one request of application `app` (its id: the table holds no tokens) in the
    /// current minute: (count so far, seconds to the next window).
    pub async fn hit_rate_limit(&self, app: i64) -> DbResult<(i32, i32)> {
        let row = self.query(include_str!("sql/rate_limit_hit.sql"), &[&app]).await?;
        Ok((row[0].get(0), row[0].get(1)))
    }

    /// Deletes finished rate-limit windows.
    pub async fn expire_rate_limits(&self) -> DbResult<()> {
        self.query(include_str!("sql/rate_limit_expire.sql"), &[])
            .await
            .map(drop)
    }

    /// The id of the application with `token` (cached), `None` when there is none.
    pub async fn app_id(&self, token: uuid::Uuid) -> DbResult<Option<i64>> {
        if let Some(id) = self.app_ids.read().unwrap_or_else(|e| e.into_inner()).get(&token) {
            return Ok(Some(*id));
        }
        let row = self
            .query_opt("SELECT id FROM applications WHERE token = $1", &[&token])
            .await?;
        let id = row.map(|r| r.get::<_, i64>(0));
        if let Some(id) = id {
            let mut cache = self.app_ids.write().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= 100_000 {
                cache.clear();
            }
            cache.insert(token, id);
        }
        Ok(id)
    }

    /// Forgets a cached application id (its application is gone).
    pub fn forget_app_id(&self, token: uuid::Uuid) {
        self.app_ids.write().unwrap_or_else(|e| e.into_inner()).remove(&token);
    }

    /// True when the database answers.
    pub async fn ping(&self) -> DbResult<()> {
        self.query("SELECT 1", &[]).await.map(drop)
    }
}

/// A pool of at most `size` connections with `pg_config`'s settings (both pools are built here).
fn pool(
    pg_config: &tokio_postgres::Config,
    tls: &tls::Connector,
    size: usize,
    config: &Settings,
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
    Ok(Pool::builder(manager)
        .max_size(size.max(1))
        .pre_recycle(retire)
        .runtime(Runtime::Tokio1)
        .timeouts(Timeouts {
            wait: Some(timeout),
            create: Some(timeout),
            recycle: Some(timeout),
        })
        .build()?)
}

/// Which of (application, chat) is missing, for a 404 detail; the item itself otherwise.
fn missing(app_exists: bool, chat_exists: bool, item: Missing) -> DbError {
    DbError::NotFound(if !app_exists {
        Missing::Application
    } else if !chat_exists {
        Missing::Chat
    } else {
        item
    })
}
