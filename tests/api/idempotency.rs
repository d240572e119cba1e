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
    let app_first = post_with_key(&app, "/api/applications", "app-key-123", Some(json!({"name": "B"}))).await;
    let app_retry = post_with_key(&app, "/api/applications", "app-key-123", Some(json!({"name": "B"}))).await;

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
    bad.assert_problem(400, "bad_request");
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
