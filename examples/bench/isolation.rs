//! Issue 12's isolation benchmark: another application's creations while worst-case searches
//! run. One application has a chat of 200,000 messages of the benchmarks' chat text (built once
//! with COPY, kept in bench-data/); a second application posts messages at a fixed rate, first
//! alone, then while 16 clients search the big chat in a loop with the costliest queries there
//! are (eight common words, relevance order). The creations' p50/p99 under the searches are
//! compared with the idle figures (target: p99 within 2×). The searches' per-application cap is
//! raised to 16 for the run, as if they came from 16 applications: the per-process cap
//! (`SEARCH_MAX_CONCURRENT`), the searches' time budget and the write pool are what protect the
//! creations. More runs, with the cap at half and all of this machine's 2 cores and without it
//! (16 searches at once), show what it buys. A client told `503` waits the second `Retry-After` says.
//!
//! `cargo run --release --example bench -- isolation [--seconds N] [--rate N]`

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{Context, Result};
use bytes::Bytes;
use futures::SinkExt;
use hyper::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    dataset::{Rng, Vocabulary},
    env::{free_port, Env, Service},
    load::{fixed_rate, Call, Conn},
    stats::{encode, machine, report, Samples},
    throughput::arg,
};

const DB: &str = "bench_isolation";
const MESSAGES: i64 = 200_000;
const SEARCHERS: usize = 16;
const VOCAB: usize = 50_000;
const SEED: u64 = 42;

/// Creation latencies of one phase, and what the searches got meanwhile.
struct Phase {
    creations: Samples,
    creation_errors: u64,
    /// Search answers by status and problem code, e.g. "200", "503 search_busy".
    searches: BTreeMap<String, u64>,
    /// Searches answered 200 per second.
    search_rate: f64,
}

pub async fn run(args: &[String]) -> Result<()> {
    let seconds = arg(args, "--seconds", 20);
    let rate = arg(args, "--rate", 200);
    let env = Env::start()?;
    let token = dataset(&env).await?;
    let vocab = Vocabulary::new(VOCAB, SEED);
    // Common words of 3+ letters: each matches widely, all eight together hardly anywhere, so
    // every search walks its window, then goes through the indexes for all eight.
    let common: Vec<String> = vocab
        .words
        .iter()
        .filter(|w| w.chars().count() >= 3)
        .take(40)
        .cloned()
        .collect();

    let mut runs = Vec::new();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let default_label = format!("defaults (SEARCH_MAX_CONCURRENT = the machine's {cores} cores)");
    for (label, settings) in [
        (default_label.as_str(), vec![("SEARCH_MAX_CONCURRENT_PER_APP", "16")]),
        (
            "the earlier default (SEARCH_MAX_CONCURRENT=8)",
            vec![("SEARCH_MAX_CONCURRENT_PER_APP", "16"), ("SEARCH_MAX_CONCURRENT", "8")],
        ),
        (
            "no per-process cap (SEARCH_MAX_CONCURRENT=16)",
            vec![("SEARCH_MAX_CONCURRENT_PER_APP", "16"), ("SEARCH_MAX_CONCURRENT", "16")],
        ),
    ] {
        let port = free_port();
        let service = Service::start(&env.url(DB), port, &settings).await?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let writer = writer_app(addr).await?;
        // Warm-up: connections and plans.
        creations(addr, &writer, rate, Duration::from_secs(5)).await?;
        let idle = measure(addr, &writer, rate, seconds, None).await?;
        let busy = measure(addr, &writer, rate, seconds, Some((token, common.clone()))).await?;
        println!(
            "{label}: idle p50 {:.1} p99 {:.1} ms; under searches p50 {:.1} p99 {:.1} ms; searches {:?}",
            idle.creations.pct(50.0),
            idle.creations.pct(99.0),
            busy.creations.pct(50.0),
            busy.creations.pct(99.0),
            busy.searches
        );
        runs.push((label, idle, busy, service.peak_rss_mb()));
        drop(service);
    }

    let mut out = format!(
        "\n## Isolation: creations while worst-case searches run ({})\n\n\
         `cargo run --release --example bench -- isolation`: application B posts {rate} messages/s \
         (4 connections, latency from each call's scheduled time) for {seconds} s, alone, then while \
         {SEARCHERS} clients search application A's chat of {MESSAGES} messages in a loop (8 common words, \
         `order=relevance`; per-application search cap raised to {SEARCHERS}; a client told `503` waits the \
         second `Retry-After` says).\n\n\
         | run | B's creations idle p50 / p99 (ms) | under searches p50 / p99 (ms) | p99 ratio (target ≤ 2) | errors | searches answered | searches 200/s | peak RSS (MB) |\n\
         |---|---|---|---|---|---|---|---|\n",
        machine()
    );
    for (label, idle, busy, rss) in &runs {
        let answered: Vec<String> = busy.searches.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        out.push_str(&format!(
            "| {label} | {:.1} / {:.1} | {:.1} / {:.1} | {:.2} | {} | {} | {:.1} | {rss:.0} |\n",
            idle.creations.pct(50.0),
            idle.creations.pct(99.0),
            busy.creations.pct(50.0),
            busy.creations.pct(99.0),
            busy.creations.pct(99.0) / idle.creations.pct(99.0),
            idle.creation_errors + busy.creation_errors,
            answered.join(", "),
            busy.search_rate,
        ));
    }
    report(&out)
}

/// Creates application B and 8 chats; returns its token.
async fn writer_app(addr: SocketAddr) -> Result<String> {
    let mut conn = Conn::open(addr).await?;
    let created = conn
        .send(&Call {
            method: Method::POST,
            path: "/api/applications".into(),
            body: Some(json!({"name": "writer"}).to_string()),
        })
        .await?;
    let token = serde_json::from_slice::<Value>(&created.body)?["token"]
        .as_str()
        .context("no token")?
        .to_owned();
    for _ in 0..8 {
        conn.send(&Call {
            method: Method::POST,
            path: format!("/api/applications/{token}/chats"),
            body: None,
        })
        .await?;
    }
    Ok(token)
}

/// B's creations at `rate` per second for `duration`.
async fn creations(addr: SocketAddr, token: &str, rate: u64, duration: Duration) -> Result<crate::load::Outcome> {
    let token = token.to_owned();
    fixed_rate(
        addr,
        4,
        rate,
        duration,
        move |client, seq| Call {
            method: Method::POST,
            path: format!("/api/applications/{token}/chats/{}/messages", 1 + (seq % 8)),
            body: Some(json!({"body": format!("message {seq} from client {client}")}).to_string()),
        },
        |_, _, _| {},
    )
    .await
}

/// One phase: B's creations for `seconds`, alone or while `SEARCHERS` clients search.
async fn measure(
    addr: SocketAddr,
    writer: &str,
    rate: u64,
    seconds: u64,
    search: Option<(Uuid, Vec<String>)>,
) -> Result<Phase> {
    let answers: Arc<Mutex<BTreeMap<String, u64>>> = Default::default();
    let searching = search.map(|(token, common)| {
        let answers = answers.clone();
        tokio::spawn(search_loop(
            addr,
            token,
            common,
            Duration::from_secs(seconds + 4),
            answers,
        ))
    });
    if searching.is_some() {
        // Let the searches take hold first.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let created = creations(addr, writer, rate, Duration::from_secs(seconds)).await?;
    let mut elapsed = Duration::from_secs(1);
    if let Some(searching) = searching {
        elapsed = searching.await??;
    }
    let searches = std::mem::take(&mut *answers.lock().unwrap());
    let search_rate = searches.get("200").copied().unwrap_or(0) as f64 / elapsed.as_secs_f64();
    Ok(Phase {
        creations: created.latencies,
        creation_errors: created.errors,
        searches,
        search_rate,
    })
}

/// `SEARCHERS` clients searching A's big chat back to back for `duration`, each waiting the
/// second that `Retry-After` asks for when told `503` (as a client should: one that does not is
/// a flood of requests like any other, for `MAX_IN_FLIGHT` and the rate limit). Counts the
/// answers by status and problem code into `answers`; returns the time taken.
async fn search_loop(
    addr: SocketAddr,
    token: Uuid,
    common: Vec<String>,
    duration: Duration,
    answers: Arc<Mutex<BTreeMap<String, u64>>>,
) -> Result<Duration> {
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..SEARCHERS)
        .map(|client| {
            let (common, answers) = (common.clone(), answers.clone());
            tokio::spawn(async move {
                let mut conn = Conn::open(addr).await?;
                let mut rng = Rng::new(client as u64 * 1_000_003);
                while started.elapsed() < duration {
                    let words: Vec<&str> = (0..8).map(|_| common[rng.below(common.len())].as_str()).collect();
                    let call = Call {
                        method: Method::GET,
                        path: format!(
                            "/api/applications/{token}/chats/1/messages?order=relevance&limit=100&query={}",
                            encode(&words.join(" "))
                        ),
                        body: None,
                    };
                    let answer = conn.send(&call).await?;
                    let code = serde_json::from_slice::<Value>(&answer.body)
                        .ok()
                        .and_then(|v| v["code"].as_str().map(str::to_owned));
                    let key = match code {
                        Some(code) => format!("{} {code}", answer.status),
                        None => answer.status.to_string(),
                    };
                    *answers.lock().unwrap().entry(key).or_default() += 1;
                    if answer.status == 503 {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                Ok::<_, anyhow::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(started.elapsed())
}

/// The dataset: application A with one chat of `MESSAGES` messages (built once). Returns A's
/// token.
async fn dataset(env: &Env) -> Result<Uuid> {
    if env.has_database(DB).await? {
        let client = env.db(DB)?.client().await?;
        if let Ok(row) = client
            .query_one("SELECT value FROM bench_meta WHERE key = 'token'", &[])
            .await
        {
            return Ok(row.get::<_, String>(0).parse()?);
        }
    }
    let started = std::time::Instant::now();
    println!("building the isolation dataset: one chat of {MESSAGES} messages (kept in bench-data/)…");
    let db = env.fresh_database(DB).await?;
    let client = db.client().await?;
    let token = Uuid::new_v4();
    client
        .execute(
            "INSERT INTO applications (token, name, chats_count, last_chat_number) VALUES ($1, 'searched', 1, 1)",
            &[&token],
        )
        .await?;
    {
        let sink = client
            .copy_in("COPY messages (application_id, chat_number, number, body, created_at, updated_at) FROM STDIN")
            .await?;
        futures::pin_mut!(sink);
        let vocab = Vocabulary::new(VOCAB, SEED);
        let mut text = Rng::new(7);
        let base = chrono::Utc::now() - chrono::Duration::days(30);
        let mut buf = String::with_capacity(1 << 20);
        for n in 1..=MESSAGES {
            let at = (base + chrono::Duration::milliseconds(n * 10)).to_rfc3339();
            let body = vocab.message(&mut text).replace('\\', "\\\\");
            buf.push_str(&format!("1\t1\t{n}\t{body}\t{at}\t{at}\n"));
            if buf.len() > (1 << 20) - 4096 {
                sink.send(Bytes::from(std::mem::take(&mut buf))).await?;
            }
        }
        sink.send(Bytes::from(buf)).await?;
        sink.finish().await?;
    }
    client
        .batch_execute(&format!(
            "INSERT INTO chats (application_id, number, messages_count, created_at, updated_at)
               VALUES (1, 1, {MESSAGES}, now(), now());
             INSERT INTO chat_counters (application_id, chat_number, last_message_number) VALUES (1, 1, {MESSAGES});
             CREATE TABLE bench_meta (key text PRIMARY KEY, value text NOT NULL);
             INSERT INTO bench_meta VALUES ('token', '{token}');"
        ))
        .await?;
    client.batch_execute("VACUUM ANALYZE messages").await?;
    println!("  dataset ready in {:.0} s", started.elapsed().as_secs_f64());
    Ok(token)
}
