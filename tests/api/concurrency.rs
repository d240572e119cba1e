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
    let numbers: BTreeSet<i64> = responses
        .iter()
        .map(|r| r.body["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, (1..=500).collect::<BTreeSet<_>>());
    app.eventually("all 500 are written", || async {
        app.count("SELECT count(DISTINCT number) FROM messages")
            .await
            == 500
    })
    .await;
    app.eventually("the count follows", || async {
        app.get(&format!("/api/applications/{token}/chats/{chat}"))
            .await
            .body["messages_count"]
            == 500
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
    let numbers: BTreeSet<i64> = responses
        .iter()
        .map(|r| r.body["number"].as_i64().unwrap())
        .collect();
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
