//! Webhooks: registered endpoints get every change of their application, signed (Standard
//! Webhooks), at least once and in order per chat, retried on failures (honouring `Retry-After`),
//! from a receiver running in the test process; a killed instance loses nothing.

use std::{collections::BTreeMap, process::Stdio, time::Duration};

use chat_system::{store::Db, write::Worker};
use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    faults::{free_port, Instance},
    helpers::{fresh_database_url, on_citus, test_config, TestApp},
    webhook_receiver::{bodies, signed_by, Received, Receiver, Reply},
};

pub const ALL: [&str; 5] = [
    "message.created",
    "message.updated",
    "message.deleted",
    "chat.created",
    "chat.deleted",
];

/// A service that may deliver to 127.0.0.1 (the receiver), retrying within `window` seconds.
pub async fn spawn(window: u64) -> TestApp {
    let mut config = test_config();
    config.webhooks.webhook_allow_private = true;
    config.webhooks.webhook_timeout_ms = 2_000;
    config.webhooks.webhook_retry_window_secs = window;
    TestApp::spawn_with(config, true).await
}

/// Registers `url` for `events`; returns the webhook's id and secret.
pub async fn register(app: &TestApp, token: &str, url: &str, events: &[&str]) -> (i64, String) {
    let r = app
        .post(
            &format!("/api/applications/{token}/webhooks"),
            json!({ "url": url, "events": events }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_") && secret.len() >= 6 + 32, "{secret}");
    (r.body["id"].as_i64().unwrap(), secret)
}

/// The distinct deliveries received (the first arrival of each `webhook-id`), in arrival order.
pub fn distinct(got: &[Received]) -> Vec<Received> {
    let mut seen = std::collections::HashSet::new();
    got.iter().filter(|r| seen.insert(r.id.clone())).cloned().collect()
}

fn of_type<'a>(got: &'a [Received], kind: &str) -> Vec<&'a Received> {
    got.iter().filter(|r| r.body["type"] == kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_change_arrives_signed_and_in_order_per_chat() {
    let app = spawn(86_400).await;
    let receiver = Receiver::start().await;
    let token = app.create_app("hooks").await;
    let (_, secret) = register(&app, &token, &receiver.url, &ALL).await;
    let (one, two) = (app.create_chat(&token).await, app.create_chat(&token).await);
    for i in 1..=5 {
        // Chat one's messages name their sender; the events carry it.
        let path = format!("/api/applications/{token}/chats/{one}/messages");
        let r = app
            .post(&path, json!({ "body": format!("one {i}"), "sender": "alice" }))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        app.create_message(&token, two, &format!("two {i}")).await;
    }
    receiver.wait("12 creations", 30, |got| distinct(got).len() >= 12).await;
    let base = format!("/api/applications/{token}/chats");
    assert_eq!(
        app.put(
            &format!("{base}/{one}/messages/2"),
            json!({ "body": "edited", "sender": "al" })
        )
        .await
        .status,
        200
    );
    assert_eq!(app.delete(&format!("{base}/{one}/messages/3")).await.status, 204);
    assert_eq!(app.delete(&format!("{base}/{two}")).await.status, 204);
    let got = receiver.wait("15 events", 30, |got| distinct(got).len() >= 15).await;
    let got = distinct(&got);
    assert_eq!(got.len(), 15, "{:#?}", bodies(&got));
    assert!(
        got.iter().all(|r| signed_by(r, &secret)),
        "every delivery verifies with the secret"
    );
    assert!(got.iter().all(|r| r.id == format!("msg_{}", r.body["sequence"])));

    assert_eq!(of_type(&got, "chat.created").len(), 2);
    assert_eq!(of_type(&got, "message.created").len(), 10);
    let updated = of_type(&got, "message.updated");
    assert_eq!(updated.len(), 1);
    assert_eq!(
        (updated[0].body["chat"].as_i64(), updated[0].body["number"].as_i64()),
        (Some(one), Some(2))
    );
    assert_eq!(updated[0].body["message"]["body"], "edited");
    assert_eq!(updated[0].body["message"]["sender"], "al");
    let deleted = of_type(&got, "message.deleted");
    assert_eq!(
        (deleted[0].body["number"].as_i64(), deleted[0].body["message"].is_null()),
        (Some(3), true)
    );
    assert_eq!(of_type(&got, "chat.deleted")[0].body["chat"].as_i64(), Some(two));
    let created = of_type(&got, "message.created");
    assert!(created.iter().all(|r| r.body["message"]["body"]
        .as_str()
        .unwrap()
        .ends_with(&r.body["number"].to_string())));
    assert!(created.iter().all(|r| r.body["timestamp"].is_string()));
    assert!(created
        .iter()
        .all(|r| (r.body["chat"].as_i64() == Some(one)) == (r.body["message"]["sender"] == "alice")));

    // In order per chat: sequences rise in arrival order, the chat's creation first, every
    // message once. (Messages written by two worker batches at once come in the order the
    // batches committed, which may not be their numbers' order: receivers sort by `number`.)
    let mut per_chat: BTreeMap<i64, Vec<&Value>> = BTreeMap::new();
    for r in &got {
        per_chat
            .entry(r.body["chat"].as_i64().unwrap())
            .or_default()
            .push(&r.body);
    }
    for (chat, events) in per_chat {
        let sequences: Vec<i64> = events.iter().map(|e| e["sequence"].as_i64().unwrap()).collect();
        assert!(sequences.windows(2).all(|w| w[0] < w[1]), "chat {chat}: {sequences:?}");
        assert_eq!(events[0]["type"], "chat.created", "chat {chat}");
        let mut numbers: Vec<i64> = events
            .iter()
            .filter(|e| e["type"] == "message.created")
            .map(|e| e["number"].as_i64().unwrap())
            .collect();
        numbers.sort_unstable();
        assert_eq!(numbers, vec![1, 2, 3, 4, 5], "chat {chat}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failures_are_retried_honouring_retry_after() {
    let app = spawn(86_400).await;
    let receiver = Receiver::start().await;
    let mut replies = vec![Reply::Status(500), Reply::RetryAfter(2), Reply::Status(200)].into_iter();
    receiver.answer_with(move |_| replies.next().unwrap_or(Reply::Status(200)));
    let token = app.create_app("retries").await;
    let (id, _) = register(&app, &token, &receiver.url, &["chat.created"]).await;
    app.create_chat(&token).await;
    let got = receiver.wait("three attempts", 30, |got| got.len() >= 3).await;
    assert!(got.iter().all(|r| r.id == got[0].id), "one delivery, sent again");
    assert!(
        got[2].at - got[1].at >= Duration::from_millis(1_900),
        "waited for Retry-After"
    );
    let path = format!("/api/applications/{token}/webhooks/{id}/deliveries");
    let mut listed = Value::Null;
    for _ in 0..100 {
        listed = app.get(&path).await.body;
        if listed["data"][0]["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivery = &listed["data"][0];
    assert_eq!(
        (delivery["state"].as_str(), delivery["attempts"].as_i64()),
        (Some("delivered"), Some(3)),
        "{listed}"
    );
    assert_eq!(delivery["last_status"], 200);
    assert!(delivery["last_latency_ms"].is_i64() && delivery["next_attempt_at"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_delivery_stops_blocking_and_a_failing_endpoint_is_paused() {
    // The retry window: long enough for the first delivery's three attempts (retried after
    // 0.5-1 s, then 1-2 s), which must all come before the endpoint, failing for the whole
    // window, is paused. On Citus the dispatcher looks for retries due every second instead of
    // every 200 ms (`hooks::deliver`, POLL_CITUS), which can put the third attempt past 4 s.
    let window = if on_citus() { 8 } else { 4 };
    let app = spawn(window).await;
    let receiver = Receiver::start().await;
    // The first message always fails; the ones after it arrive anyway, in order.
    receiver.answer_with(|body| {
        if body["number"] == 1 {
            Reply::Status(503)
        } else {
            Reply::Status(200)
        }
    });
    let token = app.create_app("poison").await;
    let (id, _) = register(&app, &token, &receiver.url, &["message.created"]).await;
    let chat = app.create_chat(&token).await;
    for body in ["poison", "two", "three"] {
        app.create_message(&token, chat, body).await;
    }
    let got = receiver
        .wait("the later messages", 30, |got| {
            got.iter().filter(|r| r.body["number"] == 3).count() > 0
        })
        .await;
    let later: Vec<i64> = got
        .iter()
        .filter(|r| r.body["number"] != 1)
        .map(|r| r.body["number"].as_i64().unwrap())
        .collect();
    assert_eq!(later, vec![2, 3]);

    // One failing delivery does not make the endpoint failing; failing for the whole retry
    // window (`window` here), it is paused, saying why, and the deliveries are kept as failed.
    receiver.answer_with(|_| Reply::Status(503));
    app.create_message(&token, chat, "four").await;
    let hook = format!("/api/applications/{token}/webhooks/{id}");
    let mut webhook = Value::Null;
    for _ in 0..300 {
        webhook = app.get(&hook).await.body;
        if webhook["paused"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(webhook["paused"], true, "{webhook}");
    assert!(webhook["paused_reason"].as_str().unwrap().contains("503"), "{webhook}");
    let listed = app.get(&format!("{hook}/deliveries")).await.body;
    let data = listed["data"].as_array().unwrap();
    let poison = data.iter().find(|d| d["number"] == 1).unwrap().clone();
    assert_eq!(poison["state"], "failed", "{listed}");
    let four = data.iter().find(|d| d["number"] == 4).unwrap();
    assert_eq!(four["state"], "failed", "{listed}");

    // Resumed and retried by hand, it is sent once more.
    receiver.answer_with(|_| Reply::Status(200));
    let resumed = app.call(Method::PATCH, &hook, Some(json!({ "paused": false }))).await;
    assert_eq!((resumed.status.as_u16(), &resumed.body["paused"]), (200, &json!(false)));
    let retried = app
        .post(&format!("{hook}/deliveries/{}/retry", poison["id"]), json!({}))
        .await;
    assert_eq!(retried.status, 202, "{}", retried.body);
    let before = got.len();
    receiver
        .wait("the retried delivery", 30, |got| {
            got[before..].iter().any(|r| r.body["number"] == 1)
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_instance_still_delivers_after_restart() {
    let url = fresh_database_url().await;
    let env = [
        ("RUST_LOG", "error"),
        ("WEBHOOK_ALLOW_PRIVATE", "true"),
        ("WEBHOOK_TIMEOUT_MS", "2000"),
    ];
    let port = free_port();
    let instance = Instance::start_with(&url, port, &env, Stdio::null()).await;
    // A client of the binary (no service in the test process, whose delivery workers would
    // compete with the binary's).
    let db = Db::connect(&url, &test_config()).unwrap();
    let app = TestApp {
        base: instance.base.clone(),
        url: url.clone(),
        http: reqwest::Client::new(),
        worker: Worker::new(db.clone(), 1, 1),
        db,
    };
    let receiver = Receiver::start().await;
    receiver.answer_with(|_| Reply::Hang);
    let token = app.create_app("crash").await;
    register(&app, &token, &receiver.url, &["chat.created", "message.created"]).await;
    let chat = app.create_chat(&token).await;
    receiver.wait("the first attempt", 30, |got| !got.is_empty()).await;
    for i in 1..=3 {
        app.create_message(&token, chat, &format!("m{i}")).await;
    }
    drop(instance); // SIGKILL, mid-delivery
    receiver.answer_with(|_| Reply::Status(200));
    let _restarted = Instance::start_with(&url, port, &env, Stdio::null()).await;
    let got = receiver
        .wait("all four events", 60, |got| distinct(got).len() >= 4)
        .await;
    let got = distinct(&got);
    // The chat's creation first (the messages waited behind it), then every message once.
    assert_eq!(got[0].body["type"], "chat.created", "{:#?}", bodies(&got));
    let mut numbers: Vec<Value> = got[1..].iter().map(|r| r.body["number"].clone()).collect();
    numbers.sort_by_key(|n| n.as_i64());
    assert_eq!(numbers, vec![json!(1), json!(2), json!(3)], "{:#?}", bodies(&got));
}
