//! `throughput --database-url <Citus coordinator>`: the throughput benchmark on the private
//! single node and then on the Citus cluster, in one run, reported side by side with what each
//! request cost on each node, the errors each logged, and an estimate of the Citus cluster's
//! throughput on N worker machines from those costs.

use anyhow::Result;

use crate::{
    env::Env,
    load::{Outcome, FIXED_RATE_GRACE},
    nodes::Cost,
    stats::{machine, report},
    target::{shown_args, Target},
    throughput::{arg, measure, Figures, IDLE},
};

pub async fn throughput(args: &[String], url: &str) -> Result<()> {
    let soak = arg(args, "--soak", 0);
    let citus = Target::Citus { url: url.to_owned() };
    citus.check().await?;
    let single = measure(&Target::Single(Env::start()?), args, soak, true).await?;
    let citus = measure(&citus, args, 0, true).await?;
    report(&format!(
        "\n## Throughput: single node and Citus, one run\n\n\
         Command: `cargo run --release --example bench -- throughput {}` ({})\n\n\
         Single node: the benchmarks' own PostgreSQL 15 (`bench-data/pg`: `shared_buffers` 2GB, full\n\
         durability). Citus: the coordinator given and its workers ({}), all on this machine, sharing its\n\
         cores with the service, the load generator and everything else running. Each side: the pgbench\n\
         baselines, then the service's release binary (default settings) on an empty database, {} clients,\n\
         {} s per scenario. Message bodies: {}.\n\n\
         | scenario | single node req/s | p50 / p99 ms | Citus req/s | p50 / p99 ms | Citus ÷ single | errors (single / Citus) |\n\
         |---|---|---|---|---|---|---|\n{}\n\
         pgbench rows: transactions/s of the naive SQL (`-M prepared`, the same clients) on each side\n\
         (*routed*: the spread transaction as two statements Citus routes to one shard each).\n\
         *1,000/s*: creations scheduled at a fixed rate; its latency counts from each one's scheduled time.\n\n\
         | | single node | Citus |\n|---|---|---|\n{}\n\
         ### What a request cost, per node\n\n\
         CPU time (user + system, `/proc`) of each process group during the scenario — creations until\n\
         their jobs were written (the queue drained) — ÷ requests answered. *database*: every node's\n\
         postmaster, backends and reaped backends; *service*: its process; *generator*: this benchmark\n\
         (its HTTP clients, the lag probe and the samplers; for pgbench rows, pgbench itself).\n\
         *xacts*: transactions committed per request in the database on each node; *executions*:\n\
         distributed executions each node started per request, single-shard + multi-shard\n\
         (`citus_stat_counters`); *batches*: calls of the delegated creation functions per request\n\
         (V21's `intake_*_app`, one per application per group-commit batch); *statements*: the single\n\
         node's `pg_stat_statements` calls per request. S1's figures include its lag probe's {} and\n\
         {} statements ({:.2} and {:.2} per creation). *idle*: {} s with no requests after the\n\
         set-up's jobs were written (queue workers polling, upkeep), per second. *cores busy*: all\n\
         these processes' CPU ÷ the window's wall time (the window ends 1.5 s after the scenario,\n\
         when the last reading is taken, so that idle backends have published their counts).\n\n\
         | scenario | side | service µs | database µs (per node) | generator µs | all µs | cores busy | xacts (per node) | executions (per node) | batches or statements |\n\
         |---|---|---|---|---|---|---|---|---|---|\n{}\n\
         ### Errors logged during the run\n\n{}\n\
         ### Throughput with N worker machines, from these costs\n\n{}",
        shown_args(args),
        machine(),
        citus.nodes.join(", "),
        single.clients,
        single.secs,
        single.text.describe(),
        rows(&single, &citus),
        facts(&single, &citus),
        single.probes,
        citus.probes,
        single.probes as f64 / single.s1.latencies.0.len().max(1) as f64,
        citus.probes as f64 / citus.s1.latencies.0.len().max(1) as f64,
        IDLE.as_secs(),
        cost_rows(&single, &citus),
        errors(&single, &citus),
        estimate(&single, &citus),
    ))
}

/// The side-by-side rows: pgbench baselines, then the HTTP scenarios.
fn rows(single: &Figures, citus: &Figures) -> String {
    let mut out = String::new();
    for (a, b) in single.baselines.iter().zip(&citus.baselines) {
        let tps = |t: &Result<f64, String>| match t {
            Ok(v) => format!("{v:.0}"),
            Err(e) => format!("failed: {}", e.lines().last().unwrap_or("").replace('|', "/")),
        };
        let ratio = match (&a.tps, &b.tps) {
            (Ok(x), Ok(y)) => format!("{:.3}×", y / x),
            _ => "–".into(),
        };
        out.push_str(&format!(
            "| {} | {} | – | {} | – | {ratio} | – |\n",
            a.name,
            tps(&a.tps),
            tps(&b.tps)
        ));
    }
    // A fixed-rate run's calls never sent waited longer than the grace: its p99 is at least that.
    let latency = |o: &Outcome| {
        let sent = o.latencies.0.len() as u64;
        if o.unsent * 100 > sent + o.unsent {
            format!(
                "{:.1} / > {} s ({} of {} calls unsent)",
                o.latencies.pct(50.0),
                FIXED_RATE_GRACE.as_secs(),
                o.unsent,
                sent + o.unsent
            )
        } else {
            format!("{:.1} / {:.1}", o.latencies.pct(50.0), o.latencies.pct(99.0))
        }
    };
    let scenario = |name: &str, a: &Outcome, b: &Outcome| {
        format!(
            "| {name} | {:.0} | {} | {:.0} | {} | {:.3}× | {} / {} |\n",
            a.throughput(),
            latency(a),
            b.throughput(),
            latency(b),
            b.throughput() / a.throughput(),
            a.errors,
            b.errors
        )
    };
    out.push_str(&scenario("S1 create, 1,000 chats", &single.s1, &citus.s1));
    out.push_str(&scenario("S2 create, one chat", &single.s2, &citus.s2));
    out.push_str(&scenario("S3 read one message", &single.s3, &citus.s3));
    out.push_str(&scenario("S4 80% read / 15% create / 5% search", &single.s4, &citus.s4));
    out.push_str(&scenario("1,000 creates/s, fixed rate", &single.fixed, &citus.fixed));
    out
}

/// Lag, drain, memory and verification, side by side.
fn facts(single: &Figures, citus: &Figures) -> String {
    let both = |name: &str, f: &dyn Fn(&Figures) -> String| format!("| {name} | {} | {} |\n", f(single), f(citus));
    [
        both("queue lag during S1 (201 → row), p50 / p99 / max ms", &|f| {
            format!(
                "{:.1} / {:.1} / {:.1} ({} samples)",
                f.lag.pct(50.0),
                f.lag.pct(99.0),
                f.lag.pct(100.0),
                f.lag.0.len()
            )
        }),
        both("queue depth during S1, max jobs", &|f| {
            f.depths.iter().map(|d| d.1).max().unwrap_or(0).to_string()
        }),
        both("queue drained after S1", &|f| format!("{:.1} s", f.drain.as_secs_f64())),
        both("service's peak RSS", &|f| format!("{:.0} MB", f.rss)),
        both("verification", &|f| f.verified.clone()),
    ]
    .concat()
}

/// One cost row per scenario and side.
fn cost_rows(single: &Figures, citus: &Figures) -> String {
    let mut out = String::new();
    for (name, a) in &single.costs {
        for (f, cost) in [
            (single, Some(a)),
            (citus, citus.costs.iter().find(|c| c.0 == *name).map(|c| &c.1)),
        ] {
            if let Some(c) = cost {
                out.push_str(&cost_row(name, f, c));
            }
        }
    }
    out
}

fn cost_row(name: &str, f: &Figures, c: &Cost) -> String {
    // The idle window's figures are per second, the others per request.
    let per = if name == "idle" { c.seconds } else { 1.0 };
    let each = |v: &dyn Fn(usize) -> String| (0..f.nodes.len()).map(v).collect::<Vec<_>>().join(" · ");
    let database: f64 = c.node_us.iter().sum::<f64>() / per;
    let all = database + (c.service_us + c.generator_us) / per;
    let citus = f.target == "Citus";
    format!(
        "| {} | {} | {:.0} | {:.0} ({}) | {:.0} | {:.0} | {:.2} | {} | {} | {} |\n",
        if name == "idle" { "idle, per second" } else { name },
        f.target,
        c.service_us / per,
        database,
        each(&|i| format!("{:.0}", c.node_us[i] / per)),
        c.generator_us / per,
        all,
        all * c.requests / c.seconds / 1e6 * per,
        each(&|i| format!("{:.2}", c.per_request[i].xacts / per)),
        if citus {
            each(&|i| {
                format!(
                    "{:.2}+{:.2}",
                    c.per_request[i].single_shard / per,
                    c.per_request[i].multi_shard / per
                )
            })
        } else {
            "–".into()
        },
        if citus {
            format!("{:.3}", c.per_request.iter().map(|p| p.calls).sum::<f64>() / per)
        } else {
            format!("{:.2}", c.per_request[0].calls / per)
        },
    )
}

/// The service's log and each node's, per side.
fn errors(single: &Figures, citus: &Figures) -> String {
    let mut out = String::new();
    for f in [single, citus] {
        out.push_str(&format!(
            "- {}: the service's `WARN`/`ERROR` lines: {}\n",
            f.target,
            f.service_log.describe(8)
        ));
        for (node, summary) in &f.node_logs {
            out.push_str(&format!(
                "- {}, {node}'s log, `ERROR`/`FATAL` lines: {}\n",
                f.target,
                summary.describe(8)
            ));
        }
    }
    out
}

/// The model: CPU is what limits (the measured scenarios keep the cores busy). A request costs
/// `c` µs on the coordinator and `w` µs over all workers together (shards spread evenly over
/// workers, so each of N workers takes w/N), the background's cost (`idle`) taken out; the
/// service and the load generator run on machines of their own (stateless, scaled out). With
/// machines of `cores` cores: coordinator-bound at cores·10⁶/c, workers-bound at N·cores·10⁶/w;
/// the throughput is the smaller. The single node: cores·10⁶/d for its database cost d.
fn estimate(single: &Figures, citus: &Figures) -> String {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as f64;
    let (Some(idle_single), Some(idle_citus)) = (find(single, "idle"), find(citus, "idle")) else {
        return "No idle window measured.\n".into();
    };
    let mut out = format!(
        "Model: CPU limits throughput. Per request, the coordinator spends *c* µs and the workers *w* µs\n\
         in all (spread evenly: each of N workers *w*/N), with the background's cost (the *idle* row, per\n\
         second, times the scenario's window ÷ its requests) taken out; the service and the clients run on\n\
         machines of their own. With machines of {cores:.0} cores like this one: the coordinator allows\n\
         {cores:.0}·10⁶/*c* requests/s, N workers N·{cores:.0}·10⁶/*w*; the cluster gives the smaller. One\n\
         database server of the same size: {cores:.0}·10⁶/*d* for its cost *d* (the same way). Inputs: this\n\
         run's costs above (network round trips between machines, absent here, add latency, not CPU).\n\n\
         | scenario | single node *d* µs → req/s | coordinator *c* µs | workers *w* µs | N = 1 | N = 2 | N = 4 | N = 8 | N = 16 |\n\
         |---|---|---|---|---|---|---|---|---|\n"
    );
    for name in [
        "S1",
        "S2",
        "S3",
        "1,000/s",
        "pgbench spread",
        "pgbench spread, routed",
        "pgbench read",
    ] {
        let (Some(a), Some(b)) = (find(single, name), find(citus, name)) else {
            continue;
        };
        let d: f64 = a.net_node_us(idle_single).iter().sum();
        let net = b.net_node_us(idle_citus);
        let (c, w) = (net[0], net[1..].iter().sum::<f64>());
        let at = |n: f64| format!("{:.0}", (cores * 1e6 / c).min(n * cores * 1e6 / w));
        out.push_str(&format!(
            "| {name} | {d:.0} → {:.0} | {c:.0} | {w:.0} | {} | {} | {} | {} | {} |\n",
            cores * 1e6 / d,
            at(1.0),
            at(2.0),
            at(4.0),
            at(8.0),
            at(16.0)
        ));
    }
    out
}

fn find<'f>(f: &'f Figures, name: &str) -> Option<&'f Cost> {
    f.costs.iter().find(|c| c.0 == name).map(|c| &c.1)
}
