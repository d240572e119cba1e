//! CPU time of processes from `/proc`: a process's own and its reaped children's, and a
//! PostgreSQL server's (postmaster, reaped children and live backends). Only for processes on
//! this machine.

/// Clock ticks per second of `/proc/<pid>/stat`'s times (`getconf CLK_TCK`; 100 on Linux).
pub fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `/proc/<pid>/stat` after the command name: (ppid, utime + stime, cutime + cstime) in ticks.
fn stat(pid: u32) -> Option<(u32, u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = text.get(text.rfind(')')? + 2..)?.split_whitespace().collect();
    let n = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
    Some((n(1)? as u32, n(11)? + n(12)?, n(13)? + n(14)?))
}

/// CPU ticks of `pid` itself and its reaped children.
pub fn process_ticks(pid: u32) -> u64 {
    stat(pid).map_or(0, |(_, own, reaped)| own + reaped)
}

/// CPU ticks of each PostgreSQL server whose postmaster is in `postmasters`: its own, its
/// reaped children's (backends that exited) and its live children's. One pass over `/proc`.
pub fn server_ticks(postmasters: &[u32]) -> Vec<u64> {
    let mut ticks: Vec<u64> = postmasters.iter().map(|p| process_ticks(*p)).collect();
    for (ppid, own, _) in std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(stat)
    {
        if let Some(i) = postmasters.iter().position(|p| *p == ppid) {
            ticks[i] += own;
        }
    }
    ticks
}
