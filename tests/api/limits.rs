//! Limits a hostile or broken client meets: requests in flight, request deadline, rate limit.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::{io::AsyncWriteExt, net::TcpStream};

use crate::helpers::{test_config, TestApp};

/// Opens a connection and sends a POST whose body never finishes.
async fn stalled_post(app: &TestApp) -> TcpStream {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = "POST /api/applications HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"na";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn requests_beyond_the_in_flight_cap_get_503_at_once() {
    let mut config = test_config();
    config.max_in_flight = 1;
    let app = TestApp::spawn_with(config, true).await;
    let _stalled = stalled_post(&app).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = std::time::Instant::now();
    let r = app
        .raw(
            app.http
                .get(format!("{}/api/applications/{}", app.base, uuid::Uuid::new_v4())),
        )
        .await;

    r.assert_problem(503, "server_busy");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn a_request_that_never_finishes_its_body_times_out() {
    let mut config = test_config();
    config.request_timeout_ms = 300;
    let app = TestApp::spawn_with(config, true).await;
    let mut stalled = stalled_post(&app).await;

    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(
        Duration::from_secs(3),
        tokio::io::AsyncReadExt::read(&mut stalled, &mut answer),
    )
    .await;

    let text = String::from_utf8_lossy(&answer[..read.expect("answered in time").unwrap()]).to_string();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.contains("application/problem+json") && text.contains("request_timeout"),
        "{text}"
    );
    assert_eq!(app.count("SELECT count(*) FROM applications").await, 0);
}

#[tokio::test]
async fn the_rate_limit_is_per_application_and_shared_by_instances() {
    let mut config = test_config();
    config.rate_limit_per_minute = Some(5);
    let one = TestApp::spawn_with(config.clone(), true).await;
    let two = TestApp::spawn_on(&one.url, config, true).await;
    let limited = one.create_app("Busy").await;
    let other = one.create_app("Quiet").await;

    let mut statuses = Vec::new();
    let mut last = None;
    for i in 0..6 {
        let app = if i % 2 == 0 { &one } else { &two };
        let r = app
            .raw(app.http.get(format!("{}/api/applications/{limited}", app.base)))
            .await;
        statuses.push(r.status);
        last = Some(r);
    }
    let quiet = one
        .raw(one.http.get(format!("{}/api/applications/{other}", one.base)))
        .await;
    let ok = one
        .http
        .get(format!("{}/api/applications/{other}", one.base))
        .send()
        .await
        .unwrap();

    assert_eq!(statuses[..5], [StatusCode::OK; 5]);
    let refused = last.unwrap();
    refused.assert_problem(429, "rate_limited");
    assert_eq!(quiet.status, StatusCode::OK);
    assert_eq!(ok.headers()["ratelimit-policy"], "\"per-application\";q=5;w=60");
    assert!(ok.headers()["ratelimit"]
        .to_str()
        .unwrap()
        .starts_with("\"per-application\";r=3;t="));
    let r = one
        .http
        .get(format!("{}/api/applications/{limited}", one.base))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("retry-after"));
    let _ = json!({});
}

/// Sends `head` on a fresh connection and returns whatever comes back within 3 s (empty if the
/// server just closed the connection).
async fn send_raw(app: &TestApp, head: &[u8]) -> String {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before it has read everything: ignore write errors.
    let _ = stream.write_all(head).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        Duration::from_secs(3),
        tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer).to_string()
}

#[tokio::test]
async fn oversized_or_too_many_headers_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let body = r#"{"name":"never"}"#;
    let huge = format!(
        "POST /api/applications HTTP/1.1\r\nhost: x\r\nx-filler: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        "a".repeat(1024 * 1024),
        body.len()
    );
    let answer = send_raw(&app, huge.as_bytes()).await;
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 431"), "{answer}");
    let many: String = (0..500).map(|i| format!("x-h{i}: v\r\n")).collect();
    let flood = format!(
        "POST /api/applications HTTP/1.1\r\nhost: x\r\n{many}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = send_raw(&app, flood.as_bytes()).await;
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 431"), "{answer}");
    // Nothing was created and the server is fine.
    assert_eq!(app.count("SELECT count(*) FROM applications").await, 0);
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_client_dripping_its_request_head_is_cut_off() {
    let mut config = test_config();
    config.request_timeout_ms = 300;
    let app = TestApp::spawn_with(config, true).await;
    let addr = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    let started = std::time::Instant::now();
    // One header line every 200 ms: the idle timeout never fires, the head never completes.
    let cut = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if stream.write_all(b"x-drip: 1\r\n").await.is_err() {
            break started.elapsed();
        }
        let mut probe = [0u8; 64];
        match tokio::time::timeout(
            Duration::from_millis(1),
            tokio::io::AsyncReadExt::read(&mut stream, &mut probe),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => break started.elapsed(),
            _ => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the connection is still open"
        );
    };
    assert!(
        cut >= Duration::from_millis(1200),
        "cut after {cut:?}: not before the limit"
    );
    // A well-behaved client on another connection is served.
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
}

/// A token is one application to the rate limit however its path spells it: with `%xx` escapes
/// (one character or all, hex digits in either case), in upper case, without hyphens. And the
/// shared table that counts holds application ids, never a token.
#[tokio::test]
async fn every_spelling_of_a_token_counts_against_one_limit_and_none_is_stored() {
    let mut config = test_config();
    config.rate_limit_per_minute = Some(5);
    let app = TestApp::spawn_with(config, true).await;
    let token = app.create_app("Spelled").await;
    let escaped = |text: &str, upper: bool| -> String {
        text.bytes()
            .map(|b| {
                if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect()
    };
    let spellings = [
        token.clone(),
        format!("{}{}", escaped(&token[..1], false), &token[1..]),
        escaped(&token, false),
        escaped(&token, true),
        token.replace('-', "%2d"),
        token.replace('-', "%2D"),
        token.to_uppercase(),
        token.replace('-', ""),
        format!("{}{}", &token[..35], escaped(&token[35..], true)),
    ];

    let mut statuses = Vec::new();
    for spelling in &spellings {
        let r = app.get(&format!("/api/applications/{spelling}")).await;
        if r.status == StatusCode::OK {
            assert_eq!(r.body["token"], token.as_str(), "{spelling} is the same application");
        }
        statuses.push((spelling.clone(), r.status));
    }

    let allowed: Vec<_> = statuses.iter().filter(|(_, s)| *s == StatusCode::OK).collect();
    let refused: Vec<_> = statuses
        .iter()
        .filter(|(_, s)| *s == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(allowed.len(), 5, "five requests a minute in all: {statuses:?}");
    assert_eq!(refused.len(), spellings.len() - 5, "{statuses:?}");
    assert_eq!(
        statuses[..5].iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        [StatusCode::OK; 5]
    );

    let id = app
        .count(&format!("SELECT id FROM applications WHERE token = '{token}'"))
        .await;
    let counted = app
        .count(&format!(
            "SELECT count::bigint FROM app_rate_limits WHERE application_id = {id}"
        ))
        .await;
    assert_eq!(counted, spellings.len() as i64);
    for table in ["rate_limits", "app_rate_limits"] {
        for form in [token.clone(), token.replace('-', "")] {
            let holding = app
                .count(&format!(
                    "SELECT count(*) FROM {table} r WHERE lower(r::text) LIKE '%{form}%'"
                ))
                .await;
            assert_eq!(holding, 0, "{table} holds the token");
        }
    }
}
