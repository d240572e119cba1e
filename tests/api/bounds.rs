//! No request can hurt the others: a search's memory is bounded by its page whatever its
//! parameters; searches running at once are capped per process and per application and have a
//! time budget; and creations have database connections that no read can take.

use std::time::{Duration, Instant};

use chat_system::store::Db;
use serde_json::json;

use crate::{
    faults::Instance,
    helpers::{fresh_database_url, lock_waits_sql, test_config, Response, TestApp},
};

/// A search's URL in `token`'s chat 1.
fn search(token: &str, params: &str) -> String {
    format!("/api/applications/{token}/chats/1/messages?{params}")
}

#[tokio::test]
async fn search_pages_past_the_first_1000_hits_are_refused_with_a_pointer_to_the_cursor() {
    let app = TestApp::spawn().await;
    let token = app.create_app("deep").await;
    let chat = app.create_chat(&token).await;
    for i in 0..3 {
        app.create_message(&token, chat, &format!("needle {i}")).await;
    }

    for params in [
        "query=needle&page=999999&limit=100",
        "query=needle&page=11&limit=100",
        "query=needle&page=101",
        "query=needle&order=relevance&page=11&limit=100",
    ] {
        let r = app.get(&search(&token, params)).await;
        r.assert_problem(400, "invalid_parameter");
        assert_eq!(r.body["field"], "page", "{params}");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("1000") && detail.contains("`before`"),
            "{params}: {detail}"
        );
    }
    // The last page that starts within the first 1,000 hits is served (empty here), and the
    // cursor reaches anything.
    let last = app.get(&search(&token, "query=needle&page=10&limit=100")).await;
    assert_eq!(last.status, 200, "{}", last.body);
    assert_eq!(last.numbers(), Vec::<i64>::new());
    let r = app.get(&search(&token, "query=needle&limit=1&before=3")).await;
    assert_eq!(r.numbers(), vec![2]);
    // Lists without a query page by `page` as before.
    let listed = app
        .get(&format!(
            "/api/applications/{token}/chats/{chat}/messages?page=999999&limit=100"
        ))
        .await;
    assert_eq!(listed.status, 200);
}

/// Resident memory of process `pid`: (peak, current), in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap()
    };
    (field("VmHWM:"), field("VmRSS:"))
}

#[tokio::test]
async fn a_search_holds_memory_for_its_page_not_for_the_chats_hits() {
    const MESSAGES: usize = 3_000;
    const BODY_CHARS: usize = 8_000;
    const CONCURRENT: usize = 8;
    let url = fresh_database_url().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Room for all the searches at once: what is measured is what each one holds.
    let caps = CONCURRENT.to_string();
    let env = [
        ("RUST_LOG", "error"),
        ("SEARCH_MAX_CONCURRENT", caps.as_str()),
        ("SEARCH_MAX_CONCURRENT_PER_APP", caps.as_str()),
        // A debug build on a busy machine: ranking takes its time.
        ("SEARCH_STATEMENT_TIMEOUT_MS", "300000"),
        ("REQUEST_TIMEOUT_MS", "300000"),
    ];
    let instance = Instance::start_with(&url, port, &env, std::process::Stdio::inherit()).await;
    let http = reqwest::Client::new();
    let base = instance.base.clone();
    let created = http
        .post(format!("{base}/api/applications"))
        .json(&json!({"name": "big"}))
        .send()
        .await
        .unwrap();
    let token = created.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = http
        .post(format!("{base}/api/applications/{token}/chats"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let started = Instant::now();
    // 3,000 messages of 8,000 characters, every one a hit of "common": 24 MB of hits.
    let posts = (0..16).map(|client| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        tokio::spawn(async move {
            for i in (client..MESSAGES).step_by(16) {
                let filler: String = (0..BODY_CHARS / 8)
                    .map(|w| format!("w{:05}x ", (i * 7 + w) % 99_991))
                    .collect();
                let body = format!("common {i} {filler}");
                let r = http
                    .post(format!("{base}/api/applications/{token}/chats/1/messages"))
                    .json(&json!({ "body": &body[..BODY_CHARS] }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
            }
        })
    });
    for post in futures::future::join_all(posts).await {
        post.unwrap();
    }
    // Until the workers have written them all to the messages table.
    let db = Db::connect(&url, &test_config()).unwrap();
    println!("posted in {:?}", started.elapsed());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let client = db.client().await.unwrap();
        let queued: i64 = client.query_one("SELECT count(*) FROM jobs", &[]).await.unwrap().get(0);
        if queued == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{queued} jobs still queued");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Worst cases: a page as deep as may be asked, the deepest page today's clients could ask
    // (refused), and relevance order, which reads every candidate's body.
    let worst = [
        "query=common&page=999999&limit=100",
        "query=common&page=10&limit=100",
        "query=common&order=relevance&limit=100",
        "query=common&order=relevance&page=10&limit=100",
        "query=common&limit=100&before=1500",
    ];
    // A warm-up round, so that what is measured is what requests hold, not start-up.
    let round = |params: &'static str| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            let r = http
                .get(format!("{base}/api/applications/{token}/chats/1/messages?{params}"))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.bytes().await.unwrap();
            (
                params,
                status,
                String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
            )
        }
    };
    println!("written in {:?}", started.elapsed());
    for params in worst {
        round(params).await;
    }
    // The peak so far (the posts' bodies) is forgotten: the peak from here on is the searches'.
    std::fs::write(format!("/proc/{}/clear_refs", instance.pid()), "5").unwrap();
    let (peak_before, rss_before) = memory_kib(instance.pid());
    for params in worst {
        {
            let started = Instant::now();
            let answers = futures::future::join_all((0..CONCURRENT).map(|_| round(params))).await;
            println!("{CONCURRENT} × {params}: {:?}", started.elapsed());
            for (params, status, start) in answers {
                assert!(status == 200 || status == 400, "{params}: {status} {start}");
                if params.contains("page=999999") {
                    assert_eq!(status, 400, "{params}");
                } else {
                    assert_eq!(status, 200, "{params}");
                }
            }
        }
    }
    let (peak_after, rss_after) = memory_kib(instance.pid());
    let growth_mb = peak_after.saturating_sub(peak_before) as f64 / 1024.0;
    // Holding the hits would take 24 MB a request, 192 MB for 8 at once (more: rows and
    // messages are both kept). A page of 100 bodies of 8 KB is under 1 MB a request.
    let hits_mb = (MESSAGES * BODY_CHARS * CONCURRENT) as f64 / 1e6;
    println!(
        "peak RSS {} -> {} MiB (growth {growth_mb:.1} MiB), RSS {} -> {} MiB; holding the hits: {hits_mb:.0} MB",
        peak_before / 1024,
        peak_after / 1024,
        rss_before / 1024,
        rss_after / 1024
    );
    assert!(
        growth_mb < 32.0,
        "peak RSS grew by {growth_mb:.1} MiB under {CONCURRENT} worst-case searches at once"
    );
}

/// A second connection to the test's database, outside the service's pools.
async fn outside(url: &str) -> deadpool_postgres::Object {
    let mut config = test_config();
    config.db_statement_timeout_ms = 60_000;
    Db::connect(url, &config).unwrap().client().await.unwrap()
}

/// Holds the messages table locked until dropped (or committed): every search waits on it.
async fn lock_messages(client: &mut deadpool_postgres::Object) -> deadpool_postgres::Transaction<'_> {
    let tx = client.transaction().await.unwrap();
    tx.batch_execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    tx
}

/// Waits until `n` statements of the service wait for a lock on the database.
async fn waiting_on_the_lock(client: &deadpool_postgres::Object, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = client
            .query_one(lock_waits_sql(), &[&chat_system::store::APPLICATION_NAME])
            .await
            .unwrap()
            .get(0);
        if waiting == n {
            return;
        }
        assert!(Instant::now() < deadline, "{waiting} statements wait, not {n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A GET over HTTP: the response as the tests see it, and its `Retry-After`.
async fn get_with_retry_after(app: &TestApp, path: &str) -> (Response, Option<String>) {
    let r = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
    let header = |name: &str| r.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (retry_after, content_type) = (header("retry-after"), header("content-type"));
    let status = r.status();
    let body = r.json().await.unwrap_or_default();
    let response = Response {
        status,
        content_type: content_type.unwrap_or_default(),
        location: None,
        body,
    };
    (response, retry_after)
}

#[tokio::test]
async fn searches_over_the_caps_answer_503_with_retry_after() {
    let mut config = test_config();
    config.search_max_concurrent = 3;
    config.search_max_concurrent_per_app = 1;
    let app = TestApp::spawn_with(config, true).await;
    let mut tokens = Vec::new();
    for name in ["a", "b", "c", "d"] {
        let token = app.create_app(name).await;
        let chat = app.create_chat(&token).await;
        app.create_message(&token, chat, "hello world").await;
        tokens.push(token);
    }
    app.eventually("messages written", || async {
        app.count("SELECT count(*) FROM jobs").await == 0
    })
    .await;

    // Searches held open: each waits for the lock on the messages table.
    let mut admin = outside(&app.url).await;
    let watcher = outside(&app.url).await;
    let lock = lock_messages(&mut admin).await;
    let held = |token: String| {
        let (http, base) = (app.http.clone(), app.base.clone());
        tokio::spawn(async move {
            let r = http
                .get(format!("{base}{}", search(&token, "query=hello")))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
        })
    };
    let a = held(tokens[0].clone());
    waiting_on_the_lock(&watcher, 1).await;

    // A second search of the same application: over its own cap.
    let (r, retry_after) = get_with_retry_after(&app, &search(&tokens[0], "query=hello")).await;
    r.assert_problem(503, "search_busy");
    assert!(r.body["detail"].as_str().unwrap().contains("application"), "{}", r.body);
    assert_eq!(retry_after.as_deref(), Some("1"));

    // Other applications' searches still run, up to the process' cap; then every search waits
    // its turn, whoever asks.
    let b = held(tokens[1].clone());
    let c = held(tokens[2].clone());
    waiting_on_the_lock(&watcher, 3).await;
    let (r, retry_after) = get_with_retry_after(&app, &search(&tokens[3], "query=hello")).await;
    r.assert_problem(503, "search_busy");
    assert!(r.body["detail"].as_str().unwrap().contains("server"), "{}", r.body);
    assert_eq!(retry_after.as_deref(), Some("1"));
    // Reads other than searches are not capped.
    let other = app.get(&format!("/api/applications/{}/chats/1", tokens[3])).await;
    assert_eq!(other.status, 200);

    lock.commit().await.unwrap();
    for held in [a, b, c] {
        let (status, body) = held.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"].as_array().unwrap().len(), 1);
    }
    // Places are given back.
    for token in &tokens {
        let r = app.get(&search(token, "query=hello")).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

#[tokio::test]
async fn a_search_over_its_time_budget_answers_503_search_timeout() {
    let mut config = test_config();
    config.search_statement_timeout_ms = 300;
    let app = TestApp::spawn_with(config, true).await;
    let token = app.create_app("slow").await;
    let chat = app.create_chat(&token).await;
    app.create_message(&token, chat, "hello world").await;
    app.eventually("message written", || async {
        app.count("SELECT count(*) FROM jobs").await == 0
    })
    .await;

    let mut admin = outside(&app.url).await;
    let lock = lock_messages(&mut admin).await;
    // The search waits for the lock longer than its budget (the service's own statement and
    // lock timeouts are 15 s): it is stopped and says so.
    let (r, retry_after) = get_with_retry_after(&app, &search(&token, "query=hello")).await;
    r.assert_problem(503, "search_timeout");
    assert!(retry_after.is_some());
    lock.rollback().await.unwrap();

    let r = app.get(&search(&token, "query=hello")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.numbers(), vec![1]);
}

#[tokio::test]
async fn creations_keep_their_connections_while_reads_hold_every_other() {
    let mut config = test_config();
    config.db_pool_size = 2;
    config.db_acquire_timeout_ms = 300;
    let app = TestApp::spawn_with(config, true).await;
    let token = app.create_app("writer").await;
    let chat = app.create_chat(&token).await;

    // Every read connection taken (as long-running reads would). Opening one may take longer
    // than the short acquire timeout on a loaded machine: try again until it is had.
    let take = || async {
        loop {
            if let Ok(client) = app.db.client().await {
                return client;
            }
        }
    };
    let held = [take().await, take().await];
    let read = app.get(&format!("/api/applications/{token}/chats/{chat}")).await;
    read.assert_problem(503, "service_unavailable");

    let messages = format!("/api/applications/{token}/chats/{chat}/messages");
    for i in 0..20 {
        let r = app.post(&messages, json!({ "body": format!("written {i}") })).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let keyed = |key: &'static str| {
        app.http
            .post(format!("{}{messages}", app.base))
            .header("Idempotency-Key", key)
            .json(&json!({"body": "keyed"}))
    };
    let first = app.raw(keyed("8d4c7b3e-5f0a-4f7e-9c1d-2b6a8e0f4c11")).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let replay = app.raw(keyed("8d4c7b3e-5f0a-4f7e-9c1d-2b6a8e0f4c11")).await;
    assert_eq!(replay.status, 201, "{}", replay.body);
    assert_eq!(replay.body["number"], first.body["number"]);
    let r = app
        .call(reqwest::Method::POST, &format!("/api/applications/{token}/chats"), None)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.post("/api/applications", json!({"name": "another"})).await;
    assert_eq!(r.status, 201, "{}", r.body);

    // The workers write too: the queue empties while reads still hold their connections.
    let check = outside(&app.url).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let queued: i64 = check.query_one("SELECT count(*) FROM jobs", &[]).await.unwrap().get(0);
        if queued == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{queued} jobs still queued");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(held);
    let listed = app.get(&format!("{messages}?limit=100")).await;
    assert_eq!(listed.numbers(), (1..=21).collect::<Vec<i64>>());
}
