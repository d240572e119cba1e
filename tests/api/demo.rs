//! The `demo` subcommand, run as a user would: the data it reports is there, consistent, and
//! searchable, and the service carries on numbering after it.

use std::process::Command;

use reqwest::StatusCode;

use crate::helpers::{fresh_database_url, test_config, TestApp};

#[tokio::test]
async fn demo_data_is_complete_consistent_and_searchable() {
    let url = fresh_database_url().await;
    let out = Command::new(env!("CARGO_BIN_EXE_chat-system"))
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .args([
            "demo",
            "--applications",
            "2",
            "--chats",
            "3",
            "--messages",
            "600",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let tokens: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split("token ").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(tokens.len(), 2, "{stdout}");

    let app = TestApp::spawn_on(&url, test_config(), true).await;
    let mut total = 0;
    for token in &tokens {
        let chats = app.get(&format!("/api/applications/{token}/chats?limit=100")).await;
        assert_eq!(chats.numbers(), [1, 2, 3]);
        for chat in chats.body["data"].as_array().unwrap() {
            let (number, count) = (
                chat["number"].as_i64().unwrap(),
                chat["messages_count"].as_i64().unwrap(),
            );
            assert!(count > 0);
            total += count;
            // Numbers 1..=count, all there.
            let last = app
                .get(&format!(
                    "/api/applications/{token}/chats/{number}/messages?before={}&limit=1",
                    count + 1
                ))
                .await;
            assert_eq!(last.numbers(), [count]);
            let first = app
                .get(&format!("/api/applications/{token}/chats/{number}/messages?limit=1"))
                .await;
            assert_eq!(first.numbers(), [1]);
            // The counter continues after the demo's messages.
            assert_eq!(app.create_message(token, number, "after the demo").await, count + 1);
        }
        let r = app.get(&format!("/api/applications/{token}")).await;
        assert_eq!(r.body["chats_count"], 3);
        assert_eq!(app.create_chat(token).await, 4);
    }
    assert_eq!(total, 600);
    let search = app
        .get(&format!(
            "/api/applications/{}/chats/1/messages?query=the&limit=5",
            tokens[0]
        ))
        .await;
    assert_eq!(search.status, StatusCode::OK);
    assert_eq!(
        search.body["data"].as_array().unwrap().len(),
        5,
        "realistic text finds hits"
    );
}
