//! The search benchmark's timings: each query shape's latency through HTTP and through the
//! library, `--diagnose`'s route per query, and the synthetic text's query shapes.

use std::time::Instant;

use anyhow::Result;
use chat_system::{
    search::{self, Wanted},
    store::Db,
};
use uuid::Uuid;

use crate::{
    dataset::Vocabulary,
    nodes::{Cost, Nodes},
    oracle,
    queries::Shape,
    stats::{encode, Samples},
};

/// One shape's timings in one chat and order.
pub struct Timed {
    pub shape: &'static str,
    pub query: String,
    pub chat: String,
    pub big: bool,
    pub order: &'static str,
    /// Every hit of the shape's first query in the chat.
    pub hits: i64,
    pub http: Samples,
    pub sql: Samples,
}

impl Timed {
    /// Whether it meets the target (p95 ≤ 50 ms and p99 ≤ 200 ms through HTTP).
    pub fn ok(&self) -> bool {
        self.http.pct(95.0) <= 50.0 && self.http.pct(99.0) <= 200.0
    }
}

/// Times every shape's queries in both chats (`tokens`: the big chat's first), both orders. With
/// `nodes`, also what the timed searches cost on each node (HTTP and library calls together:
/// `2 × runs` searches per shape, chat and order; the hit counts are taken before, apart).
pub async fn time_shapes(
    db: &Db,
    base: &str,
    shapes: &[Shape],
    tokens: [(&str, Uuid); 2],
    runs: usize,
    nodes: Option<&Nodes>,
) -> Result<(Vec<Timed>, Option<Cost>)> {
    let http = reqwest::Client::new();
    let client = db.client().await?;
    let mut timed = Vec::new();
    for shape in shapes {
        for (i, (chat, token)) in tokens.iter().enumerate() {
            // Counted by the database (see `oracle::count` for why not through the library).
            let hits = oracle::count(&client, *token, &shape.queries[0]).await?;
            for order in ["newest", "relevance"] {
                timed.push(Timed {
                    shape: shape.name,
                    query: shape.queries[0].clone(),
                    chat: chat.to_string(),
                    big: i == 0,
                    order,
                    hits,
                    http: Samples::default(),
                    sql: Samples::default(),
                });
            }
        }
    }
    let start = match nodes {
        Some(nodes) => Some(nodes.read().await?),
        None => None,
    };
    let mut searches = 0;
    for t in timed.iter_mut() {
        let shape = shapes.iter().find(|s| s.name == t.shape).expect("a timed shape");
        let token = tokens.iter().find(|(name, _)| *name == t.chat).expect("a timed chat").1;
        let chat = 1i64;
        for i in 0..runs + 5 {
            let q = &shape.queries[i % shape.queries.len()];
            let url = format!(
                "{base}/api/applications/{token}/chats/{chat}/messages?limit=20&order={}&query={}",
                t.order,
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
            let wanted = if t.order == "newest" {
                newest(21)
            } else {
                Wanted {
                    need: search::RELEVANCE_CANDIDATES,
                    offset: 0,
                    limit: 20,
                    rank: Some(&score),
                }
            };
            search::fetch(db, token, chat, &terms, None, (0, i64::MAX), wanted).await?;
            let t_sql = start.elapsed();
            searches += 2;
            if i >= 5 {
                t.http.push(t_http);
                t.sql.push(t_sql);
            }
        }
    }
    let cost = match (nodes, start) {
        (Some(nodes), Some(start)) => Some(nodes.cost(&start, searches).await?),
        _ => None,
    };
    Ok((timed, cost))
}

/// The report's rows of the timings, and the shapes that miss the target (big chat, newest).
pub fn rows(timed: &[Timed]) -> (String, Vec<String>) {
    let mut rows = String::new();
    let mut misses = Vec::new();
    for t in timed {
        if t.big && t.order == "newest" && !t.ok() {
            misses.push(format!("{} ({})", t.shape, t.order));
        }
        rows.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {:.1} / {:.1} / {:.1} | {:.1} / {:.1} / {:.1} |\n",
            t.shape,
            t.query,
            t.chat,
            t.order,
            t.hits,
            t.http.pct(50.0),
            t.http.pct(95.0),
            t.http.pct(99.0),
            t.sql.pct(50.0),
            t.sql.pct(95.0),
            t.sql.pct(99.0),
        ));
    }
    (rows, misses)
}

/// `--diagnose`: each query of each shape on the big chat, newest first, through `search::fetch`:
/// hits, the route that answered (from the process's metrics), and the best of 3 times.
pub async fn diagnose(db: &Db, shapes: &[Shape], token: Uuid) -> Result<()> {
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
    for shape in shapes {
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

/// The query shapes, each with up to 10 variants drawn from the vocabulary by rank.
pub fn shapes(vocab: &Vocabulary) -> Vec<Shape> {
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

/// The `need` newest hits, all of them returned.
pub fn newest(need: i64) -> Wanted<'static> {
    Wanted {
        need,
        offset: 0,
        limit: need,
        rank: None,
    }
}
