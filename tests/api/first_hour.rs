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

#[tokio::test]
async fn every_problem_type_uri_leads_to_a_page_about_it() {
    let app = TestApp::spawn().await;
    // Problems met on the way: each one's `type` is a page naming its code and status.
    let token = app.create_app("types").await;
    let answers = [
        app.get("/api/applications/not-a-token").await,
        app.get("/api/applications/00000000-0000-4000-8000-000000000000").await,
        app.get(&format!("/api/applications/{token}/chats/9")).await,
        app.post(
            &format!("/api/applications/{token}/chats/1/messages"),
            serde_json::json!({}),
        )
        .await,
        app.get("/nowhere").await,
    ];
    for r in answers {
        let kind = r.body["type"].as_str().unwrap().to_owned();
        let code = r.body["code"].as_str().unwrap().to_owned();
        assert_eq!(kind, format!("/problems/{code}"));
        let page = app.text(&kind).await;
        assert!(page.contains(&format!("<code>{code}</code>")), "{page}");
        assert!(page.contains(&format!("HTTP {}", r.status.as_u16())), "{code}: {page}");
    }
    // Every code the API can answer has its page; an unknown one is a 404 problem.
    for (code, _, _) in chat_system::http::problem_types::PROBLEM_TYPES {
        assert!(app.text(&format!("/problems/{code}")).await.contains(code));
    }
    app.get("/problems/no_such_code")
        .await
        .assert_problem(404, "route_not_found");
}
