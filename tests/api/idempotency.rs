//! `Idempotency-Key` on every POST: retries return the original answer and create nothing.

use std::collections::BTreeSet;

use futures::{stream, StreamExt};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Response, TestApp};

async fn post_with_key(app: &TestApp, path: &str, key: &str, body: Option<serde_json::Value>) -> Response {
    let mut req = app
        .http
        .post(format!("{}{path}", app.base))
        .header("Idempotency-Key", key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    app.raw(req).await
}

#[tokio::test]
async fn a_retry_returns_the_original_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat_path = format!("/api/applications/{token}/chats");
    let chat = app.create_chat(&token).await;
    let messages = format!("/api/applications/{token}/chats/{chat}/messages");

    let first = post_with_key(&app, &messages, "key-0001", Some(json!({"body": "once"}))).await;
    let retry = post_with_key(&app, &messages, "key-0001", Some(json!({"body": "once"}))).await;
    let chat_first = post_with_key(&app, &chat_path, "chat-key-1", None).await;
    let chat_retry = post_with_key(&app, &chat_path, "chat-key-1", None).await;
    let app_key = uuid::Uuid::new_v4().to_string();
    let app_first = post_with_key(&app, "/api/applications", &app_key, Some(json!({"name": "B"}))).await;
    let app_retry = post_with_key(&app, "/api/applications", &app_key, Some(json!({"name": "B"}))).await;

    assert_eq!((first.status, retry.status), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.location, first.location);
    assert_eq!(chat_retry.body, chat_first.body);
    assert_eq!(app_retry.body, app_first.body);
    assert_eq!(app.get(&messages).await.numbers(), vec![1]);
    assert_eq!(app.get(&chat_path).await.numbers(), vec![1, 2]);
    assert_eq!(app.count("SELECT count(*) FROM applications").await, 2);
    assert_eq!(app.create_message(&token, chat, "next").await, 2);
}

#[tokio::test]
async fn the_same_key_for_another_request_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat = app.create_chat(&token).await;
    let messages = format!("/api/applications/{token}/chats/{chat}/messages");

    post_with_key(&app, &messages, "key-0002", Some(json!({"body": "one"}))).await;
    let other = post_with_key(&app, &messages, "key-0002", Some(json!({"body": "two"}))).await;
    let bad = post_with_key(&app, &messages, "bad key with spaces", Some(json!({"body": "x"}))).await;

    other.assert_problem(422, "idempotency_key_reused");
    bad.assert_problem(400, "invalid_parameter");
    assert_eq!(bad.body["field"], "Idempotency-Key");
    assert_eq!(app.get(&messages).await.numbers(), vec![1]);
}

#[tokio::test]
async fn a_failed_request_frees_its_key() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let missing_chat = format!("/api/applications/{token}/chats/1/messages");

    let failed = post_with_key(&app, &missing_chat, "key-0003", Some(json!({"body": "x"}))).await;
    app.create_chat(&token).await;
    let retried = post_with_key(&app, &missing_chat, "key-0003", Some(json!({"body": "x"}))).await;

    failed.assert_problem(404, "chat_not_found");
    assert_eq!(retried.status, StatusCode::CREATED);
    assert_eq!(retried.body["number"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_racing_the_original_create_exactly_one_message() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat = app.create_chat(&token).await;
    let messages = format!("/api/applications/{token}/chats/{chat}/messages");

    for round in 0..20 {
        let key = format!("race-key-{round}");
        let answers: Vec<Response> = stream::iter(0..8)
            .map(|_| post_with_key(&app, &messages, &key, Some(json!({"body": format!("round {round}")}))))
            .buffer_unordered(8)
            .collect()
            .await;
        let created: BTreeSet<i64> = answers
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .map(|r| r.body["number"].as_i64().unwrap())
            .collect();
        assert_eq!(created.len(), 1, "every 201 of round {round} names the same message");
        for r in answers.iter().filter(|r| r.status != StatusCode::CREATED) {
            r.assert_problem(409, "idempotency_key_in_use");
        }
    }
    assert_eq!(
        app.get(&format!("{messages}?limit=100")).await.numbers(),
        (1..=20).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_guessable_key_never_hands_out_an_application_token() {
    let app = TestApp::spawn().await;

    // A stranger who guesses a readable key must not get the application it created.
    let guessable = post_with_key(&app, "/api/applications", "acme-1", Some(json!({"name": "acme"}))).await;
    let version1 = "6fa459ea-ee8a-11ca-8f35-0242ac130003";
    let not_random = post_with_key(&app, "/api/applications", version1, Some(json!({"name": "acme"}))).await;
    let key = uuid::Uuid::new_v4().to_string();
    let first = post_with_key(&app, "/api/applications", &key, Some(json!({"name": "acme"}))).await;
    let replay = post_with_key(
        &app,
        "/api/applications",
        &key.to_uppercase(),
        Some(json!({"name": "acme"})),
    )
    .await;

    for refused in [&guessable, &not_random] {
        refused.assert_problem(400, "invalid_parameter");
        assert_eq!(refused.body["field"], "Idempotency-Key");
    }
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(replay.status, StatusCode::CREATED, "{}", replay.body);
    assert_eq!(
        replay.body["token"], first.body["token"],
        "the holder of the key gets its application"
    );
    assert_eq!(app.count("SELECT count(*) FROM applications").await, 1);
    // The key is stored as a digest only: the table holds nothing to replay with.
    let client = app.db.client().await.unwrap();
    let leaked: i64 = client
        .query_one(
            "SELECT count(*) FROM idempotency_keys WHERE lower(key) LIKE '%' || $1 || '%'",
            &[&key.to_lowercase()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(leaked, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_whose_claim_was_taken_over_creates_nothing() {
    let mut config = crate::helpers::test_config();
    config.intake_in_flight = 1;
    let app = TestApp::spawn_with(config, true).await;
    let token = app.create_app("A").await;
    let (busy_chat, chat) = (app.create_chat(&token).await, app.create_chat(&token).await);
    let messages = format!("/api/applications/{token}/chats/{chat}/messages");
    let id = app.app_id(&token).await;
    let mut admin = app.db.client().await.unwrap();

    // The only batch slot is taken by a creation waiting on a locked counter, so the keyed
    // request below stays queued after claiming its key; meanwhile its claim is taken over (as
    // a request with the same key does once a claim is a minute old).
    let lock = admin.transaction().await.unwrap();
    lock.execute(
        "SELECT 1 FROM chat_counters WHERE application_id = $1 AND chat_number = $2 FOR UPDATE",
        &[&id, &busy_chat],
    )
    .await
    .unwrap();
    let post = |path: String, key: Option<&'static str>, body: &'static str| {
        let mut req = app
            .http
            .post(format!("{}{path}", app.base))
            .json(&json!({ "body": body }));
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        tokio::spawn(async move { req.send().await.unwrap().status() })
    };
    let blocker = post(
        format!("/api/applications/{token}/chats/{busy_chat}/messages"),
        None,
        "first",
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let late = post(messages.clone(), Some("slow-key"), "late");
    app.eventually("the key is claimed", || async {
        app.count("SELECT count(*) FROM idempotency_keys WHERE key = 'slow-key'")
            .await
            == 1
    })
    .await;
    // A new claim made now, as a taking-over request makes it (the values computed here: Citus
    // refuses a volatile function in an UPDATE of a distributed table).
    let taken_over = app
        .db
        .client()
        .await
        .unwrap()
        .execute(
            "UPDATE idempotency_keys SET claim = $1, created_at = $2 WHERE key = 'slow-key'",
            &[&uuid::Uuid::new_v4(), &chrono::Utc::now()],
        )
        .await
        .unwrap();
    assert_eq!(taken_over, 1);
    lock.commit().await.unwrap();

    assert_eq!(blocker.await.unwrap(), StatusCode::CREATED);
    assert_eq!(
        late.await.unwrap(),
        StatusCode::CONFLICT,
        "its claim was no longer its own"
    );
    assert_eq!(
        app.get(&messages).await.numbers(),
        Vec::<i64>::new(),
        "nothing was created under a lost claim"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM idempotency_keys WHERE key = 'slow-key' AND status IS NULL")
            .await,
        1,
        "the key stays with the request that took it over"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_intake_refuses_at_once_and_an_expired_request_is_never_sent() {
    let mut config = crate::helpers::test_config();
    config.intake_in_flight = 1;
    config.intake_max_batch = 1;
    config.intake_max_queued = 2;
    config.request_timeout_ms = 1_500;
    // The application and its chat are created through an instance with the usual deadline: on
    // Citus an application's creation writes the reference table `applications` on every node
    // (a two-phase commit), which on a loaded machine took longer than this instance's 1.5 s.
    let setup = TestApp::spawn().await;
    let token = setup.create_app("A").await;
    let chat = setup.create_chat(&token).await;
    let app = TestApp::spawn_on(&setup.url, config, true).await;
    let messages = format!("/api/applications/{token}/chats/{chat}/messages");
    let id = app.app_id(&token).await;
    let mut admin = app.db.client().await.unwrap();

    // One creation waits on the locked counter, two wait in the queue behind it: the rest are
    // refused at once. The lock outlasts the request deadline, so the queued two are answered
    // without being sent, and only the first (sent before its deadline) is created.
    let lock = admin.transaction().await.unwrap();
    lock.execute(
        "SELECT 1 FROM chat_counters WHERE application_id = $1 AND chat_number = $2 FOR UPDATE",
        &[&id, &chat],
    )
    .await
    .unwrap();
    let send = |i: usize| {
        let req = app
            .http
            .post(format!("{}{messages}", app.base))
            .header("Idempotency-Key", format!("queued-{i}"))
            .json(&json!({ "body": format!("m{i}") }));
        async move { req.send().await.unwrap() }
    };
    let first = tokio::spawn(send(0));
    // The others go out once the first waits on the lock: under load its key's claim can take
    // longer than any fixed pause, and a later request would then be the one sent.
    app.eventually("the first creation waits on the locked counter", || async {
        app.lock_waits("%").await > 0
    })
    .await;
    let answers = futures::future::join_all((1..10).map(send)).await;
    tokio::time::sleep(std::time::Duration::from_millis(2_000)).await;
    lock.commit().await.unwrap();
    let first = first.await.unwrap();

    let refused: Vec<_> = answers
        .iter()
        .filter(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert_eq!(refused.len(), 9, "every request but the first was refused or timed out");
    assert!(refused.iter().all(|r| r.headers().contains_key("retry-after")));
    assert_eq!(
        first.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "its answer came after the deadline"
    );
    app.eventually("the first creation committed", || async {
        app.get(&messages).await.numbers() == vec![1]
    })
    .await;
    assert_eq!(
        app.get(&format!("{messages}/1")).await.body["body"],
        "m0",
        "message 1 is the first request's"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.get(&messages).await.numbers(),
        vec![1],
        "the queued requests were never sent"
    );
    // The timed-out request's retry with its key learns the real outcome.
    let retry = send(0).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    // A queued-then-expired request's key is free again: its retry creates.
    let again = send(1).await;
    assert_eq!(again.status(), StatusCode::CREATED);
}

/// A key claimed by a request whose process died (no result recorded) is in use for a minute,
/// then a retry takes it over and creates. The minute is the database's clock on one node
/// (every instance's), the service's on Citus (which refuses `now()` there).
#[tokio::test]
async fn a_claim_left_by_a_dead_process_is_taken_over_after_a_minute() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat = app.create_chat(&token).await;
    let messages = format!("/api/applications/{token}/chats/{chat}/messages");
    let body = Some(json!({"body": "hello"}));
    let done = post_with_key(&app, &messages, "lived", body.clone()).await;
    assert_eq!(done.status, StatusCode::CREATED);

    // Claims as a process that died mid-request leaves them: the same request, no result.
    let client = app.db.client().await.unwrap();
    for (key, age) in [("died-now", "0 seconds"), ("died-long-ago", "61 seconds")] {
        client
            .batch_execute(&format!(
                "INSERT INTO idempotency_keys (scope, key, request_hash, claim, application_id, created_at)
                 SELECT scope, '{key}', request_hash, gen_random_uuid(), application_id, now() - interval '{age}'
                 FROM idempotency_keys WHERE key = 'lived'"
            ))
            .await
            .unwrap();
    }

    post_with_key(&app, &messages, "died-now", body.clone())
        .await
        .assert_problem(409, "idempotency_key_in_use");
    let taken = post_with_key(&app, &messages, "died-long-ago", body.clone()).await;
    assert_eq!(taken.status, StatusCode::CREATED, "{:?}", taken.body);
    assert_eq!(
        taken.body["number"], 2,
        "created anew: the dead request had created nothing"
    );
    let again = post_with_key(&app, &messages, "died-long-ago", body).await;
    assert_eq!(again.body["number"], 2, "and replayed from then on");
    assert_eq!(app.get(&messages).await.numbers(), vec![1, 2]);
}
