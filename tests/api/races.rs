//! Races run with real concurrency: deletes against creations and worker batches, a message
//! delete against its worker, the purger against traffic, the reconciler against workers, a
//! database outage against `/readyz`, and an instance's cached application id against a delete
//! made through another instance. Each asserts what clients were told and what is stored.

use std::{
    collections::BTreeSet,
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

use chat_system::{
    cluster::{Cluster, Durability},
    store::{self, Db},
    upkeep,
};
use futures::{stream, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{fresh_database_url, test_config, Response, TestApp};

/// Polls `check` until it holds, for up to `secs` seconds (purging tens of thousands of rows
/// on a busy machine takes longer than `TestApp::eventually` waits).
async fn until<F, Fut>(what: &str, secs: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The id behind a token (read before the application is deleted).
/// Every table holding rows of application `id` (or, with `chat`, of that chat of it), with
/// their number: `applications` itself and every table with an `application_id` column, found
/// in the catalog so that tables added later are covered too. For a chat: the tables that also
/// have a `chat_number` column, and `chats`.
///
/// Not `intake_batches`: a creation batch's record is kept 15 minutes whatever becomes of its
/// application, on one node as on Citus (the intake's exactly-once resolution reads it, and a
/// request still on its way, or its fence, may write one after the delete); it holds the numbers
/// a batch created, nothing the requests sent. Only Citus files it under the application (V21,
/// to route it), where this look would see it.
async fn leftovers(app: &TestApp, id: i64, chat: Option<i64>) -> Vec<(String, i64)> {
    let client = app.db.client().await.unwrap();
    let tables = client
        .query(
            "SELECT c.table_name::text, bool_or(o.column_name = 'chat_number')
             FROM information_schema.columns c
             JOIN information_schema.columns o USING (table_schema, table_name)
             WHERE c.table_schema = 'public' AND c.column_name = 'application_id'
               AND c.table_name <> 'intake_batches'
             GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    assert!(tables.len() >= 7, "the catalog lists the tables: {}", tables.len());
    let mut found = Vec::new();
    for table in &tables {
        let (name, has_chat): (String, bool) = (table.get(0), table.get(1));
        let row = match chat {
            None => {
                let sql = format!("SELECT count(*) FROM \"{name}\" WHERE application_id = $1");
                client.query_one(&sql, &[&id]).await.unwrap()
            }
            Some(chat) if has_chat || name == "chats" => {
                let column = if has_chat { "chat_number" } else { "number" };
                let sql = format!("SELECT count(*) FROM \"{name}\" WHERE application_id = $1 AND {column} = $2");
                client.query_one(&sql, &[&id, &chat]).await.unwrap()
            }
            Some(_) => continue,
        };
        let n: i64 = row.get(0);
        if n > 0 {
            found.push((name, n));
        }
    }
    if chat.is_none() {
        let n: i64 = client
            .query_one("SELECT count(*) FROM applications WHERE id = $1", &[&id])
            .await
            .unwrap()
            .get(0);
        if n > 0 {
            found.push(("applications".into(), n));
        }
    }
    found
}

/// A job an earlier release set aside in `dead_jobs` (workers no longer bury jobs, but rows of
/// earlier releases stay until their application or chat is deleted).
async fn bury_a_job(app: &TestApp, id: i64, chat: i64) {
    app.count(&format!(
        "WITH x AS (INSERT INTO dead_jobs (id, application_id, chat_number, message_number, body,
                                           created_at, updated_at, attempts, last_error)
                    VALUES (-1, {id}, {chat}, 1000000, 'set aside', now(), now(), 8, 'test')
                    RETURNING 1)
         SELECT count(*) FROM x"
    ))
    .await;
}

/// Posts `n` messages spread over `chats`, `concurrency` at a time; returns how many got 201.
async fn queue_messages(app: &TestApp, token: &str, chats: &[i64], n: usize, concurrency: usize) -> usize {
    stream::iter(0..n)
        .map(|i| {
            let path = format!("/api/applications/{token}/chats/{}/messages", chats[i % chats.len()]);
            async move { app.post(&path, json!({ "body": format!("queued {i}") })).await.status }
        })
        .buffer_unordered(concurrency)
        .filter(|s| std::future::ready(*s == StatusCode::CREATED))
        .count()
        .await
}

/// The chat's `messages_count` as a client reads it.
async fn messages_count(app: &TestApp, token: &str, chat: i64) -> Value {
    app.get(&format!("/api/applications/{token}/chats/{chat}")).await.body["messages_count"].clone()
}

/// What clients were told while a delete ran: every answer, and whether the request was sent
/// after the delete had answered.
#[derive(Default)]
struct Told {
    answers: Mutex<Vec<(String, StatusCode, Value, bool)>>,
}

impl Told {
    fn record(&self, target: &str, r: &Response, after_delete: bool) {
        self.answers
            .lock()
            .unwrap()
            .push((target.to_owned(), r.status, r.body.clone(), after_delete));
    }

    /// Waits until a request sent after the delete has been answered, for every one of
    /// `targets`: the traffic must not stop before any was sent (the purge can end within one
    /// round of creations, which on Citus is slower than on one node).
    async fn after_delete(&self, targets: &[&str]) {
        until("requests sent after the delete answered", 60, || async {
            targets.iter().all(|t| self.of(t).iter().any(|a| a.2))
        })
        .await;
    }

    /// The answers for `target`.
    fn of(&self, target: &str) -> Vec<(StatusCode, Value, bool)> {
        let answers = self.answers.lock().unwrap();
        answers
            .iter()
            .filter(|a| a.0 == target)
            .map(|a| (a.1, a.2.clone(), a.3))
            .collect()
    }
}

/// Posts to each `(target, path)` in turn, round after round, until `stop`; records every answer.
async fn traffic(app: &TestApp, targets: &[(&str, String)], told: &Told, deleted: &AtomicBool, stop: &AtomicBool) {
    let mut i = 0u64;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let after_delete = deleted.load(Ordering::SeqCst);
        let calls = targets.iter().map(|(target, path)| async move {
            let body = path
                .ends_with("/messages")
                .then(|| json!({ "body": format!("live {i}") }));
            (target, app.call(Method::POST, path, body).await)
        });
        for (target, r) in futures::future::join_all(calls).await {
            told.record(target, &r, after_delete);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_application_deleted_with_20000_creations_queued_leaves_no_row_anywhere() {
    let url = fresh_database_url().await;
    let mut config = test_config();
    config.workers = 4;
    let front = TestApp::spawn_on(&url, config.clone(), false).await;
    let doomed = front.create_app("Doomed").await;
    let kept = front.create_app("Kept").await;
    let mut chats = Vec::new();
    for _ in 0..10 {
        chats.push(front.create_chat(&doomed).await);
    }
    let kept_chat = front.create_chat(&kept).await;
    front.drain().await;
    let id = front.app_id(&doomed).await;
    let keyed = front
        .raw(
            front
                .http
                .post(format!("{}/api/applications/{doomed}/chats", front.base))
                .header("Idempotency-Key", "doomed-1"),
        )
        .await;
    assert_eq!(keyed.status, StatusCode::CREATED);
    bury_a_job(&front, id, chats[0]).await;
    assert_eq!(queue_messages(&front, &doomed, &chats, 20_000, 64).await, 20_000);

    // Act: four workers start on the queue; once they are writing it the application is
    // deleted, while creations for it and for another application keep coming.
    let workers = TestApp::spawn_on(&url, config, true).await;
    until("the workers write the queue", 60, || async {
        front
            .count(&format!("SELECT count(*) FROM messages WHERE application_id = {id}"))
            .await
            > 0
    })
    .await;
    let (told, deleted, stop) = (Told::default(), AtomicBool::new(false), AtomicBool::new(false));
    let targets = [
        (
            "doomed",
            format!("/api/applications/{doomed}/chats/{}/messages", chats[1]),
        ),
        ("doomed chat", format!("/api/applications/{doomed}/chats")),
        ("kept", format!("/api/applications/{kept}/chats/{kept_chat}/messages")),
    ];
    let (_, delete) = tokio::join!(traffic(&workers, &targets, &told, &deleted, &stop), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = front.delete(&format!("/api/applications/{doomed}")).await;
        deleted.store(true, Ordering::SeqCst);
        until("the purge finishes", 120, || async {
            front
                .count(&format!("SELECT count(*) FROM purges WHERE application_id = {id}"))
                .await
                == 0
        })
        .await;
        told.after_delete(&["doomed", "doomed chat"]).await;
        stop.store(true, Ordering::SeqCst);
        r
    });

    assert_eq!(delete.status, StatusCode::NO_CONTENT);
    for target in ["doomed", "doomed chat"] {
        let answers = told.of(target);
        assert!(
            answers.iter().any(|a| a.2),
            "{target}: requests were sent after the delete"
        );
        for (status, body, after_delete) in answers {
            match (status, after_delete) {
                (StatusCode::CREATED, false) => {}
                (StatusCode::NOT_FOUND, _) => assert_eq!(body["code"], "application_not_found"),
                other => panic!("{target}: {other:?} {body}"),
            }
        }
    }
    let kept_numbers: BTreeSet<i64> = told
        .of("kept")
        .iter()
        .map(|(status, body, _)| {
            assert_eq!(*status, StatusCode::CREATED, "{body}");
            body["number"].as_i64().unwrap()
        })
        .collect();
    until("the queue is empty: no job stuck", 60, || async {
        front.count("SELECT count(*) FROM jobs").await == 0
    })
    .await;
    assert_eq!(leftovers(&front, id, None).await, vec![]);
    front
        .get(&format!("/api/applications/{doomed}/chats/1/messages/1"))
        .await
        .assert_problem(404, "application_not_found");
    assert_eq!(
        front
            .count(&format!(
                "SELECT count(*) FROM messages WHERE chat_number = {kept_chat}"
            ))
            .await,
        kept_numbers.len() as i64
    );
    assert_eq!(kept_numbers, (1..=kept_numbers.len() as i64).collect());
    assert_eq!(
        messages_count(&front, &kept, kept_chat).await,
        kept_numbers.len() as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_batch_that_commits_during_the_purge_does_not_end_it_early() {
    let app = TestApp::spawn_paused().await;
    let token = app.create_app("Doomed").await;
    let chat = app.create_chat(&token).await;
    app.drain().await;
    let id = app.app_id(&token).await;
    // 6,000 queued messages: more than one purge chunk (5,000).
    app.db
        .client()
        .await
        .unwrap()
        .batch_execute(&format!(
            "INSERT INTO jobs (application_id, chat_number, message_number, body)
             SELECT {id}, {chat}, g, 'queued ' || g FROM generate_series(1, 6000) g;
             UPDATE chat_counters SET last_message_number = 6000 WHERE application_id = {id};"
        ))
        .await
        .unwrap();
    // A worker batch holding the first ten jobs, as `Worker::run_batch` does: claimed (deleted)
    // and written in one transaction, committed later.
    let mut held = app.db.client().await.unwrap();
    let batch = held.transaction().await.unwrap();
    batch
        .batch_execute(&format!(
            "WITH claimed AS (
                 DELETE FROM jobs WHERE application_id = {id} AND message_number <= 10
                 RETURNING application_id, chat_number, message_number, body, created_at, updated_at)
             INSERT INTO messages (application_id, chat_number, number, body, created_at, updated_at)
             SELECT * FROM claimed"
        ))
        .await
        .unwrap();

    // Act: the application is deleted; the purger's delete of the queue waits for the batch,
    // which then commits.
    let deleted = app.delete(&format!("/api/applications/{token}")).await;
    until("the purger waits for the batch", 30, || async {
        app.lock_waits("%").await > 0
    })
    .await;
    batch.commit().await.unwrap();
    drop(held);

    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    until("the purge finishes", 60, || async {
        app.count("SELECT count(*) FROM purges").await == 0
    })
    .await;
    assert_eq!(leftovers(&app, id, None).await, vec![]);
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0, "no job is stuck");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_chat_deleted_while_its_creations_are_queued_and_written_leaves_no_row_anywhere() {
    let url = fresh_database_url().await;
    let mut config = test_config();
    config.workers = 4;
    let front = TestApp::spawn_on(&url, config.clone(), false).await;
    let token = front.create_app("Busy").await;
    let doomed = front.create_chat(&token).await;
    let kept = front.create_chat(&token).await;
    front.drain().await;
    let id = front.app_id(&token).await;
    bury_a_job(&front, id, doomed).await;
    assert_eq!(
        queue_messages(&front, &token, &[doomed, kept], 10_000, 64).await,
        10_000
    );

    // Act: workers start; once they are writing the doomed chat it is deleted, while creations
    // of messages in both chats and of new chats keep coming.
    let workers = TestApp::spawn_on(&url, config, true).await;
    until("the workers write the queue", 60, || async {
        front
            .count(&format!("SELECT count(*) FROM messages WHERE chat_number = {doomed}"))
            .await
            > 0
    })
    .await;
    let (told, deleted, stop) = (Told::default(), AtomicBool::new(false), AtomicBool::new(false));
    let targets = [
        ("doomed", format!("/api/applications/{token}/chats/{doomed}/messages")),
        ("kept", format!("/api/applications/{token}/chats/{kept}/messages")),
        ("new chat", format!("/api/applications/{token}/chats")),
    ];
    let (_, delete) = tokio::join!(traffic(&workers, &targets, &told, &deleted, &stop), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = front.delete(&format!("/api/applications/{token}/chats/{doomed}")).await;
        deleted.store(true, Ordering::SeqCst);
        until("the purge finishes", 120, || async {
            front.count("SELECT count(*) FROM purges").await == 0
        })
        .await;
        told.after_delete(&["doomed"]).await;
        stop.store(true, Ordering::SeqCst);
        r
    });

    assert_eq!(delete.status, StatusCode::NO_CONTENT);
    let doomed_answers = told.of("doomed");
    assert!(doomed_answers.iter().any(|a| a.2));
    for (status, body, after_delete) in doomed_answers {
        match (status, after_delete) {
            (StatusCode::CREATED, false) => {}
            (StatusCode::NOT_FOUND, _) => assert_eq!(body["code"], "chat_not_found"),
            other => panic!("doomed chat: {other:?} {body}"),
        }
    }
    let kept_created = told.of("kept").iter().filter(|a| a.0 == StatusCode::CREATED).count() as i64;
    let new_chats = told.of("new chat");
    assert!(told
        .of("kept")
        .iter()
        .chain(&new_chats)
        .all(|a| a.0 == StatusCode::CREATED));
    until("the queue is empty: no job stuck", 60, || async {
        front.count("SELECT count(*) FROM jobs").await == 0
    })
    .await;
    assert_eq!(leftovers(&front, id, Some(doomed)).await, vec![]);
    front
        .get(&format!("/api/applications/{token}/chats/{doomed}"))
        .await
        .assert_problem(404, "chat_not_found");
    let kept_rows = front
        .count(&format!("SELECT count(*) FROM messages WHERE chat_number = {kept}"))
        .await;
    assert_eq!(kept_rows, 5_000 + kept_created);
    assert_eq!(messages_count(&front, &token, kept).await, kept_rows);
    let chats_count = front.get(&format!("/api/applications/{token}")).await.body["chats_count"].clone();
    assert_eq!(
        chats_count,
        1 + new_chats.len() as i64,
        "the kept chat and the new ones"
    );
    assert_eq!(
        front.count("SELECT count(*) FROM chats").await,
        1 + new_chats.len() as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_deleted_while_queued_being_written_or_written_is_counted_once() {
    let mut config = test_config();
    config.workers = 4;
    // This test is about counts, not overload: on a busy machine (the suite runs beside it)
    // opening one of the pool's connections has taken over the default 3 s, and a delete then
    // answered 503 (rightly) instead of doing what the test counts.
    config.db_acquire_timeout_ms = 20_000;
    let app = TestApp::spawn_with(config, true).await;
    let token = app.create_app("Deletes").await;
    let chat = app.create_chat(&token).await;
    let path = format!("/api/applications/{token}/chats/{chat}/messages");

    // Act: 600 creations; every other message is deleted as soon as it is acknowledged, after
    // 0–30 ms (while its job is queued, while a worker writes it, or after), every fourth one
    // by two requests at once.
    let outcomes: Vec<(i64, Vec<StatusCode>)> = stream::iter(0..600u64)
        .map(|i| {
            let (app, path, token) = (&app, &path, &token);
            async move {
                let token = token.as_str();
                let number = app.create_message(token, chat, &format!("m{i}")).await;
                if i % 2 == 0 {
                    return (number, vec![]);
                }
                tokio::time::sleep(Duration::from_millis(i * 7919 % 31)).await;
                let one = format!("{path}/{number}");
                let deletes = if i % 4 == 3 { 2 } else { 1 };
                let statuses = futures::future::join_all((0..deletes).map(|_| app.delete(&one))).await;
                (number, statuses.iter().map(|r| r.status).collect())
            }
        })
        .buffer_unordered(48)
        .collect()
        .await;

    let mut kept = BTreeSet::new();
    for (number, mut statuses) in outcomes {
        statuses.sort();
        match statuses.as_slice() {
            [] => {
                kept.insert(number);
            }
            [StatusCode::NO_CONTENT] | [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND] => {}
            other => panic!("message {number}: deletes answered {other:?}"),
        }
        if !kept.contains(&number) {
            app.get(&format!("{path}/{number}"))
                .await
                .assert_problem(404, "message_not_found");
        }
    }
    assert_eq!(kept.len(), 300);
    until("the queue is empty", 30, || async {
        app.count("SELECT count(*) FROM jobs").await == 0
    })
    .await;
    let stored: BTreeSet<i64> = app
        .db
        .client()
        .await
        .unwrap()
        .query("SELECT number FROM messages", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(stored, kept);
    assert_eq!(messages_count(&app, &token, chat).await, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_purger_empties_a_100000_message_chat_while_other_chats_keep_taking_messages() {
    let app = TestApp::spawn().await;
    let token = app.create_app("Big").await;
    let big = app.create_chat(&token).await;
    let others = [app.create_chat(&token).await, app.create_chat(&token).await];
    app.eventually("the chats are written", || async {
        app.count("SELECT count(*) FROM chats").await == 3
    })
    .await;
    let id = app.app_id(&token).await;
    // 100,000 messages straight into the tables, as the workers would have written them.
    app.db
        .client()
        .await
        .unwrap()
        .batch_execute(&format!(
            "INSERT INTO messages (application_id, chat_number, number, body, created_at, updated_at)
             SELECT {id}, {big}, g, 'message number ' || g, now(), now() FROM generate_series(1, 100000) g;
             UPDATE chats SET messages_count = 100000 WHERE application_id = {id} AND number = {big};
             UPDATE chat_counters SET last_message_number = 100000
              WHERE application_id = {id} AND chat_number = {big};"
        ))
        .await
        .unwrap();
    assert_eq!(messages_count(&app, &token, big).await, 100_000);

    // Act: the big chat is deleted while messages keep coming into the other two.
    let (told, deleted, stop) = (Told::default(), AtomicBool::new(false), AtomicBool::new(false));
    let targets: Vec<(&str, String)> = others
        .iter()
        .map(|c| ("other", format!("/api/applications/{token}/chats/{c}/messages")))
        .collect();
    let clients = futures::future::join_all((0..4).map(|_| traffic(&app, &targets, &told, &deleted, &stop)));
    let (_, delete) = tokio::join!(clients, async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let r = app.delete(&format!("/api/applications/{token}/chats/{big}")).await;
        deleted.store(true, Ordering::SeqCst);
        until("the purge finishes", 180, || async {
            app.count("SELECT count(*) FROM purges").await == 0
        })
        .await;
        stop.store(true, Ordering::SeqCst);
        r
    });

    assert_eq!(delete.status, StatusCode::NO_CONTENT);
    let answers = told.of("other");
    assert!(
        answers.iter().filter(|a| a.2).count() > 0,
        "traffic ran during the purge"
    );
    for (status, body, _) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
    }
    assert_eq!(leftovers(&app, id, Some(big)).await, vec![]);
    until("the other chats' messages are written", 30, || async {
        app.count("SELECT count(*) FROM jobs").await == 0
    })
    .await;
    let mut total = 0;
    for chat in others {
        let rows = app
            .count(&format!("SELECT count(*) FROM messages WHERE chat_number = {chat}"))
            .await;
        assert_eq!(messages_count(&app, &token, chat).await, rows);
        total += rows;
    }
    assert_eq!(total, answers.len() as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_reconciler_running_while_workers_write_leaves_every_count_right() {
    let mut config = test_config();
    config.workers = 4;
    let app = TestApp::spawn_with(config, true).await;
    let token = app.create_app("Counted").await;
    let mut chats = Vec::new();
    for _ in 0..5 {
        chats.push(app.create_chat(&token).await);
    }
    app.eventually("the chats are written", || async {
        app.count("SELECT count(*) FROM chats").await == 5
    })
    .await;
    // Two drifted counts for the reconciler to find while the workers write.
    app.count("WITH x AS (UPDATE chats SET messages_count = messages_count + 7 WHERE number = 1 RETURNING 1) SELECT count(*) FROM x")
        .await;
    app.drift_chat_counts("chats_count + 3").await;

    // Act: 3,000 creations while the reconciler runs over and over.
    let done = AtomicBool::new(false);
    let (created, (runs, corrected)) = tokio::join!(
        async {
            let created = queue_messages(&app, &token, &chats, 3_000, 32).await;
            done.store(true, Ordering::SeqCst);
            created
        },
        async {
            let (mut runs, mut corrected) = (0, 0);
            while !done.load(Ordering::SeqCst) {
                if let Ok(Some(n)) = upkeep::reconcile_counts(&app.db).await {
                    runs += 1;
                    corrected += n;
                }
            }
            (runs, corrected)
        }
    );

    assert_eq!(created, 3_000);
    assert!(runs > 1, "the reconciler ran {runs} times");
    assert_eq!(corrected, 2, "only the two drifted counts were changed");
    until("the queue is empty", 30, || async {
        app.count("SELECT count(*) FROM jobs").await == 0
    })
    .await;
    let mut total = 0;
    for chat in &chats {
        let rows = app
            .count(&format!("SELECT count(*) FROM messages WHERE chat_number = {chat}"))
            .await;
        assert_eq!(messages_count(&app, &token, *chat).await, rows, "chat {chat}");
        total += rows;
    }
    assert_eq!(total, 3_000);
    assert_eq!(
        app.get(&format!("/api/applications/{token}")).await.body["chats_count"],
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readyz_answers_a_503_problem_while_the_database_is_down_and_200_once_it_is_back() {
    let dir = std::env::temp_dir().join(format!("chat-system-readyz-{}", uuid::Uuid::new_v4().simple()));
    let mut cluster = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || Cluster::start(&dir, None, Durability::Throwaway).unwrap()
    })
    .await
    .unwrap();
    let admin = Db::connect(&cluster.url("postgres"), &test_config()).unwrap();
    admin
        .client()
        .await
        .unwrap()
        .batch_execute("CREATE DATABASE ready")
        .await
        .unwrap();
    let url = cluster.url("ready");
    store::migrate(&Db::connect(&url, &test_config()).unwrap())
        .await
        .unwrap();
    let app = TestApp::spawn_on(&url, test_config(), true).await;
    let readyz = || app.raw(app.http.get(format!("{}/readyz", app.base)));
    let before = readyz().await;

    cluster = tokio::task::spawn_blocking(move || {
        cluster.pause();
        cluster
    })
    .await
    .unwrap();
    let down = app.raw(app.http.get(format!("{}/readyz", app.base))).await;
    let retry_after = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap()
        .headers()
        .get("retry-after")
        .is_some();
    cluster = tokio::task::spawn_blocking(move || {
        cluster.resume().unwrap();
        cluster
    })
    .await
    .unwrap();
    let mut back = readyz().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while back.status != StatusCode::OK && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        back = readyz().await;
    }

    assert_eq!(before.status, StatusCode::OK);
    down.assert_problem(503, "service_unavailable");
    assert!(retry_after, "a 503 from /readyz carries Retry-After");
    assert_eq!(back.status, StatusCode::OK, "ready again once the database is back");
    drop(app);
    tokio::task::spawn_blocking(move || cluster.stop()).await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_application_is_gone_on_an_instance_that_cached_its_id() {
    let url = fresh_database_url().await;
    let a = TestApp::spawn_on(&url, test_config(), true).await;
    let b = TestApp::spawn_on(&url, test_config(), true).await;
    let token = a.create_app("Cached").await;
    let chat = a.create_chat(&token).await;
    a.create_message(&token, chat, "hello").await;
    let keyed = |key: &str| {
        a.http
            .post(format!("{}/api/applications/{token}/chats", a.base))
            .header("Idempotency-Key", key)
    };
    assert_eq!(a.raw(keyed("cached-1")).await.status, StatusCode::CREATED);
    let id = a.app_id(&token).await;
    // Instance A resolves the token to its id (and caches it) by serving a read.
    let one = format!("/api/applications/{token}/chats/{chat}/messages/1");
    assert_eq!(a.get(&one).await.body["body"], "hello");

    // Act
    let deleted = b.delete(&format!("/api/applications/{token}")).await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let app_path = format!("/api/applications/{token}");
    let chats = format!("{app_path}/chats");
    let messages = format!("{chats}/{chat}/messages");
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, app_path.clone(), None),
        (Method::PUT, app_path.clone(), Some(json!({ "name": "revived" }))),
        (Method::POST, chats.clone(), None),
        (Method::GET, chats.clone(), None),
        (Method::GET, format!("{chats}/{chat}"), None),
        (Method::POST, messages.clone(), Some(json!({ "body": "late" }))),
        (Method::GET, messages.clone(), None),
        (Method::GET, format!("{messages}?query=hello"), None),
        (Method::GET, one.clone(), None),
        (Method::PUT, one.clone(), Some(json!({ "body": "edited" }))),
        (Method::GET, format!("{messages}/stream"), None),
        (Method::DELETE, one.clone(), None),
        (Method::DELETE, format!("{chats}/{chat}"), None),
        (Method::DELETE, app_path.clone(), None),
    ];
    for (method, path, body) in calls {
        let r = a.call(method.clone(), &path, body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {}", r.body);
        r.assert_problem(404, "application_not_found");
    }
    // A retry of a creation acknowledged before the delete, and a new keyed one.
    a.raw(keyed("cached-1"))
        .await
        .assert_problem(404, "application_not_found");
    a.raw(keyed("cached-2"))
        .await
        .assert_problem(404, "application_not_found");
    until("nothing of the application is stored", 30, || async {
        leftovers(&a, id, None).await.is_empty()
            && a.count(&format!(
                "SELECT count(*) FROM idempotency_keys WHERE scope LIKE '%{token}%'"
            ))
            .await
                == 0
    })
    .await;

    // A new application starts empty, whichever instance serves it.
    let fresh = a.create_app("Fresh").await;
    let fresh_id = a.app_id(&fresh).await;
    assert_ne!(fresh_id, id);
    assert_eq!(
        a.get(&format!("/api/applications/{fresh}")).await.body["chats_count"],
        0
    );
    assert_eq!(
        a.get(&format!("/api/applications/{fresh}/chats")).await.numbers(),
        Vec::<i64>::new()
    );
    let fresh_chat = b.create_chat(&fresh).await;
    assert_eq!(fresh_chat, 1);
    a.get(&format!("/api/applications/{fresh}/chats/1/messages/1"))
        .await
        .assert_problem(404, "message_not_found");
    a.create_message(&fresh, fresh_chat, "new").await;
    assert_eq!(
        a.get(&format!("/api/applications/{fresh}/chats/1/messages/1"))
            .await
            .body["body"],
        "new"
    );
    assert_eq!(leftovers(&a, id, None).await, vec![]);
}
