//! Errors in logs written during a run: PostgreSQL's (`ERROR`/`FATAL` lines and the statement
//! each names) and the service's (`WARN`/`ERROR` lines), counted by message.

use std::{
    collections::BTreeMap,
    io::{Read, Seek, SeekFrom},
    path::Path,
};

/// Lines of one kind, counted by message.
#[derive(Default)]
pub struct Summary {
    pub total: usize,
    pub by_message: BTreeMap<String, usize>,
}

impl Summary {
    fn add(&mut self, message: String) {
        self.total += 1;
        *self.by_message.entry(message).or_default() += 1;
    }

    /// "none", or the count and the most frequent messages (at most `n`) with theirs.
    pub fn describe(&self, n: usize) -> String {
        if self.total == 0 {
            return "none".into();
        }
        let mut top: Vec<(&String, &usize)> = self.by_message.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        let shown: Vec<String> = top
            .iter()
            .take(n)
            .map(|(m, c)| format!("{c} × `{}`", m.replace('`', "'")))
            .collect();
        let more = top.len().saturating_sub(n);
        format!(
            "{}: {}{}",
            self.total,
            shown.join("; "),
            if more > 0 {
                format!("; and {more} other messages")
            } else {
                String::new()
            }
        )
    }
}

/// What `path` holds from byte `from` on (empty when unreadable).
pub fn tail(path: &Path, from: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        if file.seek(SeekFrom::Start(from)).is_ok() {
            let mut bytes = Vec::new();
            let _ = file.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    text
}

/// A PostgreSQL log's `ERROR` and `FATAL` lines, each with the first 100 characters of the
/// `STATEMENT` line that follows it, if any.
pub fn postgres(text: &str) -> Summary {
    let mut out = Summary::default();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(at) = line.find("ERROR:  ").or_else(|| line.find("FATAL:  ")) else {
            continue;
        };
        let mut message = line[at..].to_owned();
        if let Some(next) = lines.peek() {
            if let Some(s) = next.find("STATEMENT:  ") {
                let statement: String = next[s + 12..].chars().take(100).collect();
                message.push_str(&format!(" (in: {statement})"));
                lines.next();
            }
        }
        out.add(message);
    }
    out
}

/// The service's `WARN` and `ERROR` lines (text format), without their timestamps and with
/// their fields cut at 200 characters.
pub fn service(text: &str) -> Summary {
    let mut out = Summary::default();
    for line in text.lines() {
        let plain = strip_ansi(line);
        let Some(at) = plain.find(" WARN ").or_else(|| plain.find(" ERROR ")) else {
            continue;
        };
        out.add(plain[at + 1..].chars().take(200).collect());
    }
    out
}

/// `line` without terminal colour codes (ESC [ … m).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
