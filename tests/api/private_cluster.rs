//! The private cluster (`cargo run` without `DATABASE_URL`) admits only its owner: another local
//! OS user is refused by TCP and cannot reach a socket, while the service connects; a data
//! directory made by the previous release (trust authentication) is upgraded in place.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use chat_system::{
    cluster::{find_bin_dir, Cluster, Durability},
    settings::Settings,
    store::Db,
};

/// Root can run commands as another user; others cannot, and these tests say so and pass.
fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn fresh_dir(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("chat-system-{what}-{}", uuid::Uuid::new_v4().simple()))
}

/// Runs `program` as the OS user `user` (with `PGPASSWORD` only when given).
fn run_as(user: &str, program: &Path, args: &[&str], password: Option<&str>) -> Output {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", user, "--"])
        .arg(program)
        .args(args)
        .current_dir("/")
        .env_remove("PGPASSWORD")
        .env("PGCONNECT_TIMEOUT", "10");
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    cmd.output().expect("runuser")
}

/// `psql` as `user` against the cluster, on `host` (an address or a socket directory).
fn psql(cluster: &Cluster, user: &str, host: &str, password: Option<&str>) -> Output {
    let psql = find_bin_dir(None).unwrap().join("psql");
    let port = cluster.port().to_string();
    let args = [
        "-w",
        "-h",
        host,
        "-p",
        &port,
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-At",
        "-c",
        "SELECT current_user",
    ];
    run_as(user, &psql, &args, password)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The cluster's password, as only its owner (and root) can read it.
fn secret(cluster: &Cluster) -> String {
    std::fs::read_to_string(cluster.data_dir().join("chat-system.secret"))
        .unwrap()
        .trim()
        .to_owned()
}

async fn start(dir: &Path) -> Cluster {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || Cluster::start(&dir, None, Durability::Throwaway).unwrap())
        .await
        .unwrap()
}

async fn stop(cluster: Cluster) {
    tokio::task::spawn_blocking(move || cluster.stop()).await.unwrap();
}

/// The service's own way in still works.
async fn service_connects(cluster: &Cluster) {
    let db = Db::connect(&cluster.url("postgres"), &Settings::defaults()).unwrap();
    db.ping().await.expect("the service connects");
}

/// `nobody` (not the cluster's owner) is refused by TCP without the password, and cannot use
/// the data directory for a socket; with the password it would get in, so the password is
/// what keeps it out.
fn assert_strangers_are_refused(cluster: &Cluster) {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(cluster.data_dir()).unwrap().uid();
    assert_ne!(owner, 65534, "the cluster runs as nobody: pick another stranger");

    let tcp = psql(cluster, "nobody", "127.0.0.1", None);
    assert!(!tcp.status.success(), "nobody got in by TCP: {}", text(&tcp));
    assert!(text(&tcp).contains("password"), "{}", text(&tcp));

    let dir = cluster.data_dir().to_str().unwrap();
    let socket = psql(cluster, "nobody", dir, None);
    assert!(!socket.status.success(), "nobody got in by socket: {}", text(&socket));

    let wrong = psql(cluster, "nobody", "127.0.0.1", Some("guess"));
    assert!(!wrong.status.success(), "{}", text(&wrong));
    assert!(
        text(&wrong).contains("password authentication failed"),
        "{}",
        text(&wrong)
    );

    let cat = run_as(
        "nobody",
        Path::new("/bin/cat"),
        &[&format!("{dir}/chat-system.secret")],
        None,
    );
    assert!(!cat.status.success(), "nobody read the secret");

    let with_secret = psql(cluster, "nobody", "127.0.0.1", Some(&secret(cluster)));
    assert!(with_secret.status.success(), "{}", text(&with_secret));
    assert_eq!(String::from_utf8_lossy(&with_secret.stdout).trim(), "postgres");
}

#[tokio::test]
async fn another_local_user_is_refused_and_the_service_connects() {
    if !root() {
        println!("skipped: running psql as another OS user needs root");
        return;
    }
    let dir = fresh_dir("private");
    let cluster = start(&dir).await;
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("chat-system.secret"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the secret is its owner's only");

    assert_strangers_are_refused(&cluster);
    service_connects(&cluster).await;

    // Started again, it keeps its password.
    let before = secret(&cluster);
    stop(cluster).await;
    let cluster = start(&dir).await;
    assert_eq!(secret(&cluster), before);
    service_connects(&cluster).await;
    assert_strangers_are_refused(&cluster);
    stop(cluster).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_trust_data_directory_of_the_previous_release_is_upgraded_in_place() {
    if !root() {
        println!("skipped: making the previous release's data directory as postgres needs root");
        return;
    }
    // What the previous release made: `initdb -A trust`, as the postgres user.
    let dir = fresh_dir("trust");
    let initdb = find_bin_dir(None).unwrap().join("initdb");
    let dir_text = dir.to_str().unwrap();
    let args = [
        "-D",
        dir_text,
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    ];
    let out = run_as("postgres", &initdb, &args, None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(std::fs::read_to_string(dir.join("pg_hba.conf"))
        .unwrap()
        .contains("trust"));

    let cluster = start(&dir).await;
    let hba = std::fs::read_to_string(dir.join("pg_hba.conf")).unwrap();
    assert!(!hba.contains("trust") && hba.contains("scram-sha-256"), "{hba}");
    service_connects(&cluster).await;
    assert_strangers_are_refused(&cluster);
    stop(cluster).await;
    let _ = std::fs::remove_dir_all(dir);
}
