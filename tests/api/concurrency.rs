//! Numbering under real concurrency: many simultaneous HTTP creations get exactly 1..N.

use std::collections::BTreeSet;

use futures::{stream, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_message_creations_in_one_chat_get_1_to_500() {
    let app = TestApp::spawn().await;
    let token = app.create_app("Hot").await;
    let chat = app.create_chat(&token).await;
    let path = format!("/api/applications/{token}/chats/{chat}/messages");

    let responses: Vec<_> = stream::iter(0..500)
        .map(|i| app.post(&path, json!({ "body": format!("message {i}") })))
        .buffer_unordered(100)
        .collect()
        .await;

    assert!(responses.iter().all(|r| r.status == StatusCode::CREATED));
    let numbers: BTreeSet<i64> = responses.iter().map(|r| r.body["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, (1..=500).collect::<BTreeSet<_>>());
    app.eventually("all 500 are written", || async {
        app.count("SELECT count(DISTINCT number) FROM messages").await == 500
    })
    .await;
    app.eventually("the count follows", || async {
        app.get(&format!("/api/applications/{token}/chats/{chat}")).await.body["messages_count"] == 500
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_chat_creations_get_1_to_100() {
    let app = TestApp::spawn().await;
    let token = app.create_app("Busy").await;
    let path = format!("/api/applications/{token}/chats");

    let responses: Vec<_> = stream::iter(0..100)
        .map(|_| app.call(Method::POST, &path, None))
        .buffer_unordered(100)
        .collect()
        .await;

    assert!(responses.iter().all(|r| r.status == StatusCode::CREATED));
    let numbers: BTreeSet<i64> = responses.iter().map(|r| r.body["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, (1..=100).collect::<BTreeSet<_>>());
    app.eventually("chats_count reaches 100", || async {
        app.get(&format!("/api/applications/{token}")).await.body["chats_count"] == 100
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_into_just_created_chats_under_concurrency() {
    let app = TestApp::spawn().await;
    let token = app.create_app("Fanout").await;

    let per_chat: Vec<Vec<i64>> = stream::iter(0..20)
        .map(|_| async {
            let chat = app.create_chat(&token).await;
            let mut numbers = Vec::new();
            for i in 0..10 {
                numbers.push(app.create_message(&token, chat, &format!("m{i}")).await);
            }
            numbers
        })
        .buffer_unordered(20)
        .collect()
        .await;

    assert!(per_chat.iter().all(|n| *n == (1..=10).collect::<Vec<_>>()));
    app.eventually("all 200 written and counted", || async {
        app.count("SELECT count(*) FROM messages").await == 200
            && app
                .count("SELECT coalesce(sum(messages_count), 0)::bigint FROM chats")
                .await
                == 200
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_request_in_a_batch_fails_alone() {
    let app = TestApp::spawn().await;
    let token = app.create_app("Mixed").await;
    let good = app.create_chat(&token).await;
    let doomed = app.create_chat(&token).await;
    app.delete(&format!("/api/applications/{token}/chats/{doomed}")).await;
    let unknown_app = uuid::Uuid::new_v4();

    let responses: Vec<(usize, crate::helpers::Response)> = stream::iter(0..300)
        .map(|i| {
            let path = match i % 3 {
                0 => format!("/api/applications/{token}/chats/{good}/messages"),
                1 => format!("/api/applications/{token}/chats/{doomed}/messages"),
                _ => format!("/api/applications/{unknown_app}/chats/1/messages"),
            };
            let app = &app;
            async move { (i, app.post(&path, json!({ "body": format!("m{i}") })).await) }
        })
        .buffer_unordered(150)
        .collect()
        .await;

    let mut good_numbers = BTreeSet::new();
    for (i, r) in &responses {
        match i % 3 {
            0 => {
                assert_eq!(r.status, StatusCode::CREATED);
                good_numbers.insert(r.body["number"].as_i64().unwrap());
            }
            1 => r.assert_problem(404, "chat_not_found"),
            _ => r.assert_problem(404, "application_not_found"),
        }
    }
    assert_eq!(good_numbers, (1..=100).collect::<BTreeSet<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_chats_across_applications_are_numbered_per_application() {
    let app = TestApp::spawn().await;
    let tokens: Vec<String> = futures::future::join_all((0..5).map(|i| {
        let app = &app;
        async move { app.create_app(&format!("app {i}")).await }
    }))
    .await;

    let created: Vec<(String, i64)> = stream::iter((0..200).map(|i| tokens[i % 5].clone()))
        .map(|token| {
            let app = &app;
            async move {
                let n = app.create_chat(&token).await;
                (token, n)
            }
        })
        .buffer_unordered(100)
        .collect()
        .await;

    for token in &tokens {
        let numbers: BTreeSet<i64> = created.iter().filter(|(t, _)| t == token).map(|(_, n)| *n).collect();
        assert_eq!(numbers, (1..=40).collect::<BTreeSet<_>>());
    }
}

/// Many single-message reads at once (they go to the database together, `store::reads`): each
/// gets its own message, or its own 404 naming what is missing.
async fn concurrent_reads_each_get_their_own_answer(app: TestApp) {
    let kept = app.create_app("Kept").await;
    let gone = app.create_app("Gone").await;
    let mut expected = Vec::new();
    for token in [&kept, &gone] {
        for _ in 0..3 {
            let chat = app.create_chat(token).await;
            for n in 1..=10 {
                let body = format!("{token} {chat} {n}");
                assert_eq!(app.create_message(token, chat, &body).await, n);
                expected.push((token.clone(), chat, n, Some(body)));
            }
        }
    }
    let deleted = format!("/api/applications/{kept}/chats/2/messages/5");
    assert_eq!(app.delete(&deleted).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.delete(&format!("/api/applications/{gone}")).await.status,
        StatusCode::NO_CONTENT
    );
    let missing = |code: &str| Some(format!("!{code}"));
    for e in expected.iter_mut() {
        if e.0 == gone {
            e.3 = missing("application_not_found");
        } else if e.1 == 2 && e.2 == 5 {
            e.3 = missing("message_not_found");
        }
    }
    expected.push((kept.clone(), 1, 11, missing("message_not_found")));
    expected.push((kept.clone(), 9, 1, missing("chat_not_found")));

    let reads = (0..1200).map(|i| expected[i * 7 % expected.len()].clone());
    let app = &app;
    let answers: Vec<_> = stream::iter(reads)
        .map(|(token, chat, n, want)| async move {
            let r = app
                .get(&format!("/api/applications/{token}/chats/{chat}/messages/{n}"))
                .await;
            (r, want)
        })
        .buffer_unordered(64)
        .collect()
        .await;
    for (r, want) in answers {
        match want.as_deref() {
            Some(code) if code.starts_with('!') => {
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
                assert_eq!(r.body["code"], code[1..], "{:?}", r.body);
            }
            body => {
                assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
                assert_eq!(r.body["body"].as_str(), body);
            }
        }
    }
}

/// What these read tests check is each answer, not how fast it comes: on a loaded machine (or
/// a loaded Citus cluster) 64 reads at once could wait longer for a connection than the default
/// acquire timeout and be answered 503.
fn patient_config() -> chat_system::settings::Settings {
    let mut config = crate::helpers::test_config();
    config.db_acquire_timeout_ms = 30_000;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reads_of_written_messages_each_get_their_own() {
    let app = TestApp::spawn_with(patient_config(), true).await;
    concurrent_reads_each_get_their_own_answer(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reads_of_queued_messages_each_get_their_own() {
    let app = TestApp::spawn_with(patient_config(), false).await;
    concurrent_reads_each_get_their_own_answer(app).await;
}

/// While a creation batch commits, the next one waits for it unless it is full: creations in a
/// chat whose counter is held go out together once the batch ahead commits (two batches in all),
/// not as several statements queued on the same lock in the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creations_arriving_while_a_batch_commits_go_out_together() {
    let app = TestApp::spawn().await;
    let token = app.create_app("Together").await;
    let chat = app.create_chat(&token).await;
    let batches = || app.count("SELECT count(*) FROM intake_batches");
    let before = batches().await;
    let id = app.app_id(&token).await;
    let mut admin = app.db.client().await.unwrap();
    let lock = admin.transaction().await.unwrap();
    lock.execute(
        "SELECT 1 FROM chat_counters WHERE application_id = $1 AND chat_number = $2 FOR UPDATE",
        &[&id, &chat],
    )
    .await
    .unwrap();
    let waiting = || app.lock_waits("chat-system%");
    let post = |i: i64| {
        let (http, url) = (
            app.http.clone(),
            format!("{}/api/applications/{token}/chats/{chat}/messages", app.base),
        );
        tokio::spawn(async move {
            let r = http
                .post(url)
                .json(&json!({ "body": format!("together {i}") }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<serde_json::Value>().await.unwrap()["number"].as_i64().unwrap()
        })
    };
    let mut posted = vec![post(0)];
    app.eventually("the first batch waits for the lock", || async { waiting().await == 1 })
        .await;
    posted.extend((1..=10).map(post));
    // They reach the service and wait there (today's code sent them in up to three more batches).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(waiting().await, 1, "one statement waits for the lock");

    lock.commit().await.unwrap();
    let mut numbers = Vec::new();
    for p in posted {
        numbers.push(p.await.unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (1..=11).collect::<Vec<_>>());
    assert_eq!(batches().await - before, 2, "the ten went out in one batch");
}
