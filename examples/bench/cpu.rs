//! CPU per request, the service's and PostgreSQL's apart: process CPU time (user + system, from
//! `/proc`) over a closed-loop run, divided by the requests answered. The service is its release
//! binary (workers included: a creation run lasts until the queue is drained); PostgreSQL is the
//! postmaster, its reaped children and every live backend. The naive transactions of the
//! throughput benchmark, run by pgbench on the same server in the same command, give
//! PostgreSQL's baseline (pgbench's own CPU is not counted, as the load generator's is not).
//!
//! `cargo run --release --example bench -- cpu [--seconds N] [--clients N] [--text real]`
//! `BENCH_SERVICE_BIN=<an older build>` measures that binary instead: a before/after in one
//! session, each a run of this command.

use std::{net::SocketAddr, sync::Arc, time::Instant};

use anyhow::{Context, Result};

use crate::{
    dataset::{Rng, Vocabulary},
    env::{free_port, Env, Service},
    load::closed_loop,
    procs::{self, clock_ticks, process_ticks},
    stats::{machine, report},
    text::Text,
    throughput::{
        arg, create, get, pgbench, seed_baseline, setup, wait_drained, APPS, CHATS_PER_APP, NAIVE_READ, NAIVE_SPREAD,
    },
};

/// CPU ticks of the benchmark cluster's server.
fn server_ticks(postmaster: u32) -> u64 {
    procs::server_ticks(&[postmaster])[0]
}

/// The benchmark cluster's postmaster.
fn postmaster() -> Result<u32> {
    let pid = concat!(env!("CARGO_MANIFEST_DIR"), "/bench-data/pg/postmaster.pid");
    let text = std::fs::read_to_string(pid).context("reading the benchmark cluster's postmaster.pid")?;
    Ok(text.lines().next().unwrap_or_default().trim().parse()?)
}

/// CPU used by the service and PostgreSQL between two readings.
struct Meter {
    service: u32,
    postmaster: u32,
    tick_us: f64,
}

impl Meter {
    fn read(&self) -> (u64, u64) {
        (process_ticks(self.service), server_ticks(self.postmaster))
    }

    /// Microseconds per request of the service and of PostgreSQL since `start`.
    fn per_request(&self, start: (u64, u64), requests: f64) -> (f64, f64) {
        let (service, server) = self.read();
        let us = |ticks: u64| ticks as f64 * self.tick_us / requests.max(1.0);
        (us(service - start.0), us(server - start.1))
    }
}

pub async fn run(args: &[String]) -> Result<()> {
    let secs = arg(args, "--seconds", 10);
    let clients = arg(args, "--clients", 64) as usize;
    let duration = std::time::Duration::from_secs(secs);
    let env = Env::start()?;
    let tick_us = 1e6 / clock_ticks();
    let pg = postmaster()?;

    // PostgreSQL's cost of the naive transactions.
    let base_db = env.fresh_database("bench_pgbench").await?;
    seed_baseline(&base_db).await?;
    let mut naive = Vec::new();
    for script in [NAIVE_SPREAD, NAIVE_READ] {
        let before = server_ticks(pg);
        let tps = pgbench(&env.url("bench_pgbench"), script, clients, secs)?;
        let per = (server_ticks(pg) - before) as f64 * tick_us / (tps * secs as f64);
        naive.push((tps, per));
    }
    env.admin("DROP DATABASE bench_pgbench WITH (FORCE)").await?;

    let db = env.fresh_database("bench_cpu").await?;
    let port = free_port();
    let service = Service::start(&env.url("bench_cpu"), port, &[]).await?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let tokens = Arc::new(setup(addr).await?);
    wait_drained(&db).await?;
    let meter = Meter {
        service: service.child.id(),
        postmaster: pg,
        tick_us,
    };
    let vocab = Arc::new(Text::choose(args, || Vocabulary::new(5_000, 7))?);

    // Creations spread over 1,000 chats, until the queue is drained.
    let start = meter.read();
    let started = Instant::now();
    let s1 = {
        let (tokens, vocab) = (tokens.clone(), vocab.clone());
        closed_loop(
            addr,
            clients,
            duration,
            move |client, seq| {
                let mut rng = Rng::new((client as u64) << 32 | seq);
                let chat = 1 + rng.below(CHATS_PER_APP) as i64;
                create(&tokens[rng.below(APPS)], chat, &vocab.message(&mut rng))
            },
            |_, _, _| {},
        )
        .await?
    };
    wait_drained(&db).await?;
    let creates = (s1.latencies.0.len() as u64 - s1.errors) as f64;
    let create_cpu = meter.per_request(start, creates);
    let create_rate = creates / started.elapsed().as_secs_f64();

    // Reads of single messages (those just created: chat c of every application holds some).
    // `BENCH_PERF=<file>`: `perf record` the service during this run, for `perf report -i <file>`.
    let perf = std::env::var("BENCH_PERF").ok().map(|file| {
        std::process::Command::new("perf")
            .args([
                "record",
                "-F",
                "999",
                "-g",
                "-o",
                &file,
                "-p",
                &meter.service.to_string(),
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
    });
    let start = meter.read();
    let s3 = {
        let tokens = tokens.clone();
        closed_loop(
            addr,
            clients,
            duration,
            move |client, seq| {
                let mut rng = Rng::new((client as u64) << 32 | seq | 1 << 62);
                let chat = 1 + rng.below(CHATS_PER_APP);
                get(&format!(
                    "/api/applications/{}/chats/{chat}/messages/1",
                    tokens[rng.below(APPS)]
                ))
            },
            |_, _, _| {},
        )
        .await?
    };
    let reads = (s3.latencies.0.len() as u64 - s3.errors) as f64;
    let read_cpu = meter.per_request(start, reads);
    if let Some(Ok(perf)) = perf {
        // SAFETY: kill(2) on our own child; perf writes its file on SIGINT.
        unsafe { libc::kill(perf.id() as libc::pid_t, libc::SIGINT) };
        let _ = perf.wait_with_output();
    }
    drop(service);

    let binary = std::env::var("BENCH_SERVICE_BIN").unwrap_or_else(|_| "this tree's release build".into());
    report(&format!(
        "\n## CPU per request ({})\n\n\
         Command: `cargo run --release --example bench -- cpu {}` ({clients} clients, {secs} s per run;\n\
         service: {binary}). {}. Process CPU time (user + system) ÷ requests answered; creations\n\
         until the queue is drained (the workers' writes included). PostgreSQL: postmaster, reaped\n\
         children and live backends; the naive transactions' load generator (pgbench) not counted.\n\n\
         | run | requests/s | service µs/request | PostgreSQL µs/request | naive PostgreSQL µs/tx (tps) | aim (service / PostgreSQL) |\n\
         |---|---|---|---|---|---|\n\
         | create, 1,000 chats | {create_rate:.0} | {:.1} | {:.1} | {:.1} ({:.0}) | ≤ 30 / ≤ 80 |\n\
         | read one message | {:.0} | {:.1} | {:.1} | {:.1} ({:.0}) | ≤ 30 / ≤ 50 |\n",
        machine(),
        args.join(" "),
        vocab.describe(),
        create_cpu.0,
        create_cpu.1,
        naive[0].1,
        naive[0].0,
        s3.throughput(),
        read_cpu.0,
        read_cpu.1,
        naive[1].1,
        naive[1].0,
    ))
}
