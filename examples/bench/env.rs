//! The benchmark environment: a private PostgreSQL cluster under `bench-data/pg` (kept between
//! runs), databases on it, and the service's release binary started as a child process.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use chat_system::{
    cluster::{Cluster, Durability},
    store::Db,
};

pub struct Env {
    pub cluster: Cluster,
}

impl Env {
    /// Starts (or reuses) the benchmark cluster.
    pub fn start() -> Result<Self> {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/bench-data/pg"));
        // A modest production-like setting: a quarter of this machine's memory would be 6 GB.
        let settings = [
            ("shared_buffers", "2GB"),
            ("effective_cache_size", "12GB"),
            ("max_wal_size", "4GB"),
            // Per-statement figures for `profile` (planning included); cheap when unused.
            ("shared_preload_libraries", "pg_stat_statements"),
            ("pg_stat_statements.track_planning", "on"),
        ];
        let cluster = Cluster::start_with(&dir, None, Durability::Full, &settings)?;
        Ok(Env { cluster })
    }

    /// URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        self.cluster.url(name)
    }

    /// A pool on database `name`.
    pub fn db(&self, name: &str) -> Result<Db> {
        Db::connect(&self.url(name), &crate::target::settings())
    }

    /// Runs SQL on the `postgres` database.
    pub async fn admin(&self, sql: &str) -> Result<()> {
        let db = self.db("postgres")?;
        db.client().await?.batch_execute(sql).await?;
        Ok(())
    }

    /// Drops and creates database `name`, migrated.
    pub async fn fresh_database(&self, name: &str) -> Result<Db> {
        self.admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        self.admin(&format!("CREATE DATABASE {name}")).await?;
        let db = self.db(name)?;
        chat_system::store::migrate(&db).await?;
        Ok(db)
    }

    /// True when database `name` exists.
    pub async fn has_database(&self, name: &str) -> Result<bool> {
        let db = self.db("postgres")?;
        let row = db
            .client()
            .await?
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .await?;
        Ok(row.is_some())
    }
}

/// The service, running from the release binary.
pub struct Service {
    pub child: Child,
    pub base: String,
}

impl Service {
    /// Builds the release binary if needed and starts it on `port` against `database_url`.
    /// `BENCH_SERVICE_BIN` names another binary to measure instead (an earlier release, for a
    /// before/after comparison in one session).
    pub async fn start(database_url: &str, port: u16, env: &[(&str, &str)]) -> Result<Self> {
        Self::start_logged(database_url, port, env, None).await
    }

    /// `start`, with the service's output (its log) written to `log` instead of this process's.
    pub async fn start_logged(database_url: &str, port: u16, env: &[(&str, &str)], log: Option<&Path>) -> Result<Self> {
        let bin = match std::env::var("BENCH_SERVICE_BIN") {
            Ok(bin) => bin,
            Err(_) => {
                let status = Command::new(env!("CARGO"))
                    .args(["build", "--release", "--quiet", "--bin", "chat-system"])
                    .current_dir(env!("CARGO_MANIFEST_DIR"))
                    .status()?;
                if !status.success() {
                    bail!("building the service failed");
                }
                // Where `cargo build` put it: CARGO_TARGET_DIR when set.
                let target = std::env::var("CARGO_TARGET_DIR")
                    .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target").into());
                format!("{target}/release/chat-system")
            }
        };
        let mut cmd = Command::new(bin);
        cmd.env("DATABASE_URL", database_url)
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(log) = log {
            let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
            cmd.env("NO_COLOR", "1").stdout(file.try_clone()?).stderr(file);
        }
        // BENCH_SERVICE_ENV="NAME=value NAME=value": settings to try without editing the benchmark.
        let extra = std::env::var("BENCH_SERVICE_ENV").unwrap_or_default();
        for (k, v) in extra.split_whitespace().filter_map(|kv| kv.split_once('=')) {
            cmd.env(k, v);
        }
        let child = cmd.spawn().context("starting the service")?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            if Instant::now() > deadline {
                bail!("service did not become ready");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Service { child, base })
    }

    /// Peak resident set size of the service, in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
