//! `search --database-url <Citus coordinator> [--messages N]`: the search benchmark's dataset
//! built on the private single node and on the Citus cluster, each searched through the service
//! in one run, reported side by side with what a search cost on each node and the errors logged.

use anyhow::Result;

use crate::{
    env::Env,
    search::{dataset, describe, search, Searched},
    stats::{machine, report},
    target::{shown_args, Target},
    timing::Timed,
};

pub async fn run(args: &[String], url: &str) -> Result<()> {
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .map_or(30, |v| v.parse().unwrap());
    let citus = Target::Citus { url: url.to_owned() };
    citus.check().await?;
    let mut sides = Vec::new();
    for target in [Target::Single(Env::start()?), citus] {
        let d = dataset(&target, args).await?;
        eprintln!("search on {}: dataset ready", target.label());
        let searched = search(&target, &d, runs, true).await?;
        eprintln!("search on {}: timed", target.label());
        sides.push((
            target.label(),
            d.total,
            d.big,
            d.text.clone(),
            d.lengths.clone(),
            searched,
        ));
    }
    let (single, citus) = (&sides[0].5, &sides[1].5);
    let (total, big, text, lengths) = (sides[0].1, sides[0].2, &sides[0].3, &sides[0].4);
    report(&format!(
        "\n## Search: single node and Citus, one run ({total} messages, one chat of {big})\n\n\
         Command: `cargo run --release --example bench -- search {}` ({})\n\n\
         The same dataset built on each side (COPY, then the search indexes): {}\n\
         Lengths: {lengths}. Each shape rotates over up to 10 queries; {runs} timed runs after 5 warm-ups, one\n\
         client, `limit=20`, through the service (release build, its workers off) and through the library's\n\
         `search::fetch` (*SQL*). Single node: the benchmarks' own PostgreSQL; Citus: the coordinator given\n\
         and its workers, on this machine.\n\n\
         | shape | chat | order | hits | single node HTTP p50 / p95 / p99 ms | Citus HTTP p50 / p95 / p99 ms | Citus ÷ single, HTTP p95 | SQL p95 ms, single / Citus |\n\
         |---|---|---|---|---|---|---|---|\n{}\n\
         Target (big chat, newest 20): HTTP p95 ≤ 50 ms and p99 ≤ 200 ms. Missed on the single node: {};\n\
         on Citus: {}.\n\n\
         Oracle (the answers of a sample of queries against an independent scan): single node: {}; Citus: {}.\n\n\
         What a search cost, CPU µs per search (HTTP and library searches together, `/proc`; the database's\n\
         per node, and net of the background's: the database's CPU per second measured for {} s before,\n\
         with the service idle, times the timing's window ÷ its searches):\n\
         {}\n\n\
         Errors logged meanwhile: {}\n",
        shown_args(args),
        machine(),
        describe(text),
        rows(&single.timed, &citus.timed),
        misses(&single.timed),
        misses(&citus.timed),
        verdict(single),
        verdict(citus),
        crate::throughput::IDLE.as_secs(),
        [(sides[0].0, single), (sides[1].0, citus)]
            .iter()
            .map(|(side, s)| format!("{side}: {}", cost(s)))
            .collect::<Vec<_>>()
            .join("; "),
        [(sides[0].0, single), (sides[1].0, citus)]
            .iter()
            .map(|(side, s)| errors(side, s))
            .collect::<Vec<_>>()
            .join("; "),
    ))
}

fn rows(single: &[Timed], citus: &[Timed]) -> String {
    let pct = |t: &Timed| {
        format!(
            "{:.1} / {:.1} / {:.1}",
            t.http.pct(50.0),
            t.http.pct(95.0),
            t.http.pct(99.0)
        )
    };
    single
        .iter()
        .zip(citus)
        .map(|(a, b)| {
            format!(
                "| {} `{}` | {} | {} | {} | {} | {} | {:.2}× | {:.1} / {:.1} |\n",
                a.shape,
                a.query,
                a.chat,
                a.order,
                if a.hits == b.hits {
                    a.hits.to_string()
                } else {
                    format!("{} / {}", a.hits, b.hits)
                },
                pct(a),
                pct(b),
                b.http.pct(95.0) / a.http.pct(95.0),
                a.sql.pct(95.0),
                b.sql.pct(95.0),
            )
        })
        .collect()
}

fn misses(timed: &[Timed]) -> String {
    let missed: Vec<String> = timed
        .iter()
        .filter(|t| t.big && t.order == "newest" && !t.ok())
        .map(|t| t.shape.to_owned())
        .collect();
    if missed.is_empty() {
        "none".into()
    } else {
        missed.join(", ")
    }
}

fn verdict(s: &Searched) -> String {
    match &s.oracle {
        Ok(v) => format!("{} of {} queries agreed", v.agreed, v.checked),
        Err(e) => format!("could not run (`{}`)", e.replace('`', "'")),
    }
}

fn cost(s: &Searched) -> String {
    let (Some(c), Some(idle)) = (&s.cost, &s.idle) else {
        return "not measured".into();
    };
    let show = |us: &[f64]| us.iter().map(|v| format!("{v:.0}")).collect::<Vec<_>>().join(" · ");
    let net = c.net_node_us(idle);
    format!(
        "service {:.0}, database {:.0} ({}), net of the background {:.0} ({}), benchmark {:.0}; background {:.0} µs/s",
        c.service_us,
        c.node_us.iter().sum::<f64>(),
        show(&c.node_us),
        net.iter().sum::<f64>(),
        show(&net),
        c.generator_us,
        idle.node_us.iter().sum::<f64>() / idle.seconds,
    )
}

fn errors(side: &str, s: &Searched) -> String {
    let nodes: Vec<String> = s
        .node_logs
        .iter()
        .map(|(node, summary)| format!("{node} {}", summary.describe(4)))
        .collect();
    format!("{side}: service {}; {}", s.service_log.describe(4), nodes.join(", "))
}
