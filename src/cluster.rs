//! A private PostgreSQL cluster owned by this process: used by `cargo run` without
//! `DATABASE_URL` and by the test suite. initdb on first use, reused afterwards, stopped when the
//! owner drops it or dies. PostgreSQL refuses to run as root, so as root the server runs as the
//! `postgres` (or `nobody`) user.
//!
//! Access: TCP on 127.0.0.1 only (no Unix socket), and every connection must give the
//! superuser's password (scram-sha-256). The password is generated on first start and kept in
//! the data directory (`chat-system.secret`, mode 0600, owned by the cluster's user), so only
//! that user and root can connect: another local user gets "password authentication failed".
//! A data directory of an earlier release (made with `initdb -A trust`) is upgraded in place on
//! start, before the server listens: the password is set in single-user mode and `pg_hba.conf`
//! rewritten.

use std::{
    fs,
    net::TcpListener,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

/// The file in the data directory holding the superuser's password.
const SECRET_FILE: &str = "chat-system.secret";

/// `pg_hba.conf` of every private cluster, written at each start.
const HBA: &str = "\
# Written by chat-system at every start: the superuser's password (scram-sha-256), kept in
# chat-system.secret (readable by the cluster's owner only), is needed on every connection.
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
";

/// How durable the private cluster is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// PostgreSQL's defaults: what a user running the service expects.
    Full,
    /// No fsync: for throwaway test clusters.
    Throwaway,
}

/// A running PostgreSQL server on 127.0.0.1 that this process started.
pub struct Cluster {
    port: u16,
    /// The superuser's password (from the data directory's secret file).
    password: String,
    data_dir: PathBuf,
    bin: PathBuf,
    run_as: Option<(u32, u32)>,
    /// Server settings (`-c name=value`).
    settings: Vec<String>,
    /// Asks the thread that owns the server process to stop it; dropping it does the same.
    stop: Option<mpsc::Sender<()>>,
    /// The owning thread: it forked the server (so the server's parent-death signal fires when
    /// this process ends) and waits for it on stop.
    owner: Option<thread::JoinHandle<()>>,
}

impl Cluster {
    /// Starts a server on `data_dir`, running initdb first when the directory holds no cluster.
    pub fn start(data_dir: &Path, bin_dir: Option<&Path>, durability: Durability) -> Result<Self> {
        Self::start_with(data_dir, bin_dir, durability, &[])
    }

    /// `start`, with extra server settings (`name`, `value`).
    pub fn start_with(
        data_dir: &Path,
        bin_dir: Option<&Path>,
        durability: Durability,
        settings: &[(&str, &str)],
    ) -> Result<Self> {
        let bin = find_bin_dir(bin_dir)?;
        let run_as = unprivileged_user()?;
        fs::create_dir_all(data_dir).with_context(|| format!("creating data directory {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&data_dir, Some(uid), Some(gid))?;
        }
        if !data_dir.join("PG_VERSION").exists() {
            initdb(&bin, &data_dir, run_as, durability)?;
        }
        let password = secure(&bin, &data_dir, run_as)?;
        let mut all: Vec<String> = [
            "listen_addresses=127.0.0.1",
            "unix_socket_directories=",
            "max_connections=300",
        ]
        .map(String::from)
        .to_vec();
        if durability == Durability::Throwaway {
            all.extend(["fsync=off", "full_page_writes=off", "synchronous_commit=off"].map(String::from));
        }
        all.extend(settings.iter().map(|(name, value)| format!("{name}={value}")));
        let mut cluster = Cluster {
            port: free_port()?,
            password,
            data_dir,
            bin,
            run_as,
            settings: all,
            stop: None,
            owner: None,
        };
        cluster.resume()?;
        Ok(cluster)
    }

    /// Starts the server again after `pause`, on the same port.
    pub fn resume(&mut self) -> Result<()> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.join("server.log"))?;
        let mut cmd = Command::new(self.bin.join("postgres"));
        cmd.arg("-D").arg(&self.data_dir).args(["-p", &self.port.to_string()]);
        for setting in &self.settings {
            cmd.arg("-c").arg(setting);
        }
        cmd.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        // SAFETY: prctl is async-signal-safe; it runs in the child between fork and exec, after
        // the uid change (which would otherwise clear the setting).
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT);
                Ok(())
            });
        }
        let (child_tx, child_rx) = mpsc::channel::<std::io::Result<u32>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let owner = thread::Builder::new()
            .name("postgres-owner".into())
            .spawn(move || own_server(cmd, child_tx, stop_rx))?;
        let pid = child_rx.recv()?.context("starting postgres")?;
        self.stop = Some(stop_tx);
        self.owner = Some(owner);
        wait_ready(&self.bin, self.port, &self.data_dir).with_context(|| format!("postgres (pid {pid})"))
    }

    /// Stops the server (fast shutdown) but keeps its data, for `resume`.
    pub fn pause(&mut self) {
        self.shutdown();
    }

    /// Crashes the server, for tests of durability: stops the postmaster (so that it cannot react),
    /// SIGKILLs every process it started, then the postmaster. Nothing is flushed or
    /// checkpointed: `resume` then runs crash recovery, and commits whose WAL was not yet written
    /// are lost. (A SIGKILL to the postmaster alone leaves its backends running, holding the
    /// shared memory, and the restart waits for them.)
    pub fn crash(&mut self) -> Result<()> {
        let pid_file = fs::read_to_string(self.data_dir.join("postmaster.pid")).context("reading postmaster.pid")?;
        let postmaster: libc::pid_t = pid_file
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .context("no pid in postmaster.pid")?;
        // SAFETY: kill(2) on the server this process started and on its children.
        unsafe {
            libc::kill(postmaster, libc::SIGSTOP);
            for child in children(postmaster) {
                libc::kill(child, libc::SIGKILL);
            }
            libc::kill(postmaster, libc::SIGKILL);
        }
        // Reaps the postmaster.
        self.shutdown();
        Ok(())
    }

    /// A connection URL for `database` as the superuser, with its password.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// The TCP port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops the server and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        drop(self.stop.take());
        if let Some(owner) = self.owner.take() {
            let _ = owner.join();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The processes whose parent is `parent` (from `/proc`).
fn children(parent: libc::pid_t) -> Vec<libc::pid_t> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: libc::pid_t = e.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(e.path().join("stat")).ok()?;
            // "pid (comm) state ppid ...": the command may hold spaces and parentheses.
            let ppid: libc::pid_t = stat[stat.rfind(')')? + 1..].split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

fn own_server(mut cmd: Command, child_tx: mpsc::Sender<std::io::Result<u32>>, stop: mpsc::Receiver<()>) {
    let mut child: Child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            let _ = child_tx.send(Err(e));
            return;
        }
    };
    let _ = child_tx.send(Ok(child.id()));
    // Blocks until the Cluster is stopped or dropped.
    let _ = stop.recv();
    // SAFETY: plain kill(2) on our own child's pid. SIGINT is PostgreSQL's "fast shutdown".
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let _ = child.wait();
}

fn initdb(bin: &Path, data_dir: &Path, run_as: Option<(u32, u32)>, durability: Durability) -> Result<()> {
    let mut cmd = Command::new(bin.join("initdb"));
    cmd.arg("-D")
        .arg(data_dir)
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"]);
    if durability == Durability::Throwaway {
        cmd.arg("--no-sync");
    }
    if let Some((uid, gid)) = run_as {
        cmd.uid(uid).gid(gid);
    }
    let out = cmd.output().context("running initdb")?;
    if !out.status.success() {
        bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Makes the cluster require the superuser's password, and returns it: the one in the secret
/// file, or (a new cluster, or one made by an earlier release with trust authentication) a new
/// one, set in single-user mode while no server runs, so there is no moment when the server
/// listens without it. The secret file is written only once the password is set, so an
/// interrupted upgrade is simply done again at the next start.
fn secure(bin: &Path, data_dir: &Path, run_as: Option<(u32, u32)>) -> Result<String> {
    let secret = data_dir.join(SECRET_FILE);
    let password = match fs::read_to_string(&secret) {
        Ok(password) if !password.trim().is_empty() => password.trim().to_owned(),
        _ => {
            // 244 random bits from the OS generator, in characters that need no escaping in
            // a URL or in SQL.
            let password = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
            set_password(bin, data_dir, run_as, &password)?;
            let fresh = data_dir.join(format!("{SECRET_FILE}.new"));
            write_private(&fresh, &password, run_as)?;
            fs::rename(&fresh, &secret)?;
            password
        }
    };
    // The server reads it at start; it keeps its owner and mode.
    fs::write(data_dir.join("pg_hba.conf"), HBA).context("writing pg_hba.conf")?;
    Ok(password)
}

/// Sets the superuser's password with the server in single-user mode (no connections at all).
fn set_password(bin: &Path, data_dir: &Path, run_as: Option<(u32, u32)>, password: &str) -> Result<()> {
    use std::io::Write;
    let mut cmd = Command::new(bin.join("postgres"));
    cmd.arg("--single")
        .arg("-D")
        .arg(data_dir)
        .args(["-c", "password_encryption=scram-sha-256", "postgres"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some((uid, gid)) = run_as {
        cmd.uid(uid).gid(gid);
    }
    let mut child = cmd.spawn().context("starting postgres in single-user mode")?;
    let mut stdin = child.stdin.take().context("single-user mode's input")?;
    stdin.write_all(format!("ALTER ROLE postgres PASSWORD '{password}'\n").as_bytes())?;
    drop(stdin);
    let out = child.wait_with_output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Single-user mode reports a failed statement on its output, not in its exit status.
    if !out.status.success() || text.contains("ERROR") || text.contains("FATAL") {
        bail!(
            "setting the private cluster's password failed: {}",
            text.replace(password, "…")
        );
    }
    Ok(())
}

/// Writes `text` to a new file only its owner (the cluster's user) can read.
fn write_private(path: &Path, text: &str, run_as: Option<(u32, u32)>) -> Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let _ = fs::remove_file(path);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    if let Some((uid, gid)) = run_as {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
    }
    Ok(())
}

fn wait_ready(bin: &Path, port: u16, data_dir: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .context("running pg_isready")?;
        if status.success() {
            return Ok(());
        }
        if Instant::now() > deadline {
            let log = fs::read_to_string(data_dir.join("server.log")).unwrap_or_default();
            bail!("PostgreSQL did not become ready in 60 s:\n{log}");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The directory holding `initdb` and `postgres`: the hint, `pg_config --bindir`, or the newest
/// `/usr/lib/postgresql/*/bin`.
pub fn find_bin_dir(hint: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = hint {
        return Ok(dir.to_path_buf());
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    candidates.sort();
    match candidates.pop() {
        Some((_, dir)) => Ok(dir),
        None => bail!("PostgreSQL binaries not found: install PostgreSQL or set PG_BIN_DIR"),
    }
}

/// `None` when not root; otherwise the uid/gid of `postgres` (or `nobody`) to run the server as.
fn unprivileged_user() -> Result<Option<(u32, u32)>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd")?;
    for wanted in ["postgres", "nobody"] {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() > 3 && fields[0] == wanted {
                return Ok(Some((fields[2].parse()?, fields[3].parse()?)));
            }
        }
    }
    bail!("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")
}

/// A TCP port free on 127.0.0.1 at the time of asking.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
