//! Exactly once through broken database connections: the real binary talks to PostgreSQL through
//! a proxy that resets connections at random moments (mean lifetime well under a second), so
//! statements and commits are cut mid-flight, while 24 clients post thousands of messages with
//! unique bodies, half of them with an `Idempotency-Key`, retrying every 503. Afterwards every
//! body is stored exactly once, under the number its 201 named, numbers have no gaps, and counts
//! are right. `FAULT_SCALE=10` posts ten times as many; `cargo run --release --example bench --
//! faults` measures the same at scale.

use std::{process::Stdio, time::Duration};

use chat_system::{settings::Settings, store::Db};

use crate::{
    faults::{setup, Instance},
    helpers::{fresh_database_url, on_citus},
    proxy::BreakingProxy,
    unique_posts::{check_stored, post_unique, resolutions, through_proxy},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broken_database_connections_neither_duplicate_nor_lose_a_message() {
    let scale: usize = std::env::var("FAULT_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    // On Citus every statement crosses the coordinator and the nodes share this machine's cores:
    // alone there it posts 6,000 in about 90 s, beside the rest of the suite more than 300 s.
    // Half as many still cut connections by the hundreds.
    let (total, limit) = match on_citus() {
        false => (6_000 * scale, Duration::from_secs(300)),
        true => (3_000 * scale, Duration::from_secs(600)),
    };
    let url = fresh_database_url().await;
    let (_, target) = through_proxy(&url, 0);
    let proxy = BreakingProxy::start(target).await;
    let (proxied, _) = through_proxy(&url, proxy.port);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let instance = Instance::start_with(&proxied, port, &[("RUST_LOG", "error")], Stdio::null()).await;
    let token = setup(&instance.base, 4).await;

    proxy.break_connections(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let told = post_unique(&instance.base, &token, total, 24, 4, limit).await;
    let load_time = started.elapsed();
    proxy.calm();
    let (cuts, resolved) = (proxy.cuts(), resolutions(&instance.base).await);
    // Checked directly, not through the proxy.
    let db = Db::connect(&url, &Settings::defaults()).unwrap();
    let found = check_stored(&db.client().await.unwrap(), &told, Duration::from_secs(60)).await;
    println!(
        "broken connections: {total} messages in {:.1} s, {cuts} connections cut, {resolved} lost answers resolved, \
         {} retries by clients; {found:?}",
        load_time.as_secs_f64(),
        told.retries,
    );

    assert!(
        cuts > 10,
        "the proxy cut only {cuts} connections: the test proved nothing"
    );
    let resolved: u64 = resolved.parse().expect("chat_intake_resolutions_total in /metrics");
    assert!(
        resolved > 0,
        "no creation's answer was lost: the resolution was not exercised"
    );
    assert_eq!(found.duplicates, 0, "bodies stored more than once");
    assert_eq!(found.lost, 0, "201s not stored as answered");
    assert_eq!(told.accepted.len(), total, "every message was answered 201 in the end");
    assert_eq!(found.rows, total, "nothing was stored that no 201 named");
    assert_eq!(found.gaps, 0, "numbers have gaps");
    assert_eq!(found.wrong_counts, 0, "messages_count does not match the rows");
}
