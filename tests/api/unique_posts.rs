//! A load of messages with unique bodies, and the check of what was stored against what the
//! clients were told: shared by the broken-connection test and the fault benchmark
//! (`examples/bench`), so both judge the same thing.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use serde_json::json;

/// What the clients were told: body -> (chat, number) of its 201, and how often they retried.
#[derive(Default)]
pub struct Told {
    pub accepted: BTreeMap<String, (i64, i64)>,
    pub retries: u64,
}

/// `clients` tasks post `total` messages with unique bodies over chats `1..=chats` of `token`,
/// every other client with an `Idempotency-Key`, each retrying a 503 (nothing created) or a 409
/// (an earlier attempt still holds its key) until it gets its 201. Panics on any other answer or
/// after `limit`.
pub async fn post_unique(base: &str, token: &str, total: usize, clients: usize, chats: i64, limit: Duration) -> Told {
    let accepted: Arc<Mutex<BTreeMap<String, (i64, i64)>>> = Arc::default();
    let retries = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (accepted, retries) = (accepted.clone(), retries.clone());
            let url = format!("{base}/api/applications/{token}/chats");
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                for i in (c..total).step_by(clients) {
                    let chat = 1 + (i as i64 % chats);
                    let body = format!("message {i} {}", uuid::Uuid::new_v4());
                    let key = (c % 2 == 0).then(|| uuid::Uuid::new_v4().to_string());
                    loop {
                        let mut req = http
                            .post(format!("{url}/{chat}/messages"))
                            .json(&json!({ "body": body }));
                        if let Some(key) = &key {
                            req = req.header("Idempotency-Key", key);
                        }
                        let answer = req.send().await.expect("the service answers");
                        let status = answer.status().as_u16();
                        let json: serde_json::Value = answer.json().await.unwrap_or_default();
                        match status {
                            201 => {
                                let number = json["number"].as_i64().unwrap();
                                accepted.lock().unwrap().insert(body.clone(), (chat, number));
                                break;
                            }
                            503 | 409 => {
                                retries.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                            _ => panic!("unexpected answer {status}: {json}"),
                        }
                        assert!(started.elapsed() < limit, "the load did not finish in {limit:?}");
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let accepted = std::mem::take(&mut *accepted.lock().unwrap());
    Told {
        accepted,
        retries: retries.load(Ordering::Relaxed),
    }
}

/// What is stored, judged against what the clients were told.
#[derive(Debug)]
pub struct Findings {
    /// Rows in `messages`.
    pub rows: usize,
    /// Bodies stored more than once.
    pub duplicates: usize,
    /// 201s whose message is not stored exactly once under the number they named.
    pub lost: usize,
    /// Chats whose numbers have gaps.
    pub gaps: i64,
    /// Chats whose `messages_count` differs from their rows.
    pub wrong_counts: i64,
}

/// Waits (up to `limit`) for the queue to drain, then compares the messages table with `told`.
pub async fn check_stored(client: &tokio_postgres::Client, told: &Told, limit: Duration) -> Findings {
    let deadline = Instant::now() + limit;
    while client
        .query_one("SELECT count(*) FROM jobs", &[])
        .await
        .unwrap()
        .get::<_, i64>(0)
        > 0
    {
        assert!(Instant::now() < deadline, "the queue did not drain");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows = client
        .query("SELECT body, chat_number, number FROM messages", &[])
        .await
        .unwrap();
    let mut stored: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for row in &rows {
        stored.entry(row.get(0)).or_default().push((row.get(1), row.get(2)));
    }
    let one = |sql: &'static str| async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) };
    Findings {
        rows: rows.len(),
        duplicates: stored.values().filter(|at| at.len() > 1).count(),
        lost: told
            .accepted
            .iter()
            .filter(|(body, at)| stored.get(*body) != Some(&vec![**at]))
            .count(),
        gaps: one("SELECT count(*) FROM (SELECT chat_number, max(number) - count(*) AS gap FROM messages GROUP BY 1) g WHERE gap <> 0").await,
        wrong_counts: one(
            "SELECT count(*) FROM chats c WHERE c.messages_count <> (SELECT count(*) FROM messages m
               WHERE m.application_id = c.application_id AND m.chat_number = c.number)",
        )
        .await,
    }
}

/// `chat_intake_resolutions_total` from the service's `/metrics`.
pub async fn resolutions(base: &str) -> String {
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("chat_intake_resolutions_total "))
        .unwrap_or("?")
        .to_owned()
}

/// The database URL with its port replaced by `proxy_port`, and the address it pointed at.
pub fn through_proxy(url: &str, proxy_port: u16) -> (String, std::net::SocketAddr) {
    let at = url.rfind('@').expect("URL with a user");
    let rest = &url[at + 1..];
    let host_port = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let (host, port) = host_port.rsplit_once(':').unwrap();
    let target = format!("{}:{port}", if host == "localhost" { "127.0.0.1" } else { host });
    let proxied = format!("{}@{host}:{proxy_port}{}", &url[..at], &rest[host_port.len()..]);
    (proxied, target.parse().unwrap())
}
