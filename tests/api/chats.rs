//! Chats: create, read, list with pages and cursors, delete, counts.

use reqwest::{Method, StatusCode};

use crate::helpers::TestApp;

#[tokio::test]
async fn chats_are_numbered_from_one_per_application() {
    let app = TestApp::spawn().await;
    let a = app.create_app("A").await;
    let b = app.create_app("B").await;

    let first = app
        .call(Method::POST, &format!("/api/applications/{a}/chats"), None)
        .await;
    let second = app.create_chat(&a).await;
    let other = app.create_chat(&b).await;

    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.body["number"], 1);
    assert_eq!(first.body["messages_count"], 0);
    assert_eq!(
        first.location.as_deref(),
        Some(format!("/api/applications/{a}/chats/1").as_str())
    );
    assert_eq!((second, other), (2, 1));
    let fetched = app.get(&format!("/api/applications/{a}/chats/2")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body["number"], 2);
}

#[tokio::test]
async fn missing_chats_and_applications_are_told_apart() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let unknown = uuid::Uuid::new_v4();

    app.get(&format!("/api/applications/{token}/chats/7"))
        .await
        .assert_problem(404, "chat_not_found");
    app.delete(&format!("/api/applications/{token}/chats/7"))
        .await
        .assert_problem(404, "chat_not_found");
    app.call(Method::POST, &format!("/api/applications/{unknown}/chats"), None)
        .await
        .assert_problem(404, "application_not_found");
    app.get(&format!("/api/applications/{unknown}/chats"))
        .await
        .assert_problem(404, "application_not_found");
    app.get(&format!("/api/applications/{unknown}/chats/1"))
        .await
        .assert_problem(404, "application_not_found");
}

#[tokio::test]
async fn lists_page_by_number_and_by_cursor() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    for _ in 0..25 {
        app.create_chat(&token).await;
    }
    let base = format!("/api/applications/{token}/chats");

    let default = app.get(&base).await;
    let page3 = app.get(&format!("{base}?page=3&limit=10")).await;
    let after = app.get(&format!("{base}?after=20&limit=3")).await;
    let before = app.get(&format!("{base}?before=4")).await;
    let range = app.get(&format!("{base}?after=3&before=8")).await;
    let page_after = app.get(&format!("{base}?page=2&after=3&limit=5")).await;
    let page_before = app.get(&format!("{base}?page=2&before=20&limit=5")).await;
    let too_big = app.get(&format!("{base}?limit=101")).await;

    assert_eq!(default.numbers(), (1..=10).collect::<Vec<_>>());
    assert_eq!(default.body["has_more"], true);
    assert_eq!(default.body["next_after"], 10);
    assert_eq!(page3.numbers(), (21..=25).collect::<Vec<_>>());
    assert_eq!(page3.body["has_more"], false);
    assert_eq!(after.numbers(), vec![21, 22, 23]);
    assert_eq!(before.numbers(), vec![1, 2, 3]);
    assert_eq!(before.body["has_more"], false);
    assert_eq!(range.numbers(), vec![4, 5, 6, 7]);
    assert_eq!(page_after.numbers(), vec![9, 10, 11, 12, 13]);
    assert_eq!(page_before.numbers(), vec![10, 11, 12, 13, 14]);
    too_big.assert_problem(400, "invalid_parameter");
    assert_eq!(too_big.body["field"], "limit");
}

#[tokio::test]
async fn deleted_chats_are_gone_with_their_messages_and_numbers_are_not_reused() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let doomed = app.create_chat(&token).await;
    let kept = app.create_chat(&token).await;
    for i in 0..10 {
        app.create_message(&token, doomed, &format!("m{i}")).await;
    }
    app.create_message(&token, kept, "stays").await;

    let deleted = app.delete(&format!("/api/applications/{token}/chats/{doomed}")).await;
    let next = app.create_chat(&token).await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/applications/{token}/chats/{doomed}"))
        .await
        .assert_problem(404, "chat_not_found");
    app.get(&format!("/api/applications/{token}/chats/{doomed}/messages"))
        .await
        .assert_problem(404, "chat_not_found");
    app.get(&format!("/api/applications/{token}/chats/{doomed}/messages/1"))
        .await
        .assert_problem(404, "chat_not_found");
    let post = app
        .post(
            &format!("/api/applications/{token}/chats/{doomed}/messages"),
            serde_json::json!({"body": "late"}),
        )
        .await;
    post.assert_problem(404, "chat_not_found");
    assert_eq!(next, 3, "chat numbers are never reused");
    app.eventually("the deleted chat's messages are purged", || async {
        app.count(&format!("SELECT count(*) FROM messages WHERE chat_number = {doomed}"))
            .await
            == 0
    })
    .await;
    app.eventually("counts follow the delete", || async {
        app.get(&format!("/api/applications/{token}")).await.body["chats_count"] == 2
    })
    .await;
}

#[tokio::test]
async fn counts_converge_after_creates_and_deletes() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat = app.create_chat(&token).await;
    let other = app.create_chat(&token).await;
    for i in 0..20 {
        app.create_message(&token, chat, &format!("m{i}")).await;
    }
    for n in 1..=5 {
        assert_eq!(
            app.delete(&format!("/api/applications/{token}/chats/{chat}/messages/{n}"))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
    }
    app.delete(&format!("/api/applications/{token}/chats/{other}")).await;

    app.eventually("messages_count is 15", || async {
        app.get(&format!("/api/applications/{token}/chats/{chat}")).await.body["messages_count"] == 15
    })
    .await;
    app.eventually("chats_count is 1", || async {
        app.get(&format!("/api/applications/{token}")).await.body["chats_count"] == 1
    })
    .await;
}

#[tokio::test]
async fn the_reconciler_repairs_drifted_counts() {
    let app = TestApp::spawn().await;
    let token = app.create_app("A").await;
    let chat = app.create_chat(&token).await;
    for i in 0..4 {
        app.create_message(&token, chat, &format!("m{i}")).await;
    }
    app.eventually("written", || async {
        app.count("SELECT count(*) FROM messages").await == 4
    })
    .await;
    app.count("WITH x AS (UPDATE chats SET messages_count = 99 RETURNING 1) SELECT count(*) FROM x")
        .await;
    app.drift_chat_counts("42").await;

    let corrected = chat_system::upkeep::reconcile_counts(&app.db).await.unwrap();

    assert_eq!(corrected, Some(2));
    assert_eq!(
        app.get(&format!("/api/applications/{token}/chats/{chat}")).await.body["messages_count"],
        4
    );
    assert_eq!(
        app.get(&format!("/api/applications/{token}")).await.body["chats_count"],
        1
    );
}
