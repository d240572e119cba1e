//! What a new user meets first: `/` pointing to the docs, the docs' title, the operator
//! listing's refusals (disabled, or a 401 with its challenge) and a search text that is not
//! UTF-8.

use reqwest::{header, redirect, Method, StatusCode};

use crate::helpers::{test_config, TestApp, OPERATOR_KEY};

#[tokio::test]
async fn listing_on_a_server_without_a_key_is_disabled_whatever_key_is_sent() {
    let mut config = test_config();
    config.operator_key = None;
    let app = TestApp::spawn_with(config, true).await;
    let url = format!("{}/api/applications", app.base);

    for key in [None, Some(""), Some("a guess")] {
        let mut req = app.http.get(&url);
        if let Some(key) = key {
            req = req.header("X-Operator-Key", key);
        }
        let r = app.raw(req).await;
        r.assert_problem(403, "forbidden");
        assert_eq!(
            r.body["detail"], "listing is disabled on this server (no OPERATOR_KEY configured)",
            "key {key:?}"
        );
    }
}

#[tokio::test]
async fn a_401_says_how_to_authenticate() {
    let app = TestApp::spawn().await;
    let url = format!("{}/api/applications", app.base);

    for key in [None, Some("wrong")] {
        let mut req = app.http.get(&url);
        if let Some(key) = key {
            req = req.header("X-Operator-Key", key);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "key {key:?}");
        let challenge = r
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            challenge.as_deref(),
            Some("X-Operator-Key realm=\"operator\""),
            "key {key:?}"
        );
    }
    let ok = app
        .http
        .get(&url)
        .header("X-Operator-Key", OPERATOR_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(ok.headers().get(header::WWW_AUTHENTICATE).is_none());
}

#[tokio::test]
async fn the_root_redirects_to_the_docs_titled_after_the_api() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();

    for method in [Method::GET, Method::HEAD] {
        let r = client
            .request(method.clone(), format!("{}/", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT, "{method}");
        assert_eq!(r.headers()[header::LOCATION], "/docs", "{method}");
    }
    let followed = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(followed.status(), StatusCode::OK);
    let page = followed.text().await.unwrap();
    assert!(
        page.contains("<title>Chat System API</title>"),
        "{}",
        &page[..300.min(page.len())]
    );
}

#[tokio::test]
async fn a_search_text_that_is_not_utf8_is_refused_and_a_blank_one_lists() {
    let app = TestApp::spawn().await;
    let token = app.create_app("First hour").await;
    let chat = app.create_chat(&token).await;
    app.create_message(&token, chat, "hello").await;
    let messages = format!("/api/applications/{token}/chats/{chat}/messages");

    let bad = app.get(&format!("{messages}?query=%ff")).await;
    let blank = app.get(&format!("{messages}?query=")).await;

    bad.assert_problem(400, "invalid_parameter");
    assert_eq!(bad.body["field"], "query");
    assert!(bad.body["detail"].as_str().unwrap().contains("UTF-8"), "{}", bad.body);
    assert_eq!(blank.status, StatusCode::OK, "{}", blank.body);
    assert_eq!(blank.body["data"][0]["body"], "hello");
}
