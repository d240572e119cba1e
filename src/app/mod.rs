//! Start-up and shutdown, the same for the binary and the tests: [`Application::build`] connects
//! (or starts the private cluster), migrates, wires the state, starts the background tasks and
//! binds the listener; [`Application::run_until`] serves until told to stop, then shuts down in
//! order: stop accepting, finish in-flight requests, let the workers finish their batch, stop
//! the private cluster.

mod background;
mod database;
mod healthcheck;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use poem::{
    listener::{Acceptor, Listener, TcpAcceptor, TcpListener},
    Server,
};
use tokio::sync::Notify;

pub use background::Background;
pub use database::{database, migrate, Database};
pub use healthcheck::healthcheck;

use crate::{
    cluster::Cluster,
    http::{self, slow::SlowClientAcceptor, Limits, State},
    live::{Announcer, Hub},
    ops::Ops,
    search::Searches,
    settings::Settings,
    store::Db,
    write::{Bell, Intake, IntakeConfig},
};

/// A built service: migrated, its background tasks running, its listener bound.
pub struct Application {
    settings: Settings,
    state: State,
    background: Background,
    acceptor: SlowClientAcceptor<TcpAcceptor>,
    addr: SocketAddr,
    cluster: Option<Cluster>,
}

impl Application {
    /// Everything but serving: the database (retried while it cannot be reached yet), the
    /// migrations, the state, the background tasks and the bound listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let Database { db, cluster } = database(&settings).await?;
        migrate(&db, &settings).await?;
        let state = state(db, &settings);
        let background = Background::start(&state, &settings);
        let acceptor = SlowClientAcceptor::new(
            TcpListener::bind(settings.listen).into_acceptor().await?,
            settings.slow_client_limit(),
        );
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .unwrap_or(settings.listen);
        Ok(Application {
            settings,
            state,
            background,
            acceptor,
            addr,
            cluster,
        })
    }

    /// The address the listener is bound to (the port chosen when `--listen` asked for 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state the handlers share (its pools, for tests and tools).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops in order: live streams end, the server stops
    /// accepting and finishes the requests in flight (8 s at most), the background tasks stop
    /// (workers finish their batch), and the private cluster, if any, stops.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        tracing::info!("listening on http://{0}; Swagger UI at http://{0}/docs", self.addr);
        let hub = self.state.hub.clone();
        let routes = http::routes(self.state.clone(), Limits::new(&self.settings, &self.state.db));
        Server::new_with_acceptor(self.acceptor)
            .idle_timeout(Duration::from_secs(self.settings.idle_timeout_secs))
            .run_with_graceful_shutdown(
                routes,
                async move {
                    shutdown.await;
                    // Live streams end at once, so the server's connections can finish.
                    hub.close();
                },
                Some(Duration::from_secs(8)),
            )
            .await?;
        tracing::info!("stopped accepting; finishing background work");
        self.background.shutdown().await;
        // The pools go before the private cluster, so that no connection sees the server leave.
        self.state.db.close().await;
        if let Some(cluster) = self.cluster {
            tokio::task::spawn_blocking(move || cluster.stop()).await?;
        }
        tracing::info!("stopped cleanly");
        Ok(())
    }
}

/// The state handed to the handlers: the chat operations (over the pools, the intake, the
/// announcer and the search caps), the live hub and what the background tasks share.
pub fn state(db: Db, settings: &Settings) -> State {
    let announcer = Announcer::new(settings.live_outbox_lines);
    let bell = Bell::new(announcer.clone());
    // Creations take their connections from the write pool, out of the reads' reach.
    let intake = Intake::start(
        db.writer(),
        bell.clone(),
        IntakeConfig {
            max_batch: settings.intake_max_batch,
            in_flight: settings.intake_in_flight,
            max_queued: settings.intake_max_queued,
            deadline: Duration::from_millis(settings.request_timeout_ms),
        },
    );
    let purge_wake = Arc::new(Notify::new());
    let searches = Searches::new(settings.search_max_concurrent, settings.search_max_concurrent_per_app);
    State {
        ops: Ops::new(db.clone(), intake, announcer.clone(), searches, purge_wake.clone()),
        db: db.clone(),
        operator_key: settings.operator_key.clone().filter(|k| !k.is_empty()).map(Arc::from),
        purge_wake,
        bell,
        announcer,
        hub: Hub::new(
            db,
            settings.max_streams,
            Duration::from_millis(settings.stream_keep_alive_ms),
            Duration::from_secs(settings.live_refresh_secs),
        ),
        stuck_after: settings.job_max_attempts.max(1),
        webhook_allow_private: settings.webhooks.webhook_allow_private,
    }
}

/// Runs the service until SIGTERM or SIGINT.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    Application::build(settings).await?.run_until(shutdown_signal()).await
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
        .add_directive("tokio_postgres::query=info".parse().expect("a valid directive"))
        // poem's own start-up lines name the address as `socket://…`: the service says it as a URL.
        .add_directive("poem::server=warn".parse().expect("a valid directive"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
