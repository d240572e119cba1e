//! Every kind of bad input, walked as a table: each answer is a problem+json 4xx with one `code`
//! per kind of fault, the field or parameter named as the API names it, a `detail` that says
//! what is accepted in plain words and shows nothing of the implementation, and nothing changed.

use reqwest::{header::HeaderValue, Method};

use crate::helpers::TestApp;

/// Words of the framework or of the schema's machinery that a client must never read.
const IMPLEMENTATION: &[&str] = &[
    "param0",
    "param1",
    "param2",
    "string_uuid",
    "optional_",
    "parse request payload",
    "Expected input type",
    "occurred while parsing",
    "failed to parse",
    "verification failed",
    "maxLength",
    "minLength",
    "pattern",
    "\\x",
    "^[",
    "Payload Too Large",
];

/// One bad request and what it must be answered.
struct Case {
    method: Method,
    path: String,
    headers: Vec<(&'static str, HeaderValue)>,
    /// A JSON body (sent as `application/json`), as raw text.
    body: Option<String>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
    /// What `detail` must say (what is accepted).
    says: &'static str,
}

fn case(
    method: Method,
    path: &str,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
    says: &'static str,
) -> Case {
    Case {
        method,
        path: path.to_owned(),
        headers: Vec::new(),
        body: None,
        status,
        code,
        field,
        says,
    }
}

/// A body whose `field` is unacceptable: 422 `invalid_field` naming it.
fn field(method: Method, path: &str, body: String, field: &'static str, says: &'static str) -> Case {
    Case {
        body: Some(body),
        ..case(method, path, 422, "invalid_field", Some(field), says)
    }
}

/// A body that is not a JSON object: 400 `bad_request`.
fn not_json(path: &str, body: &str, says: &'static str) -> Case {
    Case {
        body: Some(body.to_owned()),
        ..case(Method::POST, path, 400, "bad_request", None, says)
    }
}

/// A malformed parameter: 400 `invalid_parameter` naming it.
fn parameter(path: &str, name: &'static str, says: &'static str) -> Case {
    case(Method::GET, path, 400, "invalid_parameter", Some(name), says)
}

/// A creation with a malformed `Idempotency-Key`: 400 `invalid_parameter` naming the header.
fn key(path: &str, value: &[u8], body: Option<&str>, says: &'static str) -> Case {
    Case {
        headers: vec![("Idempotency-Key", HeaderValue::from_bytes(value).unwrap())],
        body: body.map(str::to_owned),
        ..case(
            Method::POST,
            path,
            400,
            "invalid_parameter",
            Some("Idempotency-Key"),
            says,
        )
    }
}

/// The bad body fields of a text field `name` of up to `max` characters, which `says`.
fn text_faults(method: Method, path: &str, name: &'static str, max: usize, says: &'static str) -> Vec<Case> {
    let long = "é".repeat(max + 1);
    [
        format!(r#"{{"{name}": "   "}}"#),
        format!(r#"{{"{name}": ""}}"#),
        format!(r#"{{"{name}": "\n\t\u3000"}}"#),
        format!(r#"{{"{name}": "{long}"}}"#),
        format!(r#"{{"{name}": "a\u0000b"}}"#),
        "{}".to_owned(),
        format!(r#"{{"{name}": null}}"#),
        format!(r#"{{"{name}": 5}}"#),
        format!(r#"{{"{name}": ["x"]}}"#),
        format!(r#"{{"{name}x": "x"}}"#),
    ]
    .into_iter()
    .map(|body| field(method.clone(), path, body, name, says))
    .collect()
}

fn table(token: &str) -> Vec<Case> {
    let apps = "/api/applications";
    let app = format!("/api/applications/{token}");
    let chats = format!("{app}/chats");
    let messages = format!("{chats}/1/messages");
    let message = format!("{messages}/1");
    let number = "a whole number from 1 to 9223372036854775807";
    let visible = "must be 1–255 visible ASCII characters";
    let random = "must be a random (version 4) UUID";
    let name = r#"{"name": "x"}"#;
    let mut cases = Vec::new();
    cases.extend(text_faults(
        Method::POST,
        apps,
        "name",
        200,
        "a string of 1–200 characters",
    ));
    cases.extend(text_faults(
        Method::PUT,
        &app,
        "name",
        200,
        "a string of 1–200 characters",
    ));
    cases.extend(text_faults(
        Method::POST,
        &messages,
        "body",
        10_000,
        "a string of 1–10000 characters",
    ));
    cases.extend(text_faults(
        Method::PUT,
        &message,
        "body",
        10_000,
        "a string of 1–10000 characters",
    ));
    let other = uuid::Uuid::new_v4();
    for token_field in [r#""nope""#, "null", "5", &format!(r#""{other}""#)] {
        let body = format!(r#"{{"name": "x", "token": {token_field}}}"#);
        cases.push(field(Method::PUT, &app, body, "token", "token"));
    }
    for body in ["{", "not json", r#"{"body": "x"} trailing"#] {
        cases.push(not_json(&messages, body, "not valid JSON"));
    }
    for body in ["[]", r#""x""#, "5", "null", ""] {
        cases.push(not_json(&messages, body, "must be a JSON object"));
    }
    cases.push(Case {
        headers: vec![("content-type", HeaderValue::from_static("text/plain"))],
        body: Some("hi".into()),
        ..case(
            Method::POST,
            &messages,
            415,
            "unsupported_media_type",
            None,
            "application/json",
        )
    });
    cases.push(Case {
        body: Some(format!(r#"{{"body": "{}"}}"#, "x".repeat(300 * 1024))),
        ..case(Method::POST, &messages, 413, "payload_too_large", None, "262144 bytes")
    });
    cases.push(parameter(&format!("{apps}/not-a-token"), "token", "a UUID such as"));
    cases.push(parameter(
        &format!("{apps}/not-a-token/chats/1/messages"),
        "token",
        "a UUID such as",
    ));
    for bad in ["0", "-1", "99999999999999999999", "abc", "1.5"] {
        cases.push(parameter(&format!("{chats}/{bad}"), "number", number));
        cases.push(parameter(&format!("{chats}/{bad}/messages"), "chat", number));
        cases.push(parameter(&format!("{messages}/{bad}"), "number", number));
    }
    cases.push(parameter(
        &format!("{messages}?query=x&order=bogus"),
        "order",
        "one of `newest`, `relevance`",
    ));
    for limit in ["0", "101", "-1", "abc", ""] {
        cases.push(parameter(&format!("{chats}?limit={limit}"), "limit", "from 1 to 100"));
    }
    cases.push(parameter(&format!("{messages}?page=0"), "page", "from 1 to 1000000"));
    cases.push(parameter(&format!("{messages}?after=-1"), "after", "from 0 to"));
    cases.push(parameter(&format!("{chats}?before=0"), "before", "from 1 to"));
    let long_query = "q".repeat(501);
    cases.push(parameter(
        &format!("{messages}?query={long_query}"),
        "query",
        "at most 500 characters",
    ));
    cases.push(parameter(&format!("{messages}?query=%ff"), "query", "UTF-8"));
    cases.push(Case {
        headers: vec![("Last-Event-ID", HeaderValue::from_static("-1"))],
        ..parameter(&format!("{messages}/stream"), "Last-Event-ID", "from 0 to")
    });
    // Read positions and the inbox (the reader checked like a sender, in a path or a query).
    let inbox = format!("{chats}?reader=alice&order=activity");
    for (path, name, says) in [
        (format!("{chats}?order=activity"), "order", "it needs `reader`"),
        (format!("{chats}?order=bogus"), "order", "one of `number`, `activity`"),
        (format!("{chats}?reader=alice"), "reader", "it needs `order=activity`"),
        (format!("{chats}?cursor=1.1"), "cursor", "pages an inbox"),
        (
            format!("{inbox}&cursor=zzz"),
            "cursor",
            "the `next_cursor` of an earlier page",
        ),
        (
            format!("{inbox}&cursor=1.0"),
            "cursor",
            "the `next_cursor` of an earlier page",
        ),
        (format!("{inbox}&page=2"), "page", "paged with `cursor`"),
        (format!("{inbox}&after=1"), "after", "paged with `cursor`"),
        (format!("{chats}?reader=%20&order=activity"), "reader", "is blank"),
        (format!("{chats}?reader=&order=activity"), "reader", "is empty"),
        (
            format!("{chats}?reader={}&order=activity", "r".repeat(201)),
            "reader",
            "has 201 characters",
        ),
        (format!("{chats}/1?reader=%00"), "reader", "contains a NUL character"),
    ] {
        cases.push(parameter(&path, name, says));
    }
    for method in [Method::PUT, Method::DELETE] {
        let path = format!("{chats}/1/members/%20");
        cases.push(case(
            method,
            &path,
            400,
            "invalid_parameter",
            Some("reader"),
            "is blank",
        ));
    }
    let reader = format!("{chats}/1/readers/alice");
    for body in [
        r#"{"last_read": -1}"#,
        r#"{"last_read": 1.5}"#,
        r#"{"last_read": "1"}"#,
        "{}",
        r#"{"last_read": null}"#,
    ] {
        cases.push(field(
            Method::PUT,
            &reader,
            body.into(),
            "last_read",
            "a whole number from 0",
        ));
    }
    let too_high = r#"{"last_read": 5}"#.to_owned();
    cases.push(field(
        Method::PUT,
        &reader,
        too_high,
        "last_read",
        "the chat's last message number, 1",
    ));
    let long_key = "k".repeat(256);
    for value in [
        &b""[..],
        b"   ",
        b"a b",
        b"a\tb",
        long_key.as_bytes(),
        "clé".as_bytes(),
        b"\xff",
    ] {
        cases.push(key(&chats, value, None, visible));
        cases.push(key(&messages, value, Some(r#"{"body": "x"}"#), visible));
    }
    for value in [
        &b"not-a-uuid"[..],
        b"3f0e8c52-7a0b-1c1e-9d4f-2b6a1e5c7d90",
        b"",
        b"a b",
        b"3f0e8c52-7a0b-4c1e-0d4f-2b6a1e5c7d90",
    ] {
        cases.push(key(apps, value, Some(name), random));
    }
    cases
}

/// What the database holds, row counts of every table a request could write (once the write
/// queue is drained).
async fn stored(app: &TestApp) -> Vec<i64> {
    app.drain().await;
    let empty = || async { app.count("SELECT count(*) FROM jobs").await == 0 };
    app.eventually("the write queue is drained", empty).await;
    let mut counts = Vec::new();
    for table in [
        "applications",
        "chats",
        "messages",
        "jobs",
        "idempotency_keys",
        "chat_counters",
        "chat_members",
    ] {
        counts.push(app.count(&format!("SELECT count(*) FROM {table}")).await);
    }
    counts
}

#[tokio::test]
async fn every_bad_input_is_named_in_the_apis_words_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat = app.create_chat(&token).await;
    assert_eq!(app.create_message(&token, chat, "first").await, 1);
    let before = stored(&app).await;

    let cases = table(&token);
    for case in &cases {
        let what = format!("{} {}", case.method, &case.path[..case.path.len().min(120)]);
        let mut req = app
            .http
            .request(case.method.clone(), format!("{}{}", app.base, case.path));
        if let Some(body) = &case.body {
            if !case.headers.iter().any(|(name, _)| *name == "content-type") {
                req = req.header("content-type", "application/json");
            }
            req = req.body(body.clone());
        }
        for (name, value) in &case.headers {
            req = req.header(*name, value.clone());
        }
        let r = app.raw(req).await;
        assert_eq!(r.status.as_u16(), case.status, "{what}: {}", r.body);
        r.assert_problem(case.status, case.code);
        assert_eq!(r.body["field"].as_str(), case.field, "{what}: {}", r.body);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains(case.says), "{what}: {detail}");
        for word in IMPLEMENTATION {
            assert!(!detail.contains(word), "{what}: `{word}` in {detail}");
        }
    }
    assert!(cases.len() > 100, "{} cases", cases.len());

    assert_eq!(stored(&app).await, before, "a refused request changed what is stored");
    assert_eq!(app.create_chat(&token).await, 2, "a refused request used a chat number");
    assert_eq!(
        app.create_message(&token, chat, "second").await,
        2,
        "a refused request used a number"
    );
}
