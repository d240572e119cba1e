//! Issue 4's throughput benchmark, in one run: pgbench baselines of the naive SQL (one
//! transaction per message, spread and hot chat; one message read) against the same PostgreSQL,
//! then HTTP load against the service's release binary on a fresh database (S1 spread creates,
//! S2 hot-chat creates, S3 random reads, S4 80/15/5 read/create/search mix, and 1,000 creates/s at
//! a fixed rate), the queue lag and depth during S1, the service's peak RSS, and a verification
//! that every 201 is in the database exactly once with contiguous numbers and correct counts.
//!
//! `cargo run --release --example bench -- throughput [--seconds N] [--clients N] [--soak N] [--text synthetic|real]`
//! (`--text real`: S1, S2, S4 and the fixed rate create messages of real text, `corpus`;
//! `--senders N`: S1's messages name one of N senders, who thereby join their chats).
//!
//! `--database-url <Citus coordinator>`: all of it (no soak unless `--soak N`) on the single node
//! and then on that Citus cluster, reported side by side with each node's cost per request
//! (`compare`). Under `scale/citus/run`:
//! `scale/citus/run -- sh -c 'cargo run --release --example bench -- throughput --database-url "$DATABASE_URL"'`.

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::PathBuf,
    process::Command,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use chat_system::store::Db;
use hyper::Method;
use serde_json::{json, Value};

use crate::{
    dataset::{Rng, Vocabulary},
    env::{free_port, Env, Service},
    load::{closed_loop, fixed_rate, Answer, Call, Conn, Outcome},
    logs::{self, Summary},
    nodes::{Cost, Nodes},
    stats::{encode, machine, report, Samples},
    target::Target,
    text::Text,
};

pub const APPS: usize = 10;
/// How long the background's cost is measured without requests.
pub const IDLE: Duration = Duration::from_secs(5);
pub const CHATS_PER_APP: usize = 100;

pub fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().unwrap())
}

/// A message the service answered 201 for.
#[derive(Clone)]
struct Accepted {
    app: usize,
    chat: i64,
    number: i64,
    body: String,
}

/// Shared by the load tasks of one run.
struct Book {
    tokens: Vec<String>,
    accepted: Mutex<Vec<Accepted>>,
    /// The most recent 201 of the spread scenario, for the lag probe.
    latest: Mutex<Option<(Instant, usize, i64, i64)>>,
}

impl Book {
    /// Records a 201 for a message creation sent to `call.path`.
    fn record(&self, call: &Call, answer: &Answer, acked: Instant) {
        if answer.status != 201 || !call.path.ends_with("/messages") {
            return;
        }
        let parts: Vec<&str> = call.path.split('/').collect();
        let app = self.tokens.iter().position(|t| t == parts[3]).unwrap();
        let chat: i64 = parts[5].parse().unwrap();
        let v: Value = serde_json::from_slice(&answer.body).unwrap();
        let number = v["number"].as_i64().unwrap();
        let body = v["body"].as_str().unwrap().to_owned();
        *self.latest.lock().unwrap() = Some((acked, app, chat, number));
        self.accepted.lock().unwrap().push(Accepted {
            app,
            chat,
            number,
            body,
        });
    }
}

pub async fn run(args: &[String]) -> Result<()> {
    if let Some(url) = coordinator_url(args)? {
        return crate::compare::throughput(args, &url).await;
    }
    let soak = arg(args, "--soak", 60);
    let figures = measure(&Target::Single(Env::start()?), args, soak, false).await?;
    report_single(args, &figures)
}

/// The value of option `name`, if given.
pub fn string_arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// `--database-url`, if given: a Citus coordinator's URL. `scale/citus/run -- CMD` sets
/// `DATABASE_URL` for CMD, not for the shell the command line was typed in, so
/// `--database-url "$DATABASE_URL"` there must be expanded by a shell CMD starts.
pub fn coordinator_url(args: &[String]) -> Result<Option<String>> {
    match string_arg(args, "--database-url") {
        Some(url) if !url.starts_with("postgres") => bail!(
            "--database-url {url:?} is not a PostgreSQL URL; under scale/citus/run let its shell expand it: \
             scale/citus/run -- sh -c 'cargo run --release --example bench -- throughput --database-url \"$DATABASE_URL\"'"
        ),
        url => Ok(url),
    }
}

/// One pgbench baseline: its transactions per second, or why it could not run.
pub struct Baseline {
    pub name: &'static str,
    pub tps: Result<f64, String>,
}

/// Everything one run of the benchmark measured on one target.
pub struct Figures {
    pub target: &'static str,
    pub secs: u64,
    pub clients: usize,
    pub text: Arc<Text>,
    pub lengths: String,
    /// Spread, hot chat, read (and spread routed, when asked for).
    pub baselines: Vec<Baseline>,
    pub s1: Outcome,
    pub s2: Outcome,
    pub s3: Outcome,
    pub s4: Outcome,
    pub fixed: Outcome,
    /// Each scenario's (and baseline's) cost per request, with the nodes' names.
    pub costs: Vec<(&'static str, Cost)>,
    pub nodes: Vec<String>,
    pub lag: Samples,
    /// Statements the lag probe ran during S1 (they are in S1's costs).
    pub probes: u64,
    pub depths: Vec<(f64, i64)>,
    pub drain: Duration,
    pub rss: f64,
    pub soak: Option<(Outcome, Vec<String>)>,
    pub verified: String,
    pub service_log: Summary,
    pub node_logs: Vec<(String, Summary)>,
}

/// Runs the baselines (with `routed`, the routed form of the spread one too) and every scenario
/// against `target` (`soak_secs` 0: no soak).
pub async fn measure(target: &Target, args: &[String], soak_secs: u64, routed: bool) -> Result<Figures> {
    let secs = arg(args, "--seconds", 10);
    let clients = arg(args, "--clients", 16) as usize;
    let senders = arg(args, "--senders", 0);
    let duration = Duration::from_secs(secs);
    let mut costs = Vec::new();

    // Baselines: the naive SQL through pgbench, same server, same concurrency.
    let baselines = baselines(target, clients, secs, routed, &mut costs).await?;

    // The service on a fresh database.
    let db = target.fresh("bench_throughput").await?;
    let port = free_port();
    let log = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/bench-data"))
        .join(format!("service-{}.log", target.label().replace(' ', "-")));
    std::fs::create_dir_all(log.parent().unwrap())?;
    let nodes = Nodes::find(&db, 0).await?;
    let service = Service::start_logged(&target.url("bench_throughput"), port, &[], Some(&log)).await?;
    let nodes = nodes.with_service(service.child.id());
    let marks = nodes.log_marks();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let tokens = setup(addr).await?;
    let app_ids = app_ids(&db, &tokens).await?;
    let book = Arc::new(Book {
        tokens: tokens.clone(),
        accepted: Mutex::new(Vec::new()),
        latest: Mutex::new(None),
    });
    let vocab = Arc::new(Text::choose(args, || Vocabulary::new(5_000, 7))?);
    let lengths = vocab.sample_lengths(7).line();

    // The background (workers polling, upkeep) with no requests: CPU per second, for `compare`.
    wait_drained(&db).await?;
    let start = nodes.read().await?;
    tokio::time::sleep(IDLE).await;
    costs.push(("idle", nodes.cost(&start, 1).await?));

    // S1: creates spread over 1,000 chats in 10 applications, with the lag probe and depth sampler.
    let start = nodes.read().await?;
    let running = Arc::new(AtomicBool::new(true));
    let probe = tokio::spawn(lag_probe(db.clone(), app_ids.clone(), book.clone(), running.clone()));
    let depth = tokio::spawn(depth_sampler(db.clone(), running.clone()));
    let s1 = {
        let (tokens, vocab, book) = (tokens.clone(), vocab.clone(), book.clone());
        closed_loop(
            addr,
            clients,
            duration,
            move |client, seq| {
                let mut rng = Rng::new((client as u64) << 32 | seq);
                let app = rng.below(APPS);
                let chat = 1 + rng.below(CHATS_PER_APP);
                let body = vocab.message(&mut rng);
                match senders {
                    0 => create(&tokens[app], chat as i64, &body),
                    n => create_as(&tokens[app], chat as i64, &body, &format!("u{}", rng.below(n as usize))),
                }
            },
            move |call, answer, at| book.record(call, answer, at),
        )
        .await?
    };
    running.store(false, Ordering::Relaxed);
    let (lag, probes) = probe.await??;
    let depths = depth.await??;
    let drain = wait_drained(&db).await?;
    costs.push(("S1", nodes.cost(&start, answered(&s1)).await?));
    progress(target, "S1");

    // S2: creates all in one chat.
    let start = nodes.read().await?;
    let s2 = {
        let (tokens, vocab, book) = (tokens.clone(), vocab.clone(), book.clone());
        closed_loop(
            addr,
            clients,
            duration,
            move |client, seq| {
                if vocab.is_real() {
                    create(
                        &tokens[0],
                        1,
                        &vocab.message(&mut Rng::new((client as u64) << 32 | seq | 1 << 60)),
                    )
                } else {
                    create(&tokens[0], 1, &format!("hot chat message {client}-{seq}"))
                }
            },
            move |call, answer, at| book.record(call, answer, at),
        )
        .await?
    };
    wait_drained(&db).await?;
    costs.push(("S2", nodes.cost(&start, answered(&s2)).await?));
    progress(target, "S2");

    // S3: random single-message reads.
    let written: Arc<Vec<Accepted>> = Arc::new(book.accepted.lock().unwrap().clone());
    let start = nodes.read().await?;
    let s3 = {
        let (tokens, written) = (tokens.clone(), written.clone());
        closed_loop(
            addr,
            clients,
            duration,
            move |client, seq| {
                let a = &written[Rng::new((client as u64) << 32 | seq).below(written.len())];
                get(&format!(
                    "/api/applications/{}/chats/{}/messages/{}",
                    tokens[a.app], a.chat, a.number
                ))
            },
            |_, _, _| {},
        )
        .await?
    };
    costs.push(("S3", nodes.cost(&start, answered(&s3)).await?));
    progress(target, "S3");

    // S4: 80% reads, 15% creates, 5% searches.
    let start = nodes.read().await?;
    let s4 = {
        let (tokens, written, vocab, book) = (tokens.clone(), written.clone(), vocab.clone(), book.clone());
        closed_loop(
            addr,
            clients,
            duration,
            move |client, seq| {
                let mut rng = Rng::new((client as u64) << 32 | seq | 1 << 63);
                let roll = rng.below(100);
                if roll < 80 {
                    let a = &written[rng.below(written.len())];
                    get(&format!(
                        "/api/applications/{}/chats/{}/messages/{}",
                        tokens[a.app], a.chat, a.number
                    ))
                } else if roll < 95 {
                    let chat = 1 + rng.below(CHATS_PER_APP) as i64;
                    create(&tokens[rng.below(APPS)], chat, &vocab.message(&mut rng))
                } else {
                    let chat = 1 + rng.below(CHATS_PER_APP);
                    let word = vocab.word(&mut rng);
                    get(&format!(
                        "/api/applications/{}/chats/{chat}/messages?query={}",
                        tokens[rng.below(APPS)],
                        encode(&word)
                    ))
                }
            },
            move |call, answer, at| book.record(call, answer, at),
        )
        .await?
    };
    wait_drained(&db).await?;
    costs.push(("S4", nodes.cost(&start, answered(&s4)).await?));
    progress(target, "S4");

    // 1,000 creates/s at a fixed rate.
    let start = nodes.read().await?;
    let fixed = {
        let (tokens, vocab, book) = (tokens.clone(), vocab.clone(), book.clone());
        fixed_rate(
            addr,
            clients,
            1000,
            duration,
            move |_, seq| {
                let mut rng = Rng::new(seq | 1 << 62);
                create(
                    &tokens[rng.below(APPS)],
                    1 + rng.below(CHATS_PER_APP) as i64,
                    &vocab.message(&mut rng),
                )
            },
            move |call, answer, at| book.record(call, answer, at),
        )
        .await?
    };
    wait_drained(&db).await?;
    costs.push(("1,000/s", nodes.cost(&start, answered(&fixed)).await?));
    progress(target, "the fixed rate");
    // Soak: S1's load for longer, watching the job table's size and the dequeue time.
    let soak = match soak_secs {
        0 => None,
        _ => Some(soak(&db, addr, clients, soak_secs, &tokens, &vocab, &book).await?),
    };
    let rss = service.peak_rss_mb();
    wait_drained(&db).await?;
    let accepted = book.accepted.lock().unwrap().clone();
    let verified = verify(&db, &app_ids, &accepted).await?;
    drop(service);
    Ok(Figures {
        target: target.label(),
        secs,
        clients,
        text: vocab,
        lengths,
        baselines,
        s1,
        s2,
        s3,
        s4,
        fixed,
        costs,
        nodes: nodes.nodes.iter().map(|n| n.name.clone()).collect(),
        lag,
        probes,
        depths,
        drain,
        rss,
        soak,
        verified,
        service_log: logs::service(&logs::tail(&log, 0)),
        node_logs: nodes.log_errors(&marks),
    })
}

/// Tells the terminal how far a run is (the report comes at the end).
fn progress(target: &Target, done: &str) {
    eprintln!("throughput on {}: {done} done", target.label());
}

/// Requests answered with a success.
fn answered(o: &Outcome) -> u64 {
    o.latencies.0.len() as u64 - o.errors
}

/// S1's load for `secs`, sampling the job table every 5 s.
async fn soak(
    db: &Db,
    addr: SocketAddr,
    clients: usize,
    secs: u64,
    tokens: &[String],
    vocab: &Arc<Text>,
    book: &Arc<Book>,
) -> Result<(Outcome, Vec<String>)> {
    let running = Arc::new(AtomicBool::new(true));
    let sampler = tokio::spawn(hygiene_sampler(db.clone(), running.clone()));
    let (tokens, vocab, book) = (tokens.to_vec(), vocab.clone(), book.clone());
    let load = closed_loop(
        addr,
        clients,
        Duration::from_secs(secs),
        move |client, seq| {
            let mut rng = Rng::new((client as u64) << 32 | seq | 1 << 61);
            create(
                &tokens[rng.below(APPS)],
                1 + rng.below(CHATS_PER_APP) as i64,
                &vocab.message(&mut rng),
            )
        },
        move |call, answer, at| book.record(call, answer, at),
    )
    .await?;
    running.store(false, Ordering::Relaxed);
    Ok((load, sampler.await??))
}

/// The pgbench baselines on `target`, each with its cost in `costs`.
async fn baselines(
    target: &Target,
    clients: usize,
    secs: u64,
    routed: bool,
    costs: &mut Vec<(&'static str, Cost)>,
) -> Result<Vec<Baseline>> {
    let base_db = target.fresh("bench_pgbench").await?;
    seed_baseline(&base_db).await?;
    let nodes = Nodes::find(&base_db, 0).await?;
    let url = target.url("bench_pgbench");
    let mut out = Vec::new();
    for (name, script) in [
        ("pgbench spread", NAIVE_SPREAD),
        ("pgbench hot", NAIVE_HOT),
        ("pgbench read", NAIVE_READ),
        ("pgbench spread, routed", ROUTED_SPREAD),
    ]
    .into_iter()
    .take(if routed { 4 } else { 3 })
    {
        let start = nodes.read().await?;
        let tps = pgbench(&url, script, clients, secs).map_err(|e| e.to_string());
        if let Ok(tps) = tps {
            costs.push((name, nodes.cost(&start, (tps * secs as f64) as u64).await?));
        }
        out.push(Baseline { name, tps });
        progress(target, name);
    }
    target.discard("bench_pgbench").await?;
    Ok(out)
}

/// The single-node report (the section this benchmark always wrote).
fn report_single(args: &[String], f: &Figures) -> Result<()> {
    let (secs, clients, vocab) = (f.secs, f.clients, &f.text);
    let senders = arg(args, "--senders", 0);
    let soak_secs = arg(args, "--soak", 60);
    let tps = |b: &Baseline| b.tps.clone().unwrap_or(f64::NAN);
    let row = |name: &str, o: &Outcome, base: Option<(f64, &str)>, target: &str| {
        let (base_s, ratio) = match base {
            Some((b, label)) => (format!("{b:.0} ({label})"), format!("{:.2}×", o.throughput() / b)),
            None => ("–".into(), "–".into()),
        };
        format!(
            "| {name} | {} | {} | {:.0} | {:.2} | {:.2} | {base_s} | {ratio} | {target} |\n",
            o.latencies.0.len(),
            o.errors,
            o.throughput(),
            o.latencies.pct(50.0),
            o.latencies.pct(99.0),
        )
    };
    let max_depth = f.depths.iter().map(|d| d.1).max().unwrap_or(0);
    let series: Vec<String> = f
        .depths
        .iter()
        .step_by(2)
        .map(|(t, d)| format!("{t:.1}s:{d}"))
        .collect();
    let (soak, soak_series) = match &f.soak {
        Some((o, s)) => (o, s.join("; ")),
        None => (&Outcome::default(), "not run".to_owned()),
    };
    report(&format!(
        "\n## Throughput\n\nCommand: `cargo run --release --example bench -- throughput --seconds {secs} --clients {clients}{}{}` ({})\n\n\
         Message bodies: {}; {}.\n\n\
         pgbench baselines run the naive SQL (one transaction per message: counter `UPDATE … RETURNING`\n\
         and job `INSERT` in one statement; one indexed read) with {clients} clients, `-M prepared`,\n\
         default durability, against the same server. HTTP scenarios use {clients} keep-alive\n\
         connections from the benchmark's own load generator on 127.0.0.1, {secs} s each, against the\n\
         release binary with default settings (workers, listener and cleaner running).\n\n\
         | scenario | requests | errors | req/s | p50 ms | p99 ms | pgbench baseline (tps) | ratio | target |\n\
         |---|---|---|---|---|---|---|---|---|\n{}{}{}{}{}\n\
         Queue lag during S1 (201 → row in `messages`, {} samples): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n\
         (target p99 ≤ 100 ms). Queue depth during S1 (jobs, every 0.5 s): max {max_depth}; {}.\n\
         Queue drained {:.1} s after S1 ended.\n\n\
         Peak RSS of the service: {:.0} MB (target ≤ 150 MB).\n\n\
         Soak: S1's load for {soak_secs} s ({} creates, {:.0}/s); every 5 s the job table's size\n\
         (heap + indexes + TOAST), its depth, and the time to dequeue a batch (the workers' claim\n\
         statement, rolled back): {soak_series}.\n\n\
         Verification: {}\n",
        vocab.flag(),
        if senders > 0 { format!(" --senders {senders}") } else { String::new() },
        machine(),
        if vocab.is_real() {
            format!("S1, S2, S4 and the fixed rate: {}", vocab.describe())
        } else {
            "S1, S4 and the fixed rate: synthetic text (a 5,000-word Zipf vocabulary); S2: \"hot chat message N-M\"".to_owned()
        },
        f.lengths,
        row("S1 create, 1,000 chats", &f.s1, Some((tps(&f.baselines[0]), "spread")), "≥ 1.0×, p99 ≤ 25 ms"),
        row("S2 create, one chat", &f.s2, Some((tps(&f.baselines[1]), "hot chat")), "≥ 3×"),
        row("S3 read one message", &f.s3, Some((tps(&f.baselines[2]), "read")), "≥ 0.7×"),
        row("S4 80% read / 15% create / 5% search", &f.s4, None, ""),
        row("1,000 creates/s, fixed rate", &f.fixed, None, "p99 ≤ 10 ms"),
        f.lag.0.len(),
        f.lag.pct(50.0),
        f.lag.pct(99.0),
        f.lag.pct(100.0),
        series.join(" "),
        f.drain.as_secs_f64(),
        f.rss,
        soak.latencies.0.len(),
        soak.throughput(),
        f.verified,
    ))
}

pub const NAIVE_SPREAD: &str = "\\set c random(0, 999)
WITH c AS (UPDATE chat_counters SET last_message_number = last_message_number + 1
           WHERE application_id = 1 + :c / 100 AND chat_number = 1 + :c % 100
           RETURNING application_id, chat_number, last_message_number)
INSERT INTO jobs (application_id, chat_number, message_number, body)
SELECT application_id, chat_number, last_message_number, 'a naive message of a typical length' FROM c;
";
const NAIVE_HOT: &str = "WITH c AS (UPDATE chat_counters SET last_message_number = last_message_number + 1
           WHERE application_id = 1 AND chat_number = 1
           RETURNING application_id, chat_number, last_message_number)
INSERT INTO jobs (application_id, chat_number, message_number, body)
SELECT application_id, chat_number, last_message_number, 'a naive message of a typical length' FROM c;
";
/// `NAIVE_SPREAD` as two statements in one transaction (four round trips: `BEGIN`, the
/// counter's `UPDATE … RETURNING` into a variable, the job's `INSERT … VALUES`, `COMMIT`), each of
/// which Citus routes to one shard as it is; the one-statement form's `INSERT … SELECT` from a
/// modifying CTE is planned in three steps through the coordinator there.
const ROUTED_SPREAD: &str = "\\set c random(0, 999)
\\set a 1 + :c / 100
\\set n 1 + :c % 100
BEGIN;
UPDATE chat_counters SET last_message_number = last_message_number + 1
WHERE application_id = :a AND chat_number = :n RETURNING last_message_number AS m \\gset
INSERT INTO jobs (application_id, chat_number, message_number, body)
VALUES (:a, :n, :m, 'a naive message of a typical length');
END;
";
pub const NAIVE_READ: &str = "\\set n random(0, 99999)
SELECT number, body, created_at, updated_at FROM messages
WHERE application_id = 1 AND chat_number = 1 + :n % 100 AND number = 1 + :n / 100;
";

pub async fn seed_baseline(db: &Db) -> Result<()> {
    db.client()
        .await?
        .batch_execute(
            "INSERT INTO applications (id, token, name) OVERRIDING SYSTEM VALUE
               SELECT i, gen_random_uuid(), 'b' || i FROM generate_series(1, 10) i;
             INSERT INTO chat_counters (application_id, chat_number)
               SELECT a, c FROM generate_series(1, 10) a, generate_series(1, 100) c;
             INSERT INTO chats (application_id, number, created_at, updated_at)
               SELECT a, c, now(), now() FROM generate_series(1, 10) a, generate_series(1, 100) c;
             INSERT INTO messages (application_id, chat_number, number, body, created_at, updated_at)
               SELECT 1, c, n, 'seed message ' || n, now(), now() FROM generate_series(1, 100) c, generate_series(1, 1000) n;",
        )
        .await?;
    let client = db.client().await?;
    client.batch_execute("VACUUM ANALYZE").await?;
    Ok(())
}

/// Runs pgbench with `script`; returns its transactions per second.
pub fn pgbench(url: &str, script: &str, clients: usize, secs: u64) -> Result<f64> {
    let bin = chat_system::cluster::find_bin_dir(None)?;
    let path = std::env::temp_dir().join(format!("bench-{}.sql", std::process::id()));
    std::fs::write(&path, script)?;
    let out = Command::new(bin.join("pgbench"))
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &secs.to_string(),
            "-f",
        ])
        .arg(&path)
        .arg(url)
        .output()
        .context("running pgbench")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let tps = text
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok());
    match tps {
        Some(tps) => Ok(tps),
        None => bail!("pgbench failed: {text}{}", String::from_utf8_lossy(&out.stderr)),
    }
}

/// A message creation by `sender`.
fn create_as(token: &str, chat: i64, body: &str, sender: &str) -> Call {
    Call {
        body: Some(json!({ "body": body, "sender": sender }).to_string()),
        ..create(token, chat, body)
    }
}

pub fn create(token: &str, chat: i64, body: &str) -> Call {
    Call {
        method: Method::POST,
        path: format!("/api/applications/{token}/chats/{chat}/messages"),
        body: Some(json!({ "body": body }).to_string()),
    }
}

pub fn get(path: &str) -> Call {
    Call {
        method: Method::GET,
        path: path.to_owned(),
        body: None,
    }
}

/// Creates the applications and chats through the API; returns the tokens.
pub async fn setup(addr: SocketAddr) -> Result<Vec<String>> {
    let mut conn = Conn::open(addr).await?;
    let mut tokens = Vec::new();
    for i in 0..APPS {
        let call = Call {
            method: Method::POST,
            path: "/api/applications".into(),
            body: Some(json!({"name": format!("bench {i}")}).to_string()),
        };
        let v: Value = serde_json::from_slice(&conn.send(&call).await?.body)?;
        let token = v["token"].as_str().unwrap().to_owned();
        for _ in 0..CHATS_PER_APP {
            let call = Call {
                method: Method::POST,
                path: format!("/api/applications/{token}/chats"),
                body: None,
            };
            assert_eq!(conn.send(&call).await?.status, 201);
        }
        tokens.push(token);
    }
    Ok(tokens)
}

async fn app_ids(db: &Db, tokens: &[String]) -> Result<Vec<i64>> {
    let client = db.client().await?;
    let mut ids = Vec::new();
    for t in tokens {
        let token: uuid::Uuid = t.parse()?;
        ids.push(
            client
                .query_one("SELECT id FROM applications WHERE token = $1", &[&token])
                .await?
                .get(0),
        );
    }
    Ok(ids)
}

/// Samples the lag from a 201 to the row being readable in `messages`, about every 10 ms.
/// Also returns how many statements it ran.
async fn lag_probe(db: Db, app_ids: Vec<i64>, book: Arc<Book>, running: Arc<AtomicBool>) -> Result<(Samples, u64)> {
    let client = db.client().await?;
    let stmt = client
        .prepare("SELECT 1 FROM messages WHERE application_id = $1 AND chat_number = $2 AND number = $3")
        .await?;
    let mut lag = Samples::default();
    let mut last = None;
    let mut probes = 0;
    while running.load(Ordering::Relaxed) {
        let latest = *book.latest.lock().unwrap();
        if let Some((acked, app, chat, number)) = latest {
            if last != Some((app, chat, number)) {
                last = Some((app, chat, number));
                while {
                    probes += 1;
                    client
                        .query_opt(&stmt, &[&app_ids[app], &chat, &number])
                        .await?
                        .is_none()
                } {
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
                lag.push(acked.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok((lag, probes))
}

/// Samples the queue depth every 0.5 s.
async fn depth_sampler(db: Db, running: Arc<AtomicBool>) -> Result<Vec<(f64, i64)>> {
    let client = db.client().await?;
    let started = Instant::now();
    let mut out = Vec::new();
    while running.load(Ordering::Relaxed) {
        let n: i64 = client.query_one("SELECT count(*) FROM jobs", &[]).await?.get(0);
        out.push((started.elapsed().as_secs_f64(), n));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(out)
}

/// Every 5 s: the job table's total size, its depth, and how long the claim statement takes.
pub async fn hygiene_sampler(db: Db, running: Arc<AtomicBool>) -> Result<Vec<String>> {
    let mut client = db.client().await?;
    let started = Instant::now();
    let mut out = Vec::new();
    while running.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let row = client
            .query_one(
                "SELECT pg_total_relation_size('jobs'), (SELECT count(*) FROM jobs),
                        pg_relation_size('jobs'), pg_indexes_size('jobs'),
                        (SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'jobs'),
                        (SELECT coalesce(max(age(backend_xmin)), 0) FROM pg_stat_activity),
                        (SELECT left(query, 60) FROM pg_stat_activity WHERE backend_xmin IS NOT NULL
                          ORDER BY age(backend_xmin) DESC LIMIT 1)",
                &[],
            )
            .await?;
        let (size, depth, heap, indexes): (i64, i64, i64, i64) = (row.get(0), row.get(1), row.get(2), row.get(3));
        let (dead, horizon, holder): (i64, i32, Option<String>) = (row.get(4), row.get(5), row.get(6));
        if std::env::var_os("BENCH_VERBOSE").is_some() {
            println!("dead {dead}, xmin age {horizon}, oldest: {holder:?}");
        }
        let tx = client.transaction().await?;
        let t = Instant::now();
        tx.query(include_str!("../../src/write/sql/jobs_claim.sql"), &[&500i64])
            .await?;
        let dequeue = t.elapsed();
        tx.rollback().await?;
        out.push(format!(
            "{:.0}s: {} kB (heap {} kB, indexes {} kB), {depth} jobs, dequeue {:.2} ms",
            started.elapsed().as_secs_f64(),
            size / 1024,
            heap / 1024,
            indexes / 1024,
            dequeue.as_secs_f64() * 1000.0
        ));
    }
    Ok(out)
}

/// Waits until the queue is empty; returns how long that took.
pub async fn wait_drained(db: &Db) -> Result<Duration> {
    let client = db.client().await?;
    let started = Instant::now();
    loop {
        let n: i64 = client.query_one("SELECT count(*) FROM jobs", &[]).await?.get(0);
        if n == 0 {
            return Ok(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("queue still holds {n} jobs after 120 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Checks that every 201 is in the database exactly once with its body, numbers are contiguous
/// per chat, and counts match the rows.
async fn verify(db: &Db, app_ids: &[i64], accepted: &[Accepted]) -> Result<String> {
    let client = db.client().await?;
    let rows = client
        .query("SELECT application_id, chat_number, number, body FROM messages", &[])
        .await?;
    let mut stored: HashMap<(i64, i64, i64), String> = HashMap::with_capacity(rows.len());
    for r in &rows {
        if stored.insert((r.get(0), r.get(1), r.get(2)), r.get(3)).is_some() {
            bail!("duplicate message row");
        }
    }
    let mut seen = std::collections::HashSet::new();
    for a in accepted {
        let key = (app_ids[a.app], a.chat, a.number);
        if !seen.insert(key) {
            bail!("number {key:?} was given to two 201s");
        }
        match stored.get(&key) {
            Some(body) if *body == a.body => {}
            Some(_) => bail!("message {key:?} has another body than its 201"),
            None => bail!("message {key:?} answered 201 but is not in the database"),
        }
    }
    if stored.len() != accepted.len() {
        bail!("{} rows in messages but {} 201s", stored.len(), accepted.len());
    }
    let gaps: i64 = client
        .query_one("SELECT count(*) FROM (SELECT chat_number FROM messages GROUP BY application_id, chat_number HAVING max(number) <> count(*)) g", &[])
        .await?
        .get(0);
    let wrong_counts: i64 = client
        .query_one(
            "SELECT count(*) FROM chats c LEFT JOIN (SELECT application_id, chat_number, count(*) n FROM messages GROUP BY 1, 2) m
               ON m.application_id = c.application_id AND m.chat_number = c.number
             WHERE c.messages_count <> coalesce(m.n, 0)",
            &[],
        )
        .await?
        .get(0);
    if gaps > 0 || wrong_counts > 0 {
        bail!("{gaps} chats with gaps in their numbers, {wrong_counts} chats with a wrong messages_count");
    }
    Ok(format!(
        "all {} 201s found exactly once with their bodies; no other rows; numbers contiguous in every chat; every messages_count correct.",
        accepted.len()
    ))
}
