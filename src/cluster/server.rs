//! The running server: started by a thread of this process that owns it (so the server dies
//! with the process), paused and resumed on the same port, crashed on purpose for tests.

use std::{
    fs,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

use super::{
    host::{find_bin_dir, free_port, unprivileged_user},
    setup::{initdb, secure, Durability},
};

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
        if let Some((pid, port)) = serving(&data_dir) {
            bail!(
                "the private PostgreSQL cluster in {dir} is already running (postgres pid {pid}, port \
                 {port}), most likely under a `chat-system` that is serving: stop it first, or point this \
                 command at that cluster with --database-url \
                 postgres://postgres:$(cat {dir}/chat-system.secret)@127.0.0.1:{port}/chat_system",
                dir = data_dir.display()
            );
        }
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
        wait_ready(&self.data_dir, pid).with_context(|| format!("postgres (pid {pid})"))
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

/// Waits until the server `pid` accepts connections, as the server itself says in the status
/// line of `postmaster.pid` ("ready"), so that start-up makes no connection attempt of its own (a
/// probe while the server starts is logged as a FATAL in `server.log`). Fails at once, with the
/// server's last words, when it exits instead.
fn wait_ready(data_dir: &Path, pid: u32) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pid_file = fs::read_to_string(data_dir.join("postmaster.pid")).unwrap_or_default();
        let mut lines = pid_file.lines();
        let ours = lines.next().is_some_and(|p| p.trim() == pid.to_string());
        // Line 8: the postmaster's status (PostgreSQL 10 and later).
        if ours && lines.nth(6).is_some_and(|status| status.trim() == "ready") {
            return Ok(());
        }
        if !running(pid) {
            let log = fs::read_to_string(data_dir.join("server.log")).unwrap_or_default();
            let last: Vec<&str> = log.lines().rev().take(5).collect();
            let last: Vec<&str> = last.into_iter().rev().collect();
            bail!(
                "PostgreSQL exited while starting; the end of its log:\n{}",
                last.join("\n")
            );
        }
        if Instant::now() > deadline {
            let log = fs::read_to_string(data_dir.join("server.log")).unwrap_or_default();
            bail!("PostgreSQL did not become ready in 60 s:\n{log}");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// True while process `pid` runs (not gone, not a zombie waiting to be reaped).
fn running(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.get(stat.rfind(')')? + 1..)
                .map(|rest| rest.trim_start().to_owned())
        })
        .is_some_and(|rest| !rest.starts_with('Z'))
}

/// The postgres (pid, port) already serving `data_dir`, if one runs: `postmaster.pid` names a
/// live process. (A stale file of a server that died is PostgreSQL's own business: it checks and
/// replaces it.)
fn serving(data_dir: &Path) -> Option<(u32, u16)> {
    let pid_file = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let mut lines = pid_file.lines();
    let pid: u32 = lines.next()?.trim().parse().ok()?;
    let port: u16 = lines.nth(2)?.trim().parse().ok()?;
    running(pid).then_some((pid, port))
}
