//! Issue 17's inbox benchmark: an application with 100,000 chats (each with a message; the 20
//! most active with a backlog of 1,500), a reader in all of them (`all`) and one in 52 (`few`);
//! first inbox pages (20 chats) and the pages after them over HTTP, and a chat with a big
//! backlog read as a reader sees it (its unread count stops at the cap). Then the two inbox
//! statements run directly for the reader in all chats, to show why the plan walks by activity.
//!
//! `cargo run --release --example bench -- inbox [--chats N] [--requests N]`

use std::{net::SocketAddr, time::Instant};

use anyhow::{ensure, Result};
use hyper::Method;
use serde_json::Value;

use crate::{
    env::{free_port, Env, Service},
    load::{Call, Conn},
    stats::{machine, report, Samples},
    throughput::arg,
};

/// Page size of the measured pages.
const LIMIT: usize = 20;
/// Messages in each of the most active chats.
const BACKLOG: i64 = 1500;

pub async fn run(args: &[String]) -> Result<()> {
    let chats = arg(args, "--chats", 100_000) as i64;
    let requests = arg(args, "--requests", 400) as usize;
    let env = Env::start()?;
    let db = env.fresh_database("bench_inbox").await?;
    let port = free_port();
    let _service = Service::start(&env.url("bench_inbox"), port, &[]).await?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let mut conn = Conn::open(addr).await?;
    let created = send(
        &mut conn,
        Method::POST,
        "/api/applications",
        Some(r#"{"name":"inbox"}"#),
    )
    .await?;
    let token = created["token"].as_str().unwrap_or_default().to_owned();
    let client = db.client().await?;
    let app: i64 = client
        .query_one("SELECT id FROM applications WHERE token = $1::text::uuid", &[&token])
        .await?
        .get(0);
    let started = Instant::now();
    let load = client.batch_execute(&dataset(app, chats)).await;
    load.map_err(|e| anyhow::anyhow!("loading the dataset: {e} {:?}", e.as_db_error()))?;
    client
        .batch_execute("VACUUM ANALYZE chat_counters, chats, messages, chat_members")
        .await?;
    let loaded = started.elapsed().as_secs_f64();

    let inbox = |reader: &str| format!("/api/applications/{token}/chats?reader={reader}&order=activity&limit={LIMIT}");
    let few_first = timed(&mut conn, &inbox("few"), requests).await?;
    let all_first = timed(&mut conn, &inbox("all"), requests).await?;
    let all_next = next_pages(&mut conn, &inbox("all"), requests).await?;
    let few_next = next_pages(&mut conn, &inbox("few"), requests).await?;
    let backlog_chat = format!("/api/applications/{token}/chats/{}?reader=all", chats / 5000 * 5000);
    let backlog = timed(&mut conn, &backlog_chat, requests).await?;
    let unread = send(&mut conn, Method::GET, &backlog_chat, None).await?["unread_count"].clone();
    let first_page = send(&mut conn, Method::GET, &inbox("all"), None).await?;
    let capped = first_page["data"].as_array().map_or(0, |d| {
        d.iter()
            .filter(|c| c["unread_count"] == chat_system::model::UNREAD_COUNT_CAP)
            .count()
    });
    let (walk, members) = statements(&client, app)
        .await
        .map_err(|e| anyhow::anyhow!("the statements: {e:?}"))?;

    let row = |what: &str, s: &Samples| {
        format!(
            "| {what} | {} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            s.0.len(),
            s.pct(50.0),
            s.pct(95.0),
            s.pct(99.0),
            s.pct(100.0)
        )
    };
    report(&format!(
        "\n## Inbox (issue 17)\n\nCommand: `cargo run --release --example bench -- inbox --chats {chats} --requests {requests}` ({})\n\n\
         One application with {chats} chats (loaded in {loaded:.0} s), each with one message, the 20 most active with\n\
         {BACKLOG} each; reader `all` is a member of every chat (nothing read), reader `few` of 52. Pages of {LIMIT} over\n\
         HTTP, one keep-alive connection, one request at a time. The chat with a backlog shows `unread_count` {unread}\n\
         (the cap); {capped} of the 20 chats of `all`'s first page show the cap.\n\n\
         | Request | n | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |\n|---|---|---|---|---|---|\n{}{}{}{}{}\n\
         The statements behind the first page of `all` (which the plan answers by walking), run directly:\n\
         by walking the application's chats by activity, p50 {:.2} ms; from the reader's {chats} memberships, p50 {:.2} ms.\n",
        machine(),
        row("inbox of `few`, first page", &few_first),
        row("inbox of `all`, first page", &all_first),
        row("inbox of `all`, pages 2–10", &all_next),
        row("inbox of `few`, pages 2–3", &few_next),
        row("chat with a 1,500-message backlog, `?reader=all`", &backlog),
        walk.pct(50.0),
        members.pct(50.0),
    ))
}

/// The dataset, straight into the tables (as the workers would have written it).
fn dataset(app: i64, chats: i64) -> String {
    format!(
        "SET synchronous_commit = off;
         INSERT INTO chat_counters (application_id, chat_number, last_message_number, last_activity_at)
         SELECT {app}, n, CASE WHEN n % 5000 = 0 THEN {BACKLOG} ELSE 1 END,
                CASE WHEN n % 5000 = 0 THEN now() - n * interval '1 ms'
                     ELSE now() - interval '1 hour' - ((hashint8(n)::bigint % 2592000 + 2592000) % 2592000) * interval '1 s' END
         FROM generate_series(1, {chats}) n;
         UPDATE chat_counters SET activity_slot = activity_slot(last_activity_at) WHERE application_id = {app};
         UPDATE applications SET last_chat_number = {chats}, chats_count = {chats} WHERE id = {app};
         INSERT INTO chats (application_id, number, messages_count, created_at, updated_at)
         SELECT {app}, n, CASE WHEN n % 5000 = 0 THEN {BACKLOG} ELSE 1 END, now() - interval '31 days', now()
         FROM generate_series(1, {chats}) n;
         INSERT INTO messages (application_id, chat_number, number, body, sender, created_at, updated_at)
         SELECT {app}, n, k, 'message ' || k || ' of chat ' || n || ': lorem ipsum dolor sit amet, consectetur',
                'u' || ((n + k) % 997), now(), now()
         FROM generate_series(1, {chats}) n,
              LATERAL generate_series(1, CASE WHEN n % 5000 = 0 THEN {BACKLOG} ELSE 1 END) k;
         INSERT INTO chat_members (application_id, chat_number, member)
         SELECT {app}, n, 'all' FROM generate_series(1, {chats}) n
         UNION ALL SELECT {app}, n, 'u' || ((n + 1) % 997) FROM generate_series(1, {chats}) n WHERE n % 5000 <> 0
         UNION ALL SELECT {app}, n, 'few' FROM generate_series(1, {chats}) n WHERE n % 2000 = 7 OR n IN (5000, 10000);"
    )
}

async fn send(conn: &mut Conn, method: Method, path: &str, body: Option<&str>) -> Result<Value> {
    let call = Call {
        method,
        path: path.to_owned(),
        body: body.map(str::to_owned),
    };
    let answer = conn.send(&call).await?;
    ensure!(answer.status < 300, "{path}: {}", answer.status);
    Ok(serde_json::from_slice(&answer.body).unwrap_or(Value::Null))
}

/// `n` GETs of `path`, one after the other (after a few unmeasured ones).
async fn timed(conn: &mut Conn, path: &str, n: usize) -> Result<Samples> {
    let mut samples = Samples::default();
    for i in 0..n + 10 {
        let at = Instant::now();
        send(conn, Method::GET, path, None).await?;
        if i >= 10 {
            samples.push(at.elapsed());
        }
    }
    Ok(samples)
}

/// The pages after the first of the inbox at `first` (up to 9 of them, following `next_cursor`),
/// again and again until `n` are measured.
async fn next_pages(conn: &mut Conn, first: &str, n: usize) -> Result<Samples> {
    let mut samples = Samples::default();
    while samples.0.len() < n {
        let mut page = send(conn, Method::GET, first, None).await?;
        for _ in 0..9 {
            let Some(cursor) = page["next_cursor"].as_str().map(str::to_owned) else {
                break;
            };
            let at = Instant::now();
            page = send(conn, Method::GET, &format!("{first}&cursor={cursor}"), None).await?;
            samples.push(at.elapsed());
        }
    }
    Ok(samples)
}

/// The first page of `all` through each of the two inbox statements, 50 times each.
async fn statements(client: &tokio_postgres::Client, app: i64) -> Result<(Samples, Samples)> {
    let far = chrono::DateTime::from_timestamp(253_402_300_799, 0);
    let mut out = Vec::new();
    for sql in [
        include_str!("../../src/store/sql/inbox_walk.sql"),
        include_str!("../../src/store/sql/inbox_members.sql"),
    ] {
        let stmt = client.prepare(sql).await?;
        let mut samples = Samples::default();
        for _ in 0..50 {
            let at = Instant::now();
            client
                .query(&stmt, &[&app, &"all", &far, &i64::MAX, &(LIMIT as i64 + 1)])
                .await?;
            samples.push(at.elapsed());
        }
        out.push(samples);
    }
    let members = out.pop().unwrap_or_default();
    Ok((out.pop().unwrap_or_default(), members))
}
