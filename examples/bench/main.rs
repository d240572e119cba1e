//! Benchmarks, each a command that prints its figures and appends them to `BENCHMARKS.md`:
//!
//! ```sh
//! cargo run --release --example bench -- visibility   # 201 -> row in the messages table
//! cargo run --release --example bench -- search       # issue 3: 10M-message search benchmark
//! cargo run --release --example bench -- throughput   # issue 4: creations and reads vs pgbench
//! cargo run --release --example bench -- writes       # issue 14: worker write rate with and without search structures
//! cargo run --release --example bench -- cpu          # issue 14: CPU per create and per read, service and PostgreSQL
//! cargo run --release --example bench -- profile      # perf profile of the service and PostgreSQL under S1
//! cargo run --release --example bench -- faults       # creations through broken database connections
//! cargo run --release --example bench -- isolation    # issue 12: creations while worst-case searches run
//! cargo run --release --example bench -- texts        # message lengths (and real text's queries) of a text
//! cargo run --release --example bench -- webhooks     # issue 17: deliveries and their lag under creation load
//! cargo run --release --example bench -- inbox        # issue 17: inbox pages and unread counts, 100,000 chats
//! ```
//!
//! `search` and `throughput` take `--database-url <Citus coordinator>`: the same run on the single
//! node and then on that cluster, reported side by side (`compare`, `compare_search`).
//!
//! `search` and `throughput` take `--text real` for messages of real text (Debian's `fortunes`,
//! `fortunes-min` and documentation, see `corpus`) instead of the synthetic default; the real
//! search dataset is kept in a database of its own beside the synthetic one.
//!
//! They run against a private PostgreSQL cluster kept under `bench-data/` (created on first use;
//! the search dataset is kept between runs), and start the service's release binary as a child
//! process on 127.0.0.1, so what is measured is what users run.

mod compare;
mod compare_search;
mod corpus;
mod cpu;
mod dataset;
mod env;
mod faults;
mod inbox;
mod indexes;
mod isolation;
mod lengths;
mod load;
mod logs;
mod nodes;
mod oracle;
mod procs;
mod profile;
#[path = "../../tests/api/proxy.rs"]
mod proxy;
mod queries;
mod search;
mod stats;
mod target;
mod text;
mod throughput;
mod timing;
#[path = "../../tests/api/unique_posts.rs"]
mod unique_posts;
mod visibility;
mod webhooks;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map(String::as_str).unwrap_or("");
    let rest = &args[args.len().min(1)..];
    match which {
        "visibility" => visibility::run(rest).await,
        "search" => search::run(rest).await,
        "throughput" => throughput::run(rest).await,
        "profile" => profile::run(rest).await,
        "faults" => faults::run(rest).await,
        "hygiene" => profile::hygiene(rest).await,
        "isolation" => isolation::run(rest).await,
        "texts" => queries::show(rest).await,
        "webhooks" => webhooks::run(rest).await,
        "cpu" => cpu::run(rest).await,
        "writes" => indexes::run(rest).await,
        "inbox" => inbox::run(rest).await,
        _ => {
            eprintln!("usage: cargo run --release --example bench -- <visibility|search|throughput|cpu|writes|profile|hygiene|faults|isolation|texts|webhooks|inbox> [options]");
            std::process::exit(2);
        }
    }
}
