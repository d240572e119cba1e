//! Request ids, access logs and `/metrics`, as an operator sees them.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    faults::Instance,
    helpers::{fresh_database_url, TestApp},
};

fn request_id(resp: &reqwest::Response) -> String {
    resp.headers()["x-request-id"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let mut seen = std::collections::HashSet::new();
    for path in ["/healthz", "/api/applications/nope", "/no/such/route"] {
        let resp = http.get(format!("{}{path}", app.base)).send().await.unwrap();
        let id = request_id(&resp);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{path}: {id}");
        assert!(seen.insert(id), "ids are unique");
    }
    // A caller's own id is kept when it is sensible, replaced when not.
    let resp = http
        .get(format!("{}/healthz", app.base))
        .header("X-Request-Id", "trace-42.a:b_c")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&resp), "trace-42.a:b_c");
    let resp = http
        .get(format!("{}/healthz", app.base))
        .header("X-Request-Id", "no spaces <please>")
        .send()
        .await
        .unwrap();
    assert!(uuid::Uuid::parse_str(&request_id(&resp)).is_ok());
}

#[tokio::test]
async fn metrics_count_requests_and_describe_the_queue_pool_and_streams() {
    let app = TestApp::spawn().await;
    let token = app.create_app("metrics").await;
    let chat = app.create_chat(&token).await;
    app.create_message(&token, chat, "hello metrics").await;
    let r = app
        .get(&format!("/api/applications/{token}/chats/{chat}/messages?query=metr"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.get(&format!("/api/applications/{token}/chats/99")).await;
    app.get("/api/applications/not-a-token").await;

    let resp = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    let value = |line_start: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .unwrap_or_else(|| panic!("no `{line_start}` in:\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(value("chat_http_requests_total{operation=\"create_message\",method=\"POST\",status=\"201\"}") >= 1.0);
    assert!(value("chat_http_requests_total{operation=\"get_chat\",method=\"GET\",status=\"404\"}") >= 1.0);
    // A malformed parameter is still counted under its operation.
    assert!(value("chat_http_requests_total{operation=\"get_application\",method=\"GET\",status=\"400\"}") >= 1.0);
    assert!(value("chat_http_request_duration_seconds_count{operation=\"create_message\"}") >= 1.0);
    assert!(value("chat_http_request_duration_seconds_bucket{operation=\"create_message\",le=\"+Inf\"}") >= 1.0);
    assert!(value("chat_search_duration_seconds_count{order=\"newest\"}") >= 1.0);
    assert!(value("chat_intake_batch_requests_count{kind=\"message\"}") >= 1.0);
    app.eventually("the workers to have written a batch", || async {
        let text = reqwest::get(format!("{}/metrics", app.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.contains("chat_worker_batch_jobs_count ") && text.contains("chat_queue_depth 0")
    })
    .await;
    for gauge in [
        "chat_queue_oldest_job_age_seconds ",
        "chat_jobs_stuck ",
        "chat_intake_resolutions_total ",
        "chat_db_pool_connections_in_use ",
        "chat_db_pool_connections_idle ",
        "chat_live_streams ",
    ] {
        value(gauge);
    }
    assert!(!text.contains(&token), "metrics never carry a token");
}

/// The real binary with JSON logs: the id a client got is in the log line of its request, and
/// the application's token (in the path) is not.
#[tokio::test]
async fn the_request_id_appears_in_the_json_logs() {
    let url = fresh_database_url().await;
    let (instance, log) = Instance::start_logged(&url, &[("LOG_JSON", "true"), ("RUST_LOG", "info")]).await;
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/api/applications", instance.base))
        .json(&json!({ "name": "logged" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = request_id(&resp);
    let token = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = http
        .get(format!("{}/api/applications/{token}/chats/7", instance.base))
        .send()
        .await
        .unwrap();
    let missing_id = request_id(&resp);

    let mut lines = Vec::new();
    for _ in 0..50 {
        let text = std::fs::read_to_string(&log).unwrap();
        lines = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .collect();
        if lines.iter().any(|l| l.to_string().contains(&missing_id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line_of = |id: &str| {
        lines
            .iter()
            .find(|l| l["span"]["request_id"] == id && l["fields"]["message"] == "answered")
            .unwrap_or_else(|| panic!("no log line for request {id} in {lines:?}"))
            .clone()
    };
    let created = line_of(&id);
    assert_eq!(created["fields"]["operation"], "create_application");
    assert_eq!(created["fields"]["status"], 201);
    let missing = line_of(&missing_id);
    assert_eq!(missing["fields"]["operation"], "get_chat");
    assert_eq!(missing["fields"]["status"], 404);
    let all = std::fs::read_to_string(&log).unwrap();
    assert!(!all.contains(&token), "logs never carry an application's token");
    drop(instance);
    let _ = std::fs::remove_file(&log);
}
