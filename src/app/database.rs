//! The database the service runs on: `DATABASE_URL`, or a private cluster it starts and owns;
//! and the migrations, retried while the database cannot be reached yet.

use std::time::{Duration, Instant};

use anyhow::Context;

use crate::{
    cluster::{Cluster, Durability},
    settings::Settings,
    store::{self, Db},
};

/// Name of the database the private cluster serves.
const PRIVATE_DATABASE: &str = "chat_system";

/// The database the service uses, and the private cluster behind it when it owns one.
pub struct Database {
    /// The pools.
    pub db: Db,
    /// The private cluster, stopped when dropped.
    pub cluster: Option<Cluster>,
}

/// Connects to `DATABASE_URL`, or starts the private cluster under the data directory.
pub async fn database(settings: &Settings) -> anyhow::Result<Database> {
    if let Some(url) = &settings.database_url {
        return Ok(Database {
            db: Db::connect(url, settings)?,
            cluster: None,
        });
    }
    let (data_dir, bin_dir) = (settings.data_dir.clone(), settings.pg_bin_dir.clone());
    tracing::info!(data_dir = %data_dir.display(), "no DATABASE_URL: starting a private PostgreSQL cluster");
    let cluster = tokio::task::spawn_blocking(move || Cluster::start(&data_dir, bin_dir.as_deref(), Durability::Full))
        .await?
        .context("starting the private PostgreSQL cluster")?;
    let admin = Db::connect(&cluster.url("postgres"), settings)?;
    admin.create_database_if_missing(PRIVATE_DATABASE).await?;
    Ok(Database {
        db: Db::connect(&cluster.url(PRIVATE_DATABASE), settings)?,
        cluster: Some(cluster),
    })
}

/// Applies the migrations, retrying with backoff for up to `DB_STARTUP_TIMEOUT_SECS` while the
/// database cannot be reached yet (it may start after the service, as in a compose file or after
/// a host reboot). Each failure is logged with its cause, the attempt and the next delay; an
/// error that waiting cannot cure (a refused password or certificate, a failing migration) ends
/// start-up at once. A wait for another instance's migrations is no failure and is not bounded.
pub async fn migrate(db: &Db, settings: &Settings) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(settings.db_startup_timeout_secs);
    let mut delay = Duration::from_millis(250);
    let mut attempt = 1;
    loop {
        let error = match store::migrate(db).await {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if !store::is_transient(&error) || left.is_zero() {
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
