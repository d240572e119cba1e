//! Senders: a message may name its author (the application's own id for them); it is returned
//! on every read, kept through the queue and edits (which may correct it), filters lists and searches, and is checked
//! like every text field. A job with a sender is out of reach of the previous release's workers,
//! which would write it without its sender.

use serde_json::json;

use crate::helpers::TestApp;

/// Posts `body` by `sender` (or by no one) and returns the answer.
async fn post(app: &TestApp, base: &str, body: &str, sender: Option<&str>) -> crate::helpers::Response {
    let mut json = json!({ "body": body });
    if let Some(sender) = sender {
        json["sender"] = sender.into();
    }
    app.post(base, json).await
}

#[tokio::test]
async fn a_sender_is_kept_returned_and_filters_lists_and_searches() {
    let app = TestApp::spawn_paused().await;
    let token = app.create_app("senders").await;
    let chat = app.create_chat(&token).await;
    let base = format!("/api/applications/{token}/chats/{chat}/messages");
    for (body, sender) in [
        ("hello from alice", Some("alice")),
        ("hello from bob", Some("bob")),
        ("hello from nobody", None),
        ("alice again", Some("alice")),
    ] {
        let r = post(&app, &base, body, sender).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["sender"].as_str(), sender, "{}", r.body);
    }
    // Read while still queued, then again once written: the same.
    for _ in 0..2 {
        let r = app.get(&format!("{base}/1")).await;
        assert_eq!(r.body["sender"], "alice");
        let r = app.get(&format!("{base}/3")).await;
        assert!(r.body.get("sender").is_none(), "{}", r.body);
        let r = app.get(&format!("{base}?sender=alice")).await;
        assert_eq!(r.numbers(), vec![1, 4]);
        let r = app.get(&format!("{base}?sender=alice&before=4")).await;
        assert_eq!(r.numbers(), vec![1]);
        let r = app.get(&format!("{base}?sender=bob&query=hello")).await;
        assert_eq!(r.numbers(), vec![2]);
        assert_eq!(r.body["data"][0]["sender"], "bob");
        let r = app.get(&format!("{base}?sender=carol")).await;
        assert_eq!(r.numbers(), Vec::<i64>::new());
        app.drain().await;
    }

    // An edit without a sender keeps it; with one, corrects it (as the stream and reads show).
    let r = app.put(&format!("{base}/1"), json!({ "body": "edited" })).await;
    assert_eq!(
        (r.status.as_u16(), r.body["sender"].as_str()),
        (200, Some("alice")),
        "{}",
        r.body
    );
    let r = app
        .put(&format!("{base}/1"), json!({ "body": "edited", "sender": "alicia" }))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["sender"].as_str()),
        (200, Some("alicia")),
        "{}",
        r.body
    );
    let r = app.get(&format!("{base}?sender=alicia")).await;
    assert_eq!(r.numbers(), vec![1]);
    let r = app
        .put(&format!("{base}/1"), json!({ "body": "x", "sender": " " }))
        .await;
    r.assert_problem(422, "invalid_field");
    assert_eq!(r.body["field"], "sender");
    assert_eq!(app.get(&format!("{base}/1")).await.body["body"], "edited");

    // A replay under the same key answers the same sender.
    for _ in 0..2 {
        let r = app
            .raw(
                app.http
                    .post(format!("{}{base}", app.base))
                    .header("Idempotency-Key", "send-once")
                    .json(&json!({ "body": "once", "sender": "alice" })),
            )
            .await;
        assert_eq!(
            (r.status.as_u16(), r.body["number"].as_i64(), r.body["sender"].as_str()),
            (201, Some(5), Some("alice"))
        );
    }
}

#[tokio::test]
async fn a_bad_sender_is_refused_in_the_apis_words_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let token = app.create_app("senders").await;
    let chat = app.create_chat(&token).await;
    let base = format!("/api/applications/{token}/chats/{chat}/messages");
    for (sender, fault) in [
        (json!(""), "is empty"),
        (json!("   "), "is blank"),
        (json!("a".repeat(201)), "has 201 characters"),
        (json!("a\u{0}b"), "contains a NUL character"),
        (json!(7), "is a number"),
    ] {
        let r = app.post(&base, json!({ "body": "hi", "sender": sender })).await;
        r.assert_problem(422, "invalid_field");
        assert_eq!(r.body["field"], "sender");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("`sender` {fault}: it must be a string of 1–200 characters")),
            "{detail}"
        );
    }
    let r = app.get(&format!("{base}?sender={}", "a".repeat(201))).await;
    r.assert_problem(400, "invalid_parameter");
    assert_eq!(r.body["field"], "sender");
    // A null sender is no sender.
    let r = app.post(&base, json!({ "body": "hi", "sender": null })).await;
    assert_eq!(
        (r.status.as_u16(), r.body["number"].as_i64()),
        (201, Some(1)),
        "{}",
        r.body
    );
    assert!(r.body.get("sender").is_none());
}

/// The previous release's claim, word for word: it reads `run_at` only.
const PREVIOUS_CLAIM: &str = "DELETE FROM jobs WHERE ctid = ANY (ARRAY(
    SELECT j.ctid FROM jobs j
    WHERE j.run_at <= now()
      AND (j.message_number IS NULL
           OR EXISTS (SELECT 1 FROM chats c
                       WHERE c.application_id = j.application_id AND c.number = j.chat_number))
    ORDER BY j.id LIMIT 100 FOR UPDATE OF j SKIP LOCKED))
RETURNING message_number";

#[tokio::test]
async fn the_previous_releases_workers_leave_jobs_with_a_sender_to_this_release() {
    let app = TestApp::spawn_paused().await;
    let token = app.create_app("senders").await;
    let chat = app.create_chat(&token).await;
    app.drain().await;
    let base = format!("/api/applications/{token}/chats/{chat}/messages");
    assert_eq!(post(&app, &base, "with a sender", Some("alice")).await.status, 201);
    assert_eq!(post(&app, &base, "without", None).await.status, 201);
    assert_eq!(post(&app, &base, "given one later", None).await.status, 201);
    let r = app
        .put(
            &format!("{base}/3"),
            json!({ "body": "given one later", "sender": "bob" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // An old worker takes only the job it can write whole (not one given a sender by an edit).
    let client = app.db.client().await.unwrap();
    let taken: Vec<i64> = client
        .query(PREVIOUS_CLAIM, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(taken, vec![2]);
    // This release's workers write the other, sender and all.
    app.drain().await;
    let r = app.get(&format!("{base}/1")).await;
    assert_eq!(
        (r.body["body"].as_str(), r.body["sender"].as_str()),
        (Some("with a sender"), Some("alice"))
    );
    assert_eq!(app.get(&format!("{base}/3")).await.body["sender"], "bob");
    assert_eq!(
        app.count("SELECT count(*) FROM messages WHERE sender IS NOT NULL")
            .await,
        2
    );
}
