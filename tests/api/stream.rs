//! Live message streams (Server-Sent Events): what a subscriber sees, across instances, after a
//! disconnect, and under concurrent posting.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{test_config, TestApp};

/// One parsed Server-Sent Event.
#[derive(Debug, Clone)]
struct Sse {
    event: String,
    id: Option<i64>,
    data: Value,
}

/// A client reading one event stream.
struct Stream {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
    comments: usize,
}

impl Stream {
    /// Opens the stream of `chat`; panics unless it answers 200 `text/event-stream`.
    async fn open(app: &TestApp, token: &str, chat: i64, query: &str, last_event_id: Option<i64>) -> Stream {
        let url = format!(
            "{}/api/applications/{token}/chats/{chat}/messages/stream{query}",
            app.base
        );
        let mut req = reqwest::Client::new().get(url);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        Stream {
            body: resp.bytes_stream().boxed(),
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next event, or `None` if none comes within `wait` (or the stream ended).
    async fn next_within(&mut self, wait: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::new(), None, String::new());
                for line in block.lines() {
                    if line.starts_with(':') {
                        self.comments += 1;
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive
                }
                return Some(Sse {
                    event,
                    id,
                    data: serde_json::from_str(&data).unwrap(),
                });
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(Ok(chunk))) => self.buffer.push_str(std::str::from_utf8(&chunk).unwrap()),
                _ => return None,
            }
        }
    }

    async fn next(&mut self) -> Sse {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("an event within 5 s")
    }

    /// The next `n` events, which must all be `message.created`; returns their numbers.
    async fn created(&mut self, n: usize) -> Vec<i64> {
        let mut numbers = Vec::new();
        for _ in 0..n {
            let e = self.next().await;
            assert_eq!(e.event, "message.created", "{e:?}");
            assert_eq!(e.data["type"], "message.created");
            let number = e.data["number"].as_i64().unwrap();
            assert_eq!(e.data["message"]["number"], number);
            assert_eq!(e.id, Some(number), "a created event's id is its number");
            numbers.push(number);
        }
        numbers
    }
}

async fn chat_with_messages(app: &TestApp, n: usize) -> (String, i64) {
    let token = app.create_app("live").await;
    let chat = app.create_chat(&token).await;
    for i in 0..n {
        app.create_message(&token, chat, &format!("before {i}")).await;
    }
    (token, chat)
}

#[tokio::test]
async fn streamed_messages_carry_their_sender() {
    let app = TestApp::spawn().await;
    let (token, chat) = chat_with_messages(&app, 0).await;
    let mut stream = Stream::open(&app, &token, chat, "", None).await;
    let path = format!("/api/applications/{token}/chats/{chat}/messages");
    let r = app.post(&path, json!({ "body": "hi", "sender": "alice" })).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let e = stream.next().await;
    assert_eq!(e.event, "message.created");
    assert_eq!(e.data["message"]["sender"], "alice");
    assert_eq!(
        app.put(&format!("{path}/1"), json!({ "body": "hi!" })).await.status,
        StatusCode::OK
    );
    let e = stream.next().await;
    assert_eq!(
        (e.event.as_str(), &e.data["message"]["sender"]),
        ("message.updated", &json!("alice"))
    );
}

#[tokio::test]
async fn a_subscriber_sees_new_edited_and_deleted_messages_in_order() {
    let app = TestApp::spawn().await;
    let (token, chat) = chat_with_messages(&app, 2).await;
    // Without a cursor the stream starts with the next new message.
    let mut stream = Stream::open(&app, &token, chat, "", None).await;
    for body in ["hello", "live", "world"] {
        app.create_message(&token, chat, body).await;
    }
    let mut bodies = Vec::new();
    for expected in 3..=5 {
        let e = stream.next().await;
        assert_eq!((e.event.as_str(), e.id), ("message.created", Some(expected)));
        bodies.push(e.data["message"]["body"].as_str().unwrap().to_owned());
    }
    assert_eq!(bodies, ["hello", "live", "world"]);

    let path = format!("/api/applications/{token}/chats/{chat}/messages");
    let r = app.put(&format!("{path}/4"), json!({ "body": "edited" })).await;
    assert_eq!(r.status, StatusCode::OK);
    let e = stream.next().await;
    assert_eq!(e.event, "message.updated");
    assert_eq!(e.data["number"], 4);
    assert_eq!(e.data["message"]["body"], "edited");
    assert_eq!(e.id, Some(5), "the id stays the highest number delivered");

    assert_eq!(app.delete(&format!("{path}/3")).await.status, StatusCode::NO_CONTENT);
    let e = stream.next().await;
    assert_eq!(e.event, "message.deleted");
    assert_eq!(e.data, json!({ "type": "message.deleted", "number": 3 }));

    // Deleting the chat ends the stream with a last event.
    let r = app.delete(&format!("/api/applications/{token}/chats/{chat}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let e = stream.next().await;
    assert_eq!(e.event, "chat.deleted");
    assert!(stream.next_within(Duration::from_secs(2)).await.is_none());
}

#[tokio::test]
async fn a_stream_resumes_from_last_event_id_or_after_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let (token, chat) = chat_with_messages(&app, 0).await;
    let mut stream = Stream::open(&app, &token, chat, "", None).await;
    for i in 1..=2 {
        app.create_message(&token, chat, &format!("m{i}")).await;
    }
    assert_eq!(stream.created(2).await, [1, 2]);
    drop(stream); // the client disconnects

    for i in 3..=6 {
        app.create_message(&token, chat, &format!("m{i}")).await;
    }
    // Reconnecting with the last id received: the missed ones first, then live ones.
    let mut resumed = Stream::open(&app, &token, chat, "?after=1", Some(2)).await;
    assert_eq!(resumed.created(4).await, [3, 4, 5, 6], "Last-Event-ID wins over after");
    app.create_message(&token, chat, "m7").await;
    assert_eq!(resumed.created(1).await, [7]);
    assert!(
        resumed.next_within(Duration::from_millis(300)).await.is_none(),
        "no repeats"
    );

    // `after` alone replays from any number, across more than one catch-up page.
    for i in 8..=130 {
        app.create_message(&token, chat, &format!("m{i}")).await;
    }
    let mut replay = Stream::open(&app, &token, chat, "?after=0", None).await;
    assert_eq!(replay.created(130).await, (1..=130).collect::<Vec<_>>());
}

#[tokio::test]
async fn queued_messages_are_streamed_before_the_workers_write_them() {
    let app = TestApp::spawn_paused().await;
    let token = app.create_app("queued").await;
    let chat = app.create_chat(&token).await;
    app.drain().await;
    let mut stream = Stream::open(&app, &token, chat, "", None).await;
    app.create_message(&token, chat, "still queued").await;
    let e = stream.next().await;
    assert_eq!(e.data["message"]["body"], "still queued");
}

#[tokio::test]
async fn idle_streams_get_keep_alives_and_bad_requests_get_problems() {
    let mut config = test_config();
    config.stream_keep_alive_ms = 100;
    let app = TestApp::spawn_with(config, true).await;
    let (token, chat) = chat_with_messages(&app, 0).await;
    let mut stream = Stream::open(&app, &token, chat, "", None).await;
    assert!(stream.next_within(Duration::from_millis(600)).await.is_none());
    assert!(stream.comments >= 2, "keep-alive comments: {}", stream.comments);

    let path = |chat: i64| format!("/api/applications/{token}/chats/{chat}/messages/stream");
    app.get(&path(chat + 1)).await.assert_problem(404, "chat_not_found");
    let other = app.create_app("other").await;
    let r = app
        .get(&format!("/api/applications/{other}/chats/{chat}/messages/stream"))
        .await;
    r.assert_problem(404, "chat_not_found");
    let r = app.get(&format!("{}?after=-1", path(chat))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.content_type, "application/problem+json");
    let r = app
        .raw(
            app.http
                .request(Method::GET, format!("{}{}", app.base, path(chat)))
                .header("Last-Event-ID", "yesterday"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.content_type, "application/problem+json");
}

#[tokio::test]
async fn streams_are_capped_per_process() {
    let mut config = test_config();
    config.max_streams = 1;
    // A server notices a client gone when it next writes: at the latest with a keep-alive.
    config.stream_keep_alive_ms = 100;
    let app = TestApp::spawn_with(config, true).await;
    let (token, chat) = chat_with_messages(&app, 0).await;
    let first = Stream::open(&app, &token, chat, "", None).await;
    let path = format!("/api/applications/{token}/chats/{chat}/messages/stream");
    app.get(&path).await.assert_problem(503, "too_many_streams");
    let refused = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(refused.headers()["retry-after"], "1", "when to try again");
    drop(first);
    // The slot is given back when the client is gone.
    app.eventually("a stream slot to be free", || async {
        let resp = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        resp.status() == StatusCode::OK
    })
    .await;
}

/// Two instances on one database: a subscriber on one sees what is posted through the other, in
/// order, while several clients post concurrently; the delay from 201 to event is measured.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_posted_on_one_instance_reach_subscribers_on_another() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn_on(&a.url, test_config(), true).await;
    let (token, chat) = chat_with_messages(&a, 0).await;
    let mut on_b = Stream::open(&b, &token, chat, "", None).await;
    let mut on_a = Stream::open(&a, &token, chat, "", None).await;

    // Delay: one message at a time, 201 on A to event on B.
    let mut delays = Vec::new();
    for i in 0..100 {
        let sent = Instant::now();
        let number = a.create_message(&token, chat, &format!("ping {i}")).await;
        let acknowledged = sent.elapsed();
        let e = on_b.next().await;
        assert_eq!(e.data["number"], number);
        delays.push(sent.elapsed().saturating_sub(acknowledged));
    }
    delays.sort();
    let (p50, p99) = (delays[49], delays[98]);
    println!(
        "201 → event on another instance: p50 {p50:?}, p99 {p99:?}, max {:?}",
        delays[99]
    );
    assert!(p99 < Duration::from_secs(1), "events arrive as it happens: p99 {p99:?}");
    assert_eq!(on_a.created(100).await, (1..=100).collect::<Vec<_>>());

    // Concurrent posting through both instances: each subscriber gets every number once, in
    // order.
    let mut posters = Vec::new();
    for i in 0..8 {
        let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
        let path = format!("{base}/api/applications/{token}/chats/{chat}/messages");
        posters.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for j in 0..25 {
                let r = http
                    .post(&path)
                    .json(&json!({ "body": format!("c{i}-{j}") }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
            }
        }));
    }
    for poster in posters {
        poster.await.unwrap();
    }
    assert_eq!(on_b.created(200).await, (101..=300).collect::<Vec<_>>());
    assert_eq!(on_a.created(200).await, (101..=300).collect::<Vec<_>>());
}

/// The real binary with a short idle timeout: keep-alives keep an idle stream open past it.
#[tokio::test]
async fn keep_alives_hold_a_stream_open_past_the_idle_timeout() {
    let url = crate::helpers::fresh_database_url().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let instance = crate::faults::Instance::start_with(
        &url,
        port,
        &[
            ("IDLE_TIMEOUT_SECS", "1"),
            ("STREAM_KEEP_ALIVE_MS", "300"),
            ("RUST_LOG", "error"),
        ],
        std::process::Stdio::null(),
    )
    .await;
    let http = reqwest::Client::new();
    let token = crate::faults::setup(&instance.base, 1).await;
    let chat = format!("{}/api/applications/{token}/chats", instance.base);
    let resp = http.get(format!("{chat}/1/messages/stream")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = Stream {
        body: resp.bytes_stream().boxed(),
        buffer: String::new(),
        comments: 0,
    };
    assert!(stream.next_within(Duration::from_millis(2500)).await.is_none());
    let r = http
        .post(format!("{chat}/1/messages"))
        .json(&json!({ "body": "still there?" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let e = stream.next().await;
    assert_eq!(e.data["message"]["body"], "still there?");
    assert!(stream.comments >= 5, "keep-alives: {}", stream.comments);
}

/// The announcer cannot send (every NOTIFY fails in the database) while more distinct events
/// happen than its outbox holds. Once it can, a subscriber gets every new message, numbers
/// contiguous, and the edit and the delete: the dropped lines were replaced by a "look again",
/// not lost. The periodic re-read is set to an hour, so only the marker can have told it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_announcer_outage_past_the_outbox_cap_a_stream_misses_nothing() {
    let url = crate::helpers::fresh_database_url().await;
    let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    // A NOTIFY outage for this database only: `pg_notify` shadowed through the search path
    // fails while `notify_outage` has a row.
    admin
        .batch_execute(
            "CREATE TABLE public.notify_outage (since timestamptz);
             CREATE FUNCTION public.pg_notify(channel text, payload text) RETURNS void
             LANGUAGE plpgsql AS $$
             BEGIN
                 IF EXISTS (SELECT FROM public.notify_outage) THEN
                     RAISE EXCEPTION 'NOTIFY is down';
                 END IF;
                 PERFORM pg_catalog.pg_notify(channel, payload);
             END $$;
             DO $$ BEGIN
                 EXECUTE format('ALTER DATABASE %I SET search_path = public, pg_catalog', current_database());
             END $$;",
        )
        .await
        .unwrap();
    let mut config = test_config();
    config.live_outbox_lines = 20;
    config.live_refresh_secs = 3600;
    let app = TestApp::spawn_on(&url, config, true).await;
    let (token, watched) = chat_with_messages(&app, 3).await;
    let mut others = Vec::new();
    for _ in 0..30 {
        others.push(app.create_chat(&token).await);
    }
    let mut stream = Stream::open(&app, &token, watched, "?after=0", None).await;
    assert_eq!(stream.created(3).await, [1, 2, 3]);

    admin
        .batch_execute("INSERT INTO notify_outage VALUES (now())")
        .await
        .unwrap();
    let path = format!("/api/applications/{token}/chats/{watched}/messages");
    for i in 4..=8 {
        app.create_message(&token, watched, &format!("during {i}")).await;
    }
    let r = app.put(&format!("{path}/1"), json!({ "body": "edited" })).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.delete(&format!("{path}/2")).await.status, StatusCode::NO_CONTENT);
    // Then 30 other chats' new messages: more distinct lines than the outbox's 20, so the
    // watched chat's line is among those given up.
    for chat in &others {
        app.create_message(&token, *chat, "elsewhere").await;
    }
    assert!(
        stream.next_within(Duration::from_millis(700)).await.is_none(),
        "nothing reaches a stream while NOTIFY is down"
    );

    admin.batch_execute("DELETE FROM notify_outage").await.unwrap();
    let mut created = Vec::new();
    let (mut updated, mut deleted) = (None, None);
    for _ in 0..7 {
        let e = stream.next().await;
        match e.event.as_str() {
            "message.created" => created.push(e.data["number"].as_i64().unwrap()),
            "message.updated" => updated = Some(e.data["message"]["body"].clone()),
            "message.deleted" => deleted = e.data["number"].as_i64(),
            other => panic!("unexpected event {other}: {e:?}"),
        }
    }
    assert_eq!(created, [4, 5, 6, 7, 8], "every new message, in order, none missing");
    assert_eq!(updated, Some(json!("edited")));
    assert_eq!(deleted, Some(2));
    assert!(
        stream.next_within(Duration::from_millis(300)).await.is_none(),
        "no repeats"
    );
}
