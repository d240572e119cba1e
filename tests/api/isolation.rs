//! Tenant isolation: with application A's token, nothing of application B is reachable, and no
//! answer ever carries a database id, an internal error text or another application's token.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Response, TestApp};

/// Fails if `v` has a key that looks like a database id.
fn assert_no_ids(v: &Value, context: &str) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                assert!(
                    !["id", "application_id", "chat_id", "message_id"].contains(&k.as_str()),
                    "{context}: key {k}"
                );
                assert_no_ids(child, context);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| assert_no_ids(i, context)),
        _ => {}
    }
}

#[tokio::test]
async fn one_token_reaches_nothing_of_another_application() {
    let app = TestApp::spawn().await;
    let a = app.create_app("A").await;
    let b = app.create_app("B").await;
    let a_chat = app.create_chat(&a).await;
    app.create_message(&a, a_chat, "alpha only").await;
    for _ in 0..3 {
        let chat = app.create_chat(&b).await;
        for i in 0..3 {
            app.create_message(&b, chat, &format!("bravo secret {i}")).await;
        }
    }

    let mut answers: Vec<(String, Response)> = Vec::new();
    let call = |method: Method, path: String, body: Option<Value>| {
        let app = &app;
        async move { (format!("{method} {path}"), app.call(method, &path, body).await) }
    };
    for chat in 1..=4 {
        let base = format!("/api/applications/{a}/chats/{chat}");
        answers.push(call(Method::GET, base.clone(), None).await);
        answers.push(call(Method::GET, format!("{base}/messages"), None).await);
        answers.push(call(Method::GET, format!("{base}/messages?query=bravo"), None).await);
        answers.push(
            call(
                Method::GET,
                format!("{base}/messages?query=secret&order=relevance"),
                None,
            )
            .await,
        );
        for n in 1..=3 {
            answers.push(call(Method::GET, format!("{base}/messages/{n}"), None).await);
            answers.push(call(Method::PUT, format!("{base}/messages/{n}"), Some(json!({"body": "x"}))).await);
        }
    }
    answers.push(call(Method::GET, format!("/api/applications/{a}"), None).await);
    answers.push(call(Method::GET, format!("/api/applications/{a}/chats"), None).await);
    answers.push(call(Method::GET, "/api/applications".into(), None).await);
    answers.push(call(Method::DELETE, format!("/api/applications/{a}/chats/2"), None).await);

    for (what, r) in &answers {
        let text = r.body.to_string();
        assert!(!text.contains(&b), "{what} revealed B's token");
        assert!(!text.contains("bravo"), "{what} revealed B's messages: {text}");
        assert!(
            !text.to_lowercase().contains("postgres") && !text.contains("SQL"),
            "{what}: {text}"
        );
        assert!(!r.status.is_server_error(), "{what}: {}", r.status);
        assert_no_ids(&r.body, what);
    }
    // B is untouched by everything A did.
    for chat in 1..=3 {
        let listed = app.get(&format!("/api/applications/{b}/chats/{chat}/messages")).await;
        assert_eq!(listed.numbers(), vec![1, 2, 3]);
        assert!(listed.body["data"][0]["body"].as_str().unwrap().starts_with("bravo"));
    }
}
