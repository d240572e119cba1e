//! The data directory: initdb on first use, and the superuser's password (kept in a file only
//! the cluster's user can read) with the `pg_hba.conf` that requires it.

use std::{
    fs,
    os::unix::process::CommandExt,
    path::Path,
    process::{Command, Stdio},
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

pub(super) fn initdb(bin: &Path, data_dir: &Path, run_as: Option<(u32, u32)>, durability: Durability) -> Result<()> {
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
pub(super) fn secure(bin: &Path, data_dir: &Path, run_as: Option<(u32, u32)>) -> Result<String> {
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
    // The one statement this module builds: single-user mode takes no parameters, and the
    // password is ours (hexadecimal digits: nothing to escape), never anyone's input.
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
