//! PostgreSQL crashes, with durability on (the test clusters run without fsync and with
//! asynchronous commits; this one has PostgreSQL's defaults) and the real binary: every 201 is
//! stored exactly once after crash recovery, and worker batches whose asynchronous commit died
//! with the server run again.

use std::{
    collections::BTreeSet,
    process::Stdio,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use chat_system::{
    cluster::{Cluster, Durability},
    settings::Settings,
    store::Db,
};

use crate::faults::{free_port, load, own_cluster, plenty, setup, verify, Instance, Ledger, Routes};

/// Runs `f` on the cluster off the runtime (starting and stopping it block).
async fn with_cluster(cluster: Cluster, f: impl FnOnce(&mut Cluster) + Send + 'static) -> Cluster {
    tokio::task::spawn_blocking(move || {
        let mut cluster = cluster;
        f(&mut cluster);
        cluster
    })
    .await
    .unwrap()
}

/// The (chat, number) of every message row.
async fn stored(db: &Db) -> BTreeSet<(i64, i64)> {
    let client = db.client().await.unwrap();
    let rows = client
        .query("SELECT chat_number, number FROM messages", &[])
        .await
        .unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

/// The (chat, number) of every queued message creation.
async fn queued(db: &Db) -> BTreeSet<(i64, i64)> {
    let client = db.client().await.unwrap();
    let rows = client
        .query(
            "SELECT chat_number, message_number FROM jobs WHERE message_number IS NOT NULL",
            &[],
        )
        .await
        .unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

/// Waits (30 s at most) until the job table is empty.
async fn drained(db: &Db) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let client = db.client().await.unwrap();
        let jobs: i64 = client.query_one("SELECT count(*) FROM jobs", &[]).await.unwrap().get(0);
        if jobs == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{jobs} jobs still queued after 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Posts with `clients` clients until the instance at `base` has answered `more` further 201s.
async fn burst(base: &str, token: &str, clients: usize, ledger: &Arc<Ledger>, more: u64, what: &str) {
    let stop = Arc::new(AtomicBool::new(false));
    let from = ledger.created_by(base);
    let loader = tokio::spawn(load(
        Routes::new(&[base]),
        token.to_owned(),
        5,
        clients,
        ledger.clone(),
        stop.clone(),
    ));
    ledger.wait_created(base, from, more, what).await;
    stop.store(true, Ordering::Relaxed);
    loader.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_crash_loses_no_acknowledged_message_and_reruns_lost_batches() {
    // Durability on. The WAL writer sleeps its longest (10 s) and autovacuum is off, so that the
    // workers' asynchronous commits stay in the server's WAL buffers until the next synchronous
    // commit (a creation's) writes them: a crash right after the last creation's batches were
    // written loses those batches (as it can at any moment on a busy server; rounds below retry
    // in case a background write got there first).
    let (mut cluster, dir, url) = own_cluster(
        "crash",
        Durability::Full,
        &[("wal_writer_delay", "10000"), ("autovacuum", "off")],
    )
    .await;
    // No vacuum or reconcile while the test runs: their synchronous commits would write the
    // workers' WAL too.
    let instance = Instance::start_with(
        &url,
        free_port(),
        &[
            ("RUST_LOG", "error"),
            ("MAINTENANCE_INTERVAL_MS", "600000"),
            ("RECONCILE_INTERVAL_SECS", "3600"),
        ],
        Stdio::inherit(),
    )
    .await;
    let base = instance.base.clone();
    let token = setup(&base, 5).await;
    let ledger = Arc::new(Ledger::default());
    let db = Db::connect(&url, &Settings::defaults()).unwrap();

    // 1. A crash under load: requests in flight fail, every 201 must survive recovery, and the
    //    service heals by itself once the server is back.
    let stop = Arc::new(AtomicBool::new(false));
    let loader = tokio::spawn(load(
        Routes::new(&[&base]),
        token.clone(),
        5,
        12,
        ledger.clone(),
        stop.clone(),
    ));
    ledger.wait_created(&base, 0, 4 * plenty(), "before the crash").await;
    cluster = with_cluster(cluster, |c| c.crash().unwrap()).await;
    let during = ledger.created_by(&base);
    cluster = with_cluster(cluster, |c| c.resume().unwrap()).await;
    ledger
        .wait_created(&base, during, 4 * plenty(), "after the crash under load")
        .await;
    stop.store(true, Ordering::Relaxed);
    loader.await.unwrap();
    let failed_under_load = ledger.failed_by(&base);
    drained(&db).await;
    let acknowledged = ledger.accepted();
    let rows = stored(&db).await;
    for key in acknowledged.keys() {
        assert!(rows.contains(key), "201 for {key:?} lost in the crash under load");
    }

    // 2. A crash right after the workers drained a burst: their last batches' commits were not
    //    written, so their rows vanish in recovery; the jobs they deleted must be back in the
    //    queue, with every acknowledged message either stored or queued. The service is frozen
    //    meanwhile, so that nothing runs the jobs before they are counted.
    let mut lost_total = 0;
    for round in 1..=3 {
        burst(&base, &token, 4, &ledger, plenty(), &format!("burst {round}")).await;
        drained(&db).await;
        instance.signal(libc::SIGSTOP);
        let before = stored(&db).await;
        cluster = with_cluster(cluster, |c| {
            c.crash().unwrap();
            c.resume().unwrap();
        })
        .await;
        let (after, back) = (stored(&db).await, queued(&db).await);
        instance.signal(libc::SIGCONT);
        let lost: BTreeSet<_> = before.difference(&after).copied().collect();
        assert!(
            lost.is_subset(&back),
            "round {round}: rows lost in the crash without their jobs back: {:?}",
            lost.difference(&back).collect::<Vec<_>>()
        );
        for key in ledger.accepted().keys() {
            assert!(
                after.contains(key) || back.contains(key),
                "round {round}: 201 for {key:?} neither stored nor queued after the crash"
            );
        }
        println!(
            "postgres crash, round {round}: {} rows visible before, {} lost with their batch's commit and queued again",
            before.len(),
            lost.len()
        );
        lost_total += lost.len();
        if lost_total > 0 {
            break;
        }
    }
    assert!(lost_total > 0, "no crash lost a worker batch: the test did not test it");

    // Everything is written once the queue drains: every 201 exactly once, numbers contiguous,
    // counts right, nothing set aside.
    verify(&url, &ledger, "postgres crash").await;
    println!("postgres crash under load: {failed_under_load} requests failed while the server was down");
    drop(instance);
    drop(db);
    tokio::task::spawn_blocking(move || cluster.stop()).await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
