//! Applications: create, read, rename, list (operator only), delete.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, OPERATOR_KEY};

#[tokio::test]
async fn create_then_get_returns_the_application() {
    let app = TestApp::spawn().await;

    let created = app.post("/api/applications", json!({ "name": "Support" })).await;

    assert_eq!(created.status, StatusCode::CREATED);
    let token = created.body["token"].as_str().unwrap();
    assert_eq!(
        created.location.as_deref(),
        Some(format!("/api/applications/{token}").as_str())
    );
    assert_eq!(created.body["name"], "Support");
    assert_eq!(created.body["chats_count"], 0);
    assert!(created.body.get("id").is_none());
    let fetched = app.get(&format!("/api/applications/{token}")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, created.body);
}

#[tokio::test]
async fn rename_accepts_the_seed_body_and_refuses_another_token() {
    let app = TestApp::spawn().await;
    let token = app.create_app("Old").await;
    let path = format!("/api/applications/{token}");

    let renamed = app.put(&path, json!({ "name": "New", "token": token })).await;
    let other = app
        .put(&path, json!({ "name": "X", "token": uuid::Uuid::new_v4() }))
        .await;
    let blank = app.put(&path, json!({ "name": "  " })).await;

    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.body["name"], "New");
    other.assert_problem(422, "invalid_field");
    assert_eq!(other.body["field"], "token");
    blank.assert_problem(422, "invalid_field");
    assert_eq!(blank.body["field"], "name");
    assert_eq!(app.get(&path).await.body["name"], "New");
}

#[tokio::test]
async fn unknown_and_malformed_tokens_are_404_and_400() {
    let app = TestApp::spawn().await;
    let unknown = uuid::Uuid::new_v4();

    app.get(&format!("/api/applications/{unknown}"))
        .await
        .assert_problem(404, "application_not_found");
    app.put(&format!("/api/applications/{unknown}"), json!({ "name": "x" }))
        .await
        .assert_problem(404, "application_not_found");
    app.delete(&format!("/api/applications/{unknown}"))
        .await
        .assert_problem(404, "application_not_found");
    app.get("/api/applications/not-a-token")
        .await
        .assert_problem(400, "invalid_parameter");
    let malformed = app.get("/api/applications/not-a-token/chats/1/messages").await;
    malformed.assert_problem(400, "invalid_parameter");
    let detail = malformed.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("must be an application token: a UUID such as"),
        "{detail}"
    );
    // Named as the API names it, in `field` and in `detail`.
    assert_eq!(malformed.body["field"], "token");
    assert!(detail.contains("`token`") && !detail.contains("param"), "{detail}");
}

#[tokio::test]
async fn listing_needs_the_operator_key() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        app.create_app(&format!("app {i}")).await;
    }
    let url = format!("{}/api/applications?limit=2", app.base);

    let without = app.raw(app.http.get(&url)).await;
    let wrong = app.raw(app.http.get(&url).header("X-Operator-Key", "nope")).await;
    let page1 = app.raw(app.http.get(&url).header("X-Operator-Key", OPERATOR_KEY)).await;
    let page2 = app
        .raw(
            app.http
                .get(format!("{url}&page=2"))
                .header("X-Operator-Key", OPERATOR_KEY),
        )
        .await;

    without.assert_problem(401, "unauthorized");
    wrong.assert_problem(401, "unauthorized");
    assert_eq!(page1.status, StatusCode::OK);
    assert_eq!(page1.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(page1.body["has_more"], true);
    assert_eq!(page2.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(page2.body["has_more"], false);
}

#[tokio::test]
async fn listing_is_refused_without_a_configured_key() {
    let mut config = crate::helpers::test_config();
    config.operator_key = None;
    let app = TestApp::spawn_with(config, true).await;

    let r = app
        .raw(
            app.http
                .get(format!("{}/api/applications", app.base))
                .header("X-Operator-Key", ""),
        )
        .await;

    r.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn deleting_an_application_removes_everything_under_it() {
    let app = TestApp::spawn().await;
    let token = app.create_app("Doomed").await;
    let keep = app.create_app("Kept").await;
    for _ in 0..3 {
        let chat = app.create_chat(&token).await;
        for i in 0..5 {
            app.create_message(&token, chat, &format!("message {i}")).await;
        }
    }
    let kept_chat = app.create_chat(&keep).await;
    app.create_message(&keep, kept_chat, "stays").await;

    let deleted = app
        .call(Method::DELETE, &format!("/api/applications/{token}"), None)
        .await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/applications/{token}"))
        .await
        .assert_problem(404, "application_not_found");
    app.get(&format!("/api/applications/{token}/chats/1"))
        .await
        .assert_problem(404, "application_not_found");
    app.get(&format!("/api/applications/{token}/chats/1/messages"))
        .await
        .assert_problem(404, "application_not_found");
    app.eventually("rows under the application are purged", || async {
        app.count("SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM chats) + (SELECT count(*) FROM jobs) + (SELECT count(*) FROM chat_counters) + (SELECT count(*) FROM purges)").await
            == 3 // the kept application's chat, counter and message
    })
    .await;
    assert_eq!(
        app.get(&format!("/api/applications/{keep}/chats/{kept_chat}/messages/1"))
            .await
            .body["body"],
        "stays"
    );
}
