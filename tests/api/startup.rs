//! Start-up, with the real binary: a database that comes up after the service, one that never
//! does, a migration lock held by someone else for longer than the service's statement and lock
//! timeouts, and instances started together on an empty database. Asserts what an operator sees:
//! the instance becomes ready, or exits with an error that names the cause.

use std::{
    fs::File,
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use chat_system::{
    cluster::{Cluster, Durability},
    settings::Settings,
    store::{Db, MIGRATION_LOCK},
};

use crate::helpers::{empty_database_url, fresh_database_url};

/// A TCP port on 127.0.0.1 that nothing listens on (now).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// One run of the service binary, its standard output and error kept in files.
pub struct Process {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    dir: PathBuf,
}

impl Process {
    /// Starts the binary on `database_url` with extra environment variables; does not wait.
    pub fn spawn(database_url: &str, env: &[(&str, &str)]) -> Process {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("chat-system-process-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_chat-system"))
            .env("DATABASE_URL", database_url)
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .env("RUST_BACKTRACE", "0")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(File::create(dir.join("stdout")).unwrap())
            .stderr(File::create(dir.join("stderr")).unwrap())
            .spawn()
            .expect("start the service binary");
        Process {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    /// Waits until `/readyz` answers 200; panics with the process' output if it exits first or
    /// `limit` passes.
    pub async fn wait_ready(&mut self, limit: Duration) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(r) = http.get(format!("{}/readyz", self.base)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the instance exited ({status}) instead of becoming ready:\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the instance did not become ready in {limit:?}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for the process to exit; panics with its output if it still runs after `limit`.
    pub async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the instance still runs after {limit:?}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// True while the process runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// What it printed on standard error (the error `main` returns).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
    }

    /// What it logged (standard output).
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.join("stdout")).unwrap_or_default()
    }

    fn output(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout(), self.stderr())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Creates an empty database (no migration applied) named `<prefix>_<random>` through
/// `admin_url`, a database URL of the same server; returns its name.
pub async fn create_database(admin_url: &str, prefix: &str) -> String {
    let admin = Db::connect(admin_url, &Settings::defaults()).unwrap();
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let client = admin.client().await.unwrap();
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    name
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_started_before_its_database_waits_for_it() {
    let dir = std::env::temp_dir().join(format!("chat-system-late-{}", uuid::Uuid::new_v4().simple()));
    let mut cluster = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || Cluster::start(&dir, None, Durability::Throwaway).unwrap()
    })
    .await
    .unwrap();
    let database = create_database(&cluster.url("postgres"), "late").await;
    cluster = tokio::task::spawn_blocking(move || {
        cluster.pause();
        cluster
    })
    .await
    .unwrap();

    // Nothing listens on the database's port while the instance starts.
    let mut instance = Process::spawn(&cluster.url(&database), &[]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(instance.running(), "gave up at once:\n{}", instance.stderr());
    cluster = tokio::task::spawn_blocking(move || {
        cluster.resume().unwrap();
        cluster
    })
    .await
    .unwrap();
    instance.wait_ready(Duration::from_secs(60)).await;

    let log = instance.stdout();
    assert!(
        log.contains("database not reachable yet") && log.contains("Connection refused") && log.contains("attempt"),
        "each failed attempt is logged with its cause:\n{log}"
    );
    drop(instance);
    tokio::task::spawn_blocking(move || cluster.stop()).await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn without_a_database_start_up_gives_up_after_its_timeout_and_names_the_cause() {
    let port = free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/nothing");

    let mut instance = Process::spawn(&url, &[("DB_STARTUP_TIMEOUT_SECS", "2")]);
    let status = instance.wait_exit(Duration::from_secs(30)).await;

    assert!(!status.success(), "exit status {status}");
    let (stderr, log) = (instance.stderr(), instance.stdout());
    assert!(stderr.contains("applying migrations"), "{stderr}");
    assert!(
        stderr.contains("Connection refused"),
        "the error names its cause:\n{stderr}"
    );
    assert!(
        log.matches("database not reachable yet").count() >= 2,
        "it retried before giving up:\n{log}"
    );
}

#[tokio::test]
async fn an_error_waiting_cannot_cure_ends_start_up_at_once_with_the_servers_words() {
    let url = fresh_database_url().await;
    let (server, _) = url.rsplit_once('/').unwrap();

    let mut instance = Process::spawn(&format!("{server}/no_such_database"), &[]);
    let status = instance.wait_exit(Duration::from_secs(30)).await;

    assert!(!status.success(), "exit status {status}");
    let stderr = instance.stderr();
    assert!(
        stderr.contains(r#"database "no_such_database" does not exist"#),
        "{stderr}"
    );
    assert!(!instance.stdout().contains("retrying"), "{}", instance.stdout());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_started_together_on_an_empty_database_all_come_up() {
    let url = empty_database_url().await;

    let mut instances: Vec<Process> = (0..3).map(|_| Process::spawn(&url, &[])).collect();
    for instance in &mut instances {
        instance.wait_ready(Duration::from_secs(120)).await;
    }

    let http = reqwest::Client::new();
    for instance in &instances {
        let r = http
            .post(format!("{}/api/applications", instance.base))
            .json(&serde_json::json!({"name": "together"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_waits_for_the_migration_lock_longer_than_its_timeouts() {
    let url = fresh_database_url().await;
    let holder = Db::connect(&url, &Settings::defaults()).unwrap();
    let holder = holder.client().await.unwrap();
    holder
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .unwrap();

    // Held past the service's 15 s statement and lock timeouts and past its start-up timeout.
    let mut instance = Process::spawn(&url, &[("DB_STARTUP_TIMEOUT_SECS", "5")]);
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(instance.running(), "gave up waiting:\n{}", instance.stderr());
    assert!(
        instance.stdout().contains("another instance is applying migrations"),
        "{}",
        instance.stdout()
    );
    holder
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .unwrap();

    instance.wait_ready(Duration::from_secs(60)).await;
}

#[tokio::test]
async fn a_pool_error_names_its_cause() {
    let port = free_port();
    let db = Db::connect(
        &format!("postgres://postgres@127.0.0.1:{port}/nothing"),
        &Settings::defaults(),
    )
    .unwrap();

    let Err(error) = db.client().await else {
        panic!("connected to a port where nothing listens")
    };

    // What the service logs (`error = %e`) for a request or a background task.
    let logged = error.to_string();
    assert!(logged.contains("Connection refused"), "{logged}");
    assert!(!logged.contains("creating a new object"), "{logged}");
}
