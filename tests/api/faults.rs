//! Faults, with the real binary: several instances on one database, instances killed mid-load,
//! a graceful shutdown under load, and a database outage. After each, every 201 a client received
//! must be in the database exactly once, numbers contiguous per chat, counts right, no job stuck.
//! Failures are bounded, and 201s required: a SIGKILL may fail only the requests in flight at the
//! kill (the load leaves the victim's route first, so they are counted), a SIGTERM none that the
//! server took, and every instance must answer plenty of 201s between faults. `crash.rs` crashes
//! PostgreSQL itself.
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
    settings::Settings,
    store::Db,
};
use serde_json::{json, Value};

use crate::helpers::fresh_database_url;

fn scale() -> usize {
    std::env::var("FAULT_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// A port free on 127.0.0.1 (for an instance to listen on).
pub fn free_port() -> u16 {
    chat_system::cluster::free_port().unwrap()
}

/// Waits until the service at `base` answers `/readyz` with 200; fails the test after `within`.
pub async fn wait_ready(base: &str, within: Duration) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + within;
    while !http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "{base} did not become ready in {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts a PostgreSQL cluster of the test's own under a new temporary directory, with
/// `settings`, and creates `database` on it. Returns the cluster, its directory (to remove when
/// done) and the database's URL.
pub async fn own_cluster(
    database: &str,
    durability: Durability,
    settings: &'static [(&'static str, &'static str)],
) -> (Cluster, std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("chat-system-{database}-{}", uuid::Uuid::new_v4().simple()));
    let cluster = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || Cluster::start_with(&dir, None, durability, settings).unwrap()
    })
    .await
    .unwrap();
    let admin = Db::connect(&cluster.url("postgres"), &Settings::defaults()).unwrap();
    admin
        .client()
        .await
        .unwrap()
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .await
        .unwrap();
    let url = cluster.url(database);
    (cluster, dir, url)
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
        Self::start_on(database_url, free_port()).await
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
        wait_ready(&base, Duration::from_secs(30)).await;
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

    /// Starts the binary on a free port with extra environment variables, its standard output
    /// going to a new file under the temporary directory; returns the instance and the file.
    pub async fn start_logged(database_url: &str, env: &[(&str, &str)]) -> (Instance, std::path::PathBuf) {
        let log = std::env::temp_dir().join(format!("chat-log-{}.txt", uuid::Uuid::new_v4().simple()));
        let file = std::fs::File::create(&log).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let instance = Self::start_with(database_url, port, env, Stdio::from(file)).await;
        (instance, log)
    }

    pub fn signal(&self, signal: i32) {
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
pub struct Ledger {
    /// (chat, number) -> body, for every 201.
    accepted: Mutex<BTreeMap<(i64, i64), String>>,
    sent: AtomicU64,
    failed: AtomicU64,
    /// 201s and failures (errors and non-201 answers) by instance.
    created_by: Mutex<BTreeMap<String, u64>>,
    failed_by: Mutex<BTreeMap<String, u64>>,
}

impl Ledger {
    /// Records a 201 from `base` with its message's number.
    fn created(&self, base: &str, chat: i64, number: i64, body: String) {
        let previous = self.accepted.lock().unwrap().insert((chat, number), body);
        assert!(previous.is_none(), "number {number} of chat {chat} was given twice");
        *self.created_by.lock().unwrap().entry(base.to_owned()).or_default() += 1;
    }

    /// Every 201: (chat, number) -> body.
    pub fn accepted(&self) -> BTreeMap<(i64, i64), String> {
        self.accepted.lock().unwrap().clone()
    }

    fn failure(&self, base: &str) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        *self.failed_by.lock().unwrap().entry(base.to_owned()).or_default() += 1;
    }

    /// 201s answered by `base` so far.
    pub fn created_by(&self, base: &str) -> u64 {
        self.created_by.lock().unwrap().get(base).copied().unwrap_or(0)
    }

    /// Failures of requests sent to `base` so far.
    pub fn failed_by(&self, base: &str) -> u64 {
        self.failed_by.lock().unwrap().get(base).copied().unwrap_or(0)
    }

    /// Waits until `base` has answered `more` 201s beyond `since` (30 s at most).
    pub async fn wait_created(&self, base: &str, since: u64, more: u64, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.created_by(base) < since + more {
            assert!(
                Instant::now() < deadline,
                "{what}: {} of {more} 201s in 30 s",
                self.created_by(base) - since
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Where the load goes: the instances that take new requests, and the requests each instance
/// has in flight. An instance is taken out (`close`) before a fault, so that the requests that
/// can meet the fault are exactly those in flight at that moment.
#[derive(Default)]
pub struct Routes {
    open: Vec<String>,
    in_flight: BTreeMap<String, u64>,
}

impl Routes {
    pub fn new(bases: &[&str]) -> Arc<Mutex<Routes>> {
        Arc::new(Mutex::new(Routes {
            open: bases.iter().map(|b| b.to_string()).collect(),
            in_flight: BTreeMap::new(),
        }))
    }

    /// Takes `base` out of the rotation; returns how many requests it has in flight (an upper
    /// bound from now on: none are added).
    pub fn close(routes: &Mutex<Routes>, base: &str) -> u64 {
        let mut routes = routes.lock().unwrap();
        routes.open.retain(|b| b != base);
        routes.in_flight.get(base).copied().unwrap_or(0)
    }

    /// Puts `base` back into the rotation.
    pub fn open(routes: &Mutex<Routes>, base: &str) {
        routes.lock().unwrap().open.push(base.to_owned());
    }

    /// Picks the instance for a client's `i`-th request and counts it in flight there.
    fn pick(routes: &Mutex<Routes>, c: usize, i: usize) -> String {
        let mut routes = routes.lock().unwrap();
        let base = routes.open[(c + i) % routes.open.len()].clone();
        *routes.in_flight.entry(base.clone()).or_default() += 1;
        base
    }

    fn done(routes: &Mutex<Routes>, base: &str) {
        *routes.lock().unwrap().in_flight.get_mut(base).unwrap() -= 1;
    }
}

/// Posts messages from `clients` tasks round-robin over the open routes until `stop`, into
/// `chats` (chat 1 is the hot one: half of all posts).
pub async fn load(
    routes: Arc<Mutex<Routes>>,
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
    // Bodies are unique across calls too, so that a message stored twice shows.
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let run = run.clone();
            let (http, routes, token, ledger, stop) = (
                http.clone(),
                routes.clone(),
                token.clone(),
                ledger.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let base = Routes::pick(&routes, c, i as usize);
                    let chat = if i.is_multiple_of(2) {
                        1
                    } else {
                        1 + (i as i64 * 7 + c as i64) % chats
                    };
                    let body = format!("run {run} client {c} message {i}");
                    ledger.sent.fetch_add(1, Ordering::Relaxed);
                    let url = format!("{base}/api/applications/{token}/chats/{chat}/messages");
                    let answer = match http.post(url).json(&json!({ "body": body })).send().await {
                        Ok(r) if r.status() == 201 => r.json::<Value>().await.ok(),
                        Ok(r) => {
                            assert!(r.status().is_server_error(), "unexpected {}", r.status());
                            None
                        }
                        Err(_) => None,
                    };
                    Routes::done(&routes, &base);
                    match answer {
                        Some(v) => ledger.created(&base, chat, v["number"].as_i64().unwrap(), body),
                        None => {
                            ledger.failure(&base);
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
pub async fn verify(url: &str, ledger: &Ledger, scenario: &str) {
    let db = Db::connect(url, &Settings::defaults()).unwrap();
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
    let mut bodies = BTreeSet::new();
    for (key, body) in &stored {
        assert!(
            bodies.insert(body),
            "{scenario}: {body:?} stored twice (again as {key:?})"
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
            "SELECT count(*) FROM chats c
               LEFT JOIN (SELECT application_id, chat_number, count(*) n FROM messages GROUP BY 1, 2) m
               ON m.application_id = c.application_id AND m.chat_number = c.number
             WHERE c.messages_count <> coalesce(m.n, 0)",
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
    let routes = Routes::new(&instances.each_ref().map(|i| i.base.as_str()));
    let (ledger, stop) = (Arc::new(Ledger::default()), Arc::new(AtomicBool::new(false)));

    let loader = tokio::spawn(load(routes, token, 20, 24, ledger.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(1500 * scale() as u64)).await;
    stop.store(true, Ordering::Relaxed);
    loader.await.unwrap();

    assert_eq!(ledger.failed.load(Ordering::Relaxed), 0);
    for instance in &instances {
        assert!(
            ledger.created_by(&instance.base) > 0,
            "{} created nothing",
            instance.base
        );
    }
    verify(&url, &ledger, "three instances").await;
}

/// 201s each instance must answer between faults: plenty, not a trickle.
pub fn plenty() -> u64 {
    30 * scale() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_instances_lose_nothing_that_was_acknowledged() {
    let url = fresh_database_url().await;
    let survivor = Instance::start(&url).await;
    let mut victim = Instance::start(&url).await;
    let token = setup(&survivor.base, 10).await;
    let routes = Routes::new(&[&survivor.base, &victim.base]);
    let (ledger, stop) = (Arc::new(Ledger::default()), Arc::new(AtomicBool::new(false)));

    let loader = tokio::spawn(load(routes.clone(), token, 10, 16, ledger.clone(), stop.clone()));
    let mut in_flight_at_kills = 0;
    for round in 0..2 * scale() {
        // Both instances answer plenty of 201s (the victim's restarted incarnation included)
        // before each kill.
        let (victim_from, survivor_from) = (ledger.created_by(&victim.base), ledger.created_by(&survivor.base));
        ledger
            .wait_created(
                &victim.base,
                victim_from,
                plenty(),
                &format!("victim before kill {round}"),
            )
            .await;
        ledger
            .wait_created(
                &survivor.base,
                survivor_from,
                plenty(),
                &format!("survivor before kill {round}"),
            )
            .await;
        // New requests go to the survivor from here: the victim's failures can only be the
        // requests in flight at the kill.
        in_flight_at_kills += Routes::close(&routes, &victim.base);
        victim.crash_and_restart().await;
        Routes::open(&routes, &victim.base);
    }
    let (victim_from, survivor_from) = (ledger.created_by(&victim.base), ledger.created_by(&survivor.base));
    ledger
        .wait_created(&victim.base, victim_from, plenty(), "restarted victim")
        .await;
    ledger
        .wait_created(&survivor.base, survivor_from, plenty(), "survivor after the kills")
        .await;
    stop.store(true, Ordering::Relaxed);
    loader.await.unwrap();

    assert_eq!(ledger.failed_by(&survivor.base), 0, "the survivor failed requests");
    let failed = ledger.failed_by(&victim.base);
    assert!(
        failed <= in_flight_at_kills,
        "{failed} requests failed, but only {in_flight_at_kills} were in flight at the kills"
    );
    println!("SIGKILL mid-load: {failed} failed of {in_flight_at_kills} in flight at the kills");
    verify(&url, &ledger, "SIGKILL mid-load").await;
}

/// A creation sent by hand with `Expect: 100-continue`: the server's `100 Continue` proves that it
/// has taken the request (its handler is reading the body), which no ordinary client shows.
struct Upload {
    stream: tokio::io::BufReader<tokio::net::TcpStream>,
    body: String,
}

/// An HTTP answer: status and body.
type Answer = (u16, Vec<u8>);

impl Upload {
    /// Connects (then calls `connected`) and sends the request's head. `Ok(Err(upload))` once the
    /// server asked for the body; `Ok(Ok(answer))` when it answered without reading it.
    async fn start(
        base: &str,
        path: &str,
        body: String,
        connected: impl FnOnce(),
    ) -> std::io::Result<Result<Answer, Upload>> {
        use tokio::io::AsyncWriteExt;
        let addr = base.trim_start_matches("http://");
        let mut stream = tokio::io::BufReader::new(tokio::net::TcpStream::connect(addr).await?);
        connected();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Expect: 100-continue\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.get_mut().write_all(head.as_bytes()).await?;
        let (status, headers) = read_head(&mut stream).await?;
        if status == 100 {
            return Ok(Err(Upload { stream, body }));
        }
        Ok(Ok((status, read_body(&mut stream, &headers).await?)))
    }

    /// Sends the body and reads the answer.
    async fn finish(mut self) -> std::io::Result<Answer> {
        use tokio::io::AsyncWriteExt;
        self.stream.get_mut().write_all(self.body.as_bytes()).await?;
        let (status, headers) = read_head(&mut self.stream).await?;
        Ok((status, read_body(&mut self.stream, &headers).await?))
    }
}

/// Reads a status line and headers (names lower-cased).
async fn read_head(
    stream: &mut tokio::io::BufReader<tokio::net::TcpStream>,
) -> std::io::Result<(u16, BTreeMap<String, String>)> {
    use tokio::io::AsyncBufReadExt;
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    if stream.read_line(&mut line).await? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "closed before an answer",
        ));
    }
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(&line))?;
    let mut headers = BTreeMap::new();
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Err(bad("closed inside the head"));
        }
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
    }
    Ok((status, headers))
}

/// Reads a body by its `Content-Length`, else to the end (the request said `Connection: close`),
/// decoding chunks.
async fn read_body(
    stream: &mut tokio::io::BufReader<tokio::net::TcpStream>,
    headers: &BTreeMap<String, String>,
) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    if let Some(length) = headers.get("content-length").and_then(|v| v.parse().ok()) {
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await?;
        return Ok(body);
    }
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    if headers.get("transfer-encoding").is_none_or(|v| v != "chunked") {
        return Ok(raw);
    }
    let (mut body, mut rest) = (Vec::new(), &raw[..]);
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..end]).unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let chunk = rest.get(end + 2..end + 2 + size);
        body.extend_from_slice(chunk.ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?);
        rest = rest.get(end + 2 + size + 2..).unwrap_or_default();
    }
    Ok(body)
}

/// Posts messages with `Upload`s from `clients` tasks to the first open route until `stop`.
/// Every request the server took (its `100 Continue` arrived), before or after `signalled` was
/// set, must be answered 201; only one it never took may fail, only by the connection (the
/// listener closed), and only after the signal. Returns how many requests were taken before the
/// signal and answered after it, and how many failed that had connected before the signal (their
/// connection was still waiting in the listener's backlog, or had not been read, when the
/// listener closed; no client can tell them from requests sent after the signal).
async fn load_uploads(
    routes: Arc<Mutex<Routes>>,
    token: String,
    clients: usize,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
    signalled: Arc<AtomicBool>,
) -> (u64, u64) {
    let refused_after_connecting = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let refused_after_connecting = refused_after_connecting.clone();
            let (routes, token, ledger, stop, signalled) = (
                routes.clone(),
                token.clone(),
                ledger.clone(),
                stop.clone(),
                signalled.clone(),
            );
            tokio::spawn(async move {
                let mut in_flight_at_signal = 0u64;
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let base = Routes::pick(&routes, 0, 0);
                    let chat = 1 + (i as i64 + c as i64) % 10;
                    let body = format!("client {c} upload {i}");
                    ledger.sent.fetch_add(1, Ordering::Relaxed);
                    let path = format!("/api/applications/{token}/chats/{chat}/messages");
                    // Some(true): the server took the request (100 Continue) before the signal.
                    let mut taken: Option<bool> = None;
                    let mut connected_before_signal = false;
                    let exchange = async {
                        let connected = || connected_before_signal = !signalled.load(Ordering::SeqCst);
                        match Upload::start(&base, &path, json!({ "body": body }).to_string(), connected).await? {
                            Ok(answer) => Ok(answer),
                            Err(upload) => {
                                taken = Some(!signalled.load(Ordering::SeqCst));
                                upload.finish().await
                            }
                        }
                    };
                    let answer = tokio::time::timeout(Duration::from_secs(15), exchange)
                        .await
                        .unwrap_or(Err(std::io::ErrorKind::TimedOut.into()));
                    Routes::done(&routes, &base);
                    // Taken before the signal, answered after it: in flight at the signal.
                    in_flight_at_signal += u64::from(taken == Some(true) && signalled.load(Ordering::SeqCst));
                    match answer {
                        Ok((201, answer)) => {
                            let v: Value = serde_json::from_slice(&answer).unwrap();
                            ledger.created(&base, chat, v["number"].as_i64().unwrap(), body);
                        }
                        other => {
                            // Only a request the server never took may fail, and only in the
                            // way a closed listener fails it.
                            let other = other.map(|(s, b)| (s, String::from_utf8_lossy(&b).into_owned()));
                            assert!(
                                taken.is_none() && other.is_err(),
                                "{base} took a request (before the signal: {taken:?}) and answered {other:?}"
                            );
                            assert!(
                                signalled.load(Ordering::SeqCst),
                                "{base} failed a request before the signal: {other:?}"
                            );
                            if connected_before_signal {
                                refused_after_connecting.fetch_add(1, Ordering::Relaxed);
                            }
                            ledger.failure(&base);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
                in_flight_at_signal
            })
        })
        .collect();
    let mut in_flight_at_signal = 0;
    for t in tasks {
        in_flight_at_signal += t.await.unwrap();
    }
    (in_flight_at_signal, refused_after_connecting.load(Ordering::Relaxed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_finishes_in_flight_requests_and_exits_promptly() {
    let url = fresh_database_url().await;
    let survivor = Instance::start(&url).await;
    let leaving = Instance::start(&url).await;
    let token = setup(&survivor.base, 10).await;
    let routes = Routes::new(&[&leaving.base]);
    let (ledger, stop) = (Arc::new(Ledger::default()), Arc::new(AtomicBool::new(false)));
    let signalled = Arc::new(AtomicBool::new(false));

    let loader = tokio::spawn(load_uploads(
        routes.clone(),
        token.clone(),
        16,
        ledger.clone(),
        stop.clone(),
        signalled.clone(),
    ));
    ledger
        .wait_created(&leaving.base, 0, plenty(), "before the signal")
        .await;
    // Requests the server has taken and whose bodies are still on their way at the signal: the
    // graceful shutdown must wait for them.
    let path = format!("/api/applications/{token}/chats/1/messages");
    let mut held = Vec::new();
    for n in 0..4 {
        let body = format!("held upload {n}");
        match Upload::start(&leaving.base, &path, json!({ "body": body }).to_string(), || ()).await {
            Ok(Err(upload)) => held.push((body, upload)),
            other => panic!(
                "no 100 Continue: {:?}",
                other.map(|a| a.map(|(s, _)| s).map_err(|_| ()))
            ),
        }
    }
    signalled.store(true, Ordering::SeqCst);
    Routes::close(&routes, &leaving.base);
    Routes::open(&routes, &survivor.base);
    let asked = Instant::now();
    leaving.signal(libc::SIGTERM);
    // Once the listener is closed (or the process gone), the held bodies follow.
    let addr = leaving.base.trim_start_matches("http://").to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&addr).await.is_ok() {
        assert!(Instant::now() < deadline, "the listener stayed open 10 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for (body, upload) in held {
        let (status, answer) = upload
            .finish()
            .await
            .expect("a held upload was dropped by the shutdown");
        assert_eq!(status, 201, "held upload: {}", String::from_utf8_lossy(&answer));
        let v: Value = serde_json::from_slice(&answer).unwrap();
        ledger.created(&leaving.base, 1, v["number"].as_i64().unwrap(), body);
    }
    let leaving_base = leaving.base.clone();
    let status = tokio::task::spawn_blocking(move || {
        let mut leaving = leaving;
        let status = leaving.child.wait().unwrap();
        std::mem::forget(leaving);
        status
    })
    .await
    .unwrap();
    let took = asked.elapsed();
    ledger
        .wait_created(&survivor.base, 0, plenty(), "survivor after the signal")
        .await;
    stop.store(true, Ordering::Relaxed);
    let (in_flight_at_signal, refused_after_connecting) = loader.await.unwrap();

    assert!(status.success(), "exit status {status}");
    assert!(took < Duration::from_secs(10), "took {took:?} to exit");
    assert_eq!(ledger.failed_by(&survivor.base), 0, "the survivor failed requests");
    println!(
        "SIGTERM under load: exited cleanly in {took:?}; 4 held uploads and {in_flight_at_signal} more requests in \
         flight at the signal all answered 201; {} requests refused after it ({refused_after_connecting} of them \
         connected before it but not yet read)",
        ledger.failed_by(&leaving_base)
    );
    verify(&url, &ledger, "SIGTERM under load").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_fails_fast_and_heals_by_itself() {
    let (mut cluster, dir, url) = own_cluster("outage", Durability::Throwaway, &[]).await;
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
    let db = Db::connect(&url, &Settings::defaults()).unwrap();
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
