//! Bad input: every mistake gets a problem+json 4xx and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn malformed_bodies_are_400_and_wrong_fields_422() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat = app.create_chat(&token).await;
    let messages = format!("{}/api/applications/{token}/chats/{chat}/messages", app.base);
    let json_post = |body: &'static str| {
        app.http
            .post(&messages)
            .header("content-type", "application/json")
            .body(body)
    };

    for body in ["{", "not json", "[]"] {
        let r = app.raw(json_post(body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        r.assert_problem(400, "bad_request");
    }
    for body in [r#"{"body": 5}"#, r#"{"body": null}"#, r#"{}"#, r#"{"text": "x"}"#] {
        let r = app.raw(json_post(body)).await;
        r.assert_problem(422, "invalid_field");
        assert_eq!(r.body["field"], "body", "{body}");
    }
    let wrong_type = app
        .raw(app.http.post(&messages).header("content-type", "text/plain").body("hi"))
        .await;
    assert!(wrong_type.status.is_client_error());
    assert_eq!(wrong_type.content_type, "application/problem+json");
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE message_number IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn empty_blank_long_and_nul_fields_are_422_and_change_nothing() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat = app.create_chat(&token).await;
    let base = format!("/api/applications/{token}/chats/{chat}/messages");

    let empty = app.post(&base, json!({ "body": "" })).await;
    let blank = app.post(&base, json!({ "body": " \n\t " })).await;
    let nul = app.post(&base, json!({ "body": "a\u{0}b" })).await;
    let long = app.post(&base, json!({ "body": "x".repeat(10_001) })).await;
    let long_name = app.post("/api/applications", json!({ "name": "n".repeat(201) })).await;
    let nul_name = app.post("/api/applications", json!({ "name": "\u{0}" })).await;

    for (r, field) in [
        (&empty, "body"),
        (&blank, "body"),
        (&nul, "body"),
        (&long, "body"),
        (&long_name, "name"),
        (&nul_name, "name"),
    ] {
        r.assert_problem(422, "invalid_field");
        assert_eq!(r.body["field"], field);
    }
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE message_number IS NOT NULL")
            .await,
        0
    );
    assert_eq!(app.count("SELECT count(*) FROM applications").await, 1);
    assert_eq!(
        app.create_message(&token, chat, "first real").await,
        1,
        "rejected input used no number"
    );
}

#[tokio::test]
async fn bad_numbers_are_400_never_5xx() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let app_path = format!("/api/applications/{token}");

    for number in [
        "0",
        "-1",
        "18446744073709551616",
        "99999999999999999999999",
        "1.5",
        "abc",
        "%00",
    ] {
        for (path, field) in [
            (format!("{app_path}/chats/{number}"), "number"),
            (format!("{app_path}/chats/{number}/messages"), "chat"),
            (format!("{app_path}/chats/1/messages/{number}"), "number"),
        ] {
            let r = app.get(&path).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
            assert_eq!(r.content_type, "application/problem+json");
            // The parameter as the API calls it, never the framework's positional name.
            assert_eq!(r.body["field"], field, "{path}: {}", r.body);
            assert!(
                !r.body["detail"].as_str().unwrap().contains("param"),
                "{path}: {}",
                r.body
            );
        }
    }
    for query in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "page=0",
        "page=abc",
        "after=-1",
        "before=0",
        "limit=99999999999999999999",
    ] {
        let r = app.get(&format!("{app_path}/chats?{query}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
        assert_eq!(r.content_type, "application/problem+json");
    }
    // The problem says what the parameter accepts.
    let r = app.get(&format!("{app_path}/chats/0/messages")).await;
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("a whole number from 1 to 9223372036854775807"),
        "{detail}"
    );
    // The largest 64-bit number is well-formed, and simply not there.
    app.get(&format!("{app_path}/chats/9223372036854775807"))
        .await
        .assert_problem(404, "chat_not_found");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat = app.create_chat(&token).await;
    let url = format!("{}/api/applications/{token}/chats/{chat}/messages", app.base);
    let huge = format!(r#"{{"body": "{}"}}"#, "x".repeat(2 * 1024 * 1024));

    let declared = app
        .raw(
            app.http
                .post(&url)
                .header("content-type", "application/json")
                .body(huge.clone()),
        )
        .await;
    let chunked = app
        .raw(
            app.http
                .post(&url)
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(futures::stream::once(async move {
                    Ok::<_, std::io::Error>(huge)
                }))),
        )
        .await;

    for r in [&declared, &chunked] {
        r.assert_problem(413, "payload_too_large");
        // The limit, stated (256 KiB by default), whether the body declared its length or not.
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains("limit of 262144 bytes (256 KiB)"), "{detail}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE message_number IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = TestApp::spawn().await;

    let route = app.get("/nope").await;
    let api_route = app.get("/api/whatever").await;
    let method = app.call(Method::PATCH, "/api/applications", None).await;

    route.assert_problem(404, "route_not_found");
    api_route.assert_problem(404, "route_not_found");
    assert!(method.status == StatusCode::METHOD_NOT_ALLOWED || method.status == StatusCode::NOT_FOUND);
    assert_eq!(method.content_type, "application/problem+json");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;

    let health = app.raw(app.http.get(format!("{}/healthz", app.base))).await;
    let ready = app.raw(app.http.get(format!("{}/readyz", app.base))).await;

    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(ready.status, StatusCode::OK);
}
