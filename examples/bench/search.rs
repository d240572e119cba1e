//! Issue 3's search benchmark: a 10M-message dataset (one chat of 1M) loaded with COPY and kept
//! between runs; p50/p95/p99 per query shape through HTTP and through the same SQL called
//! directly; index sizes; and the workers' write rate with and without the search indexes.
//!
//! `cargo run --release --example bench -- search [--messages N] [--rebuild] [--build-only] [--runs N] [--diagnose]`

use std::time::Instant;

use anyhow::Result;
use bytes::Bytes;
use chat_system::{
    search::{self, SearchOrder, Wanted},
    store::Db,
    write::Worker,
};
use futures::SinkExt;
use uuid::Uuid;

use crate::{
    dataset::{Rng, Vocabulary},
    env::{free_port, Env, Service},
    stats::{encode, machine, report, Samples},
};

const DB: &str = "bench_search";
const VOCAB: usize = 50_000;
const SEED: u64 = 42;
const APPS: i64 = 100;
const CHATS_PER_APP: i64 = 90;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

pub async fn run(args: &[String]) -> Result<()> {
    let total: i64 = arg(args, "--messages").map_or(10_000_000, |v| v.parse().unwrap());
    let runs: usize = arg(args, "--runs").map_or(60, |v| v.parse().unwrap());
    let big = total / 10;
    let env = Env::start()?;
    let vocab = Vocabulary::new(VOCAB, SEED);
    if args.iter().any(|a| a == "--rebuild") || !ready(&env, total).await? {
        build(&env, total, big).await?;
    }
    if args.iter().any(|a| a == "--build-only") {
        return Ok(());
    }
    let db = env.db(DB)?;
    let client = db.client().await?;
    let meta = |k: &'static str| {
        let client = &client;
        async move {
            client
                .query_one("SELECT value FROM bench_meta WHERE key = $1", &[&k])
                .await
                .map(|r| r.get::<_, String>(0))
        }
    };
    let big_token: Uuid = meta("big_token").await?.parse()?;
    if args.iter().any(|a| a == "--diagnose") {
        return diagnose(&db, &vocab, big_token).await;
    }
    let small_token: Uuid = meta("small_token").await?.parse()?;
    drop(client);

    let service = Service::start(&env.url(DB), free_port(), &[("WORKERS", "0")]).await?;
    let http = reqwest::Client::new();
    let mut rows = String::new();
    let mut misses = Vec::new();
    for shape in shapes(&vocab) {
        for (chat_name, token, chat) in [("big (1M)", big_token, 1i64), ("small (1k)", small_token, 1i64)] {
            let hits = count_hits(&db, token, chat, &shape.queries[0]).await?;
            for order in [SearchOrder::Newest, SearchOrder::Relevance] {
                let order_name = if order == SearchOrder::Newest {
                    "newest"
                } else {
                    "relevance"
                };
                let (mut via_http, mut via_sql) = (Samples::default(), Samples::default());
                for i in 0..runs + 5 {
                    let q = &shape.queries[i % shape.queries.len()];
                    let url = format!(
                        "{}/api/applications/{token}/chats/{chat}/messages?limit=20&order={order_name}&query={}",
                        service.base,
                        encode(q)
                    );
                    let start = Instant::now();
                    let r = http.get(&url).send().await?;
                    assert!(r.status().is_success(), "{q}: {}", r.status());
                    let _ = r.bytes().await?;
                    let t_http = start.elapsed();
                    let terms = search::parse(q).unwrap();
                    let start = Instant::now();
                    let score = |body: &str| search::relevance(body, &terms);
                    let wanted = if order == SearchOrder::Newest {
                        newest(21)
                    } else {
                        Wanted {
                            need: search::RELEVANCE_CANDIDATES,
                            offset: 0,
                            limit: 20,
                            rank: Some(&score),
                        }
                    };
                    search::fetch(&db, token, chat, &terms, None, (0, i64::MAX), wanted).await?;
                    let t_sql = start.elapsed();
                    if i >= 5 {
                        via_http.push(t_http);
                        via_sql.push(t_sql);
                    }
                }
                let ok = via_http.pct(95.0) <= 50.0 && via_http.pct(99.0) <= 200.0;
                if chat == 1 && token == big_token && order == SearchOrder::Newest && !ok {
                    misses.push(format!("{} ({})", shape.name, order_name));
                }
                rows.push_str(&format!(
                    "| {} | `{}` | {} | {} | {} | {:.1} / {:.1} / {:.1} | {:.1} / {:.1} / {:.1} |\n",
                    shape.name,
                    shape.queries[0],
                    chat_name,
                    order_name,
                    hits,
                    via_http.pct(50.0),
                    via_http.pct(95.0),
                    via_http.pct(99.0),
                    via_sql.pct(50.0),
                    via_sql.pct(95.0),
                    via_sql.pct(99.0),
                ));
            }
        }
    }
    drop(service);
    let sizes = index_sizes(&db).await?;
    let writes = write_rates(&env, &vocab).await?;
    report(&format!(
        "\n## Search ({total} messages, one chat of {big})\n\n\
         Command: `cargo run --release --example bench -- search` ({})\n\n\
         Dataset: {APPS} applications, {} chats; the big chat holds {big} messages interleaved with the\n\
         others' (as they would arrive). Text: words from a {VOCAB}-word vocabulary drawn from a Zipf\n\
         distribution (s = 1.05), 1–60 words per message, ~4% accented words, occasional emoji.\n\
         Each shape rotates over up to 10 queries of that shape; {runs} timed runs after 5 warm-ups,\n\
         one client, `limit=20`. *HTTP* is the service end to end (release build, 127.0.0.1);\n\
         *SQL* is the same statements run directly through the library's `search::fetch`\n\
         (no HTTP, no JSON, no snippets), so the difference is the service's own overhead.\n\n\
         | shape | example query | chat | order | hits (first query) | HTTP p50 / p95 / p99 ms | SQL p50 / p95 / p99 ms |\n\
         |---|---|---|---|---|---|---|\n{rows}\n\
         Target (big chat, newest 20): p95 ≤ 50 ms and p99 ≤ 200 ms. Missed: {}.\n\n{sizes}\n{writes}",
        machine(),
        APPS * CHATS_PER_APP + 1,
        if misses.is_empty() { "none".to_owned() } else { misses.join(", ") },
    ))
}

/// `--diagnose`: each query of each shape on the big chat, newest first, through `search::fetch`:
/// hits, the route that answered (from the process's metrics), and the best of 3 times.
async fn diagnose(db: &Db, vocab: &Vocabulary, token: Uuid) -> Result<()> {
    // RUST_LOG=chat_system::search::routes=debug shows each search's routing figures.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let routes = || {
        let text = chat_system::metrics::metrics().render(&chat_system::metrics::Gauges {
            queue: None,
            stuck_jobs: None,
            pool: (0, 0),
            streams: 0,
        });
        text.lines()
            .filter(|l| l.starts_with("chat_search_route_total{"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    for shape in shapes(vocab) {
        for q in &shape.queries {
            let terms = search::parse(q).unwrap();
            let before = routes();
            let mut best = f64::MAX;
            let mut hits = 0;
            for _ in 0..3 {
                let t = Instant::now();
                hits = search::fetch(db, token, 1, &terms, None, (0, i64::MAX), newest(21))
                    .await?
                    .0
                    .len();
                best = best.min(t.elapsed().as_secs_f64() * 1000.0);
            }
            let after = routes();
            let route: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
            println!("{:16} {q:40} hits {hits:2}  {best:7.1} ms  {route:?}", shape.name);
        }
    }
    Ok(())
}

struct Shape {
    name: &'static str,
    queries: Vec<String>,
}

/// The query shapes, each with up to 10 variants drawn from the vocabulary by rank.
fn shapes(vocab: &Vocabulary) -> Vec<Shape> {
    let long: Vec<&String> = vocab.words.iter().filter(|w| w.chars().count() >= 3).collect();
    let six: Vec<&String> = vocab.words.iter().filter(|w| w.chars().count() >= 7).collect();
    let take = |f: &dyn Fn(usize) -> String| (0..10).map(f).collect::<Vec<_>>();
    vec![
        Shape {
            name: "rare term",
            queries: take(&|i| long[30_000 + i * 7].clone()),
        },
        Shape {
            name: "common term",
            queries: take(&|i| long[i % 5].clone()),
        },
        Shape {
            name: "infix fragment",
            queries: take(&|i| six[150 + i].chars().skip(2).take(4).collect()),
        },
        Shape {
            name: "2-char prefix",
            queries: take(&|i| long[20 + i].chars().take(2).collect()),
        },
        Shape {
            name: "two-term AND",
            queries: take(&|i| format!("{} {}", long[50 + i], long[200 + i])),
        },
        Shape {
            name: "phrase",
            queries: take(&|i| format!("\"{} {}\"", long[5 + i], long[20 + i])),
        },
    ]
}

async fn count_hits(db: &Db, token: Uuid, chat: i64, q: &str) -> Result<usize> {
    let terms = search::parse(q).unwrap();
    Ok(
        search::fetch(db, token, chat, &terms, None, (0, i64::MAX), newest(1_000_000))
            .await?
            .0
            .len(),
    )
}

/// The `need` newest hits, all of them returned.
fn newest(need: i64) -> Wanted<'static> {
    Wanted {
        need,
        offset: 0,
        limit: need,
        rank: None,
    }
}

async fn ready(env: &Env, total: i64) -> Result<bool> {
    if !env.has_database(DB).await? {
        return Ok(false);
    }
    let client = env.db(DB)?.client().await?;
    let row = client
        .query_opt("SELECT value FROM bench_meta WHERE key = 'messages'", &[])
        .await
        .ok()
        .flatten();
    Ok(row.is_some_and(|r| r.get::<_, String>(0) == total.to_string()))
}

/// Builds the dataset: COPY without the search indexes, then build them.
async fn build(env: &Env, total: i64, big: i64) -> Result<()> {
    let started = Instant::now();
    println!("building the search dataset: {total} messages (kept in bench-data/ for later runs)…");
    let db = env.fresh_database(DB).await?;
    let client = db.client().await?;
    client
        .batch_execute(
            "DROP INDEX messages_search_trgm; DROP INDEX IF EXISTS messages_search_fts; DROP INDEX messages_search_pairs;
             CREATE TABLE bench_meta (key text PRIMARY KEY, value text NOT NULL);",
        )
        .await?;
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
        let db = db.clone();
        let words = Vocabulary::new(VOCAB, SEED);
        tasks.push(tokio::spawn(async move {
            copy_part(&db, &words, total, big, part, parts).await
        }));
    }
    for t in tasks {
        t.await??;
    }
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
               SELECT application_id, number, messages_count FROM chats;
             UPDATE applications a SET chats_count = c.n, last_chat_number = c.n
               FROM (SELECT application_id, count(*) AS n FROM chats GROUP BY 1) c WHERE c.application_id = a.id;
             CREATE INDEX messages_search_trgm ON messages
               USING gin (application_id, chat_number, search_text gin_trgm_ops)
               WITH (fastupdate = on, gin_pending_list_limit = 8192);
             CREATE INDEX messages_search_pairs ON messages
               USING gin (chat_pairs(search_text))
               WITH (fastupdate = on, gin_pending_list_limit = 8192);",
        )
        .await?;
    for sql in ["VACUUM ANALYZE messages", "ANALYZE chats", "ANALYZE applications"] {
        client.batch_execute(sql).await?;
    }
    client
        .execute(
            "INSERT INTO bench_meta VALUES ('big_token', $1), ('small_token', $2), ('messages', $3)",
            &[&big_token.to_string(), &small_token.to_string(), &total.to_string()],
        )
        .await?;
    println!("  dataset ready in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Generates the whole arrival sequence and COPYs every `parts`-th row starting at `part`.
async fn copy_part(db: &Db, vocab: &Vocabulary, total: i64, big: i64, part: i64, parts: i64) -> Result<()> {
    let client = db.client().await?;
    let sink = client
        .copy_in("COPY messages (application_id, chat_number, number, body, created_at, updated_at) FROM STDIN")
        .await?;
    futures::pin_mut!(sink);
    let mut arrival = Rng::new(7);
    let mut text = Rng::new(1000 + part as u64);
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
        let body = vocab.message(&mut text).replace('\\', "\\\\");
        buf.push_str(&format!("{app}\t{chat}\t{}\t{body}\t{at}\t{at}\n", counters[slot]));
        if buf.len() > (1 << 20) - 4096 {
            sink.send(Bytes::from(std::mem::take(&mut buf))).await?;
        }
    }
    sink.send(Bytes::from(buf)).await?;
    sink.finish().await?;
    Ok(())
}

async fn index_sizes(db: &Db) -> Result<String> {
    let client = db.client().await?;
    let row = client
        .query_one(
            "WITH parts AS (SELECT inhparent, inhrelid FROM pg_inherits)
             SELECT (SELECT sum(pg_table_size(inhrelid)) FROM parts WHERE inhparent = 'messages'::regclass)::bigint,
                    coalesce((SELECT sum(pg_relation_size(inhrelid)) FROM parts
                              WHERE inhparent = to_regclass('messages_search_fts')), 0)::bigint,
                    (SELECT sum(pg_relation_size(inhrelid)) FROM parts WHERE inhparent = 'messages_search_trgm'::regclass)::bigint,
                    (SELECT sum(pg_relation_size(inhrelid)) FROM parts WHERE inhparent = 'messages_pkey'::regclass)::bigint,
                    (SELECT sum(pg_relation_size(inhrelid)) FROM parts WHERE inhparent = 'messages_search_pairs'::regclass)::bigint",
            &[],
        )
        .await?;
    let (table, fts, trgm, pkey, pairs): (i64, i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    let mb = |b: i64| b as f64 / 1_048_576.0;
    Ok(format!(
        "### Index sizes\n\n| relation | size (MB) | × table |\n|---|---|---|\n\
         | messages (all 32 partitions, with the stored `search_text` and `search_vector`) | {:.0} | 1.00 |\n\
         | full-text GIN (chat key + tsvector; dropped by V14) | {:.0} | {:.2} |\n\
         | trigram GIN (chat key + folded text) | {:.0} | {:.2} (aim ≤ 1.2) |\n\
         | word-pair GIN (`chat_pairs`, for phrases) | {:.0} | {:.2} |\n\
         | primary key (for comparison) | {:.0} | {:.2} |\n",
        mb(table),
        mb(fts),
        fts as f64 / table as f64,
        mb(trgm),
        trgm as f64 / table as f64,
        mb(pairs),
        pairs as f64 / table as f64,
        mb(pkey),
        pkey as f64 / table as f64,
    ))
}

/// Sustained worker write rate with the search indexes, without them, and without any search
/// columns: the same jobs drained by two workers as fast as they can.
async fn write_rates(env: &Env, vocab: &Vocabulary) -> Result<String> {
    let jobs = 100_000i64;
    let mut out = String::from(
        "### Worker write rate and the search indexes\n\n\
         100,000 queued message jobs (same text distribution, 100 chats) drained by 2 workers\n\
         (batches of 500) as fast as they go, with the service's pending-list cleaner merging the GIN\n\
         pending lists every second beside them (as in the service). The longest batch shows any stall.\n\n\
         | schema | messages/s | × no search | p99 batch (ms) | longest batch (ms) |\n|---|---|---|---|---|\n",
    );
    let mut results = Vec::new();
    for (name, sql) in [
        ("with search columns and indexes (as shipped)", ""),
        (
            "search columns, no search indexes",
            "DROP INDEX messages_search_trgm; DROP INDEX IF EXISTS messages_search_fts; DROP INDEX messages_search_pairs;",
        ),
        (
            "no search at all",
            "ALTER TABLE messages DROP COLUMN search_text, DROP COLUMN search_vector;",
        ),
    ] {
        let db = env.fresh_database("bench_write").await?;
        let client = db.client().await?;
        client.batch_execute(sql).await?;
        client
            .batch_execute(
                "INSERT INTO applications (token, name) VALUES (gen_random_uuid(), 'w');
                 INSERT INTO chats (application_id, number, created_at, updated_at)
                   SELECT 1, n, now(), now() FROM generate_series(1, 100) n;
                 INSERT INTO chat_counters (application_id, chat_number) SELECT 1, n FROM generate_series(1, 100) n;",
            )
            .await?;
        let sink = client
            .copy_in("COPY jobs (application_id, chat_number, message_number, body) FROM STDIN")
            .await?;
        futures::pin_mut!(sink);
        let mut rng = Rng::new(99);
        let mut buf = String::new();
        for i in 0..jobs {
            buf.push_str(&format!(
                "1\t{}\t{}\t{}\n",
                1 + i % 100,
                1 + i / 100,
                vocab.message(&mut rng).replace('\\', "\\\\")
            ));
        }
        sink.send(Bytes::from(buf)).await?;
        sink.finish().await?;
        client.batch_execute("VACUUM ANALYZE jobs").await?;
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let worker = Worker::new(db.clone(), 500, 8);
            tasks.push(tokio::spawn(async move {
                let mut batches = Samples::default();
                loop {
                    let t = Instant::now();
                    let outcome = worker.run_batch().await?;
                    if outcome.claimed == 0 {
                        return Ok::<_, anyhow::Error>(batches);
                    }
                    batches.push(t.elapsed());
                }
            }));
        }
        // The service's own cleaner, with its default settings.
        let cleaner = tokio::spawn(chat_system::upkeep::run_gin_cleaner(
            db.clone(),
            std::time::Duration::from_secs(1),
            chat_system::settings::Settings::defaults().gin_merge_rows,
            tokio_util::sync::CancellationToken::new(),
        ));
        let mut batches = Samples::default();
        for t in tasks {
            batches.0.extend(t.await??.0);
        }
        let rate = jobs as f64 / started.elapsed().as_secs_f64();
        cleaner.abort();
        let written: i64 = client.query_one("SELECT count(*) FROM messages", &[]).await?.get(0);
        assert_eq!(written, jobs);
        results.push((name, rate, batches));
    }
    let without = results.last().map_or(1.0, |r| r.1);
    for (name, rate, batches) in results {
        out.push_str(&format!(
            "| {name} | {rate:.0} | {:.2} | {:.0} | {:.0} |\n",
            rate / without,
            batches.pct(99.0),
            batches.pct(100.0)
        ));
    }
    out.push_str("\nAim: the shipped schema at ≥ 0.6× the rate without search.\n");
    Ok(out)
}
