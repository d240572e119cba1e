//! Application tokens stay in the process: not in NOTIFY payloads (any role allowed to LISTEN
//! reads them), not in the logs at any level, not in `/metrics`.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use tokio_postgres::AsyncMessage;

use crate::{
    faults::Instance,
    helpers::{fresh_database_url, TestApp},
};

/// Panics if `text` holds `token` in any spelling: hyphenated or simple, any case.
fn assert_no_token(text: &str, token: &str, what: &str) {
    let text = text.to_lowercase();
    let token = token.to_lowercase();
    for spelling in [token.clone(), token.replace('-', "")] {
        assert!(!text.contains(&spelling), "{what} holds the token {spelling}");
    }
}

#[tokio::test]
async fn notify_payloads_name_applications_by_id_never_by_token() {
    let app = TestApp::spawn().await;
    let (listener, mut connection) = tokio_postgres::connect(&app.url, tokio_postgres::NoTls).await.unwrap();
    let (tx, mut payloads) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let AsyncMessage::Notification(n) = message {
                let _ = tx.send(n.payload().to_owned());
            }
        }
    });
    listener.batch_execute("LISTEN chat_system_jobs").await.unwrap();

    let token = app.create_app("quiet tenant").await;
    let id = app
        .count(&format!("SELECT id FROM applications WHERE token = '{token}'"))
        .await;
    let chat = app.create_chat(&token).await;
    for body in ["one", "two", "three"] {
        app.create_message(&token, chat, body).await;
    }
    let messages = format!("/api/applications/{token}/chats/{chat}/messages");
    let r = app.put(&format!("{messages}/1"), json!({ "body": "edited" })).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.delete(&format!("{messages}/2")).await.status,
        StatusCode::NO_CONTENT
    );
    let doomed = app.create_chat(&token).await;
    app.create_message(&token, doomed, "soon gone").await;
    let r = app.delete(&format!("/api/applications/{token}/chats/{doomed}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.delete(&format!("/api/applications/{token}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // Everything that happened was announced: by id.
    let expected = [
        format!("a {id} {chat}"),
        format!("u {id} {chat} 1"),
        format!("d {id} {chat} 2"),
        format!("a {id} {doomed}"),
        format!("x {id} {doomed}"),
        format!("X {id}"),
    ];
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !expected
        .iter()
        .all(|line| seen.iter().any(|p: &String| p.lines().any(|l| l == line)))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, payloads.recv()).await {
            Ok(Some(payload)) => seen.push(payload),
            _ => panic!("not every event was announced; payloads: {seen:?}"),
        }
    }
    // And a little longer, for anything announced after the last expected line.
    while let Ok(Some(payload)) = tokio::time::timeout(Duration::from_millis(300), payloads.recv()).await {
        seen.push(payload);
    }
    for payload in &seen {
        assert_no_token(payload, &token, "a NOTIFY payload");
    }
}

#[tokio::test]
async fn a_debug_log_and_the_metrics_hold_no_token() {
    let url = fresh_database_url().await;
    let (instance, log_path) =
        Instance::start_logged(&url, &[("RUST_LOG", "debug"), ("RATE_LIMIT_PER_MINUTE", "40")]).await;
    let base = instance.base.clone();
    let http = reqwest::Client::new();

    // A tenant's whole life, a rate-limited burst, a stream, a search, a 404 and a 400.
    let create = || async {
        let r = http
            .post(format!("{base}/api/applications"))
            .json(&json!({ "name": "logged" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<serde_json::Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (token, doomed) = (create().await, create().await);
    let app = format!("{base}/api/applications/{token}");
    let r = http.post(format!("{app}/chats")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let stream = http.get(format!("{app}/chats/1/messages/stream")).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    for body in ["hello", "world"] {
        let r = http
            .post(format!("{app}/chats/1/messages"))
            .json(&json!({ "body": body }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let mut events = stream.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), events.next()).await;
    assert!(matches!(first, Ok(Some(Ok(_)))), "the stream delivered");
    let r = http
        .put(format!("{app}/chats/1/messages/1"))
        .json(&json!({ "body": "edited" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .get(format!("{app}/chats/1/messages?query=world"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http.get(format!("{app}/chats/9")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = http.get(format!("{app}/chats/x")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let mut limited = false;
    for _ in 0..60 {
        let r = http.get(&app).send().await.unwrap();
        limited |= r.status() == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(limited, "the rate limit answered 429");
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("chat_http_requests_total"));
    for token in [&token, &doomed] {
        assert_no_token(&metrics, token, "/metrics");
    }
    drop(events);
    let r = http
        .delete(format!("{base}/api/applications/{doomed}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(instance);

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("DEBUG"), "the log is at debug level");
    assert!(log.contains("answered"), "the log has the access lines");
    for token in [&token, &doomed] {
        assert_no_token(&log, token, "the debug log");
    }
    // Kept when an assertion fails, for a look.
    let _ = std::fs::remove_file(&log_path);
}
