//! `bench -- faults`: creations through broken database connections, at scale. The release
//! binary talks to PostgreSQL through a proxy that resets each connection after a random lifetime
//! (mean 300 ms, `--mean-ms`), while 24 clients post `--messages` (30,000) messages with unique
//! bodies, half with an `Idempotency-Key`, retrying 503s. The same load without faults, in the
//! same run, is the baseline. Reported: duplicates, lost 201s and chats with gaps (all must be
//! 0), how many answers were lost and resolved, and the throughput against the baseline.

use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::{
    env::{free_port, Env, Service},
    proxy::BreakingProxy,
    stats::{machine, report},
    throughput::arg,
    unique_posts::{check_stored, post_unique, resolutions, through_proxy, Findings},
};

const CLIENTS: usize = 24;
const CHATS: i64 = 8;

pub async fn run(args: &[String]) -> Result<()> {
    let messages = arg(args, "--messages", 30_000) as usize;
    let mean = Duration::from_millis(arg(args, "--mean-ms", 300));
    let env = Env::start()?;
    let mut rows = Vec::new();
    for (scenario, faults) in [("no faults (baseline)", None), ("connections reset", Some(mean))] {
        let db = env.fresh_database("bench_faults").await?;
        let (_, target) = through_proxy(&env.url("bench_faults"), 0);
        let proxy = BreakingProxy::start(target).await;
        let (proxied, _) = through_proxy(&env.url("bench_faults"), proxy.port);
        let service = Service::start(&proxied, free_port(), &[]).await?;
        let token = setup(&service.base).await?;
        if let Some(mean) = faults {
            proxy.break_connections(mean);
        }
        let started = Instant::now();
        let told = post_unique(
            &service.base,
            &token,
            messages,
            CLIENTS,
            CHATS,
            Duration::from_secs(1800),
        )
        .await;
        let took = started.elapsed();
        proxy.calm();
        let resolved = resolutions(&service.base).await;
        let client = db.client().await?;
        let found = check_stored(&client, &told, Duration::from_secs(300)).await;
        println!("{scenario}: {found:?}");
        rows.push((
            scenario,
            messages as f64 / took.as_secs_f64(),
            proxy.cuts(),
            resolved,
            told.retries,
            found,
        ));
    }
    let baseline = rows[0].1;
    let mut section = format!(
        "\n## Creations through broken database connections (`bench -- faults`)\n\n{}. Release binary, \
         {CLIENTS} clients posting {messages} messages with unique bodies over {CHATS} chats (every other \
         client with an `Idempotency-Key`), each retrying 503s until its 201; between the service and \
         PostgreSQL a proxy that resets each connection after a random lifetime (exponential, mean \
         {} ms). Checked afterwards directly in the database.\n\n\
         | scenario | creates/s | × baseline | connections cut | lost answers resolved | client retries | duplicates | lost 201s | chats with gaps | wrong counts |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
        machine(),
        mean.as_millis()
    );
    for (scenario, rate, cuts, resolved, retries, found) in &rows {
        let Findings {
            duplicates,
            lost,
            gaps,
            wrong_counts,
            ..
        } = found;
        section += &format!(
            "| {scenario} | {rate:.0} | {:.2} | {cuts} | {resolved} | {retries} | {duplicates} | {lost} | {gaps} | {wrong_counts} |\n",
            rate / baseline
        );
    }
    report(&section)?;
    for (scenario, _, _, _, _, found) in &rows {
        anyhow::ensure!(
            found.duplicates == 0
                && found.lost == 0
                && found.gaps == 0
                && found.wrong_counts == 0
                && found.rows == messages,
            "{scenario}: {found:?}"
        );
    }
    Ok(())
}

/// An application with `CHATS` chats; returns its token.
async fn setup(base: &str) -> Result<String> {
    let http = reqwest::Client::new();
    let app: serde_json::Value = http
        .post(format!("{base}/api/applications"))
        .json(&json!({"name": "faults"}))
        .send()
        .await?
        .json()
        .await?;
    let token = app["token"].as_str().unwrap_or_default().to_owned();
    for _ in 0..CHATS {
        anyhow::ensure!(
            http.post(format!("{base}/api/applications/{token}/chats"))
                .send()
                .await?
                .status()
                == 201
        );
    }
    Ok(token)
}
