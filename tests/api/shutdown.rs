//! The binary on its own private cluster: a clean shutdown looks clean (SIGTERM: exit 0, the log
//! ends with one line saying it stopped cleanly, and nothing on the way reads like a failure),
//! and a second command on the same data directory (`demo`) says at once that the cluster is in
//! use, and how to load into it instead.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::faults::{free_port, wait_ready};

/// The binary serving on a private cluster in a fresh directory: (child, its base URL, the
/// directory, the log file).
async fn serve_on_a_private_cluster() -> (std::process::Child, String, std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("chat-system-shutdown-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // The cluster runs as `postgres` when the tests run as root: it must reach its directory.
    Command::new("chmod").arg("755").arg(&dir).status().unwrap();
    let log = dir.join("service.log");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_chat-system"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.join("pg"))
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        // The test reads the info lines: whatever level the tests run with is not the child's.
        .env("RUST_LOG", "info")
        // The log goes to standard output.
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base, Duration::from_secs(90)).await;
    (child, base, dir, log)
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_on_a_private_cluster_stops_cleanly_and_says_so() {
    let (mut child, base, dir, log) = serve_on_a_private_cluster().await;
    let http = reqwest::Client::new();
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

#[tokio::test(flavor = "multi_thread")]
async fn demo_on_the_data_directory_of_a_running_service_says_so_at_once_and_can_load_into_it() {
    let (mut child, base, dir, _log) = serve_on_a_private_cluster().await;
    let demo = |args: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_chat-system"))
            .arg("demo")
            .args(args)
            .args(["--messages", "50", "--applications", "1", "--chats", "1", "--quiet"])
            .env_remove("DATABASE_URL")
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap()
    };

    let started = Instant::now();
    let pg = dir.join("pg").display().to_string();
    let refused = tokio::task::spawn_blocking(move || demo(vec!["--data-dir".into(), pg]))
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(!refused.status.success(), "{said}");
    assert!(said.contains("is already running"), "{said}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );

    // Loading into it as the message says.
    let pid_file = std::fs::read_to_string(dir.join("pg/postmaster.pid")).unwrap();
    let port = pid_file.lines().nth(3).unwrap().trim().to_owned();
    let secret = std::fs::read_to_string(dir.join("pg/chat-system.secret")).unwrap();
    let url = format!("postgres://postgres:{}@127.0.0.1:{port}/chat_system", secret.trim());
    let loaded = tokio::task::spawn_blocking(move || demo(vec!["--database-url".into(), url]))
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&loaded.stdout).to_string();
    assert!(
        loaded.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    let token = out
        .split("token ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap()
        .to_owned();
    // The running service serves what was loaded.
    let r = reqwest::get(format!("{base}/api/applications/{token}/chats/1/messages?limit=1"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
