//! Wiring: connect (or start the private cluster), migrate, start the background tasks, serve
//! until SIGTERM/SIGINT, then shut down in order: stop accepting, finish in-flight requests, let
//! workers finish their batch.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use poem::{
    listener::{Acceptor, Listener, TcpListener},
    Server,
};
use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    api::{self, State},
    cluster::{Cluster, Durability},
    config::Config,
    db::{self, Db},
    intake::{Intake, IntakeConfig},
    live::Hub,
    maintenance,
    queue::{self, Bell, Worker},
};

/// Name of the database the private cluster serves.
const PRIVATE_DATABASE: &str = "chat_system";

/// The database the service uses, and the private cluster behind it when it owns one.
pub struct Database {
    /// The pool.
    pub db: Db,
    /// The private cluster, stopped when dropped.
    pub cluster: Option<Cluster>,
}

/// Connects to `DATABASE_URL`, or starts the private cluster under the data directory.
pub async fn database(config: &Config) -> anyhow::Result<Database> {
    if let Some(url) = &config.database_url {
        return Ok(Database {
            db: Db::connect(url, config)?,
            cluster: None,
        });
    }
    let (data_dir, bin_dir) = (config.data_dir.clone(), config.pg_bin_dir.clone());
    tracing::info!(data_dir = %data_dir.display(), "no DATABASE_URL: starting a private PostgreSQL cluster");
    let cluster = tokio::task::spawn_blocking(move || Cluster::start(&data_dir, bin_dir.as_deref(), Durability::Full))
        .await?
        .context("starting the private PostgreSQL cluster")?;
    let admin = Db::connect(&cluster.url("postgres"), config)?;
    let client = admin.client().await?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&PRIVATE_DATABASE])
        .await?
        .is_some();
    if !exists {
        client
            .batch_execute(&format!("CREATE DATABASE {PRIVATE_DATABASE}"))
            .await?;
    }
    Ok(Database {
        db: Db::connect(&cluster.url(PRIVATE_DATABASE), config)?,
        cluster: Some(cluster),
    })
}

/// Applies the migrations, retrying with backoff for up to `DB_STARTUP_TIMEOUT_SECS` while the
/// database cannot be reached yet (it may start after the service, as in a compose file or after
/// a host reboot). Each failure is logged with its cause, the attempt and the next delay; an
/// error that waiting cannot cure (a refused password or certificate, a failing migration) ends
/// start-up at once. A wait for another instance's migrations is no failure and is not bounded.
pub async fn migrate(db: &Db, config: &Config) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(config.db_startup_timeout_secs);
    let mut delay = Duration::from_millis(250);
    let mut attempt = 1;
    loop {
        let error = match db::migrate(db).await {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if !db::is_transient(&error) || left.is_zero() {
            return Err(error.context(format!("applying migrations (attempt {attempt})")));
        }
        delay = delay.min(left);
        tracing::warn!(
            attempt,
            next_delay_ms = delay.as_millis() as u64,
            error = format!("{error:#}"),
            "database not reachable yet; retrying"
        );
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
        attempt += 1;
    }
}

/// The background tasks of one process, stopped together.
pub struct Background {
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts the listener, the announcer, `workers` queue workers, the purger, the GIN
    /// pending-list cleaner, the job table's vacuum and the reconciler.
    pub fn start(state: &State, config: &Config, workers: usize) -> Self {
        let cancel = CancellationToken::new();
        let db = state.db.clone();
        // The queue workers and their announcer are the write path: the write pool.
        let worker = Worker::new(db.writer(), config.worker_batch_size, config.job_max_attempts);
        let mut tasks = queue::spawn_workers(
            worker,
            workers,
            state.bell.clone(),
            config.worker_poll(),
            config.worker_linger(),
            cancel.clone(),
        );
        // The listener also feeds the live streams, so it runs even without workers.
        tasks.push(tokio::spawn(queue::listen(
            db.clone(),
            state.bell.clone(),
            state.hub.clone(),
            cancel.clone(),
        )));
        tasks.push(tokio::spawn(queue::announcer(
            db.writer(),
            state.bell.clone(),
            cancel.clone(),
        )));
        tasks.push(tokio::spawn(maintenance::run_purger(
            db.clone(),
            state.purge_wake.clone(),
            cancel.clone(),
        )));
        let maintenance_interval = Duration::from_millis(config.maintenance_interval_ms.max(10));
        tasks.push(tokio::spawn(maintenance::run_gin_cleaner(
            db.clone(),
            maintenance_interval,
            config.gin_merge_rows.max(1),
            cancel.clone(),
        )));
        tasks.push(tokio::spawn(maintenance::run_jobs_vacuum(
            db.clone(),
            maintenance_interval,
            cancel.clone(),
        )));
        let interval = Duration::from_secs(config.reconcile_interval_secs.max(1));
        tasks.push(tokio::spawn(maintenance::run_reconciler(db, interval, cancel.clone())));
        Background { cancel, tasks }
    }

    /// Asks every task to stop (workers finish their batch) and waits for them.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// The state handed to the API.
pub fn state(db: Db, config: &Config) -> State {
    let bell = Bell::new(config.live_outbox_lines);
    // Creations take their connections from the write pool, out of the reads' reach.
    let intake = Intake::start(
        db.writer(),
        bell.clone(),
        IntakeConfig {
            max_batch: config.intake_max_batch,
            in_flight: config.intake_in_flight,
            max_queued: config.intake_max_queued,
            deadline: Duration::from_millis(config.request_timeout_ms),
        },
    );
    State {
        db: db.clone(),
        intake,
        operator_key: config.operator_key.clone().filter(|k| !k.is_empty()).map(Arc::from),
        purge_wake: Arc::new(Notify::new()),
        bell,
        hub: Hub::new(
            db.clone(),
            config.max_streams,
            Duration::from_millis(config.stream_keep_alive_ms),
            Duration::from_secs(config.live_refresh_secs),
        ),
        stuck_after: config.job_max_attempts.max(1),
        searches: crate::search::Searches::new(config.search_max_concurrent, config.search_max_concurrent_per_app),
    }
}

/// Runs the service until SIGTERM or SIGINT.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let Database { db, cluster } = database(&config).await?;
    migrate(&db, &config).await?;
    let state = state(db, &config);
    let background = Background::start(&state, &config, config.workers);
    let acceptor = api::slow::SlowClientAcceptor::new(
        TcpListener::bind(config.listen).into_acceptor().await?,
        config.slow_client_limit(),
    );
    for addr in acceptor.local_addr() {
        tracing::info!(%addr, "listening; Swagger UI at /docs");
    }
    Server::new_with_acceptor(acceptor)
        .idle_timeout(Duration::from_secs(config.idle_timeout_secs))
        .run_with_graceful_shutdown(
            api::routes(state.clone(), config.limits(&state.db)),
            {
                // Live streams end at once, so the server's connections can finish.
                let hub = state.hub.clone();
                async move {
                    shutdown_signal().await;
                    hub.close();
                }
            },
            Some(Duration::from_secs(8)),
        )
        .await?;
    tracing::info!("stopped accepting; finishing background work");
    background.shutdown().await;
    if let Some(cluster) = cluster {
        tokio::task::spawn_blocking(move || cluster.stop()).await?;
    }
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutdown signal received");
}

/// Sets up logging: `RUST_LOG` filters (default `info`), text or JSON lines. Whatever it says,
/// tokio-postgres' statement parameters are never logged: at debug level it writes every
/// statement's parameters, application tokens among them.
pub fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        .add_directive("tokio_postgres::query=info".parse().expect("a valid directive"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
