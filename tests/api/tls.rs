//! TLS to PostgreSQL, with the real binary against a cluster that accepts TLS connections only
//! (`ssl=on`, `hostssl` rules, a CA and a server certificate for `localhost` made here with
//! openssl): each `sslmode` connects and serves as libpq's would, the server sees every
//! connection of the service encrypted, and a certificate that does not check out ends start-up
//! with an error that says why.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use chat_system::{
    cluster::{Cluster, Durability},
    settings::Settings,
    store::Db,
};
use serde_json::{json, Value};

use crate::startup::{create_database, Process};

/// A cluster that refuses connections without TLS, and the files a client needs.
struct TlsCluster {
    /// Stopped when dropped, before `dir` goes.
    cluster: Option<Cluster>,
    port: u16,
    /// The CA that signed the server's certificate.
    ca: PathBuf,
    /// A CA that signed nothing the server has.
    other_ca: PathBuf,
    dir: PathBuf,
}

impl TlsCluster {
    async fn start() -> TlsCluster {
        let dir = std::env::temp_dir().join(format!("chat-system-tls-{}", uuid::Uuid::new_v4().simple()));
        let data = dir.join("data");
        let cluster = tokio::task::spawn_blocking({
            let data = data.clone();
            move || Cluster::start(&data, None, Durability::Throwaway).unwrap()
        })
        .await
        .unwrap();
        let plain: tokio_postgres::Config = cluster.url("postgres").parse().unwrap();
        let port = plain.get_ports()[0];
        make_certificates(&dir, &data);
        // TLS only from now on: every TCP connection without it is rejected.
        std::fs::write(
            data.join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 0.0.0.0/0 reject\n",
        )
        .unwrap();
        let admin = Db::connect(&cluster.url("postgres"), &Settings::defaults()).unwrap();
        let client = admin.client().await.unwrap();
        // One by one: ALTER SYSTEM cannot run in the implicit transaction of a batch.
        for sql in [
            "ALTER SYSTEM SET ssl = on",
            "ALTER SYSTEM SET ssl_cert_file = 'server.crt'",
            "ALTER SYSTEM SET ssl_key_file = 'server.key'",
            "SELECT pg_reload_conf()",
        ] {
            client.batch_execute(sql).await.unwrap();
        }
        let tls = TlsCluster {
            cluster: Some(cluster),
            port,
            ca: dir.join("ca.crt"),
            other_ca: dir.join("other-ca.crt"),
            dir,
        };
        // The reload is asynchronous: wait until TLS connections are accepted.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let admin = Db::connect(
                &tls.url("127.0.0.1", "postgres", "sslmode=require"),
                &Settings::defaults(),
            )
            .unwrap();
            match admin.client().await {
                Ok(_) => break,
                Err(e) => assert!(Instant::now() < deadline, "TLS not enabled: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tls
    }

    fn url(&self, host: &str, database: &str, params: &str) -> String {
        format!("postgres://postgres@{host}:{}/{database}?{params}", self.port)
    }

    /// A pool on `database` over TLS (without checks), for the test's own look at the server.
    fn admin(&self, database: &str) -> Db {
        Db::connect(
            &self.url("127.0.0.1", database, "sslmode=require"),
            &Settings::defaults(),
        )
        .unwrap()
    }

    /// A new empty database; its name.
    async fn database(&self) -> String {
        create_database(&self.url("127.0.0.1", "postgres", "sslmode=require"), "tls").await
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        drop(self.cluster.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A CA, a server certificate it signs for the name `localhost` only (installed in `data`, owned
/// by the data directory's owner, who runs the server), and an unrelated CA.
fn make_certificates(dir: &Path, data: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    for (name, subject) in [("ca", "/CN=chat-system test CA"), ("other-ca", "/CN=someone else's CA")] {
        let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
        let mut args = vec![
            "req", "-x509", "-days", "2", "-subj", subject, "-keyout", &key, "-out", &crt,
        ];
        args.extend(ec);
        args.extend([
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(&args);
    }
    let mut args = vec![
        "req",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ];
    args.extend(ec);
    openssl(&args);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-days",
        "2",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let owner = std::fs::metadata(data).unwrap();
    for file in ["server.crt", "server.key"] {
        let target = data.join(file);
        std::fs::copy(dir.join(file), &target).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&target, Some(owner.uid()), Some(owner.gid())).unwrap();
    }
}

/// Starts the service on `url`, checks that it serves, and that the server sees each of its
/// connections (the LISTEN connection among them) encrypted.
async fn serves_encrypted(tls: &TlsCluster, database: &str, url: &str) {
    let mut instance = Process::spawn(url, &[]);
    instance.wait_ready(Duration::from_secs(90)).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/applications", instance.base))
        .json(&json!({"name": "tls"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{url}");
    let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let r = http
        .post(format!("{}/api/applications/{token}/chats", instance.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{url}");

    let admin = tls.admin(database);
    let client = admin.client().await.unwrap();
    let own: bool = client
        .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(own);
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl),
                    count(*) FILTER (WHERE s.ssl AND a.query = 'LISTEN chat_system_jobs')
               FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
              WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    let (encrypted, plain, listener): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert!(
        encrypted >= 2,
        "{url}: {encrypted} encrypted connections of the service"
    );
    assert_eq!(plain, 0, "{url}: connections without TLS");
    assert_eq!(listener, 1, "{url}: the LISTEN connection is encrypted");
}

/// Starts the service on `url` and returns what it printed when it exited.
async fn refused(url: &str) -> String {
    let mut instance = Process::spawn(url, &[]);
    // A certificate that does not check out is not retried for the start-up timeout (60 s).
    let status = instance.wait_exit(Duration::from_secs(40)).await;
    assert!(!status.success(), "{url}: exit status {status}");
    assert!(!instance.stdout().contains("retrying"), "{url}: {}", instance.stdout());
    instance.stderr()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_connections_are_encrypted_and_checked_as_sslmode_says() {
    let tls = TlsCluster::start().await;
    let ca = tls.ca.display().to_string();

    // Without TLS the server refuses: everything below that serves, serves over TLS.
    let database = tls.database().await;
    let stderr = refused(&tls.url("127.0.0.1", &database, "sslmode=disable")).await;
    assert!(
        stderr.contains("pg_hba.conf rejects connection") && stderr.contains("no encryption"),
        "{stderr}"
    );

    // require: encrypted, the certificate not checked.
    let database = tls.database().await;
    serves_encrypted(&tls, &database, &tls.url("127.0.0.1", &database, "sslmode=require")).await;
    // verify-ca: the chain is checked, not the name (the certificate names only localhost).
    let database = tls.database().await;
    let url = tls.url("127.0.0.1", &database, &format!("sslmode=verify-ca&sslrootcert={ca}"));
    serves_encrypted(&tls, &database, &url).await;
    // verify-full: chain and name.
    let database = tls.database().await;
    let url = tls.url("localhost", &database, &format!("sslmode=verify-full&sslrootcert={ca}"));
    serves_encrypted(&tls, &database, &url).await;

    // verify-full to a name the certificate does not give.
    let stderr = refused(&tls.url("127.0.0.1", &database, &format!("sslmode=verify-full&sslrootcert={ca}"))).await;
    assert!(
        stderr.contains("TLS handshake") && stderr.contains("not valid for name"),
        "{stderr}"
    );
    // verify-ca and require with a root certificate that did not sign the server's.
    let other = tls.other_ca.display().to_string();
    for mode in ["verify-ca", "require"] {
        let stderr = refused(&tls.url("localhost", &database, &format!("sslmode={mode}&sslrootcert={other}"))).await;
        assert!(
            stderr.contains("TLS handshake") && stderr.contains("UnknownIssuer"),
            "{mode}: {stderr}"
        );
    }
}
