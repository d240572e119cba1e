//! How long a created message takes to become visible to a plain read of the messages table:
//! sequential creations at low load, each followed by polling the table.

use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{json, Value};

use crate::{
    env::{free_port, Env, Service},
    stats::{machine, report, Samples},
};

pub async fn run(args: &[String]) -> Result<()> {
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(300);
    let env = Env::start()?;
    let db = env.fresh_database("bench_visibility").await?;
    let service = Service::start(&env.url("bench_visibility"), free_port(), &[]).await?;
    let http = reqwest::Client::new();
    let app: Value = http
        .post(format!("{}/api/applications", service.base))
        .json(&json!({"name": "vis"}))
        .send()
        .await?
        .json()
        .await?;
    let token = app["token"].as_str().unwrap().to_owned();
    let chat: Value = http
        .post(format!("{}/api/applications/{token}/chats", service.base))
        .send()
        .await?
        .json()
        .await?;
    let chat = chat["number"].as_i64().unwrap();
    let client = db.client().await?;
    let probe = client
        .prepare("SELECT 1 FROM messages m JOIN applications a ON a.id = m.application_id WHERE a.token = $1 AND m.chat_number = $2 AND m.number = $3")
        .await?;
    let token_uuid: uuid::Uuid = token.parse()?;
    let url = format!("{}/api/applications/{token}/chats/{chat}/messages", service.base);

    let (mut lag, mut create) = (Samples::default(), Samples::default());
    for i in 0..n {
        let start = Instant::now();
        let created: Value = http
            .post(&url)
            .json(&json!({"body": format!("visibility probe {i}")}))
            .send()
            .await?
            .json()
            .await?;
        let acked = Instant::now();
        create.push(acked - start);
        let number = created["number"].as_i64().unwrap();
        while client
            .query_opt(&probe, &[&token_uuid, &chat, &number])
            .await?
            .is_none()
        {
            if acked.elapsed() > Duration::from_secs(10) {
                anyhow::bail!("message {number} not visible after 10 s");
            }
        }
        lag.push(acked.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    report(&format!(
        "\n## Create-to-visible latency\n\nCommand: `cargo run --release --example bench -- visibility {n}` ({})\n\n\
         {n} sequential message creations at low load; for each, the time from the 201 until a plain\n\
         `SELECT` on the messages table sees the row (polled back to back).\n\n\
         | | p50 | p95 | p99 | max |\n|---|---|---|---|---|\n\
         | POST latency (ms) | {:.2} | {:.2} | {:.2} | {:.2} |\n\
         | 201 → row visible (ms) | {:.2} | {:.2} | {:.2} | {:.2} |\n",
        machine(),
        create.pct(50.0),
        create.pct(95.0),
        create.pct(99.0),
        create.pct(100.0),
        lag.pct(50.0),
        lag.pct(95.0),
        lag.pct(99.0),
        lag.pct(100.0),
    ))
}
