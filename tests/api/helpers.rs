//! The test harness: one throwaway PostgreSQL cluster per test binary (or `DATABASE_URL`), a
//! migrated template database copied for every test (on a Citus coordinator: a distributed
//! database from a pool, see `citus`), and a real server on a random port.

mod citus;

use std::{
    path::PathBuf,
    sync::OnceLock,
    time::{Duration, Instant},
};

use chat_system::{
    app::Application,
    cluster::{Cluster, Durability},
    settings::Settings,
    store::{self, Db},
    write::Worker,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const OPERATOR_KEY: &str = "test-operator-key";
const TEMPLATE: &str = "chat_template";

struct TestCluster {
    /// URL of a database on the server, with `{db}` where the database name goes.
    url_pattern: String,
    databases: Databases,
    _cluster: Option<Cluster>,
}

/// Where each test's database comes from.
enum Databases {
    /// A copy of the migrated template (PostgreSQL).
    Template,
    /// Lent from a pool of migrated, distributed databases (`DATABASE_URL` is a Citus
    /// coordinator's database).
    Citus(citus::Pool),
}

fn cluster() -> &'static TestCluster {
    static CLUSTER: OnceLock<TestCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            chat_system::app::init_tracing(false);
        } else {
            // Warnings and errors of the servers a test runs go to the test's captured output,
            // printed when it fails: a 500 in CI comes with the error it logged.
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
                .with_test_writer()
                .try_init();
        }
        // Set up on a thread of its own: the tests' runtimes cannot block.
        std::thread::spawn(|| {
            let given = std::env::var("DATABASE_URL").ok();
            let (url_pattern, cluster) = match &given {
                Some(url) => {
                    let mut parts: Vec<&str> = url.rsplitn(2, '/').collect();
                    parts.reverse();
                    (format!("{}/{{db}}", parts[0]), None)
                }
                None => {
                    let dir = fresh_data_dir();
                    let cluster = Cluster::start(&dir, None, Durability::Throwaway).expect("start test cluster");
                    (cluster.url("{db}"), Some(cluster))
                }
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let databases = runtime.block_on(async {
                if let Some(url) = &given {
                    if citus::is_citus(url).await {
                        return Databases::Citus(citus::Pool::new(url).await);
                    }
                }
                let admin = connect(&url_pattern.replace("{db}", "postgres"));
                let client = admin.client().await.expect("connect to test cluster");
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
                    .await
                    .unwrap();
                client
                    .batch_execute(&format!("CREATE DATABASE {TEMPLATE}"))
                    .await
                    .unwrap();
                let template = connect(&url_pattern.replace("{db}", TEMPLATE));
                store::migrate(&template).await.expect("migrate template");
                Databases::Template
            });
            TestCluster {
                url_pattern,
                databases,
                _cluster: cluster,
            }
        })
        .join()
        .expect("test cluster setup")
    })
}

/// A data directory for this test process; those of finished processes are removed.
fn fresh_data_dir() -> PathBuf {
    let root = std::env::temp_dir().join("chat-system-tests");
    if let Ok(entries) = std::fs::read_dir(&root) {
        for entry in entries.flatten() {
            let pid = entry.file_name().to_string_lossy().parse::<u32>().unwrap_or(0);
            if !PathBuf::from(format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = root.join(std::process::id().to_string());
    remove_when_this_process_ends(&dir);
    dir
}

/// Removes `dir` once this test process has ended, however it ends (a cluster's data is ~1 GB by
/// the end of a run): a watcher in a session of its own (a Ctrl-C of the run does not reach it)
/// waits for this process to go, gives the cluster, which dies with its parent, a moment to
/// stop, and removes the directory.
fn remove_when_this_process_ends(dir: &std::path::Path) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; sleep 2; rm -rf '{dir}'",
        pid = std::process::id(),
        dir = dir.display()
    );
    let spawned = std::process::Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!(
            "cannot watch {} for removal at the end ({e}); the next run removes it",
            dir.display()
        );
    }
}

fn connect(url: &str) -> Db {
    Db::connect(url, &test_config()).expect("pool")
}

pub fn test_config() -> Settings {
    let mut config = Settings::defaults();
    config.database_url = None;
    config.operator_key = Some(OPERATOR_KEY.into());
    config.db_pool_size = 24;
    config.worker_poll_ms = 200;
    config
}

/// A fresh migrated database of its own on the test cluster; returns its URL.
pub async fn fresh_database_url() -> String {
    let cluster = cluster();
    if let Databases::Citus(pool) = &cluster.databases {
        return pool.lease().await;
    }
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = connect(&cluster.url_pattern.replace("{db}", "postgres"));
    let client = admin.client().await.unwrap();
    create_database(&client, &name).await;
    cluster.url_pattern.replace("{db}", &name)
}

/// A new database of its own without the migrations (for a service's first start); returns
/// its URL. On Citus it is ready to be distributed: the extension on every node, the nodes
/// registered.
pub async fn empty_database_url() -> String {
    let cluster = cluster();
    if let Databases::Citus(pool) = &cluster.databases {
        return pool.unmigrated().await;
    }
    let name = format!("empty_{}", uuid::Uuid::new_v4().simple());
    let admin = connect(&cluster.url_pattern.replace("{db}", "postgres"));
    let client = admin.client().await.unwrap();
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    cluster.url_pattern.replace("{db}", &name)
}

/// True when the tests run on a Citus cluster.
pub fn on_citus() -> bool {
    matches!(cluster().databases, Databases::Citus(_))
}

/// The statement counting the sessions whose `application_name` is LIKE `$1` that wait on a
/// lock in this database. On Citus a statement waits on the node that holds the row, in a
/// session of Citus' own that carries the statement's global id (its session on the
/// coordinator waits for that node's answer): every node's sessions are read.
pub fn lock_waits_sql() -> &'static str {
    if on_citus() {
        "SELECT count(DISTINCT w.global_pid) FROM citus_stat_activity w
           JOIN citus_stat_activity s ON s.global_pid = w.global_pid AND NOT s.is_worker_query
          WHERE w.wait_event_type = 'Lock' AND s.datname = current_database() AND s.application_name LIKE $1"
    } else {
        "SELECT count(*) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE $1 AND wait_event_type = 'Lock'"
    }
}

/// One test's service: its own database, a server on a random port, workers optional.
pub struct TestApp {
    pub base: String,
    /// The database URL.
    pub url: String,
    pub http: reqwest::Client,
    pub db: Db,
    pub worker: Worker,
}

impl TestApp {
    /// A service with its workers running.
    pub async fn spawn() -> Self {
        Self::spawn_with(test_config(), true).await
    }

    /// A service whose workers are paused: jobs stay queued until `drain` runs them.
    pub async fn spawn_paused() -> Self {
        Self::spawn_with(test_config(), false).await
    }

    pub async fn spawn_with(config: Settings, workers: bool) -> Self {
        Self::spawn_on(&fresh_database_url().await, config, workers).await
    }

    /// A service on an existing database (for several instances on one database): the real
    /// application, built as the binary builds it (`Application::build`) and served until the
    /// test's runtime ends.
    pub async fn spawn_on(url: &str, mut config: Settings, workers: bool) -> Self {
        config.database_url = Some(url.to_owned());
        config.listen = "127.0.0.1:0".parse().unwrap();
        if !workers {
            config.workers = 0;
        }
        let app = Application::build(config.clone())
            .await
            .expect("the application starts");
        let (addr, db) = (app.local_addr(), app.state().db.clone());
        tokio::spawn(app.run_until(std::future::pending()));
        let worker = Worker::new(db.clone(), config.worker_batch_size, config.job_max_attempts);
        TestApp {
            base: format!("http://{addr}"),
            url: url.to_owned(),
            http: reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap(),
            db,
            worker,
        }
    }

    /// Runs worker batches until the queue has nothing ready.
    pub async fn drain(&self) {
        while self.worker.run_batch().await.unwrap().claimed > 0 {}
    }

    /// Sends a request; returns the status, the content type and the body as JSON (Null if none).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        Response::from(req.send().await.expect("request")).await
    }

    pub async fn raw(&self, req: reqwest::RequestBuilder) -> Response {
        Response::from(req.send().await.expect("request")).await
    }

    /// The body of `GET path` as text (for `/metrics`, `/openapi.json`).
    pub async fn text(&self, path: &str) -> String {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        response.text().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates an application; returns its token.
    pub async fn create_app(&self, name: &str) -> String {
        let r = self.post("/api/applications", json!({ "name": name })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }

    /// Creates a chat; returns its number.
    pub async fn create_chat(&self, token: &str) -> i64 {
        let r = self
            .call(Method::POST, &format!("/api/applications/{token}/chats"), None)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body["number"].as_i64().unwrap()
    }

    /// Creates a message; returns its number.
    pub async fn create_message(&self, token: &str, chat: i64, body: &str) -> i64 {
        let r = self
            .post(
                &format!("/api/applications/{token}/chats/{chat}/messages"),
                json!({ "body": body }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body["number"].as_i64().unwrap()
    }

    /// Polls `check` until it holds or 5 seconds pass.
    pub async fn eventually<F, Fut>(&self, what: &str, check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        self.eventually_within(what, Duration::from_secs(5), check).await
    }

    /// Polls `check` until it holds or `within` passes.
    pub async fn eventually_within<F, Fut>(&self, what: &str, within: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + within;
        while !check().await {
            assert!(Instant::now() < deadline, "timed out waiting for: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The database id of the application with `token` (for checks of what is stored: on
    /// Citus a statement names the application to reach its shard).
    pub async fn app_id(&self, token: &str) -> i64 {
        self.count(&format!("SELECT id FROM applications WHERE token = '{token}'"))
            .await
    }

    /// How many sessions whose `application_name` is LIKE `name` wait on a lock.
    pub async fn lock_waits(&self, name: &str) -> i64 {
        let client = self.db.client().await.unwrap();
        client.query_one(lock_waits_sql(), &[&name]).await.unwrap().get(0)
    }

    /// A single number from SQL, for checks of what is stored.
    pub async fn count(&self, sql: &str) -> i64 {
        let client = self.db.client().await.unwrap();
        client.query_one(sql, &[]).await.unwrap().get(0)
    }

    /// Sets every application's stored chat count to `set` (SQL over `chats_count`), behind the
    /// service's back: a drift for the reconciler. The count is a column of `applications`; on
    /// Citus, of `app_counters` (V21).
    pub async fn drift_chat_counts(&self, set: &str) {
        let sql = match self.db.on_citus() {
            false => format!("UPDATE applications SET chats_count = {set}"),
            true => format!("UPDATE app_counters SET chats_count = {set} WHERE application_id > 0"),
        };
        self.db.client().await.unwrap().execute(&sql, &[]).await.unwrap();
    }
}

async fn create_database(client: &tokio_postgres::Client, name: &str) {
    // Copies from one template can collide on its lock; retry briefly.
    for attempt in 0.. {
        match client
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
            .await
        {
            Ok(()) => return,
            Err(e) if attempt < 50 => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("create test database: {e}"),
        }
    }
}

/// What a test observes of a response.
pub struct Response {
    pub status: StatusCode,
    pub content_type: String,
    pub location: Option<String>,
    pub body: Value,
}

impl Response {
    async fn from(resp: reqwest::Response) -> Self {
        let status = resp.status();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type").unwrap_or_default();
        let location = header("location");
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            status,
            content_type,
            location,
            body,
        }
    }

    /// Asserts this is a problem+json error with `status` and `code`.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.content_type, "application/problem+json", "body: {}", self.body);
        assert_eq!(self.body["status"], status, "body: {}", self.body);
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert!(self.body["type"].is_string() && self.body["title"].is_string() && self.body["detail"].is_string());
    }

    /// The numbers of the items of a list response.
    pub fn numbers(&self) -> Vec<i64> {
        self.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["number"].as_i64().unwrap())
            .collect()
    }
}
