//! A clean shutdown looks clean: the binary serving on its own private cluster, stopped with
//! SIGTERM, exits 0, its log ends with one line saying it stopped cleanly, and nothing on the way
//! reads like a failure (no warning of broken connections while the cluster goes down).

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::faults::free_port;

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_on_a_private_cluster_stops_cleanly_and_says_so() {
    let dir = std::env::temp_dir().join(format!("chat-system-shutdown-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // The cluster runs as `postgres` when the tests run as root: it must reach its directory.
    Command::new("chmod").arg("755").arg(&dir).status().unwrap();
    let log = dir.join("service.log");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chat-system"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.join("pg"))
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        // The log goes to standard output.
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(90);
    while !http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "not ready in 90 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Some work first, so that pooled connections are open when the signal comes.
    let app: serde_json::Value = http
        .post(format!("{base}/api/applications"))
        .json(&serde_json::json!({ "name": "shutdown" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = app["token"].as_str().unwrap();
    for _ in 0..3 {
        let r = http
            .post(format!("{base}/api/applications/{token}/chats"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }

    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still running 30 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "exit status {status}:\n{text}");
    let last = text.lines().last().unwrap_or_default();
    assert!(last.contains("stopped cleanly"), "last line: {last}\n{text}");
    let alarming: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .collect();
    assert!(alarming.is_empty(), "a clean shutdown logged: {alarming:#?}");
}
