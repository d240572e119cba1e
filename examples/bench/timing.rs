//! The search benchmark's timings: each query shape's latency through HTTP and through the
//! library, `--diagnose`'s route per query, and the synthetic text's query shapes.

use std::time::Instant;

use anyhow::Result;
use chat_system::{
    search::{self, SearchOrder, Wanted},
    store::Db,
};
use uuid::Uuid;

use crate::{
    dataset::Vocabulary,
    oracle,
    queries::Shape,
    stats::{encode, Samples},
};

/// Times every shape's queries in both chats, both orders: the report's rows, and the shapes
/// that miss the target.
pub async fn time_shapes(
    db: &Db,
    base: &str,
    shapes: &[Shape],
    tokens: [(&str, Uuid); 2],
    runs: usize,
) -> Result<(String, Vec<String>)> {
    let http = reqwest::Client::new();
    let client = db.client().await?;
    let mut rows = String::new();
    let mut misses = Vec::new();
    let big_token = tokens[0].1;
    for shape in shapes {
        for (chat_name, token) in tokens {
            let chat = 1i64;
            // Counted by the database (see `oracle::count` for why not through the library).
            let hits = oracle::count(&client, token, &shape.queries[0]).await?;
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
                        "{base}/api/applications/{token}/chats/{chat}/messages?limit=20&order={order_name}&query={}",
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
                    search::fetch(db, token, chat, &terms, None, (0, i64::MAX), wanted).await?;
                    let t_sql = start.elapsed();
                    if i >= 5 {
                        via_http.push(t_http);
                        via_sql.push(t_sql);
                    }
                }
                let ok = via_http.pct(95.0) <= 50.0 && via_http.pct(99.0) <= 200.0;
                if token == big_token && order == SearchOrder::Newest && !ok {
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
    Ok((rows, misses))
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
