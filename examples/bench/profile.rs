//! Where a create's time goes: S1's load (spread creates) against the release binary with
//! `perf record` attached to the service and, separately, to every PostgreSQL backend; prints
//! the throughput and each process group's hottest symbols. Not a figure for `BENCHMARKS.md`: a
//! tool for finding what bounds the creation rate.
//!
//! `cargo run --release --example bench -- profile [--seconds N] [--clients N]`

use std::{
    net::SocketAddr,
    process::{Command, Stdio},
    time::Duration,
};

use anyhow::Result;

use crate::{
    dataset::{Rng, Vocabulary},
    env::{free_port, Env, Service},
    load::closed_loop,
    throughput::{arg, create, setup, APPS, CHATS_PER_APP},
};

pub async fn run(args: &[String]) -> Result<()> {
    let secs = arg(args, "--seconds", 10);
    let clients = arg(args, "--clients", 16) as usize;
    let env = Env::start()?;
    env.fresh_database("bench_profile").await?;
    let port = free_port();
    // BENCH_PG_OPTIONS: server settings for the service's connections, e.g.
    // `-c plan_cache_mode=force_generic_plan`, to try one without a rebuild.
    let mut url = env.url("bench_profile");
    if let Ok(options) = std::env::var("BENCH_PG_OPTIONS") {
        url = format!("{url}?options={}", crate::stats::encode(&options));
    }
    let service = Service::start(&url, port, &[]).await?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let tokens = setup(addr).await?;
    let vocab = std::sync::Arc::new(Vocabulary::new(5_000, 7));
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/bench-data");
    let service_data = format!("{dir}/perf-service.data");
    let pg_data = format!("{dir}/perf-postgres.data");
    let record = |output: &str, target: &[&str]| {
        Command::new("perf")
            .args(["record", "-F", "499", "-g", "-o", output])
            .args(target)
            .args(["--", "sleep", &secs.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    };
    let admin = env.db("bench_profile")?;
    let admin = admin.client().await?;
    admin
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset();")
        .await?;
    let pid = service.child.id().to_string();
    let mut perf_service = record(&service_data, &["-p", &pid])?;
    // Every process of the cluster, the load generator (this process) excluded.
    let mut perf_pg = record(&pg_data, &["-a"])?;
    let outcome = {
        let (tokens, vocab) = (tokens.clone(), vocab.clone());
        closed_loop(
            addr,
            clients,
            Duration::from_secs(secs),
            move |client, seq| {
                let mut rng = Rng::new((client as u64) << 32 | seq);
                let app = rng.below(APPS);
                let chat = 1 + rng.below(CHATS_PER_APP);
                create(&tokens[app], chat as i64, &vocab.message(&mut rng))
            },
            |_, _, _| {},
        )
        .await?
    };
    perf_service.wait()?;
    perf_pg.wait()?;
    println!(
        "S1: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        outcome.throughput(),
        outcome.latencies.pct(50.0),
        outcome.latencies.pct(99.0),
        outcome.errors
    );
    println!("\n== statements by total time (ms): calls, plans, planning, execution, longest execution, rows ==");
    let rows = admin
        .query(
            "SELECT calls, plans, round(total_plan_time)::bigint, round(total_exec_time)::bigint,
                    round(max_exec_time)::bigint, rows,
                    left(regexp_replace(query, '\\s+', ' ', 'g'), 90)
             FROM pg_stat_statements ORDER BY total_plan_time + total_exec_time DESC LIMIT 15",
            &[],
        )
        .await?;
    for r in rows {
        let (calls, plans, plan, exec, max, n, q): (i64, i64, i64, i64, i64, i64, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6));
        println!("{calls:>7} {plans:>7} {plan:>7} {exec:>7} {max:>7} {n:>8}  {q}");
    }
    for (title, data, extra) in [
        ("the service", &service_data, vec![]),
        ("the whole machine, by command", &pg_data, vec!["--sort", "comm,dso"]),
        ("the whole machine, by symbol", &pg_data, vec![]),
    ] {
        let out = Command::new("perf")
            .args([
                "report",
                "--no-children",
                "--stdio",
                "-g",
                "none",
                "--percent-limit",
                "1",
                "-i",
                data,
            ])
            .args(extra)
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        println!("\n== {title} ==");
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .take(40)
        {
            println!("{line}");
        }
    }
    Ok(())
}

/// S1's load for `--seconds` (default 120) with the job-table sampler printing as it goes
/// (`BENCH_VERBOSE` adds dead rows and the oldest snapshot).
///
/// `cargo run --release --example bench -- hygiene [--seconds N] [--clients N]`
pub async fn hygiene(args: &[String]) -> Result<()> {
    let secs = arg(args, "--seconds", 120);
    let clients = arg(args, "--clients", 16) as usize;
    let env = Env::start()?;
    let db = env.fresh_database("bench_hygiene").await?;
    let port = free_port();
    let _service = Service::start(&env.url("bench_hygiene"), port, &[]).await?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let tokens = setup(addr).await?;
    let vocab = std::sync::Arc::new(Vocabulary::new(5_000, 7));
    let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = tokio::spawn(crate::throughput::hygiene_sampler(db, running.clone()));
    let outcome = closed_loop(
        addr,
        clients,
        Duration::from_secs(secs),
        move |client, seq| {
            let mut rng = Rng::new((client as u64) << 32 | seq);
            create(
                &tokens[rng.below(APPS)],
                1 + rng.below(CHATS_PER_APP) as i64,
                &vocab.message(&mut rng),
            )
        },
        |_, _, _| {},
    )
    .await?;
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    for line in sampler.await?? {
        println!("{line}");
    }
    println!("{:.0} creates/s", outcome.throughput());
    Ok(())
}
