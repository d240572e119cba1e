//! Issue 3's search benchmark: a 10M-message dataset (one chat of 1M) loaded with COPY and kept
//! between runs; p50/p95/p99 per query shape through HTTP and through the same SQL called
//! directly; index sizes; and the workers' write rate with and without the search indexes.
//!
//! With `--text real` the dataset is real text (`corpus`), kept in a database of its own beside the
//! synthetic one; the queries are drawn from its vocabulary (`queries`). Each dataset's message
//! lengths are reported, and the answers of a sample of queries are checked by `oracle`.
//!
//! `cargo run --release --example bench -- search [--text synthetic|real] [--messages N] [--rebuild] [--build-only] [--runs N] [--diagnose]`
//!
//! With `--database-url <Citus coordinator>`, the dataset is built and searched on the single
//! node and on that Citus cluster in one run, reported side by side (`compare_search`).

use std::{collections::HashSet, path::PathBuf, sync::Arc, time::Instant};

use anyhow::Result;
use bytes::Bytes;
use chat_system::{
    search::{fold_str, keys},
    store::Db,
};
use futures::SinkExt;
use uuid::Uuid;

use crate::{
    dataset::{Rng, Vocabulary},
    env::{free_port, Env, Service},
    indexes::{index_sizes, write_rates},
    lengths::{Lengths, Summary},
    logs,
    nodes::{Cost, Nodes},
    oracle, queries,
    stats::{machine, report},
    target::Target,
    text::Text,
    timing::{diagnose, rows, shapes, time_shapes, Timed},
};

const DB: &str = "bench_search";
const VOCAB: usize = 50_000;
const SEED: u64 = 42;
const APPS: i64 = 100;
const CHATS_PER_APP: i64 = 90;
/// The dataset's size unless `--messages` says otherwise.
const DEFAULT_MESSAGES: i64 = 10_000_000;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// A dataset ready to be searched.
pub struct Dataset {
    pub name: String,
    pub total: i64,
    pub big: i64,
    pub text: Arc<Text>,
    pub db: Db,
    pub big_token: Uuid,
    pub small_token: Uuid,
    pub shapes: Vec<queries::Shape>,
    /// The dataset's message lengths, for the report.
    pub lengths: String,
}

impl Dataset {
    /// The two chats searched, the big one first, with their labels.
    pub fn chats(&self) -> [(String, Uuid); 2] {
        let small = (self.total - self.big) / (APPS * CHATS_PER_APP);
        [
            (format!("big ({})", count(self.big)), self.big_token),
            (format!("small ({})", count(small)), self.small_token),
        ]
    }
}

/// The dataset `args` name on `target`, built first when it is not there (or `--rebuild`).
pub async fn dataset(target: &Target, args: &[String]) -> Result<Dataset> {
    let total: i64 = arg(args, "--messages").map_or(DEFAULT_MESSAGES, |v| v.parse().unwrap());
    let big = total / 10;
    let text = Arc::new(Text::choose(args, || Vocabulary::new(VOCAB, SEED))?);
    let name = dataset_name(&text, total);
    if args.iter().any(|a| a == "--rebuild") || !ready(target, &name, total).await? {
        build(target, &name, &text, total, big).await?;
    }
    let db = target.db(&name).await?;
    let client = db.client().await?;
    let meta = |k: &'static str| meta(&client, k);
    let big_token: Uuid = meta("big_token").await?.parse()?;
    let small_token: Uuid = meta("small_token").await?.parse()?;
    let shapes = match &*text {
        Text::Synthetic(vocab) => shapes(vocab),
        Text::Real(corpus) => queries::shapes(corpus, big),
    };
    // Counted as the dataset was built; a dataset built before that was counted is sampled.
    let lengths = match meta("lengths").await.ok().and_then(|l| Summary::decode(&l)) {
        Some(exact) => exact.line(),
        None => format!("{} (a sample)", text.sample_lengths(1000).line()),
    };
    drop(client);
    Ok(Dataset {
        name,
        total,
        big,
        text,
        db,
        big_token,
        small_token,
        shapes,
        lengths,
    })
}

/// What searching a dataset through the service measured.
pub struct Searched {
    pub timed: Vec<Timed>,
    pub cost: Option<Cost>,
    /// The background's cost per second, measured before (see `Cost::net_node_us`).
    pub idle: Option<Cost>,
    /// The oracle's verdicts, or why it could not run.
    pub oracle: Result<oracle::Verdicts, String>,
    pub service_log: logs::Summary,
    pub node_logs: Vec<(String, logs::Summary)>,
}

/// Times the shapes through the service (its workers off) and runs the oracle; with `measured`,
/// also each node's cost of the timed searches, and the errors logged meanwhile.
pub async fn search(target: &Target, d: &Dataset, runs: usize, measured: bool) -> Result<Searched> {
    let nodes = match measured {
        true => Some(Nodes::find(&d.db, 0).await?),
        false => None,
    };
    let log = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/bench-data"))
        .join(format!("service-search-{}.log", target.label().replace(' ', "-")));
    let service = Service::start_logged(&target.url(&d.name), free_port(), &[("WORKERS", "0")], Some(&log)).await?;
    let nodes = nodes.map(|n| n.with_service(service.child.id()));
    let marks = nodes.as_ref().map(|n| n.log_marks()).unwrap_or_default();
    let chats = d.chats();
    let tokens = [(chats[0].0.as_str(), chats[0].1), (chats[1].0.as_str(), chats[1].1)];
    // The background's cost (upkeep; the queue workers are off) with no searches, per second.
    let idle = match &nodes {
        Some(nodes) => {
            let start = nodes.read().await?;
            tokio::time::sleep(crate::throughput::IDLE).await;
            Some(nodes.cost(&start, 1).await?)
        }
        None => None,
    };
    let (timed, cost) = time_shapes(&d.db, &service.base, &d.shapes, tokens, runs, nodes.as_ref()).await?;
    let oracle = oracle::check(
        &d.db,
        &service.base,
        &d.shapes,
        &[("small", d.small_token, true), ("big", d.big_token, false)],
    )
    .await
    .map_err(|e| e.to_string());
    drop(service);
    Ok(Searched {
        timed,
        cost,
        idle,
        oracle,
        service_log: logs::service(&logs::tail(&log, 0)),
        node_logs: nodes.map(|n| n.log_errors(&marks)).unwrap_or_default(),
    })
}

pub async fn run(args: &[String]) -> Result<()> {
    if let Some(url) = crate::throughput::coordinator_url(args)? {
        return crate::compare_search::run(args, &url).await;
    }
    let runs: usize = arg(args, "--runs").map_or(60, |v| v.parse().unwrap());
    let env = Env::start()?;
    let target = Target::Single(env);
    let d = dataset(&target, args).await?;
    if args.iter().any(|a| a == "--build-only") {
        return Ok(());
    }
    if args.iter().any(|a| a == "--diagnose") {
        return diagnose(&d.db, &d.shapes, d.big_token).await;
    }
    let searched = search(&target, &d, runs, false).await?;
    let (rows, misses) = rows(&searched.timed);
    let oracle = searched.oracle.map_err(anyhow::Error::msg)?;
    let Target::Single(env) = &target else {
        unreachable!("the single node")
    };
    let sizes = index_sizes(&d.db).await?;
    let writes = write_rates(env, &d.text).await?;
    let (total, big, text, lengths) = (d.total, d.big, &d.text, &d.lengths);
    report(&format!(
        "\n## Search ({total} messages, one chat of {big}{})\n\n\
         Command: `cargo run --release --example bench -- search{}` ({})\n\n\
         Dataset: {APPS} applications, {} chats; the big chat holds {big} messages interleaved with the\n\
         others' (as they would arrive). {}\n\
         Lengths: {lengths}.\n\
         Each shape rotates over up to 10 queries of that shape; {runs} timed runs after 5 warm-ups,\n\
         one client, `limit=20`. *HTTP* is the service end to end (release build, 127.0.0.1);\n\
         *SQL* is the same statements run directly through the library's `search::fetch`\n\
         (no HTTP, no JSON, no snippets), so the difference is the service's own overhead.\n\
         *hits*: every hit of the shape's first query in the whole chat, counted by the database in\n\
         one statement under the oracle's definition of a match (`oracle::count`).\n\n\
         | shape | example query | chat | order | hits (first query) | HTTP p50 / p95 / p99 ms | SQL p50 / p95 / p99 ms |\n\
         |---|---|---|---|---|---|---|\n{rows}\n\
         Target (big chat, newest 20): p95 ≤ 50 ms and p99 ≤ 200 ms. Missed: {}.\n\n{}\n{sizes}\n{writes}",
        if text.is_real() { ", real text" } else { "" },
        args.iter().map(|a| format!(" {a}")).collect::<String>(),
        machine(),
        APPS * CHATS_PER_APP + 1,
        describe(text),
        if misses.is_empty() { "none".to_owned() } else { misses.join(", ") },
        oracle.report(),
    ))
}

/// The database holding the dataset of `total` messages of `text`: the default 10M-message
/// dataset keeps the name it always had (so a dataset built earlier is reused), any other size
/// gets one of its own. One name for every size made a `--messages 200000` run drop and rebuild
/// the 10M dataset (about 10 minutes plus its indexes), and the next 10M run rebuild it again.
fn dataset_name(text: &Text, total: i64) -> String {
    let base = text.database(DB);
    if total == DEFAULT_MESSAGES {
        base
    } else {
        format!("{base}_{total}")
    }
}

/// `n` for a chat's label: 1M, 20k, 22.
fn count(n: i64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 => format!("{}k", (n + 500) / 1_000),
        n => n.to_string(),
    }
}

/// A value kept with the dataset.
async fn meta(client: &tokio_postgres::Client, key: &str) -> Result<String> {
    let row = client
        .query_one("SELECT value FROM bench_meta WHERE key = $1", &[&key])
        .await?;
    Ok(row.get(0))
}

/// The report's sentence about the dataset's text.
pub fn describe(text: &Text) -> String {
    match text {
        Text::Synthetic(_) => format!(
            "Text: words from a {VOCAB}-word vocabulary drawn from a Zipf\n\
             distribution (s = 1.05), 1–60 words per message, ~4% accented words, occasional emoji."
        ),
        Text::Real(_) => format!(
            "Text: {}. Queries: each shape's from the corpus's own\n\
             vocabulary (expected frequencies per message).",
            text.describe()
        ),
    }
}

async fn ready(target: &Target, name: &str, total: i64) -> Result<bool> {
    if !target.has_database(name).await? {
        return Ok(false);
    }
    let client = target.db(name).await?.client().await?;
    // Built for this schema: with the search keys and the dictionary of V19.
    let row = client
        .query_opt(
            "SELECT value FROM bench_meta WHERE key = 'messages'
               AND EXISTS (SELECT 1 FROM bench_meta WHERE key = 'schema' AND value = 'V19 keys')",
            &[],
        )
        .await
        .ok()
        .flatten();
    Ok(row.is_some_and(|r| r.get::<_, String>(0) == total.to_string()))
}

/// Builds the dataset: COPY without the search indexes, then build them.
async fn build(target: &Target, name: &str, text: &Arc<Text>, total: i64, big: i64) -> Result<()> {
    let started = Instant::now();
    println!(
        "building the search dataset {name} on the {}: {total} messages (kept for later runs)…",
        target.label()
    );
    let db = target.fresh(name).await?;
    let client = db.client().await?;
    // One statement at a time: Citus sends a DDL statement on to the workers as the text it came
    // in, and refuses a text of several there ("cannot insert multiple commands into a prepared
    // statement").
    for sql in [
        "DROP INDEX messages_search_keys",
        "DROP INDEX messages_unkeyed",
        "DROP INDEX search_words_trgm",
        "CREATE TABLE bench_meta (key text PRIMARY KEY, value text NOT NULL)",
    ] {
        client.batch_execute(sql).await?;
    }
    let big_token = Uuid::new_v4();
    let small_token = Uuid::new_v4();
    client
        .execute(
            "INSERT INTO applications (id, token, name) OVERRIDING SYSTEM VALUE
             SELECT i, CASE i WHEN 1 THEN $1 WHEN 2 THEN $2 ELSE gen_random_uuid() END, 'bench app ' || i
             FROM generate_series(1, $3::bigint) i",
            &[&big_token, &small_token, &APPS],
        )
        .await?;

    // Two COPY streams: PostgreSQL computes the generated search columns on both cores.
    let parts = 2;
    let mut tasks = Vec::new();
    for part in 0..parts {
        let (db, text) = (db.clone(), text.clone());
        tasks.push(tokio::spawn(async move {
            copy_part(&db, &text, total, big, part, parts).await
        }));
    }
    let mut lengths = Lengths::default();
    let mut words: HashSet<(i64, String)> = HashSet::new();
    for t in tasks {
        let (part_lengths, part_words) = t.await??;
        lengths.merge(&part_lengths);
        words.extend(part_words);
    }
    copy_words(&client, words).await?;
    println!("  {}", lengths.summary().line());
    println!(
        "  copied in {:.0} s; building indexes…",
        started.elapsed().as_secs_f64()
    );
    client
        .batch_execute(
            "SET maintenance_work_mem = '1GB';
             INSERT INTO chats (application_id, number, messages_count, created_at, updated_at)
               SELECT application_id, chat_number, count(*), min(created_at), max(created_at)
               FROM messages GROUP BY 1, 2;
             INSERT INTO chat_counters (application_id, chat_number, last_message_number)
               SELECT application_id, number, messages_count FROM chats;",
        )
        .await?;
    // Each application's chat count, read first and written by value: Citus updates a reference
    // table (`applications`) from no distributed table in the same statement. On Citus the chat
    // counter is in `app_counters` (V21).
    let counts = client
        .query("SELECT application_id, count(*) FROM chats GROUP BY 1", &[])
        .await?;
    let (ids, ns): (Vec<i64>, Vec<i64>) = counts.iter().map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1))).unzip();
    client
        .execute(
            "UPDATE applications a SET chats_count = c.n, last_chat_number = c.n
             FROM unnest($1::bigint[], $2::bigint[]) c(id, n) WHERE a.id = c.id",
            &[&ids, &ns],
        )
        .await?;
    if target.is_citus() {
        client
            .execute(
                "INSERT INTO app_counters (application_id, last_chat_number, chats_count)
                 SELECT id, n, n FROM unnest($1::bigint[], $2::bigint[]) c(id, n)",
                &[&ids, &ns],
            )
            .await?;
    }
    for (what, sql) in [
        (
            "the keys' GIN",
            "CREATE INDEX messages_search_keys ON messages USING gin (application_id, chat_number, search_keys)
               WITH (fastupdate = on, gin_pending_list_limit = 8192)",
        ),
        (
            "the unkeyed index",
            "CREATE INDEX messages_unkeyed ON messages (application_id, chat_number, number) WHERE search_keys IS NULL",
        ),
        (
            "the dictionary's trigram index",
            "CREATE INDEX search_words_trgm ON search_words USING gin (application_id, word gin_trgm_ops)
               WITH (fastupdate = on, gin_pending_list_limit = 4096)",
        ),
    ] {
        let t = Instant::now();
        client.batch_execute(sql).await?;
        println!("  {what} built in {:.1} s", t.elapsed().as_secs_f64());
    }
    if !target.is_citus() {
        before_v19(&client).await?;
    }
    for sql in ["VACUUM ANALYZE messages", "ANALYZE chats", "ANALYZE applications"] {
        client.batch_execute(sql).await?;
    }
    client
        .execute(
            "INSERT INTO bench_meta VALUES ('big_token', $1), ('small_token', $2), ('messages', $3), ('lengths', $4),
                                           ('schema', 'V19 keys')",
            &[
                &big_token.to_string(),
                &small_token.to_string(),
                &total.to_string(),
                &lengths.summary().encode(),
            ],
        )
        .await?;
    println!("  dataset ready in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// What the structures V19 replaced took on the same data (built, measured, dropped), kept in
/// `bench_meta`. They indexed the folded text of every message; a plain-ASCII body may be stored
/// without it (its folded text is the body lower-cased), so that is what they index then. (Not
/// on Citus: the coordinator's partitions, whose sizes this reads, are empty there.)
async fn before_v19(client: &tokio_postgres::Client) -> Result<()> {
    println!("  measuring the indexes before V19 on the same data…");
    let t = Instant::now();
    client
        .batch_execute(
            r#"SET maintenance_work_mem = '1GB';
             CREATE INDEX bench_before_trgm ON messages
               USING gin (application_id, chat_number, (coalesce(search_text, lower(body COLLATE "C"))) gin_trgm_ops);
             CREATE INDEX bench_before_pairs ON messages
               USING gin (chat_pairs(coalesce(search_text, lower(body COLLATE "C"))));"#,
        )
        .await?;
    let before: i64 = client
        .query_one(
            "SELECT sum(pg_relation_size(p.inhrelid))::bigint FROM pg_inherits p
             WHERE p.inhparent IN ('bench_before_trgm'::regclass, 'bench_before_pairs'::regclass)",
            &[],
        )
        .await?
        .get(0);
    println!("  built in {:.1} s", t.elapsed().as_secs_f64());
    client
        .batch_execute("DROP INDEX IF EXISTS bench_before_trgm; DROP INDEX IF EXISTS bench_before_pairs;")
        .await?;
    client
        .execute(
            "INSERT INTO bench_meta VALUES ('before_v19_index_bytes', $1)",
            &[&before.to_string()],
        )
        .await?;
    Ok(())
}

/// Generates the whole arrival sequence and COPYs every `parts`-th row starting at `part`; the
/// lengths of the rows it wrote.
/// The dictionary's words (V19), as the workers would have added them.
async fn copy_words(client: &tokio_postgres::Client, words: HashSet<(i64, String)>) -> Result<()> {
    let sink = client
        .copy_in("COPY search_words (application_id, word) FROM STDIN")
        .await?;
    futures::pin_mut!(sink);
    let mut buf = String::with_capacity(1 << 20);
    for (app, word) in words {
        buf.push_str(&format!("{app}\t{word}\n"));
        if buf.len() > (1 << 20) - 4096 {
            sink.send(Bytes::from(std::mem::take(&mut buf))).await?;
        }
    }
    sink.send(Bytes::from(buf)).await?;
    sink.finish().await?;
    Ok(())
}

/// COPYs this part's messages, with the search keys the workers would have computed: their
/// lengths and dictionary words.
async fn copy_part(
    db: &Db,
    text: &Text,
    total: i64,
    big: i64,
    part: i64,
    parts: i64,
) -> Result<(Lengths, HashSet<(i64, String)>)> {
    let client = db.client().await?;
    let sink = client
        .copy_in(
            "COPY messages (application_id, chat_number, number, body, created_at, updated_at, search_text, search_keys)
             FROM STDIN",
        )
        .await?;
    let mut dictionary: HashSet<(i64, String)> = HashSet::new();
    futures::pin_mut!(sink);
    let mut arrival = Rng::new(7);
    let mut words = Rng::new(1000 + part as u64);
    let mut lengths = Lengths::default();
    let small_chats = (APPS * CHATS_PER_APP) as usize;
    let mut counters = vec![0i64; small_chats + 1];
    let base = chrono::Utc::now() - chrono::Duration::days(365);
    let mut buf = String::with_capacity(1 << 20);
    for i in 0..total {
        // The big chat gets `big / total` of the arrivals; the rest spread over the small chats.
        let slot = if (arrival.f64() * total as f64) < big as f64 {
            0
        } else {
            1 + arrival.below(small_chats)
        };
        counters[slot] += 1;
        if i % parts != part {
            continue;
        }
        let (app, chat) = if slot == 0 {
            (1, 1)
        } else {
            let s = (slot - 1) as i64;
            let app = 1 + s / CHATS_PER_APP;
            (app, 1 + s % CHATS_PER_APP + i64::from(app == 1))
        };
        let at = (base + chrono::Duration::milliseconds(i * 3)).to_rfc3339();
        let body = text.message(&mut words);
        lengths.add(&body);
        let folded = fold_str(&body);
        let keys: Vec<String> = keys::message_keys(&folded).iter().map(i32::to_string).collect();
        for word in keys::words(&folded) {
            if !dictionary.contains(&(app, word.to_owned())) {
                dictionary.insert((app, word.to_owned()));
            }
        }
        let body = body.replace('\\', "\\\\");
        let folded = folded.replace('\\', "\\\\");
        buf.push_str(&format!(
            "{app}\t{chat}\t{}\t{body}\t{at}\t{at}\t{folded}\t{{{}}}\n",
            counters[slot],
            keys.join(",")
        ));
        if buf.len() > (1 << 20) - 4096 {
            sink.send(Bytes::from(std::mem::take(&mut buf))).await?;
        }
    }
    sink.send(Bytes::from(buf)).await?;
    sink.finish().await?;
    Ok((lengths, dictionary))
}
