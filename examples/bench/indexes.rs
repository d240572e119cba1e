//! The search indexes' cost: their sizes in the search dataset, and the workers' write rate with
//! them, without them, and without any search columns.

use std::time::Instant;

use anyhow::Result;
use bytes::Bytes;
use chat_system::{store::Db, write::Worker};
use futures::SinkExt;

use crate::{dataset::Rng, env::Env, stats::Samples, text::Text};

pub async fn index_sizes(db: &Db) -> Result<String> {
    let client = db.client().await?;
    let row = client
        .query_one(
            "WITH parts AS (SELECT inhparent, inhrelid FROM pg_inherits),
                  size AS (SELECT i.relname, sum(pg_relation_size(p.inhrelid))::bigint AS bytes
                           FROM parts p JOIN pg_class i ON i.oid = p.inhparent GROUP BY 1)
             SELECT (SELECT sum(pg_table_size(inhrelid)) FROM parts WHERE inhparent = 'messages'::regclass)::bigint,
                    (SELECT sum(pg_column_size(search_text))::bigint FROM messages),
                    (SELECT coalesce(sum(pg_column_size(search_keys)), 0)::bigint FROM messages),
                    (SELECT bytes FROM size WHERE relname = 'messages_search_keys'),
                    (SELECT bytes FROM size WHERE relname = 'messages_unkeyed'),
                    pg_total_relation_size('search_words'),
                    (SELECT bytes FROM size WHERE relname = 'messages_pkey'),
                    (SELECT count(*) FROM search_words),
                    (SELECT sum(pg_column_size(coalesce(search_text, lower(body COLLATE \"C\"))))::bigint FROM messages)",
            &[],
        )
        .await?;
    // `text`: the stored folded texts (NULL for a plain body since V20); `full_text`: every
    // message's, as stored before V20.
    let (table, text, keys, gin, unkeyed, words, pkey, count, full_text): (
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    ) = (
        row.get(0),
        row.get(1),
        row.get(2),
        row.get(3),
        row.get(4),
        row.get(5),
        row.get(6),
        row.get(7),
        row.get(8),
    );
    let before: Option<i64> = client
        .query_opt("SELECT value FROM bench_meta WHERE key = 'before_v19_index_bytes'", &[])
        .await?
        .and_then(|r| r.get::<_, String>(0).parse().ok());
    let mb = |b: i64| b as f64 / 1_048_576.0;
    let before = before.map_or(String::new(), |b| {
        format!(
            "Before V19 (the same data): the folded text, the trigram GIN and the word-pair GIN took\n\
             {:.0} MB, {:.2}× the table (the GINs alone {:.0} MB, built on the same rows and dropped).\n",
            mb(full_text + b),
            (full_text + b) as f64 / table as f64,
            mb(b)
        )
    });
    let line = |name: &str, b: i64| format!("| {name} | {:.0} | {:.2} |\n", mb(b), b as f64 / table as f64);
    Ok(format!(
        "### Search structures' sizes\n\n| relation | size (MB) | × table |\n|---|---|---|\n{}{}{}{}{}{}{}{}\n\
         All search structures together (the folded text and the keys in the table, the keys' GIN, the\n\
         unkeyed index, the dictionary): {:.0} MB, {:.2}× the table.\n{}",
        line(
            "messages (all 32 partitions, with the stored `search_text` and `search_keys`)",
            table
        ),
        line("of which the folded text (`search_text`; NULL for a plain body)", text),
        line("(every message's folded text, as stored before V20)", full_text),
        line("of which the keys (`search_keys`)", keys),
        line("the keys' GIN (`messages_search_keys`)", gin),
        line("messages without keys yet (`messages_unkeyed`, partial)", unkeyed),
        line(
            &format!("the dictionary (`search_words`, {count} words: table and indexes)"),
            words
        ),
        line("primary key (for comparison)", pkey),
        mb(text + keys + gin + unkeyed + words),
        (text + keys + gin + unkeyed + words) as f64 / table as f64,
        before,
    ))
}

/// Sustained worker write rate with the search indexes, without them, and without any search
/// columns: the same jobs drained by two workers as fast as they can.
pub async fn write_rates(env: &Env, text: &Text) -> Result<String> {
    let jobs = 100_000i64;
    let mut rng = Rng::new(99);
    let lengths = crate::lengths::sample(jobs as usize, || text.message(&mut rng));
    let mut out = format!(
        "### Worker write rate and the search indexes{}\n\n\
         100,000 queued message jobs (same text distribution, 100 chats) drained by 2 workers\n\
         (batches of 500) as fast as they go, with the service's pending-list cleaner merging the GIN\n\
         pending lists every second beside them (as in the service). The longest batch shows any stall.\n\
         Jobs' {}.\n\n\
         | schema | messages/s | × no search | p99 batch (ms) | longest batch (ms) |\n|---|---|---|---|---|\n",
        if text.is_real() { " (real text)" } else { "" },
        lengths.line(),
    );
    let mut results = Vec::new();
    // Before V19: the folded text computed by PostgreSQL (a trigger here, a generated column
    // then: the same PL/pgSQL call), its trigram GIN and the word-pair GIN (V6).
    let before_v19 = "DROP INDEX messages_search_keys; DROP INDEX messages_unkeyed;
         CREATE INDEX messages_search_trgm ON messages
           USING gin (application_id, chat_number, search_text gin_trgm_ops)
           WITH (fastupdate = on, gin_pending_list_limit = 8192);
         CREATE INDEX messages_search_pairs ON messages USING gin (chat_pairs(search_text))
           WITH (fastupdate = on, gin_pending_list_limit = 8192);";
    let no_search = "DROP INDEX messages_search_keys; DROP INDEX messages_unkeyed;
         DROP TRIGGER messages_search_text_inserted ON messages; DROP TRIGGER messages_search_text_edited ON messages;
         ALTER TABLE messages DROP COLUMN search_text;";
    // `plain`: a plain body's folded text left NULL (V20), as the service does once no release
    // before V20 is connected. `warm`: the same application wrote 100,000 messages of the same
    // kind of text before (another draw), so its dictionary holds most of the words, as a running
    // application's does; the other rows start from an empty table and dictionary.
    for (name, sql, keys, plain, warm) in [
        (
            "as shipped (V20: keys, dictionary, a plain body's folded text not stored)",
            "",
            true,
            true,
            false,
        ),
        (
            "as shipped, after 100,000 earlier messages (most words in the dictionary)",
            "",
            true,
            true,
            true,
        ),
        ("as shipped in V19 (every folded text stored)", "", true, false, false),
        (
            "as shipped before V19 (trigram GIN and word-pair GIN)",
            before_v19,
            false,
            false,
            false,
        ),
        (
            "without the dictionary's trigram index",
            "DROP INDEX search_words_trgm;",
            true,
            true,
            false,
        ),
        (
            "keys and dictionary written, keys not indexed",
            "DROP INDEX messages_search_keys;",
            true,
            true,
            false,
        ),
        (
            "the folded text column only (by a trigger; no keys, no search index)",
            "DROP INDEX messages_search_keys; DROP INDEX messages_unkeyed;",
            false,
            false,
            false,
        ),
        ("no search at all", no_search, false, false, false),
        (
            "no search at all, after 100,000 earlier messages",
            no_search,
            false,
            false,
            true,
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
        if plain {
            anyhow::ensure!(
                db.look_for_earlier_releases().await?,
                "no earlier release in a fresh database"
            );
        }
        let earlier = if warm {
            queue(&client, text, jobs, 98, 0).await?;
            drain(&db, keys).await?;
            jobs
        } else {
            0
        };
        queue(&client, text, jobs, 99, earlier / 100).await?;
        let started = Instant::now();
        let batches = drain(&db, keys).await?;
        let rate = jobs as f64 / started.elapsed().as_secs_f64();
        let written: i64 = client.query_one("SELECT count(*) FROM messages", &[]).await?.get(0);
        assert_eq!(written, earlier + jobs);
        results.push((name, rate, batches, warm));
    }
    // Each row against the rate without search in the same state (empty or after 100,000).
    let without = |warm: bool| results.iter().rev().find(|r| r.3 == warm).map_or(1.0, |r| r.1);
    for (name, rate, batches, warm) in &results {
        out.push_str(&format!(
            "| {name} | {rate:.0} | {:.2} | {:.0} | {:.0} |\n",
            rate / without(*warm),
            batches.pct(99.0),
            batches.pct(100.0)
        ));
    }
    out.push_str("\nAim: the shipped schema at ≥ 0.6× the rate without search.\n");
    Ok(out)
}

/// Queues `jobs` message jobs over 100 chats, their bodies drawn from `text` (`seed`), numbered
/// from `after + 1` in each chat.
async fn queue(client: &tokio_postgres::Client, text: &Text, jobs: i64, seed: u64, after: i64) -> Result<()> {
    let sink = client
        .copy_in("COPY jobs (application_id, chat_number, message_number, body) FROM STDIN")
        .await?;
    futures::pin_mut!(sink);
    let mut rng = Rng::new(seed);
    let mut buf = String::new();
    for i in 0..jobs {
        buf.push_str(&format!(
            "1\t{}\t{}\t{}\n",
            1 + i % 100,
            after + 1 + i / 100,
            text.message(&mut rng).replace('\\', "\\\\")
        ));
    }
    sink.send(Bytes::from(buf)).await?;
    sink.finish().await?;
    client.batch_execute("VACUUM ANALYZE jobs").await?;
    Ok(())
}

/// Drains the queue with two workers and the service's pending-list cleaner: the batches' times.
/// Without `keys`, the workers compute no search keys (the schemas that have none).
async fn drain(db: &Db, keys: bool) -> Result<Samples> {
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let worker = Worker::new(db.clone(), 500, 8);
        let worker = if keys { worker } else { worker.without_search_keys() };
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
    cleaner.abort();
    Ok(batches)
}

/// `bench -- writes [--text real]`: the worker write rates alone (they are part of `search`).
pub async fn run(args: &[String]) -> Result<()> {
    let env = Env::start()?;
    let text = Text::choose(args, || crate::dataset::Vocabulary::new(5_000, 7))?;
    let rates = write_rates(&env, &text).await?;
    crate::stats::report(&format!(
        "\n## Worker write rates ({})\n\nCommand: `cargo run --release --example bench -- writes {}`\n\n{rates}",
        crate::stats::machine(),
        args.join(" ")
    ))
}
