//! Exactly once through broken database connections: the real binary talks to PostgreSQL through
//! a proxy that resets connections at random moments (mean lifetime well under a second), so
//! statements and commits are cut mid-flight, while 24 clients post thousands of messages with
//! unique bodies, half of them with an `Idempotency-Key`, retrying every 503. Afterwards every
//! body is stored exactly once, under the number its 201 named, numbers have no gaps, and counts
//! are right. `FAULT_SCALE=10` posts ten times as many.

use std::{
    collections::BTreeMap,
    process::Stdio,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use chat_system::{config::Config, db::Db};
use serde_json::json;

use crate::{
    faults::{setup, Instance},
    helpers::fresh_database_url,
    proxy::BreakingProxy,
};

const CLIENTS: usize = 24;
const MESSAGES: usize = 6_000;
const CHATS: i64 = 4;

/// The database URL with its port replaced by the proxy's, and the address it pointed at.
fn through_proxy(url: &str, proxy_port: u16) -> (String, std::net::SocketAddr) {
    let at = url.rfind('@').expect("URL with a user");
    let rest = &url[at + 1..];
    let host_port = &rest[..rest.find('/').unwrap()];
    let (host, port) = host_port.rsplit_once(':').unwrap();
    let target = format!("{}:{port}", if host == "localhost" { "127.0.0.1" } else { host });
    let proxied = format!("{}@{host}:{proxy_port}{}", &url[..at], &rest[host_port.len()..]);
    (proxied, target.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broken_database_connections_neither_duplicate_nor_lose_a_message() {
    let scale: usize = std::env::var("FAULT_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let total = MESSAGES * scale;
    let url = fresh_database_url().await;
    let (_, target) = through_proxy(&url, 0);
    let proxy = BreakingProxy::start(target).await;
    let (proxied, _) = through_proxy(&url, proxy.port);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let instance = Instance::start_with(&proxied, port, &[("RUST_LOG", "error")], Stdio::null()).await;
    let token = setup(&instance.base, CHATS).await;

    proxy.break_connections(Duration::from_millis(300));
    let accepted: Arc<Mutex<BTreeMap<String, (i64, i64)>>> = Arc::default();
    let retries = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (accepted, retries, token, base) =
                (accepted.clone(), retries.clone(), token.clone(), instance.base.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                for i in (c..total).step_by(CLIENTS) {
                    let chat = 1 + (i as i64 % CHATS);
                    let body = format!("message {i} {}", uuid::Uuid::new_v4());
                    let key = (c % 2 == 0).then(|| uuid::Uuid::new_v4().to_string());
                    loop {
                        let mut req = http
                            .post(format!("{base}/api/applications/{token}/chats/{chat}/messages"))
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
                            // Not created (503), or an earlier attempt still holds the key (409).
                            503 | 409 => {
                                retries.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                            _ => panic!("unexpected answer {status}: {json}"),
                        }
                        assert!(started.elapsed() < Duration::from_secs(300), "the load did not finish");
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let load_time = started.elapsed();
    proxy.calm();
    let cuts = proxy.cuts();
    let metrics = reqwest::get(format!("{}/metrics", instance.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let resolutions = metrics
        .lines()
        .find_map(|l| l.strip_prefix("chat_intake_resolutions_total "))
        .unwrap_or("?")
        .to_owned();

    // Checked directly, not through the proxy, once the queue has drained.
    let db = Db::connect(&url, &Config::defaults()).unwrap();
    let client = db.client().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
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
    let accepted = accepted.lock().unwrap().clone();
    let duplicates: Vec<_> = stored.iter().filter(|(_, at)| at.len() > 1).collect();
    let lost: Vec<_> = accepted
        .iter()
        .filter(|(body, at)| stored.get(*body) != Some(&vec![**at]))
        .collect();
    let gaps: i64 = client
        .query_one(
            "SELECT count(*) FROM (SELECT chat_number, max(number) - count(*) AS gap FROM messages GROUP BY 1) g WHERE gap <> 0",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let wrong_counts: i64 = client
        .query_one(
            "SELECT count(*) FROM chats c WHERE c.messages_count <> (SELECT count(*) FROM messages m
               WHERE m.application_id = c.application_id AND m.chat_number = c.number)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    println!(
        "broken connections: {total} messages in {:.1} s, {cuts} connections cut, {resolutions} lost answers resolved, \
         {} retries by clients, {} duplicates, {} lost 201s, {gaps} chats with gaps",
        load_time.as_secs_f64(),
        retries.load(Ordering::Relaxed),
        duplicates.len(),
        lost.len()
    );

    assert!(
        cuts > 10,
        "the proxy cut only {cuts} connections: the test proved nothing"
    );
    assert!(
        duplicates.is_empty(),
        "bodies stored more than once: {:?}",
        &duplicates[..duplicates.len().min(5)]
    );
    assert!(
        lost.is_empty(),
        "201s not stored as answered: {:?}",
        &lost[..lost.len().min(5)]
    );
    assert_eq!(accepted.len(), total, "every message was answered 201 in the end");
    assert_eq!(rows.len(), total, "nothing was stored that no 201 named");
    assert_eq!(gaps, 0, "numbers have gaps");
    assert_eq!(wrong_counts, 0, "messages_count does not match the rows");
}
