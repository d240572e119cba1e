//! Read positions and the inbox: a reader joins a chat explicitly, by sending to it or by
//! recording a read position; positions only move forward and never past the chat's last
//! message; unread counts leave out the reader's own and deleted messages and count queued ones
//! from their 201; the inbox lists a reader's chats by latest activity, keyset-paged without
//! duplicates or skips while chats are created; a deleted chat leaves every inbox.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::{Response, TestApp};

/// Posts `body` to chat `chat` as `sender`; returns the message's number.
async fn send(app: &TestApp, token: &str, chat: i64, body: &str, sender: &str) -> i64 {
    let path = format!("/api/applications/{token}/chats/{chat}/messages");
    let r = app.post(&path, json!({ "body": body, "sender": sender })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["number"].as_i64().unwrap()
}

/// One page of `reader`'s inbox (`extra`: more query parameters).
async fn inbox(app: &TestApp, token: &str, reader: &str, extra: &str) -> Response {
    let r = app
        .get(&format!(
            "/api/applications/{token}/chats?reader={reader}&order=activity{extra}"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r
}

/// The chat numbers of an inbox page, in order.
fn chats(r: &Response) -> Vec<i64> {
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_i64().unwrap())
        .collect()
}

/// Chat `chat` as `reader` sees it.
async fn seen(app: &TestApp, token: &str, chat: i64, reader: &str) -> Value {
    let r = app
        .get(&format!("/api/applications/{token}/chats/{chat}?reader={reader}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn mark(app: &TestApp, token: &str, chat: i64, reader: &str, last_read: Value) -> Response {
    let path = format!("/api/applications/{token}/chats/{chat}/readers/{reader}");
    app.put(&path, json!({ "last_read": last_read })).await
}

#[tokio::test]
async fn joining_sending_and_reading_put_a_chat_in_the_inbox_and_leaving_takes_it_out() {
    let app = TestApp::spawn().await;
    let token = app.create_app("inbox").await;
    for _ in 0..3 {
        app.create_chat(&token).await;
    }
    let member = |chat: i64| format!("/api/applications/{token}/chats/{chat}/members/alice");
    let r = app.put(&member(1), json!({})).await;
    assert_eq!(
        (r.status.as_u16(), &r.body["reader"], &r.body["last_read"]),
        (201, &json!("alice"), &json!(0))
    );
    let r = app.put(&member(1), json!({})).await;
    assert_eq!(r.status, 200, "joining again changes nothing: {}", r.body);
    assert_eq!(chats(&inbox(&app, &token, "alice", "").await), vec![1]);

    // Bob sends to chat 2: in his inbox at once (the 201 is enough), not in alice's.
    send(&app, &token, 2, "hi", "bob").await;
    assert_eq!(chats(&inbox(&app, &token, "bob", "").await), vec![2]);
    // Alice records a read position in chat 3: a member from now on.
    let r = mark(&app, &token, 3, "alice", json!(0)).await;
    assert_eq!(
        (r.status.as_u16(), &r.body["last_read"]),
        (200, &json!(0)),
        "{}",
        r.body
    );
    // Latest activity first: chat 3 was created after chat 1.
    assert_eq!(chats(&inbox(&app, &token, "alice", "").await), vec![3, 1]);
    send(&app, &token, 1, "news", "bob").await;
    let page = inbox(&app, &token, "alice", "").await;
    assert_eq!(chats(&page), vec![1, 3]);
    let first = &page.body["data"][0];
    assert_eq!((&first["unread_count"], &first["last_read"]), (&json!(1), &json!(0)));
    assert_eq!(first["last_message"]["sender"], "bob");
    assert_eq!(first["last_message"]["preview"], "news");
    assert!(page.body.get("next_cursor").is_none(), "{}", page.body);

    let r = app.delete(&member(1)).await;
    assert_eq!(r.status, 204);
    assert_eq!(app.delete(&member(1)).await.status, 204, "leaving twice is fine");
    assert_eq!(chats(&inbox(&app, &token, "alice", "").await), vec![3]);
    // Joining again starts from nothing read.
    app.put(&member(1), json!({})).await;
    assert_eq!(seen(&app, &token, 1, "alice").await["last_read"], 0);

    for path in [member(9), format!("/api/applications/{token}/chats/9/readers/alice")] {
        app.put(&path, json!({ "last_read": 0 }))
            .await
            .assert_problem(404, "chat_not_found");
    }
    app.delete(&member(9)).await.assert_problem(404, "chat_not_found");
    let nobody = uuid::Uuid::new_v4();
    let r = app
        .get(&format!("/api/applications/{nobody}/chats?reader=a&order=activity"))
        .await;
    r.assert_problem(404, "application_not_found");
    let r = app
        .put(&format!("/api/applications/{nobody}/chats/1/members/a"), json!({}))
        .await;
    r.assert_problem(404, "application_not_found");
    // Without `reader`, a chat reads as before.
    let r = app.get(&format!("/api/applications/{token}/chats/1")).await;
    assert!(
        r.body.get("unread_count").is_none() && r.body.get("last_read").is_none(),
        "{}",
        r.body
    );
    let r = app
        .get(&format!("/api/applications/{token}/chats/9?reader=alice"))
        .await;
    r.assert_problem(404, "chat_not_found");
    let r = app
        .get(&format!("/api/applications/{nobody}/chats/1?reader=alice"))
        .await;
    r.assert_problem(404, "application_not_found");
    // A deleted application is gone for readers at once, its chats' rows purged or not.
    assert_eq!(app.delete(&format!("/api/applications/{token}")).await.status, 204);
    let r = app
        .get(&format!("/api/applications/{token}/chats/1?reader=alice"))
        .await;
    r.assert_problem(404, "application_not_found");
}

#[tokio::test]
async fn a_read_position_only_moves_forward_and_never_past_the_last_message() {
    let app = TestApp::spawn().await;
    let token = app.create_app("positions").await;
    let chat = app.create_chat(&token).await;
    for body in ["a", "b", "c"] {
        send(&app, &token, chat, body, "bob").await;
    }
    let stored = |r: Response| (r.status.as_u16(), r.body["last_read"].as_i64());
    assert_eq!(
        stored(mark(&app, &token, chat, "alice", json!(2)).await),
        (200, Some(2))
    );
    assert_eq!(
        stored(mark(&app, &token, chat, "alice", json!(1)).await),
        (200, Some(2))
    );
    assert_eq!(
        stored(mark(&app, &token, chat, "alice", json!(0)).await),
        (200, Some(2))
    );
    let r = mark(&app, &token, chat, "alice", json!(4)).await;
    r.assert_problem(422, "invalid_field");
    assert_eq!(r.body["field"], "last_read");
    assert!(
        r.body["detail"].as_str().unwrap().contains("last message number, 3"),
        "{}",
        r.body
    );
    let alice = seen(&app, &token, chat, "alice").await;
    assert_eq!((&alice["last_read"], &alice["unread_count"]), (&json!(2), &json!(1)));
    assert_eq!(
        stored(mark(&app, &token, chat, "alice", json!(3)).await),
        (200, Some(3))
    );
    assert_eq!(seen(&app, &token, chat, "alice").await["unread_count"], 0);
    // A refused position does not join either.
    mark(&app, &token, chat, "carol", json!(9))
        .await
        .assert_problem(422, "invalid_field");
    assert_eq!(chats(&inbox(&app, &token, "carol", "").await), Vec::<i64>::new());
}

#[tokio::test]
async fn unread_counts_leave_out_own_and_deleted_messages_and_count_queued_ones() {
    let app = TestApp::spawn_paused().await;
    let token = app.create_app("unread").await;
    let chat = app.create_chat(&token).await;
    let base = format!("/api/applications/{token}/chats/{chat}/messages");
    for (body, sender) in [
        ("a1", "alice"),
        ("b1", "bob"),
        ("a2", "alice"),
        ("b2", "bob"),
        ("b3", "bob"),
    ] {
        send(&app, &token, chat, body, sender).await;
    }
    app.post(&base, json!({ "body": "anonymous" })).await;
    let long = "é".repeat(150);
    send(&app, &token, chat, &long, "bob").await;
    // Everything is still queued: counted from the 201.
    assert_eq!(app.count("SELECT count(*) FROM messages").await, 0);
    let unread = |v: Value| v["unread_count"].as_i64().unwrap();
    assert_eq!(unread(seen(&app, &token, chat, "alice").await), 5);
    assert_eq!(unread(seen(&app, &token, chat, "bob").await), 3);
    // A reader that is no member: nothing read, every message of others unread.
    let carol = seen(&app, &token, chat, "carol").await;
    assert_eq!((unread(carol.clone()), &carol["last_read"]), (7, &json!(0)));
    let last = &carol["last_message"];
    assert_eq!(
        (&last["number"], last["preview"].as_str().unwrap().chars().count()),
        (&json!(7), 100)
    );

    // A deleted message (queued, then written) is not unread.
    assert_eq!(app.delete(&format!("{base}/2")).await.status, 204);
    assert_eq!(unread(seen(&app, &token, chat, "alice").await), 4);
    app.drain().await;
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
    assert_eq!(unread(seen(&app, &token, chat, "alice").await), 4);
    assert_eq!(app.delete(&format!("{base}/7")).await.status, 204);
    let alice = seen(&app, &token, chat, "alice").await;
    assert_eq!(
        (unread(alice.clone()), &alice["last_message"]["number"]),
        (3, &json!(6))
    );
    mark(&app, &token, chat, "alice", json!(4)).await;
    assert_eq!(unread(seen(&app, &token, chat, "alice").await), 2);
    let page = inbox(&app, &token, "alice", "").await;
    assert_eq!(page.body["data"][0]["unread_count"], 2);
}

#[tokio::test]
async fn the_inbox_pages_by_activity_without_duplicates_or_skips_while_chats_are_created() {
    let app = TestApp::spawn().await;
    let token = app.create_app("paging").await;
    for _ in 0..9 {
        let chat = app.create_chat(&token).await;
        app.put(
            &format!("/api/applications/{token}/chats/{chat}/members/alice"),
            json!({}),
        )
        .await;
    }
    // Activity: chats 2, 4, 6 get messages, in that order, after every chat was created.
    for chat in [2, 4, 6] {
        send(&app, &token, chat, "hello", "bob").await;
    }
    let expected = vec![6, 4, 2, 9, 8, 7, 5, 3, 1];
    let mut seen_chats = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = inbox(&app, &token, "alice", &format!("&limit=2{cursor}")).await;
        seen_chats.extend(chats(&page));
        // Meanwhile: new chats alice joins (above every page), and a chat she has seen gets a
        // message (it moves to the top): neither changes what the later pages hold.
        let chat = app.create_chat(&token).await;
        app.put(
            &format!("/api/applications/{token}/chats/{chat}/members/alice"),
            json!({}),
        )
        .await;
        send(&app, &token, seen_chats[0], "again", "bob").await;
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
        assert_eq!(page.body["has_more"], true);
    }
    assert_eq!(seen_chats, expected);
    let first = chats(&inbox(&app, &token, "alice", "&limit=3").await);
    assert_eq!(first[0], 6, "the chat with the latest message comes first: {first:?}");
    let all = chats(&inbox(&app, &token, "alice", "&limit=100").await);
    assert_eq!(all.len(), 9 + 5, "{all:?}");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), all.len(), "{all:?}");
}

#[tokio::test]
async fn counts_stay_exact_under_concurrent_creations_and_a_deleted_chat_leaves_every_inbox() {
    let app = TestApp::spawn().await;
    let token = app.create_app("busy").await;
    let chat = app.create_chat(&token).await;
    let other = app.create_chat(&token).await;
    for reader in ["reader", "s0"] {
        app.put(
            &format!("/api/applications/{token}/chats/{other}/members/{reader}"),
            json!({}),
        )
        .await;
    }
    let writers = (0..3).map(|s| {
        let (app, token) = (&app, &token);
        async move {
            for i in 0..20 {
                send(app, token, chat, &format!("m{i}"), &format!("s{s}")).await;
            }
        }
    });
    let reads = async {
        let mut last = 0;
        for _ in 0..30 {
            let n = seen(&app, &token, chat, "reader").await["unread_count"]
                .as_i64()
                .unwrap();
            let own = seen(&app, &token, chat, "s0").await["unread_count"].as_i64().unwrap();
            assert!((0..=60).contains(&n) && (0..=40).contains(&own), "{n} {own}");
            assert!(n >= last, "an unread count went back without a read: {last} then {n}");
            last = n;
        }
    };
    tokio::join!(futures::future::join_all(writers), reads);
    assert_eq!(seen(&app, &token, chat, "reader").await["unread_count"], 60);
    assert_eq!(seen(&app, &token, chat, "s0").await["unread_count"], 40);
    assert_eq!(chats(&inbox(&app, &token, "s0", "").await), vec![chat, other]);

    assert_eq!(
        app.delete(&format!("/api/applications/{token}/chats/{chat}"))
            .await
            .status,
        204
    );
    for reader in ["s0", "s1", "s2"] {
        let expected: Vec<i64> = if reader == "s0" { vec![other] } else { vec![] };
        assert_eq!(chats(&inbox(&app, &token, reader, "").await), expected, "{reader}");
    }
    let gone = || async {
        app.count("SELECT count(*) FROM chat_members WHERE chat_number = 1")
            .await
            == 0
    };
    app.eventually("the deleted chat's members are purged", gone).await;
    assert_eq!(app.delete(&format!("/api/applications/{token}")).await.status, 204);
    let none = || async { app.count("SELECT count(*) FROM chat_members").await == 0 };
    app.eventually("the deleted application's members are purged", none)
        .await;
}

#[tokio::test]
async fn chats_without_a_recorded_activity_come_last_by_number_through_either_plan() {
    let app = TestApp::spawn().await;
    let token = app.create_app("legacy").await;
    for chat in 1..=6 {
        app.create_chat(&token).await;
        app.put(
            &format!("/api/applications/{token}/chats/{chat}/members/alice"),
            json!({}),
        )
        .await;
        if chat <= 4 {
            app.put(
                &format!("/api/applications/{token}/chats/{chat}/members/bob"),
                json!({}),
            )
            .await;
        }
    }
    let counted = || async { app.get(&format!("/api/applications/{token}")).await.body["chats_count"] == 6 };
    app.eventually("the chats are counted", counted).await;
    // Chats made before activity was recorded (or by the previous release during an upgrade).
    let client = app.db.client().await.unwrap();
    let legacy = "UPDATE chat_counters SET last_activity_at = NULL, activity_slot = NULL WHERE chat_number <= 3";
    client.execute(legacy, &[]).await.unwrap();
    // Alice is in every chat (the walk by activity), bob in four (his memberships).
    for (reader, expected) in [("alice", vec![6, 5, 4, 3, 2, 1]), ("bob", vec![4, 3, 2, 1])] {
        let mut listed = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = inbox(&app, &token, reader, &format!("&limit=2{cursor}")).await;
            listed.extend(chats(&page));
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        assert_eq!(listed, expected, "{reader}");
    }
}
