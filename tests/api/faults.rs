//! Faults, with the real binary: several instances on one database, instances killed mid-load,
//! a graceful shutdown under load, and a database outage. After each, every 201 a client received
//! must be in the database exactly once, numbers contiguous per chat, counts right, no job stuck.
//!
//! `FAULT_SCALE=10 cargo test --release --test api faults -- --nocapture --test-threads=1` runs
//! them ten times bigger and prints a summary line per scenario.

use std::{
    collections::{BTreeMap, BTreeSet},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use chat_system::{
    cluster::{Cluster, Durability},
    config::Config,
    db::Db,
};
use serde_json::{json, Value};

use crate::helpers::fresh_database_url;

fn scale() -> usize {
    std::env::var("FAULT_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// One running instance of the service binary.
pub struct Instance {
    child: Child,
    pub base: String,
    url: String,
    port: u16,
}

impl Instance {
    pub async fn start(database_url: &str) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(database_url, port).await
    }

    async fn start_on(database_url: &str, port: u16) -> Instance {
        Self::start_with(database_url, port, &[("RUST_LOG", "error")], Stdio::inherit()).await
    }

    /// Starts the binary with extra environment variables and its standard output going to
    /// `stdout`.
    pub async fn start_with(database_url: &str, port: u16, env: &[(&str, &str)], stdout: Stdio) -> Instance {
        let child = Command::new(env!("CARGO_BIN_EXE_chat-system"))
            .env("DATABASE_URL", database_url)
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("WORKER_POLL_MS", "200")
            .env("DB_ACQUIRE_TIMEOUT_MS", "2000")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(stdout)
            .spawn()
            .expect("start the service binary");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                Instant::now() < deadline,
                "instance on port {port} did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Instance {
            child,
            base,
            url: database_url.to_owned(),
            port,
        }
    }

    /// The process id of the instance.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, signal);
        }
    }

    /// SIGKILL, then start again on the same port.
    async fn crash_and_restart(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
        tokio::time::sleep(Duration::from_millis(200)).await;
        *self = Instance::start_on(&self.url.clone(), self.port).await;
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }
}

/// What the clients were told.
#[derive(Default)]
struct Ledger {
    /// (chat, number) -> body, for every 201.
    accepted: Mutex<BTreeMap<(i64, i64), String>>,
    sent: AtomicU64,
    failed: AtomicU64,
}

/// Posts messages from `clients` tasks round-robin over `bases` until `stop`, into `chats`
/// (chat 1 is the hot one: half of all posts).
async fn load(
    bases: Arc<Mutex<Vec<String>>>,
    token: String,
    chats: i64,
    clients: usize,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (http, bases, token, ledger, stop) =
                (http.clone(), bases.clone(), token.clone(), ledger.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let base = {
                        let bases = bases.lock().unwrap();
                        bases[(c + i as usize) % bases.len()].clone()
                    };
                    let chat = if i % 2 == 0 {
                        1
                    } else {
                        1 + (i as i64 * 7 + c as i64) % chats
                    };
                    let body = format!("client {c} message {i}");
                    ledger.sent.fetch_add(1, Ordering::Relaxed);
                    let url = format!("{base}/api/applications/{token}/chats/{chat}/messages");
                    match http.post(url).json(&json!({ "body": body })).send().await {
                        Ok(r) if r.status() == 201 => {
                            let v: Value = r.json().await.unwrap();
                            let number = v["number"].as_i64().unwrap();
                            let previous = ledger.accepted.lock().unwrap().insert((chat, number), body);
                            assert!(previous.is_none(), "number {number} of chat {chat} was given twice");
                        }
                        Ok(r) => {
                            assert!(r.status().is_server_error(), "unexpected {}", r.status());
                            ledger.failed.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => {
                            ledger.failed.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// Creates an application with `chats` chats through the API of the instance at `base`; returns
/// its token.
pub async fn setup(base: &str, chats: i64) -> String {
    let http = reqwest::Client::new();
    let app: Value = http
        .post(format!("{base}/api/applications"))
        .json(&json!({"name": "faults"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = app["token"].as_str().unwrap().to_owned();
    for _ in 0..chats {
        assert_eq!(
            http.post(format!("{base}/api/applications/{token}/chats"))
                .send()
                .await
                .unwrap()
                .status(),
            201
        );
    }
    token
}

/// Waits for the queue to drain, then checks the ledger against the database.
async fn verify(url: &str, ledger: &Ledger, scenario: &str) {
    let db = Db::connect(url, &Config::defaults()).unwrap();
    let client = db.client().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let jobs: i64 = client.query_one("SELECT count(*) FROM jobs", &[]).await.unwrap().get(0);
        if jobs == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{scenario}: {jobs} jobs still queued after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rows = client
        .query("SELECT chat_number, number, body FROM messages", &[])
        .await
        .unwrap();
    let stored: BTreeMap<(i64, i64), String> = rows.iter().map(|r| ((r.get(0), r.get(1)), r.get(2))).collect();
    let accepted = ledger.accepted.lock().unwrap().clone();
    for (key, body) in &accepted {
        assert_eq!(
            stored.get(key),
            Some(body),
            "{scenario}: 201 for {key:?} but not stored as sent"
        );
    }
    // Requests cut off by a crash may have committed without their 201 reaching the client;
    // they are stored once, like every other, and fill their chat's numbers without gaps.
    let mut per_chat: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for (chat, number) in stored.keys() {
        per_chat.entry(*chat).or_default().insert(*number);
    }
    for (chat, numbers) in &per_chat {
        let max = *numbers.iter().max().unwrap();
        assert_eq!(numbers.len() as i64, max, "{scenario}: chat {chat} has gaps");
    }
    let wrong: i64 = client
        .query_one(
            "SELECT count(*) FROM chats c LEFT JOIN (SELECT chat_number, count(*) n FROM messages GROUP BY 1) m
               ON m.chat_number = c.number WHERE c.messages_count <> coalesce(m.n, 0)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(wrong, 0, "{scenario}: counts do not match the rows");
    let dead: i64 = client
        .query_one("SELECT count(*) FROM dead_jobs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(dead, 0, "{scenario}: jobs were set aside");
    println!(
        "{scenario}: {} requests sent, {} answered 201 and verified, {} failed or cut off, {} rows stored",
        ledger.sent.load(Ordering::Relaxed),
        accepted.len(),
        ledger.failed.load(Ordering::Relaxed),
        stored.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_share_one_database() {
    let url = fresh_database_url().await;
    let instances = [
        Instance::start(&url).await,
        Instance::start(&url).await,
        Instance::start(&url).await,
    ];
    let token = setup(&instances[0].base, 20).await;
    let bases = Arc::new(Mutex::new(instances.iter().map(|i| i.base.clone()).collect()));
    let (ledger, stop) = (Arc::new(Ledger::default()), Arc::new(AtomicBool::new(false)));

    let loader = tokio::spawn(load(bases, token, 20, 24, ledger.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(1500 * scale() as u64)).await;
    stop.store(true, Ordering::Relaxed);
    loader.await.unwrap();

    assert_eq!(ledger.failed.load(Ordering::Relaxed), 0);
    verify(&url, &ledger, "three instances").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_instances_lose_nothing_that_was_acknowledged() {
    let url = fresh_database_url().await;
    let survivor = Instance::start(&url).await;
    let mut victim = Instance::start(&url).await;
    let token = setup(&survivor.base, 10).await;
    let bases = Arc::new(Mutex::new(vec![survivor.base.clone(), victim.base.clone()]));
    let (ledger, stop) = (Arc::new(Ledger::default()), Arc::new(AtomicBool::new(false)));

    let loader = tokio::spawn(load(bases, token, 10, 16, ledger.clone(), stop.clone()));
    for _ in 0..2 * scale() {
        tokio::time::sleep(Duration::from_millis(400)).await;
        victim.crash_and_restart().await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    loader.await.unwrap();

    verify(&url, &ledger, "SIGKILL mid-load").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_finishes_in_flight_requests_and_exits_promptly() {
    let url = fresh_database_url().await;
    let survivor = Instance::start(&url).await;
    let mut leaving = Instance::start(&url).await;
    let token = setup(&survivor.base, 10).await;
    let bases = Arc::new(Mutex::new(vec![leaving.base.clone()]));
    let (ledger, stop) = (Arc::new(Ledger::default()), Arc::new(AtomicBool::new(false)));

    let loader = tokio::spawn(load(bases.clone(), token, 10, 16, ledger.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(500 * scale() as u64)).await;
    let asked = Instant::now();
    leaving.signal(libc::SIGTERM);
    let status = tokio::task::spawn_blocking(move || {
        let status = leaving.child.wait().unwrap();
        std::mem::forget(leaving);
        status
    })
    .await
    .unwrap();
    let took = asked.elapsed();
    *bases.lock().unwrap() = vec![survivor.base.clone()];
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    loader.await.unwrap();

    assert!(status.success(), "exit status {status}");
    assert!(took < Duration::from_secs(10), "took {took:?} to exit");
    verify(&url, &ledger, "SIGTERM under load").await;
    println!("SIGTERM under load: exited cleanly in {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_fails_fast_and_heals_by_itself() {
    let dir = std::env::temp_dir().join(format!("chat-system-outage-{}", uuid::Uuid::new_v4().simple()));
    let mut cluster = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || Cluster::start(&dir, None, Durability::Throwaway).unwrap()
    })
    .await
    .unwrap();
    let admin = Db::connect(&cluster.url("postgres"), &Config::defaults()).unwrap();
    admin
        .client()
        .await
        .unwrap()
        .batch_execute("CREATE DATABASE outage")
        .await
        .unwrap();
    drop(admin);
    let url = cluster.url("outage");
    let instance = Instance::start(&url).await;
    let token = setup(&instance.base, 3).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let post = |body: &'static str| {
        let (http, base, token) = (http.clone(), instance.base.clone(), token.clone());
        async move {
            let started = Instant::now();
            let r = http
                .post(format!("{base}/api/applications/{token}/chats/1/messages"))
                .json(&json!({ "body": body }))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let kind = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
            (status, kind, started.elapsed())
        }
    };
    assert_eq!(post("before").await.0, 201);

    cluster = tokio::task::spawn_blocking(move || {
        cluster.pause();
        cluster
    })
    .await
    .unwrap();
    let mut during = Vec::new();
    for _ in 0..3 {
        during.push(post("during").await);
    }
    cluster = tokio::task::spawn_blocking(move || {
        cluster.resume().unwrap();
        cluster
    })
    .await
    .unwrap();
    let healed = Instant::now();
    let mut after = post("after").await;
    while after.0 != 201 && healed.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = post("after").await;
    }

    for (status, kind, took) in &during {
        assert_eq!(*status, 503, "during the outage");
        assert_eq!(kind.as_deref(), Some("application/problem+json"));
        assert!(
            *took < Duration::from_secs(5),
            "a request during the outage took {took:?}"
        );
    }
    assert_eq!(after.0, 201, "the service did not recover by itself");
    let db = Db::connect(&url, &Config::defaults()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let written: i64 = db
            .client()
            .await
            .unwrap()
            .query_one("SELECT count(*) FROM messages", &[])
            .await
            .unwrap()
            .get(0);
        if written == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "workers did not resume after the outage");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "database outage: {} requests during the outage answered 503 in at most {:?}; recovered {:?} after the restart",
        during.len(),
        during.iter().map(|d| d.2).max().unwrap(),
        healed.elapsed()
    );
    drop(instance);
    tokio::task::spawn_blocking(move || cluster.stop()).await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
