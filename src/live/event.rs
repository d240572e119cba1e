//! The events that cross instances: one compact line each, packed into NOTIFY payloads on the
//! channel the announcer sends on and the listener reads.

use uuid::Uuid;

/// The NOTIFY channel: worker wake-ups (empty payloads) and live event lines.
pub const CHANNEL: &str = "chat_system_jobs";

/// A change to a chat, as published by the process that made it. `app` is the application's
/// id (`applications.id`), which grants nothing, unlike its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    /// Messages were accepted (their numbers and jobs committed).
    Appended { app: i64, chat: i64 },
    /// A message's body was replaced.
    Edited { app: i64, chat: i64, number: i64 },
    /// A message was deleted.
    Deleted { app: i64, chat: i64, number: i64 },
    /// The chat was deleted.
    ChatGone { app: i64, chat: i64 },
    /// The application, with all its chats, was deleted.
    ApplicationGone { app: i64 },
    /// Events may have been lost (too many to send, or a reconnect): every topic looks again.
    Everything,
}

impl ChatEvent {
    /// The event as one line of a NOTIFY payload.
    pub fn encode(&self) -> String {
        match self {
            ChatEvent::Appended { app, chat } => format!("a {app} {chat}"),
            ChatEvent::Edited { app, chat, number } => format!("u {app} {chat} {number}"),
            ChatEvent::Deleted { app, chat, number } => format!("d {app} {chat} {number}"),
            ChatEvent::ChatGone { app, chat } => format!("x {app} {chat}"),
            ChatEvent::ApplicationGone { app } => format!("X {app}"),
            ChatEvent::Everything => "*".to_owned(),
        }
    }

    /// Parses one line of a NOTIFY payload; `None` for anything else (an empty payload is a plain
    /// worker wake-up).
    pub fn decode(line: &str) -> Option<ChatEvent> {
        let mut parts = line.split(' ');
        let kind = parts.next()?;
        if kind == "*" {
            return Some(ChatEvent::Everything);
        }
        let tenant = parts.next()?;
        let Ok(app) = tenant.parse() else {
            // The previous release named applications by token: during a rolling upgrade its
            // lines cannot be matched to a topic here, so every topic looks again.
            let known = ["a", "u", "d", "x", "X"].contains(&kind);
            return (known && tenant.parse::<Uuid>().is_ok()).then_some(ChatEvent::Everything);
        };
        if kind == "X" {
            return Some(ChatEvent::ApplicationGone { app });
        }
        let chat = parts.next()?.parse().ok()?;
        let mut number = || parts.next().and_then(|n| n.parse().ok());
        Some(match kind {
            "a" => ChatEvent::Appended { app, chat },
            "x" => ChatEvent::ChatGone { app, chat },
            "u" => ChatEvent::Edited {
                app,
                chat,
                number: number()?,
            },
            "d" => ChatEvent::Deleted {
                app,
                chat,
                number: number()?,
            },
            _ => return None,
        })
    }
}

/// Most bytes in one NOTIFY payload (PostgreSQL's limit is 8,000).
pub const MAX_PAYLOAD: usize = 7_900;

/// Packs event lines into as few payloads as fit, dropping repeats (an `a` line for a busy chat
/// appears once per window). Past `max_payloads`, one `*` replaces them all.
pub fn pack(lines: Vec<String>, max_payloads: usize) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut payloads: Vec<String> = Vec::new();
    for line in lines {
        if !seen.insert(line.clone()) {
            continue;
        }
        match payloads.last_mut() {
            Some(p) if p.len() + 1 + line.len() <= MAX_PAYLOAD => {
                p.push('\n');
                p.push_str(&line);
            }
            _ => payloads.push(line),
        }
    }
    if payloads.len() > max_payloads {
        return vec![ChatEvent::Everything.encode()];
    }
    payloads
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let app = 41;
        for event in [
            ChatEvent::Appended { app, chat: 3 },
            ChatEvent::Edited {
                app,
                chat: 3,
                number: 9,
            },
            ChatEvent::Deleted {
                app,
                chat: 1,
                number: 2,
            },
            ChatEvent::ChatGone { app, chat: 7 },
            ChatEvent::ApplicationGone { app },
            ChatEvent::Everything,
        ] {
            assert_eq!(ChatEvent::decode(&event.encode()), Some(event));
        }
        assert_eq!(ChatEvent::decode(""), None);
        assert_eq!(ChatEvent::decode("u 1 2"), None);
        assert_eq!(ChatEvent::decode("q 1 2"), None);
        assert_eq!(ChatEvent::decode("a one 2"), None);
    }

    #[test]
    fn the_previous_releases_lines_make_every_topic_look_again() {
        let token = Uuid::new_v4();
        for line in [format!("a {token} 2"), format!("u {token} 2 3"), format!("X {token}")] {
            assert_eq!(ChatEvent::decode(&line), Some(ChatEvent::Everything), "{line}");
        }
        assert_eq!(ChatEvent::decode(&format!("q {token} 2")), None);
    }

    #[test]
    fn packing_dedupes_splits_and_gives_up() {
        let app = 7;
        let line = |chat| ChatEvent::Appended { app, chat }.encode();
        let packed = pack(vec![line(1), line(2), line(1)], 10);
        assert_eq!(packed, vec![format!("{}\n{}", line(1), line(2))]);
        let many: Vec<String> = (0..5000).map(line).collect();
        let packed = pack(many, 100);
        assert!(packed.len() > 2 && packed.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let lines: usize = packed.iter().map(|p| p.lines().count()).sum();
        assert_eq!(lines, 5000);
        assert_eq!(pack((0..5000).map(line).collect(), 2), vec!["*".to_owned()]);
    }
}
