//! Messages: create, read, list, edit, delete, and Unicode round trips.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn create_read_edit_delete_a_message() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat = app.create_chat(&token).await;
    let base = format!("/api/applications/{token}/chats/{chat}/messages");

    let created = app.post(&base, json!({ "body": "hello" })).await;
    let fetched = app.get(&format!("{base}/1")).await;
    let edited = app.put(&format!("{base}/1"), json!({ "body": "hello again" })).await;
    let deleted = app.delete(&format!("{base}/1")).await;
    let after_delete = app.get(&format!("{base}/1")).await;
    let next = app.create_message(&token, chat, "second").await;

    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["number"], 1);
    assert_eq!(created.body["body"], "hello");
    assert_eq!(created.location.as_deref(), Some(format!("{base}/1").as_str()));
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body["body"], "hello");
    assert_eq!(edited.status, StatusCode::OK);
    assert_eq!(edited.body["body"], "hello again");
    assert_eq!(edited.body["created_at"], created.body["created_at"]);
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    after_delete.assert_problem(404, "message_not_found");
    assert_eq!(next, 2, "message numbers are never reused");
}

#[tokio::test]
async fn missing_message_chat_and_application_are_told_apart() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat = app.create_chat(&token).await;
    let unknown = uuid::Uuid::new_v4();

    for path in [format!("/api/applications/{token}/chats/{chat}/messages/5")] {
        app.get(&path).await.assert_problem(404, "message_not_found");
        app.put(&path, json!({"body": "x"}))
            .await
            .assert_problem(404, "message_not_found");
        app.delete(&path).await.assert_problem(404, "message_not_found");
    }
    for path in [format!("/api/applications/{token}/chats/9/messages/1")] {
        app.get(&path).await.assert_problem(404, "chat_not_found");
        app.put(&path, json!({"body": "x"}))
            .await
            .assert_problem(404, "chat_not_found");
        app.delete(&path).await.assert_problem(404, "chat_not_found");
    }
    app.post(
        &format!("/api/applications/{token}/chats/9/messages"),
        json!({"body": "x"}),
    )
    .await
    .assert_problem(404, "chat_not_found");
    app.get(&format!("/api/applications/{token}/chats/9/messages"))
        .await
        .assert_problem(404, "chat_not_found");
    app.post(
        &format!("/api/applications/{unknown}/chats/1/messages"),
        json!({"body": "x"}),
    )
    .await
    .assert_problem(404, "application_not_found");
    app.get(&format!("/api/applications/{unknown}/chats/1/messages/1"))
        .await
        .assert_problem(404, "application_not_found");
}

#[tokio::test]
async fn lists_page_by_number_and_by_cursor() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat = app.create_chat(&token).await;
    for i in 1..=15 {
        app.create_message(&token, chat, &format!("m{i}")).await;
    }
    let base = format!("/api/applications/{token}/chats/{chat}/messages");

    let first = app.get(&base).await;
    let second = app.get(&format!("{base}?page=2")).await;
    let after = app.get(&format!("{base}?after=13")).await;
    let before = app.get(&format!("{base}?before=15&limit=2")).await;

    assert_eq!(first.numbers(), (1..=10).collect::<Vec<_>>());
    assert_eq!(first.body["data"][0]["body"], "m1");
    assert_eq!(second.numbers(), (11..=15).collect::<Vec<_>>());
    assert_eq!(after.numbers(), vec![14, 15]);
    assert_eq!(after.body["has_more"], false);
    assert_eq!(before.numbers(), vec![13, 14]);
    assert_eq!(before.body["has_more"], true);
}

#[tokio::test]
async fn unicode_round_trips() {
    let app = TestApp::spawn().await;
    let token = app.create_app("日本のアプリ 🚀").await;
    let chat = app.create_chat(&token).await;
    let text = "emoji 👩‍👩‍👧 and CJK 你好世界, accents Café, RTL مرحبا";

    let number = app.create_message(&token, chat, text).await;
    let fetched = app
        .get(&format!("/api/applications/{token}/chats/{chat}/messages/{number}"))
        .await;

    assert_eq!(fetched.body["body"], text);
    assert_eq!(
        app.get(&format!("/api/applications/{token}")).await.body["name"],
        "日本のアプリ 🚀"
    );
}
