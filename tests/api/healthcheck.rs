//! `chat-system healthcheck`, the container health check: exit status 0 while the service on
//! `--listen` is ready, 1 with a line saying why when it is not.

use std::process::Command;

use crate::{faults::free_port, helpers::TestApp};

fn healthcheck(addr: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chat-system"))
        .args(["healthcheck", "--listen", addr])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn healthcheck_says_ready_for_a_ready_service_and_fails_without_one() {
    let app = TestApp::spawn().await;
    let addr = app.base.trim_start_matches("http://").to_owned();

    let ready = tokio::task::spawn_blocking(move || healthcheck(&addr)).await.unwrap();
    assert!(ready.status.success(), "{ready:?}");
    assert!(
        String::from_utf8_lossy(&ready.stdout).contains("answered 200"),
        "{ready:?}"
    );

    let nobody = format!("127.0.0.1:{}", free_port());
    let down = tokio::task::spawn_blocking(move || healthcheck(&nobody)).await.unwrap();
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(
        String::from_utf8_lossy(&down.stderr).contains("connecting to"),
        "{down:?}"
    );
}
