//! The webhook registry over HTTP: bad input in the API's words, internal addresses refused
//! (named in the URL, or resolved to when sending), secrets shown once and rotated, and an edit
//! of a queued message folded into its creation.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    helpers::TestApp,
    webhook_receiver::{signed_by, Receiver},
    webhooks::{distinct, register, spawn, ALL},
};

#[tokio::test]
async fn internal_addresses_and_bad_input_are_refused() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let token = app.create_app("guarded").await;
    let path = format!("/api/applications/{token}/webhooks");
    for (body, field) in [
        (json!({ "url": receiver.url, "events": ALL }), "url"),
        (json!({ "url": "http://169.254.169.254/latest", "events": ALL }), "url"),
        (json!({ "url": "ftp://example.com/", "events": ALL }), "url"),
        (json!({ "url": "https://user:pw@example.com/", "events": ALL }), "url"),
        (json!({ "events": ALL }), "url"),
        (json!({ "url": "https://example.com/", "events": [] }), "events"),
        (
            json!({ "url": "https://example.com/", "events": ["message.exploded"] }),
            "events",
        ),
        (
            json!({ "url": "https://example.com/", "events": "chat.created" }),
            "events",
        ),
    ] {
        let r = app.post(&path, body.clone()).await;
        r.assert_problem(422, "invalid_field");
        assert_eq!(r.body["field"], field, "{body}: {}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains("it must be"), "{}", r.body);
    }
    app.get(&format!("{path}/99"))
        .await
        .assert_problem(404, "webhook_not_found");

    let (id, _) = register(&app, &token, "https://example.com/hooks", &["chat.deleted"]).await;
    let patch = app
        .call(Method::PATCH, &format!("{path}/{id}"), Some(json!({ "paused": "yes" })))
        .await;
    patch.assert_problem(422, "invalid_field");
    assert_eq!(patch.body["field"], "paused");
    app.post(&format!("{path}/{id}/deliveries/99/retry"), json!({}))
        .await
        .assert_problem(404, "delivery_not_found");

    // A name resolving to loopback is accepted, and refused when sent to.
    let url = format!("http://localhost:{}/hooks", receiver.port);
    let (hook, _) = register(&app, &token, &url, &["chat.created"]).await;
    app.create_chat(&token).await;
    let deliveries = format!("{path}/{hook}/deliveries");
    let mut listed = Value::Null;
    for _ in 0..100 {
        listed = app.get(&deliveries).await.body;
        if listed["data"][0]["last_error"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        listed["data"][0]["last_error"].as_str().unwrap().contains("refused"),
        "{listed}"
    );
    assert!(receiver.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotated_secret_signs_beside_the_previous_one() {
    let app = spawn(86_400).await;
    let receiver = Receiver::start().await;
    let token = app.create_app("rotation").await;
    let (id, old) = register(&app, &token, &receiver.url, &["chat.created"]).await;
    let r = app
        .post(
            &format!("/api/applications/{token}/webhooks/{id}/rotate-secret"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let new = r.body["secret"].as_str().unwrap().to_owned();
    assert!(new != old && r.body["previous_secret_expires_at"].is_string());
    app.create_chat(&token).await;
    let got = receiver.wait("a delivery", 30, |got| !got.is_empty()).await;
    assert_eq!(got[0].signature.split(' ').count(), 2);
    assert!(signed_by(&got[0], &old) && signed_by(&got[0], &new));
    let listed = app.get(&format!("/api/applications/{token}/webhooks")).await;
    assert!(listed.body["data"][0]["secret"].is_null(), "secrets are shown once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_edit_of_a_queued_message_is_in_its_creation() {
    let mut config = crate::helpers::test_config();
    config.webhooks.webhook_allow_private = true;
    let app = TestApp::spawn_with(config, false).await;
    let receiver = Receiver::start().await;
    let token = app.create_app("queued").await;
    register(&app, &token, &receiver.url, &ALL).await;
    let chat = app.create_chat(&token).await;
    let number = app.create_message(&token, chat, "draft").await;
    let path = format!("/api/applications/{token}/chats/{chat}/messages/{number}");
    assert_eq!(app.put(&path, json!({ "body": "final" })).await.status, 200);
    app.drain().await;
    let got = receiver.wait("two events", 30, |got| distinct(got).len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = distinct(&receiver.received().into_iter().chain(got).collect::<Vec<_>>());
    let types: Vec<&Value> = got.iter().map(|r| &r.body["type"]).collect();
    assert_eq!(types, vec!["chat.created", "message.created"]);
    assert_eq!(got[1].body["message"]["body"], "final");
}

/// The registry's statements take the application's id, which an instance caches: deleted
/// through another instance, the application is gone on this one too, for every call.
#[tokio::test]
async fn a_deleted_application_s_webhooks_are_gone_on_an_instance_that_cached_its_id() {
    let url = crate::helpers::fresh_database_url().await;
    let a = TestApp::spawn_on(&url, crate::helpers::test_config(), true).await;
    let b = TestApp::spawn_on(&url, crate::helpers::test_config(), true).await;
    let token = a.create_app("cached").await;
    let (id, _) = register(&a, &token, "https://example.com/hooks", &["chat.created"]).await;
    let path = format!("/api/applications/{token}/webhooks");
    assert_eq!(a.get(&format!("{path}/{id}")).await.status, 200, "A caches the id");

    let deleted = b.delete(&format!("/api/applications/{token}")).await;

    assert_eq!(deleted.status, 204);
    let hook = format!("{path}/{id}");
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, path.clone(), None),
        (
            Method::POST,
            path.clone(),
            Some(json!({ "url": "https://example.com/late", "events": ALL })),
        ),
        (Method::GET, hook.clone(), None),
        (Method::PATCH, hook.clone(), Some(json!({ "paused": true }))),
        (Method::POST, format!("{hook}/rotate-secret"), None),
        (Method::GET, format!("{hook}/deliveries"), None),
        (Method::POST, format!("{hook}/deliveries/1/retry"), Some(json!({}))),
        (Method::DELETE, hook.clone(), None),
    ];
    for (method, call, body) in calls {
        let r = a.call(method.clone(), &call, body).await;
        assert_eq!(r.status, 404, "{method} {call}: {}", r.body);
        r.assert_problem(404, "application_not_found");
    }
}
