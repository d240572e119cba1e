//! What the machine offers the private cluster: the PostgreSQL binaries, a user to run them as
//! (PostgreSQL refuses root), a free port.

use std::{
    fs,
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Result};

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
pub(super) fn unprivileged_user() -> Result<Option<(u32, u32)>> {
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
